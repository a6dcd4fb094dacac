/**
 * A Parquet input as a Table: the footer is read first; the selected columns' chunks are then
 * read and decoded one row group at a time, page by page (only those columns' bytes are read),
 * and cut into chunks of exactly `rowsPerChunk` rows across row group boundaries. Each chunk
 * goes to the workers as Arrow-style ColumnSlices (typed values, validity bitmaps, list
 * offsets), converted to float64 there by parse/arrow-column.ts like Arrow input.
 *
 * Decoding runs on the main thread for now; the workers only convert and compute.
 */
import type { ByteSource } from '../source.js';
import type { ColumnInfo } from '../columns.js';
import type { Table } from '../table.js';
import type { ColumnSlice } from '../../types.js';
import { DataError, UsageError } from '../../errors.js';
import { ColumnCursor, ListBuilder } from '../../parse/parquet/column.js';
import { ParquetFormatError } from '../../parse/parquet/errors.js';
import { SUPPORTED_CODECS } from '../../parse/parquet/codecs.js';
import { allocValues, type Values } from '../../parse/parquet/values.js';
import { chunkBytes, openFile, spool, type RandomAccess } from './file.js';
import { readFooter, type ParquetFooter } from './footer.js';
import type { ParquetLeaf } from './schema.js';

/** The largest list accepted per row (the same cap as Arrow List columns). */
const MAX_VALUES_PER_ROW = 1 << 20;

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

  constructor(readonly source: ByteSource, private readonly file: RandomAccess, private readonly footer: ParquetFooter) {
    this.name = source.name;
    this.columns = footer.leaves.map((l) => ({ name: l.name, width: l.isList ? null : 1 }));
  }

  /** Progress: bytes read from the file. */
  bytesRead(): number {
    return this.file.bytesRead();
  }

  close(): Promise<void> {
    this.source.close();
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
      for (const rg of this.footer.rowGroups) {
        const codec = rg.columns[c]!.codec;
        if (!SUPPORTED_CODECS.has(codec)) {
          throw new UsageError(`${this.name}: column '${l.name}' is compressed with ${codec}, which losseval does not read`);
        }
      }
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

  private tooLong(leaf: ParquetLeaf, row: number, len: number, width: number): never {
    const first = this.listWidth.get(leaf.index);
    const at = first && first.row > 0 ? ` (row ${first.row} has ${width})` : '';
    throw new DataError(`list has ${len} values, expected ${width}${at}: every row of a List column must have the same length`,
      { file: this.name, row, column: leaf.name });
  }

  async *chunks(selected: readonly number[], rowsPerChunk: number): AsyncIterable<{ rows: number; part: { kind: 'arrow'; slices: ColumnSlice[] }; transfer: ArrayBuffer[] }> {
    this.check(selected);
    const widths = selected.map((c) => (this.leaf(c).isList ? this.listWidthOf(c).width : 1));
    const groups = this.footer.rowGroups;
    let g = -1;
    let left = 0; // rows left in row group g
    let cursors: ColumnCursor[] = [];
    let rgBase = 0; // rows before row group g
    const finishGroup = (): void => {
      cursors.forEach((cur, j) => {
        try {
          cur.finish();
        } catch (e) {
          throw this.failure(e, selected[j]!, g);
        }
      });
    };
    for (;;) {
      const total = this.footer.rows - this.rowsYielded;
      const R = Math.min(rowsPerChunk, total);
      if (R <= 0) break;
      const firstRow = this.rowsYielded + 1;
      const flat: (Values | null)[] = selected.map((c, j) => (this.leaf(c).isList ? null : allocValues(this.leaf(c).desc!.kind, R * widths[j]!)));
      const nulls: (Uint8Array | null)[] = selected.map(() => null);
      const lists: (ListBuilder | null)[] = selected.map((c, j) => {
        const l = this.leaf(c);
        return l.isList ? new ListBuilder((n) => allocValues(l.desc!.kind, n), R, R * Math.max(1, widths[j]!)) : null;
      });
      let filled = 0;
      while (filled < R) {
        if (left === 0) {
          if (g >= 0) {
            finishGroup();
            rgBase += groups[g]!.rows;
          }
          g++;
          if (g >= groups.length) throw new Error('internal: Parquet rows past the last row group');
          left = groups[g]!.rows;
          cursors = selected.map((c) => this.cursor(c, g));
          continue;
        }
        const take = Math.min(R - filled, left);
        selected.forEach((c, j) => {
          const cur = cursors[j]!;
          try {
            const list = lists[j];
            if (list) {
              const leaf = this.leaf(c);
              const got = cur.fillList(list, take, widths[j]!, (row, len) => this.tooLong(leaf, rgBase + row, len, widths[j]!));
              if (got < take) throw new ParquetFormatError(`column chunk ends after ${cur.rowsDone} of its row group's ${groups[g]!.rows} rows`);
            } else {
              nulls[j] = cur.fillFlat(flat[j]!, filled, take, nulls[j]!);
            }
          } catch (e) {
            throw this.failure(e, c, g);
          }
        });
        filled += take;
        left -= take;
      }
      this.rowsYielded += R;
      if (this.rowsYielded === this.footer.rows) finishGroup();
      const slices: ColumnSlice[] = selected.map((c, j) => {
        const leaf = this.leaf(c);
        const base = { kind: leaf.desc!.kind, rows: R, width: widths[j]!, firstRow, file: this.name, column: leaf.name };
        const list = lists[j];
        if (!list) {
          return { ...base, values: flat[j]!, validity: nulls[j]!, childValidity: null, listOffsets: null, listPieces: null, widthRow: 0 };
        }
        const vals = list.values.slice(0, list.slots);
        return {
          ...base, values: vals, validity: list.rowValidity,
          childValidity: list.slotValidity ? list.slotValidity.slice(0, Math.ceil(list.slots / 8)) : null,
          listOffsets: list.offsets, listPieces: Int32Array.of(R), widthRow: this.listWidth.get(c)?.row ?? 0,
        };
      });
      const transfer: ArrayBuffer[] = [];
      for (const s of slices) {
        transfer.push(s.values.buffer as ArrayBuffer);
        if (s.validity) transfer.push(s.validity.buffer as ArrayBuffer);
        if (s.childValidity) transfer.push(s.childValidity.buffer as ArrayBuffer);
        if (s.listOffsets) transfer.push(s.listOffsets.buffer as ArrayBuffer, s.listPieces!.buffer as ArrayBuffer);
      }
      yield { rows: R, part: { kind: 'arrow', slices }, transfer };
    }
  }

  countRest(): Promise<number> {
    return Promise.resolve(this.footer.rows - this.rowsYielded);
  }
}
