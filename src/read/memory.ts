/**
 * A table over arrays a library caller already holds (evaluate()): typed arrays,
 * `number[]`, `number[][]` or a row-major `{ values, width }` matrix, one column
 * per array. Chunks are Arrow-like column slices (a memcpy of each chunk's range,
 * handed to the workers like an Arrow file's), so the answer is the same as for
 * the same values read from a file.
 */
import type { ColumnSlice, NumericKind } from '../types.js';
import type { Table, TableSource } from './table.js';
import { UsageError } from '../errors.js';

export type NumericArray =
  | Float64Array | Float32Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array | BigUint64Array;

/** One in-memory column: `values` holds rows × width elements, row-major. */
export interface MemoryColumn {
  readonly name: string;
  readonly values: NumericArray;
  readonly width: number;
}

function kindOf(v: NumericArray): NumericKind {
  if (v instanceof Float64Array) return 'f64';
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Int8Array) return 'i8';
  if (v instanceof Int16Array) return 'i16';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof BigInt64Array) return 'i64';
  if (v instanceof Uint16Array) return 'u16';
  if (v instanceof Uint32Array) return 'u32';
  if (v instanceof BigUint64Array) return 'u64';
  return 'u8';
}

/** Is `v` one of the typed arrays a column can be made of (not a DataView)? */
export function isNumericArray(v: unknown): v is NumericArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/**
 * `number[]` as one column, `number[][]` as one column of `width` values per row; every element
 * must be a number (NaN and ±Infinity included). The only element-by-element copy: typed arrays
 * and `{ values, width }` are used as they are.
 */
export function columnFromJs(name: string, data: readonly unknown[]): MemoryColumn {
  if (data.length > 0 && Array.isArray(data[0])) {
    const width = (data[0] as unknown[]).length;
    if (width === 0) throw new UsageError(`${name}: row 0 has no values`);
    const out = new Float64Array(data.length * width);
    for (let r = 0; r < data.length; r++) {
      const row = data[r];
      if (!Array.isArray(row)) throw new UsageError(`${name}: row ${r} is not an array (rows of a matrix are number[])`);
      if (row.length !== width) throw new UsageError(`${name}: row ${r} has ${row.length} values but row 0 has ${width}`);
      for (let k = 0; k < width; k++) out[r * width + k] = element(name, row[k], `row ${r}, value ${k}`);
    }
    return { name, values: out, width };
  }
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = element(name, data[i], `element ${i}`);
  return { name, values: out, width: 1 };
}

function element(name: string, v: unknown, where: string): number {
  if (typeof v !== 'number') throw new UsageError(`${name}: ${where} is not a number (${typeof v === 'string' ? JSON.stringify(v) : typeof v})`);
  return v;
}

/** A row-major matrix: `values.length` must be a multiple of `width`. */
export function columnFromMatrix(name: string, values: NumericArray, width: number): MemoryColumn {
  if (!Number.isSafeInteger(width) || width < 1) throw new UsageError(`${name}: width must be a positive integer (got ${String(width)})`);
  if (values.length % width !== 0) throw new UsageError(`${name}: ${values.length} values do not make rows of ${width}`);
  return { name, values, width };
}

export function memoryTable(name: string, columns: readonly MemoryColumn[]): Table {
  const rows = columns.length ? columns[0]!.values.length / columns[0]!.width : 0;
  for (const c of columns) {
    if (c.values.length / c.width !== rows) throw new UsageError(`${name}: column ${c.name} has ${c.values.length / c.width} rows, ${columns[0]!.name} has ${rows}`);
  }
  let bytesRead = 0;
  let next = 0;
  const size = columns.reduce((s, c) => s + c.values.byteLength, 0);
  const source: TableSource = {
    name, gzip: false, size,
    bytesRead: () => bytesRead,
    close: () => undefined,
    finish: () => Promise.resolve(),
  };
  return {
    source, name, format: 'memory',
    columns: columns.map((c) => ({ name: c.name, width: c.width })),
    widths: (selected) => Promise.resolve(selected.map((i) => columns[i]!.width)),
    close: () => Promise.resolve(),
    async *chunks(selected, rowsPerChunk) {
      for (; next < rows;) {
        const start = next, n = Math.min(rowsPerChunk, rows - start);
        next += n;
        const slices: ColumnSlice[] = selected.map((i) => {
          const c = columns[i]!;
          const values = c.values.slice(start * c.width, (start + n) * c.width);
          bytesRead += values.byteLength;
          return {
            kind: kindOf(c.values), rows: n, width: c.width, values, validity: null, childValidity: null,
            firstRow: start + 1, listOffsets: null, listPieces: null, widthRow: 0, file: name, column: c.name,
          };
        });
        yield { rows: n, transfer: slices.map((s) => s.values.buffer as ArrayBuffer), part: { kind: 'arrow', slices } };
      }
    },
    countRest: () => {
      const left = rows - next;
      next = rows;
      return Promise.resolve(left);
    },
  };
}
