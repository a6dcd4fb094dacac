/**
 * A ParquetPart (byte ranges of one chunk's rows, see types.ts) → Arrow-style column slices,
 * decoded where the chunk runs (a worker, or the main thread for a one-chunk run). Reads the
 * file through the descriptor in the part: positional reads, safe from any thread.
 */
import { readSync } from 'node:fs';
import type { ColumnSlice, KeySlice, ParquetPart, ParquetPieceColumn } from '../../types.js';
import { ColumnCursor, ListBuilder, TextBuilder, type ChunkBytes } from './column.js';
import { ParquetFormatError } from './errors.js';
import { allocValues, type Values } from './values.js';

/** A ParquetFormatError with where it happened, for the chunk's error report. */
export class ParquetPartError extends Error {
  constructor(readonly detail: string, readonly file: string, readonly column: string, readonly row?: number) {
    super(detail);
  }
}

const WINDOW = 4 << 20;

/**
 * This thread's read window, reused from read to read: a part decodes its columns one at a time
 * and nothing keeps a view of the window past the page it holds (values are copied out).
 */
let scratch = new Uint8Array(0);

function readRange(fd: number, start: number, len: number, reuse = false): Uint8Array {
  let out: Uint8Array;
  if (reuse) {
    if (scratch.length < len) scratch = new Uint8Array(Math.max(len, WINDOW));
    out = scratch.subarray(0, len);
  } else {
    out = new Uint8Array(len);
  }
  let got = 0;
  while (got < len) {
    const n = readSync(fd, out, got, len - got, start + got);
    if (n === 0) throw new ParquetFormatError(`the file ends inside a column chunk (at byte ${start + got})`);
    got += n;
  }
  return out;
}

/** The dictionary page's bytes followed by the data pages', read in windows. */
function pieceBytes(fd: number, col: ParquetPieceColumn): ChunkBytes {
  const dictLen = col.dict ? col.dict[1] : 0;
  const [dataStart, dataLen] = col.data;
  let dict: Uint8Array | null = null;
  let wStart = 0;
  let win: Uint8Array = new Uint8Array(0);
  return {
    length: dictLen + dataLen,
    read(pos, len) {
      if (pos < dictLen) {
        dict ??= readRange(fd, col.dict![0], dictLen);
        if (pos + len <= dictLen) return dict.subarray(pos, pos + len);
        // a header read that looks past the dictionary page: its tail, then the data's start
        const out = new Uint8Array(len);
        out.set(dict.subarray(pos));
        out.set(this.read(dictLen, pos + len - dictLen), dictLen - pos);
        return out;
      }
      const p = pos - dictLen;
      if (p < 0 || p + len > dataLen) throw new Error(`internal: read of ${len} bytes at ${p} in ${dataLen}`);
      if (p >= wStart && p + len <= wStart + win.length) return win.subarray(p - wStart, p - wStart + len);
      win = readRange(fd, dataStart + p, Math.max(len, Math.min(WINDOW, dataLen - p)), true);
      wStart = p;
      return win.subarray(0, len);
    },
  };
}

/**
 * Value arrays of flat columns, per column position, reused from chunk to chunk on this thread:
 * a chunk's slices live only while it runs (fresh arrays per chunk cost page faults).
 */
const flatSpace: Values[][] = [];

function flatValues(input: number, j: number, kind: ParquetPart['columns'][number]['desc']['kind'], n: number): Values {
  const space = (flatSpace[input] ??= []);
  let v = space[j];
  const fresh = allocValues(kind, 0);
  if (v === undefined || v.constructor !== fresh.constructor || v.length < n) {
    v = allocValues(kind, n);
    space[j] = v;
  }
  return v.subarray(0, n) as Values;
}

/**
 * Decode a part's rows (of the chunk's input `input`). The flat columns' value arrays are this
 * thread's reused space for that input: valid until the next call for it (the chunk runner uses
 * them before it decodes another chunk).
 */
export function decodeParquetPart(part: ParquetPart, input: number): ColumnSlice[] {
  const R = part.rows;
  return part.columns.map((col, j) => {
    const kind = col.desc.kind;
    const flat: Values | null = col.isList ? null : flatValues(input, j, kind, R * col.width);
    let nulls: Uint8Array | null = null;
    const list = col.isList ? new ListBuilder((n) => allocValues(kind, n), R, R * Math.max(1, col.width)) : null;
    let filled = 0;
    for (const piece of part.pieces) {
      const pc = piece.columns[j]!;
      const at = (e: unknown): never => {
        if (e instanceof ParquetFormatError || e instanceof RangeError) {
          throw new ParquetPartError(`row group ${piece.rowGroup + 1} of ${part.rowGroups}: ${e.message}`, part.file, col.column);
        }
        throw e;
      };
      try {
        const cur = new ColumnCursor(col.desc, { codec: pc.codec, numValues: pc.numValues, rows: piece.rowGroupRows }, pieceBytes(part.fd, pc));
        if (pc.skip > 0) cur.skip(pc.skip);
        if (list) {
          const got = cur.fillList(list, piece.rows, col.width, (row, len) => {
            const first = col.widthRow > 0 ? ` (row ${col.widthRow} has ${col.width})` : '';
            throw new ParquetPartError(`list has ${len} values, expected ${col.width}${first}: every row of a List column must have the same length`,
              part.file, col.column, part.firstRow + filled + (row - pc.skip) - 1);
          });
          if (got < piece.rows) throw new ParquetFormatError(`column chunk ends after ${cur.rowsDone} of its row group's ${piece.rowGroupRows} rows`);
        } else {
          nulls = cur.fillFlat(flat!, filled, piece.rows, nulls);
        }
        if (pc.last) cur.finish();
      } catch (e) {
        at(e);
      }
      filled += piece.rows;
    }
    const base = { kind, rows: R, width: col.width, firstRow: part.firstRow, file: part.file, column: col.column };
    if (!list) return { ...base, values: flat!, validity: nulls, childValidity: null, listOffsets: null, listPieces: null, widthRow: 0 };
    return {
      ...base, values: list.values.slice(0, list.slots), validity: list.rowValidity,
      childValidity: list.slotValidity ? list.slotValidity.slice(0, Math.ceil(list.slots / 8)) : null,
      listOffsets: list.offsets, listPieces: Int32Array.of(R), widthRow: col.widthRow,
    };
  });
}

/**
 * --group-by: decode a part's key columns (ParquetPart.keys) into KeySlices, in their order.
 * Fresh arrays per chunk (keys are read once, by the chunk's key extraction).
 */
export function decodeParquetKeys(part: ParquetPart): KeySlice[] {
  const R = part.rows;
  return (part.keys ?? []).map((key, j): KeySlice => {
    const text = key.keyKind === 'text' ? new TextBuilder(R) : null;
    const flat: Values | null = text === null ? allocValues(key.desc.kind, R) : null;
    let nulls: Uint8Array | null = null;
    let filled = 0;
    for (const piece of part.pieces) {
      const pc = piece.keyColumns![j]!;
      try {
        const cur = new ColumnCursor(key.desc, { codec: pc.codec, numValues: pc.numValues, rows: piece.rowGroupRows }, pieceBytes(part.fd, pc));
        if (pc.skip > 0) cur.skip(pc.skip);
        if (text) cur.fillText(text, piece.rows);
        else nulls = cur.fillFlat(flat!, filled, piece.rows, nulls);
        if (pc.last) cur.finish();
      } catch (e) {
        if (e instanceof ParquetFormatError || e instanceof RangeError) {
          throw new ParquetPartError(`row group ${piece.rowGroup + 1} of ${part.rowGroups}: ${e.message}`, part.file, key.column);
        }
        throw e;
      }
      filled += piece.rows;
    }
    if (text) return { kind: 'text', rows: R, offsets: text.offsets, data: text.data.subarray(0, text.size), validity: text.validity };
    if (key.keyKind === 'bool') {
      const v = flat as Uint8Array;
      const bits = new Uint8Array((R + 7) >> 3);
      for (let r = 0; r < R; r++) if (v[r]) bits[r >> 3]! |= 1 << (r & 7);
      return { kind: 'bool', rows: R, bits, validity: nulls };
    }
    return { kind: 'int', rows: R, values: flat as Int32Array | Uint32Array | BigInt64Array | BigUint64Array, validity: nulls };
  });
}
