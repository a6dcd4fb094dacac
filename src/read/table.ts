/**
 * One input table (CSV, Arrow or .npy, file or stdin, plain or gzip) as the main
 * thread sees it: its columns, and its rows cut into chunks of raw data for
 * the workers. No per-value work happens here.
 */
import { CsvCutError, countRows, cutCsv, type CsvHeader, type CutOptions, type RowBlock } from './csv-cut.js';
import type { ArrowSource } from './arrow.js';
import type { ColumnSlice, KeySlice } from '../types.js';
import { refusal, type ByteSource } from './source.js';
import { openNpyTable } from './npy.js';
import type { ColumnInfo } from './columns.js';
import type { InputPart } from '../types.js';
import { DataError, UsageError } from '../errors.js';

export interface TablePart {
  /** null: not counted yet (CSV cut by bytes); the worker's parse counts them */
  readonly rows: number | null;
  readonly part: InputPart;
  readonly transfer: ArrayBuffer[];
}

/** What the run needs of a table's bytes: counts for progress and provenance, and the end check. */
export type TableSource = Pick<ByteSource, 'name' | 'gzip' | 'size' | 'bytesRead' | 'close' | 'finish'>;

export interface Table {
  readonly source: TableSource;
  readonly name: string;
  /** `memory`: arrays a library caller passed to evaluate(). */
  readonly format: 'csv' | 'arrow' | 'parquet' | 'npy' | 'memory';
  readonly columns: readonly ColumnInfo[];
  /** Values per row of each selected column (Arrow List columns: read from the data). */
  widths(selected: readonly number[]): Promise<number[]>;
  /**
   * Rows of raw data for the selected columns, in chunks of exactly `rowsPerChunk` rows (the
   * last may be shorter) — or, for CSV with `bytesPerChunk`, of about that many bytes with rows
   * uncounted (TablePart.rows null; see cutCsv's bytesPerBlock).
   */
  chunks(selected: readonly number[], rowsPerChunk: number, bytesPerChunk?: number | null, keys?: readonly number[]): AsyncIterable<TablePart>;
  /**
   * --group-by: throws a UsageError when one of these columns cannot be a group key (a float
   * column). Absent: the format has no group keys.
   */
  checkKeys?(columns: readonly number[], option: string): void;
  /** Release the input (also after an error). */
  close(): Promise<void>;
  /** Rows left after the chunks were consumed (after a mismatch, to name the total count). */
  countRest(): Promise<number>;
}

/** Values per row one list column may hold (a corrupt FixedSizeList size must not size arrays). */
export const MAX_VALUES_PER_ROW = 1 << 20;

export interface CsvDialect {
  readonly header: boolean;
  /** Delimiter byte, or null for the default (tab for .tsv files, else comma). */
  readonly delimiter: number | null;
  /** Longest CSV row accepted, in bytes (default DEFAULT_MAX_ROW_BYTES). */
  readonly maxRowBytes?: number | null;
}

/** The longest CSV row accepted by default: 256 MiB (almost always an unterminated quote). */
export const DEFAULT_MAX_ROW_BYTES = 256 * 1024 * 1024;

function defaultDelimiter(name: string): number {
  return /\.tsv(\.gz)?$/i.test(name) ? 9 : 44;
}

export async function openTable(source: ByteSource, dialect: CsvDialect): Promise<Table> {
  switch (source.format) {
    case 'csv': return openCsvTable(source, dialect);
    case 'arrow-file': case 'arrow-stream': return openArrowTable(source);
    case 'npy': return openNpyTable(source);
    case 'parquet': {
      // hyparquet and the codecs: loaded only for Parquet inputs
      const { openParquetTable } = await import('./parquet/table.js');
      return openParquetTable(source);
    }
    default:
      source.close();
      throw refusal(source.format, source.name, source.gzip);
  }
}

async function openCsvTable(source: ByteSource, dialect: CsvDialect): Promise<Table> {
  const delimiter = dialect.delimiter ?? defaultDelimiter(source.name);
  // rowsPerBlock is read by the cutter when it starts cutting, after the header.
  const opts: CutOptions = { rowsPerBlock: 65536, header: dialect.header, delimiter, maxRowBytes: dialect.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES };
  const cut = cutCsv(source.stream, opts);
  let header: CsvHeader;
  try {
    header = await cut.header;
  } catch (e) {
    throw asDataError(e, source.name);
  }
  if (dialect.header && (header.names === null || header.names.length === 0)) {
    throw new DataError('empty file: no header row', { file: source.name });
  }
  const columns: ColumnInfo[] = header.names
    ? header.names.map((name) => ({ name, width: 1 }))
    : Array.from({ length: header.fieldCount }, () => ({ name: null, width: 1 }));
  const it = cut.blocks[Symbol.asyncIterator]();
  let started = false;
  return {
    source, name: source.name, format: 'csv', columns,
    widths: (selected) => Promise.resolve(selected.map(() => 1)),
    close: () => {
      source.close();
      return Promise.resolve();
    },
    checkKeys: () => undefined,
    async *chunks(selected, rowsPerChunk, bytesPerChunk = null, keys = []) {
      opts.rowsPerBlock = rowsPerChunk;
      opts.bytesPerBlock = bytesPerChunk;
      started = true;
      for (;;) {
        let r: IteratorResult<RowBlock>;
        try {
          r = await it.next();
        } catch (e) {
          throw asDataError(e, source.name);
        }
        if (r.done) return;
        const b = r.value;
        yield {
          rows: b.rows,
          transfer: [b.bytes.buffer as ArrayBuffer],
          part: {
            kind: 'csv', bytes: b.bytes, delimiter, fieldCount: header.fieldCount, firstLine: b.firstLine, fields: selected,
            ...(keys.length > 0 ? { keyFields: keys } : {}),
            recycle: true as const,
          },
        };
      }
    },
    async countRest() {
      if (!started) opts.rowsPerBlock = 1 << 20;
      let n = 0;
      for (;;) {
        const r = await it.next();
        if (r.done) return n;
        n += r.value.rows ?? countRows(r.value.bytes, header.fieldCount >= 2);
      }
    },
  };
}

function asDataError(e: unknown, file: string): unknown {
  if (e instanceof DataError || e instanceof UsageError) return e;
  // a line the caller must first make absolute (see CsvCutError.relative)
  if (e instanceof CsvCutError && e.relative) return e;
  if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError)) {
    return new DataError(e.message, { file });
  }
  return e;
}

async function openArrowTable(source: ByteSource): Promise<Table> {
  let arrow: ArrowSource;
  // apache-arrow is large: load it only for Arrow inputs
  const { openArrow } = await import('./arrow.js');
  try {
    if (source.format === 'arrow-file' && !source.gzip && source.path !== null) {
      source.close();
      arrow = await openArrow({ path: source.path });
    } else {
      arrow = await openArrow({ stream: source.stream, name: source.name });
    }
  } catch (e) {
    throw asDataError(e, source.name);
  }
  const columns: ColumnInfo[] = arrow.fields.map((f) => ({
    name: f.name,
    width: f.isList ? null : (f.listSize ?? 1),
  }));
  let rest: AsyncIterator<ColumnSlice[]> | null = null;
  const checkNumeric = (selected: readonly number[]): void => {
    for (const c of selected) {
      const f = arrow.fields[c]!;
      if (f.kind === null) throw new UsageError(`${source.name}: column '${f.name}' has type ${f.type}, not numbers`);
    }
  };
  return {
    source, name: source.name, format: 'arrow', columns,
    async close() {
      source.close();
      await arrow.close();
    },
    async widths(selected) {
      checkNumeric(selected);
      let ws: number[];
      try {
        ws = await arrow.widths([...selected]);
      } catch (e) {
        throw asDataError(e, source.name);
      }
      ws.forEach((w, j) => {
        if (w > MAX_VALUES_PER_ROW) {
          const f = arrow.fields[selected[j]!]!;
          throw new DataError(`column ${JSON.stringify(f.name)} (${f.type}) has ${w} values per row; at most ${MAX_VALUES_PER_ROW} are supported`, { file: source.name });
        }
      });
      return ws;
    },
    checkKeys(cols, option) {
      for (const c of cols) {
        const f = arrow.fields[c]!;
        if (!f.keyKind) throw new UsageError(`${option}: column '${f.name}' of ${source.name} has type ${f.type}; group keys are text, integers or booleans`);
      }
    },
    async *chunks(selected, rowsPerChunk, _bytes, keys = []) {
      const it = arrow.chunks([...selected], rowsPerChunk, [...keys])[Symbol.asyncIterator]();
      rest = it;
      for (;;) {
        let r: IteratorResult<ColumnSlice[] & { groupKeys?: KeySlice[]; recycle?: true }>;
        try {
          r = await it.next();
        } catch (e) {
          throw asDataError(e, source.name);
        }
        if (r.done) return;
        const slices = r.value;
        const transfer: ArrayBuffer[] = [];
        for (const s of slices) {
          transfer.push(s.values.buffer as ArrayBuffer);
          if (s.validity) transfer.push(s.validity.buffer as ArrayBuffer);
          if (s.childValidity) transfer.push(s.childValidity.buffer as ArrayBuffer);
        }
        const keySlices = slices.groupKeys;
        for (const k of keySlices ?? []) {
          for (const b of [k.validity, k.kind === 'text' ? k.offsets : null, k.kind === 'text' ? k.data : k.kind === 'int' ? k.values : k.bits]) {
            if (b && !transfer.includes(b.buffer as ArrayBuffer)) transfer.push(b.buffer as ArrayBuffer);
          }
        }
        yield {
          rows: slices[0]?.rows ?? keySlices?.[0]?.rows ?? 0, transfer,
          part: { kind: 'arrow', slices: [...slices], ...(keySlices ? { keys: keySlices } : {}), ...(slices.recycle ? { recycle: true as const } : {}) },
        };
      }
    },
    async countRest() {
      if (!rest) {
        const any = arrow.fields.findIndex((f) => f.kind !== null);
        if (any < 0) return 0;
        rest = arrow.chunks([any], 1 << 20)[Symbol.asyncIterator]();
      }
      let n = 0;
      for (;;) {
        const r = await rest.next();
        if (r.done) return n;
        n += r.value[0]?.rows ?? 0;
      }
    },
  };
}
