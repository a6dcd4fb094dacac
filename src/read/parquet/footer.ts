/**
 * A Parquet file's footer: `PAR1` … <FileMetaData (Thrift)> <u32 length> `PAR1`. Read first,
 * parsed by hyparquet, then every number losseval will use is checked here, before any
 * column chunk is read: row counts, and each column chunk's byte range against the file.
 */
import { parquetMetadata } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { DataError } from '../../errors.js';
import type { RandomAccess } from './file.js';
import { schemaLeaves, type ParquetLeaf } from './schema.js';

export interface ChunkRange {
  /** Byte range of the column chunk (dictionary page, then data pages) in the file. */
  readonly start: number;
  readonly length: number;
  readonly codec: string;
  readonly numValues: number;
}

export interface RowGroupInfo {
  readonly rows: number;
  /** Per leaf column (ParquetLeaf.index). */
  readonly columns: readonly ChunkRange[];
}

export interface ParquetFooter {
  readonly leaves: readonly ParquetLeaf[];
  readonly rowGroups: readonly RowGroupInfo[];
  readonly rows: number;
  readonly createdBy: string | undefined;
}

const MAGIC = 0x31524150; // "PAR1" little-endian
const ENCRYPTED = 0x45524150; // "PARE"

export function corruptParquet(file: string, detail: string): DataError {
  return new DataError(`not a valid Parquet file: ${detail}`, { file });
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 2 ** 24;
}

/** A Thrift i64 (bigint) or i32 as a safe non-negative number, else null. */
function count(v: unknown): number | null {
  const n = typeof v === 'bigint' ? (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : -1) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function readFooter(file: RandomAccess, name: string): ParquetFooter {
  const size = file.size;
  if (size < 12) throw corruptParquet(name, `${size} bytes is too short for a Parquet file (truncated?)`);
  const tail = file.read(size - 8, 8);
  const end = u32(tail, 4);
  if (end === ENCRYPTED) throw corruptParquet(name, 'encrypted Parquet files (PARE) are not supported');
  if (end !== MAGIC) throw corruptParquet(name, 'no PAR1 magic at the end (truncated file?)');
  const footerLen = u32(tail, 0);
  if (footerLen === 0 || footerLen > size - 12) {
    throw corruptParquet(name, `footer length ${footerLen} does not fit the ${size}-byte file (truncated file?)`);
  }
  const footerStart = size - 8 - footerLen;
  const footer = file.read(footerStart, footerLen + 8);
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(footer, { geoparquet: false });
  } catch (e) {
    throw corruptParquet(name, `corrupt footer (${(e as Error).message})`);
  }
  let leaves: ParquetLeaf[];
  try {
    if (!Array.isArray(meta.schema)) throw new Error('no schema');
    leaves = schemaLeaves(meta.schema);
  } catch (e) {
    throw corruptParquet(name, `corrupt schema in the footer (${(e as Error).message})`);
  }
  const totalRows = count(meta.num_rows);
  if (totalRows === null) throw corruptParquet(name, `the footer claims ${String(meta.num_rows)} rows`);
  const groups = Array.isArray(meta.row_groups) ? meta.row_groups : [];
  const rowGroups: RowGroupInfo[] = [];
  let sum = 0;
  groups.forEach((rg, g) => {
    const where = `row group ${g + 1} of ${groups.length}`;
    const rows = count(rg.num_rows);
    if (rows === null) throw corruptParquet(name, `${where} claims ${String(rg.num_rows)} rows`);
    sum += rows;
    if (!Array.isArray(rg.columns) || rg.columns.length !== leaves.length) {
      throw corruptParquet(name, `${where} has ${Array.isArray(rg.columns) ? rg.columns.length : 0} column chunks for ${leaves.length} columns`);
    }
    const columns: ChunkRange[] = rg.columns.map((c, i) => {
      const leaf = leaves[i]!;
      const at = `${where}, column ${JSON.stringify(leaf.name)}`;
      if (c.file_path) throw corruptParquet(name, `${at}: column chunks in other files (${c.file_path}) are not supported`);
      const md = c.meta_data;
      if (!md) throw corruptParquet(name, `${at}: no column metadata`);
      if (Array.isArray(md.path_in_schema) && md.path_in_schema.join('\u0000') !== leaf.path.join('\u0000')) {
        throw corruptParquet(name, `${at}: the column chunk is for ${JSON.stringify(md.path_in_schema.join('.'))}`);
      }
      const data = count(md.data_page_offset);
      const dict = md.dictionary_page_offset === undefined ? null : count(md.dictionary_page_offset);
      const length = count(md.total_compressed_size);
      const numValues = count(md.num_values);
      if (data === null || length === null || numValues === null || (md.dictionary_page_offset !== undefined && dict === null)) {
        throw corruptParquet(name, `${at}: corrupt column metadata (offsets, sizes or counts)`);
      }
      // some writers store dictionary_page_offset 0 for "none"
      const start = dict !== null && dict > 0 && dict < data ? dict : data;
      if (start < 4 || start + length > footerStart) {
        throw corruptParquet(name, `${at}: column chunk at bytes ${start}…${start + length} lies outside the data (bytes 4…${footerStart})`);
      }
      if (numValues < rows) throw corruptParquet(name, `${at}: ${numValues} values for ${rows} rows`);
      return { start, length, codec: String(md.codec), numValues };
    });
    rowGroups.push({ rows, columns });
  });
  if (sum !== totalRows) throw corruptParquet(name, `the row groups hold ${sum} rows, the footer says ${totalRows}`);
  return { leaves, rowGroups, rows: totalRows, createdBy: typeof meta.created_by === 'string' ? meta.created_by : undefined };
}
