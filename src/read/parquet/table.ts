/**
 * A Parquet input as a Table: the footer is read first and checked; only the selected columns'
 * bytes are read after that, page by page (only those columns' bytes are read),
 * and cut into chunks of exactly `rowsPerChunk` rows across row group boundaries. A chunk is a
 * ParquetPart: the byte ranges of its rows per row group and column (from the page holding its
 * first row on), read and decoded where the chunk runs (parse/parquet/part.ts), so the workers
 * decode in parallel and only small descriptions cross threads.
 */
import type { ByteSource } from '../source.js';
import type { ColumnInfo } from '../columns.js';
import type { Table, TablePart, TableSource } from '../table.js';
import type { ParquetColumnPart, ParquetKeyPart, ParquetPart, ParquetPiece, ParquetPieceColumn } from '../../types.js';
import { DataError, UsageError } from '../../errors.js';
import { ColumnCursor, ListBuilder } from '../../parse/parquet/column.js';
import { ParquetFormatError } from '../../parse/parquet/errors.js';
import { SUPPORTED_CODECS } from '../../parse/parquet/codecs.js';
import { allocValues } from '../../parse/parquet/values.js';
import { scanPages, type ChunkPages, type PageStart } from './pages.js';
import { chunkBytes, openFile, spool, type RandomAccess } from './file.js';
import { readFooter, type ParquetFooter } from './footer.js';
import type { ParquetLeaf } from './schema.js';

/** The largest list accepted per row (the same cap as Arrow List columns). */
const MAX_VALUES_PER_ROW = 1 << 20;

/** Values per chunk when the table sizes its own chunks (see chunks()). */
const FREE_VALUES = 1 << 20;

export async function openParquetTable(source: ByteSource): Promise<Table> {
  let file: RandomAccess;
  if (source.path !== null) {
    source.close();
    try {
      file = openFile(source.path);
    } catch (e) {
      throw new UsageError(`${source.path}: cannot open (${(e as Error).message})`);
    }
  } else {
    file = await spool(source.stream);
  }
  const name = source.name;
  let footer: ParquetFooter;
  try {
    footer = readFooter(file, name);
  } catch (e) {
    file.close();
    throw e;
  }
  return new ParquetTable(source, file, footer);
}

class ParquetTable implements Table {
  readonly name: string;
  readonly format = 'parquet' as const;
  readonly columns: readonly ColumnInfo[];
  private readonly listWidth = new Map<number, { width: number; row: number }>();
  private rowsYielded = 0;
  private readonly pages = new Map<string, ChunkPages>();

  readonly source: TableSource;
  /** Bytes of the column chunks handed out so far, pro rata by rows (the workers do the reading). */
  private planned = 0;

  constructor(private readonly input: ByteSource, private readonly file: RandomAccess, private readonly footer: ParquetFooter) {
    // progress counts the main thread's reads (footer, page headers) and the chunks handed out
    this.source = {
      name: input.name, gzip: input.gzip, size: input.size ?? file.size, close: () => input.close(), finish: () => input.finish(),
      bytesRead: () => Math.min(file.size, file.bytesRead() + Math.round(this.planned)),
    };
    this.name = input.name;
    this.columns = footer.leaves.map((l) => ({ name: l.name, width: l.isList ? null : 1 }));
  }

  close(): Promise<void> {
    this.input.close();
    this.file.close();
    return Promise.resolve();
  }

  private leaf(c: number): ParquetLeaf {
    return this.footer.leaves[c]!;
  }

  private check(selected: readonly number[]): void {
    for (const c of selected) {
      const l = this.leaf(c);
      if (l.desc === null) throw new UsageError(`${this.name}: column '${l.name}' has type ${l.type}, not numbers`);
      this.checkCodecs(c);
    }
  }

  private checkCodecs(c: number): void {
    const l = this.leaf(c);
    for (const rg of this.footer.rowGroups) {
      const codec = rg.columns[c]!.codec;
      if (!SUPPORTED_CODECS.has(codec)) {
        throw new UsageError(`${this.name}: column '${l.name}' is compressed with ${codec}, which losseval does not read`);
      }
    }
  }

  /** --group-by: BYTE_ARRAY text (STRING / UTF8 / ENUM or plain), INT32 / INT64 integers, BOOLEAN; flat columns only. */
  checkKeys(columns: readonly number[], option: string): void {
    for (const c of columns) {
      const l = this.leaf(c);
      if (l.key === null) throw new UsageError(`${option}: column '${l.name}' of ${this.name} has type ${l.type}; group keys are text, integers or booleans`);
      this.checkCodecs(c);
    }
  }

  private failure(e: unknown, c: number, g: number): unknown {
    if (e instanceof ParquetFormatError || e instanceof RangeError) {
      return new DataError(`row group ${g + 1} of ${this.footer.rowGroups.length}: ${e.message}`, { file: this.name, column: this.leaf(c).name });
    }
    return e;
  }

  private cursor(c: number, g: number): ColumnCursor {
    const rg = this.footer.rowGroups[g]!;
    const ch = rg.columns[c]!;
    return new ColumnCursor(this.leaf(c).desc!, { codec: ch.codec, numValues: ch.numValues, rows: rg.rows }, chunkBytes(this.file, ch.start, ch.length));
  }

  async widths(selected: readonly number[]): Promise<number[]> {
    this.check(selected);
    return selected.map((c) => (this.leaf(c).isList ? this.listWidthOf(c).width : 1));
  }

  /** The length of the first non-null row of list column c. */
  private listWidthOf(c: number): { width: number; row: number } {
    const known = this.listWidth.get(c);
    if (known) return known;
    const leaf = this.leaf(c);
    let before = 0;
    for (let g = 0; g < this.footer.rowGroups.length; g++) {
      const rows = this.footer.rowGroups[g]!.rows;
      if (rows === 0) continue;
      const cur = this.cursor(c, g);
      const batch = Math.min(rows, 1024);
      try {
        for (let done = 0; done < rows;) {
          const b = new ListBuilder((n) => allocValues(leaf.desc!.kind, n), batch, 16);
          const got = cur.fillList(b, Math.min(batch, rows - done), MAX_VALUES_PER_ROW, (_row, len) => {
            throw new DataError(`column ${JSON.stringify(leaf.name)} (${leaf.type}) has ${len} values per row; at most ${MAX_VALUES_PER_ROW} are supported`, { file: this.name });
          });
          if (got === 0) throw new ParquetFormatError(`column chunk ends after ${done} of its row group's ${rows} rows`);
          for (let r = 0; r < got; r++) {
            if (b.rowValidity && !((b.rowValidity[r >> 3]! >> (r & 7)) & 1)) continue;
            const w = { width: b.offsets[r + 1]! - b.offsets[r]!, row: before + done + r + 1 };
            this.listWidth.set(c, w);
            return w;
          }
          done += got;
        }
      } catch (e) {
        throw this.failure(e, c, g);
      }
      before += rows;
    }
    if (before > 0) {
      throw new DataError('every row of this List column is null, so its length is unknown', { file: this.name, column: leaf.name });
    }
    const w = { width: 0, row: 0 };
    this.listWidth.set(c, w);
    return w;
  }

  /**
   * Chunks of exactly `rowsPerChunk` rows as ParquetParts: byte ranges per row group piece, read
   * and decoded where the chunk runs. With `bytesPerChunk` (this is the run's only input and no
   * --chunk-rows was given) the table sizes its chunks: whole row groups up to about FREE_VALUES
   * values, so no page is decoded twice; the size never changes a result.
   */
  async *chunks(
    selected: readonly number[], rowsPerChunk: number, bytesPerChunk: number | null = null, keys: readonly number[] = [],
  ): AsyncIterable<TablePart> {
    this.check(selected);
    this.checkKeys(keys, '--group-by');
    const widths = selected.map((c) => (this.leaf(c).isList ? this.listWidthOf(c).width : 1));
    const values = widths.reduce((a, w) => a + Math.max(1, w), 0) + keys.length;
    const keyParts: ParquetKeyPart[] = keys.map((c) => {
      const l = this.leaf(c);
      return { desc: l.key!.desc, column: l.name, keyKind: l.key!.kind };
    });
    const per = bytesPerChunk !== null ? Math.max(rowsPerChunk, Math.floor(FREE_VALUES / values)) : rowsPerChunk;
    const columns: ParquetColumnPart[] = selected.map((c, j) => {
      const l = this.leaf(c);
      return { desc: l.desc!, column: l.name, isList: l.isList, width: widths[j]!, widthRow: this.listWidth.get(c)?.row ?? 0 };
    });
    const groups = this.footer.rowGroups;
    let g = 0;
    let at = 0; // next row within row group g
    while (this.rowsYielded < this.footer.rows) {
      const R = bytesPerChunk !== null ? this.selfSized(g, at, per) : Math.min(per, this.footer.rows - this.rowsYielded);
      const pieces: ParquetPiece[] = [];
      for (let filled = 0; filled < R;) {
        while (at === groups[g]!.rows) {
          g++;
          at = 0;
        }
        const rg = groups[g]!;
        const take = Math.min(R - filled, rg.rows - at);
        for (const c of selected) this.planned += (rg.columns[c]!.length * take) / rg.rows;
        for (const c of keys) if (!selected.includes(c)) this.planned += (rg.columns[c]!.length * take) / rg.rows;
        pieces.push({
          rowGroup: g, rowGroupRows: rg.rows, rows: take,
          columns: selected.map((c) => this.pieceColumn(c, g, at, at + take)),
          ...(keys.length > 0 ? { keyColumns: keys.map((c) => this.pieceColumn(c, g, at, at + take)) } : {}),
        });
        at += take;
        filled += take;
      }
      const part: ParquetPart = {
        kind: 'parquet', fd: this.file.fd, file: this.name, rowGroups: groups.length,
        firstRow: this.rowsYielded + 1, rows: R, columns, pieces, ...(keys.length > 0 ? { keys: keyParts } : {}),
      };
      this.rowsYielded += R;
      yield { rows: R, part, transfer: [] };
    }
  }

  /**
   * A self-sized chunk from row `at` of row group g: whole row groups up to `per` rows (at least
   * one), so no page is decoded twice; a row group of more than 2·per rows in pieces of `per`.
   */
  private selfSized(g: number, at: number, per: number): number {
    const groups = this.footer.rowGroups;
    while (g < groups.length && at === groups[g]!.rows) {
      g++;
      at = 0;
    }
    const first = groups[g]!.rows - at;
    if (at > 0 || first > 2 * per) return Math.min(per, first);
    let rows = first;
    for (let k = g + 1; k < groups.length && rows + groups[k]!.rows <= per; k++) rows += groups[k]!.rows;
    return rows;
  }

  /** Where rows [r0, r1) of column c in row group g are. */
  private pieceColumn(c: number, g: number, r0: number, r1: number): ParquetPieceColumn {
    const rg = this.footer.rowGroups[g]!;
    const ch = rg.columns[c]!;
    const whole: [number, number] = [ch.start, ch.length];
    const last = r1 === rg.rows;
    if (r0 === 0) return { codec: ch.codec, dict: null, data: whole, skip: 0, last, numValues: last ? ch.numValues : null };
    const key = `${c}:${g}`;
    let pages = this.pages.get(key);
    if (!pages) {
      try {
        pages = scanPages(this.file, ch, this.leaf(c).isList);
      } catch (e) {
        throw this.failure(e, c, g);
      }
      this.pages.set(key, pages);
    }
    // the last page starting at or before row r0 (pages of unknown rows: from the chunk's start)
    let from: PageStart | null = null;
    for (const p of pages.pages) {
      if (p.firstRow === null || p.firstRow > r0) break;
      from = p;
    }
    if (from === null || from.firstRow === 0) return { codec: ch.codec, dict: null, data: whole, skip: r0, last, numValues: null };
    return {
      codec: ch.codec, dict: pages.dict, data: [from.start, ch.start + ch.length - from.start], skip: r0 - from.firstRow!, last, numValues: null,
    };
  }

  countRest(): Promise<number> {
    return Promise.resolve(this.footer.rows - this.rowsYielded);
  }
}
