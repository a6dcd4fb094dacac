/**
 * Arrow column slices → float64 (worker side; also usable on the main thread).
 * Imports only types from read/arrow.ts, so a worker does not load apache-arrow.
 *
 * Conversions: every integer and float kind becomes the nearest float64; 64-bit
 * integers round exactly as `Number(bigint)` does (round to nearest, ties to even),
 * computed from their 32-bit halves: hi·2³² is exact, so `hi·2³² + lo` rounds once.
 * Float16 is decoded exactly. Null rows, null list entries and null list values → NaN.
 * Big-endian values (`bigEndian`, from a `.npy`) are decoded through a DataView, to the same numbers.
 */
import type { ColumnSlice, NumericKind } from '../types.js';
import { DataError } from '../errors.js';
import { countNaN } from './nan.js';
import { formatNumber } from '../write/format.js';
import { POW2, POW2_BIAS } from '../math/bits.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;

let f16Table: Float64Array | null = null;

/** Exact float64 value of an IEEE binary16 bit pattern. */
export function halfToFloat64(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * POW2[e - 25 + POW2_BIAS]!;
}

function halfTable(): Float64Array {
  if (!f16Table) {
    f16Table = new Float64Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfToFloat64(h);
  }
  return f16Table;
}

/** A reader of element i of the values as float64, specialised per kind. */
type Get = (i: number) => number;

function getter(kind: NumericKind, values: ArrayBufferView, n: number): Get {
  const { buffer, byteOffset } = values;
  switch (kind) {
    case 'f64': case 'f32': case 'i8': case 'i16': case 'i32': case 'u8': case 'u16': case 'u32': {
      const v = values as unknown as ArrayLike<number>;
      return (i) => v[i]!;
    }
    case 'f16': {
      const v = values as Uint16Array;
      const t = halfTable();
      return (i) => t[v[i]!]!;
    }
    case 'i64': {
      if (!LITTLE_ENDIAN || byteOffset % 4 !== 0) {
        const v = values as BigInt64Array;
        return (i) => Number(v[i]!);
      }
      const lo = new Uint32Array(buffer, byteOffset, 2 * n);
      const hi = new Int32Array(buffer, byteOffset, 2 * n);
      return (i) => hi[2 * i + 1]! * TWO32 + lo[2 * i]!;
    }
    case 'u64': {
      if (!LITTLE_ENDIAN || byteOffset % 4 !== 0) {
        const v = values as BigUint64Array;
        return (i) => Number(v[i]!);
      }
      const w = new Uint32Array(buffer, byteOffset, 2 * n);
      return (i) => w[2 * i + 1]! * TWO32 + w[2 * i]!;
    }
  }
}

/** Element i of big-endian values (a `.npy` saved with `>`), exact as the little-endian getters. */
function bigEndianGetter(kind: NumericKind, values: ArrayBufferView): Get {
  const d = new DataView(values.buffer, values.byteOffset, values.byteLength);
  switch (kind) {
    case 'f64': return (i) => d.getFloat64(8 * i);
    case 'f32': return (i) => d.getFloat32(4 * i);
    case 'f16': {
      const t = halfTable();
      return (i) => t[d.getUint16(2 * i)]!;
    }
    case 'i8': return (i) => d.getInt8(i);
    case 'u8': return (i) => d.getUint8(i);
    case 'i16': return (i) => d.getInt16(2 * i);
    case 'u16': return (i) => d.getUint16(2 * i);
    case 'i32': return (i) => d.getInt32(4 * i);
    case 'u32': return (i) => d.getUint32(4 * i);
    case 'i64': return (i) => d.getInt32(8 * i) * TWO32 + d.getUint32(8 * i + 4);
    case 'u64': return (i) => d.getUint32(8 * i) * TWO32 + d.getUint32(8 * i + 4);
  }
}

/**
 * Plain copies for the kinds whose elements are already numbers (the hot path, no closure call).
 * Returns the NaN values copied (integers hold none), or -1 when the kind is not handled here.
 */
function copyDense(
  kind: NumericKind, values: ArrayBufferView, rows: number, width: number,
  out: Float64Array, stride: number, offset: number,
): number {
  if (kind === 'f16' || kind === 'i64' || kind === 'u64') return -1;
  const float = kind === 'f32' || kind === 'f64';
  const n = rows * width;
  if (stride === width && offset === 0) {
    // whole rows, one after another: converted natively, the NaN values counted after
    const d = out.subarray(0, n);
    d.set((values as unknown as Float32Array).subarray(0, n));
    return float ? countNaN(d) : 0;
  }
  const v = values as unknown as ArrayLike<number>;
  let nan = 0;
  if (width === 1) {
    if (float) {
      for (let r = 0, o = offset; r < rows; r++, o += stride) {
        const x = v[r]!;
        out[o] = x;
        if (x !== x) nan++;
      }
    } else {
      for (let r = 0, o = offset; r < rows; r++, o += stride) out[o] = v[r]!;
    }
  } else {
    for (let r = 0, i = 0, o = offset; r < rows; r++, o += stride) {
      for (let k = 0; k < width; k++) {
        const x = v[i++]!;
        out[o + k] = x;
        if (x !== x) nan++;
      }
    }
  }
  return nan;
}

function bit(b: Uint8Array, i: number): boolean {
  return ((b[i >> 3]! >> (i & 7)) & 1) === 1;
}

function elementCount(values: ArrayBufferView): number {
  return (values as unknown as { length: number }).length;
}

/**
 * Convert a slice into a row-major float64 destination: out[r*stride + offset + k] = value k of row r
 * (k < width); nulls → NaN. A List row (not null) whose length differs from `width` is a DataError
 * naming the 1-based row. Returns the NaN values written when known without a pass of their own
 * (plain copies of numbers; integers hold none), else null.
 */
export function sliceToFloat64(slice: ColumnSlice, out: Float64Array, stride: number, offset: number): number | null {
  const { kind, rows, width, values, validity, childValidity, listOffsets } = slice;
  if (rows === 0) return 0;
  if (offset < 0 || offset + width > stride || (rows - 1) * stride + offset + width > out.length) {
    throw new RangeError(`sliceToFloat64: ${rows}×${width} values do not fit at offset ${offset}, stride ${stride} in ${out.length}`);
  }
  const n = elementCount(values);
  if (listOffsets) {
    listToFloat64(slice, n, out, stride, offset);
    return null;
  }
  if (n < rows * width) {
    throw new DataError(`corrupt Arrow data: ${n} values for ${rows} rows of ${width}`,
      { file: slice.file, row: slice.firstRow, column: slice.column });
  }
  const nan = slice.bigEndian ? -1 : copyDense(kind, values, rows, width, out, stride, offset);
  if (nan === -1) {
    const get = slice.bigEndian ? bigEndianGetter(kind, values) : getter(kind, values, n);
    for (let r = 0, i = 0, o = offset; r < rows; r++, o += stride) {
      for (let k = 0; k < width; k++) out[o + k] = get(i++);
    }
  }
  if (childValidity) {
    for (let r = 0, i = 0, o = offset; r < rows; r++, o += stride) {
      for (let k = 0; k < width; k++, i++) if (!bit(childValidity, i)) out[o + k] = NaN;
    }
  }
  if (validity) nullRows(validity, rows, width, out, stride, offset);
  return nan < 0 || childValidity || validity ? null : nan;
}

function nullRows(validity: Uint8Array, rows: number, width: number, out: Float64Array, stride: number, offset: number): void {
  for (let r = 0; r < rows; r++) {
    if (validity[r >> 3] === 0xff && (r & 7) === 0 && r + 8 <= rows) { r += 7; continue; }
    if (!bit(validity, r)) out.fill(NaN, r * stride + offset, r * stride + offset + width);
  }
}

function listToFloat64(slice: ColumnSlice, n: number, out: Float64Array, stride: number, offset: number): void {
  const { kind, rows, width, values, validity, childValidity, firstRow } = slice;
  const offs = slice.listOffsets!;
  const pieces = slice.listPieces ?? Int32Array.of(rows);
  const get = getter(kind, values, n);
  let r = 0; // row within the slice
  let oi = 0; // index into offs of the current piece's first offset
  let vbase = 0; // index into values of the current piece's first value
  for (let p = 0; p < pieces.length; p++) {
    const count = pieces[p]!;
    const o0 = offs[oi]!;
    const oEnd = offs[oi + count]!;
    const pieceValues = oEnd - o0;
    for (let k = 0; k < count; k++, r++) {
      const dst = r * stride + offset;
      if (validity && !bit(validity, r)) { out.fill(NaN, dst, dst + width); continue; }
      const a = offs[oi + k]!, b = offs[oi + k + 1]!;
      const len = b - a;
      if (len !== width) {
        const first = slice.widthRow > 0 ? ` (row ${slice.widthRow} has ${width})` : '';
        throw new DataError(`list has ${len} values, expected ${width}${first}: every row of a List column must have the same length`,
          { file: slice.file, row: firstRow + r, column: slice.column });
      }
      const at = vbase + (a - o0);
      if (a < o0 || b > oEnd || at + width > n) {
        throw new DataError(`corrupt Arrow data: list offsets ${a}..${b} outside the record batch's values`,
          { file: slice.file, row: firstRow + r, column: slice.column });
      }
      for (let j = 0; j < width; j++) {
        out[dst + j] = childValidity && !bit(childValidity, at + j) ? NaN : get(at + j);
      }
    }
    oi += count + 1;
    vbase += pieceValues;
  }
  if (r !== rows) {
    throw new DataError(`corrupt Arrow data: list pieces cover ${r} of ${rows} rows`, { file: slice.file, row: firstRow, column: slice.column });
  }
}

/**
 * Value k of row `row` of a slice as messages show it (error path only): `null` for a null row
 * or null value, 64-bit integers exactly, other numbers as losseval formats them (`nan`, `inf`).
 */
export function sliceValueText(slice: ColumnSlice, row: number, k: number): string {
  const { kind, width, values, validity, childValidity, listOffsets } = slice;
  if (validity !== null && !bit(validity, row)) return 'null';
  if (listOffsets === null) {
    const i = row * width + k;
    if (childValidity !== null && !bit(childValidity, i)) return 'null';
    if (kind === 'i64' || kind === 'u64') return String((values as BigInt64Array | BigUint64Array)[i]);
  }
  // a list's values sit by its offsets: convert the slice (the error path only)
  const all = new Float64Array(slice.rows * width);
  sliceToFloat64(slice, all, width, 0);
  return formatNumber(all[row * width + k]!);
}

/** The typed array that holds values of `kind` (`f16`: its bits, as Uint16): a new one of `n` values, or a view of `buf`. */
export function numericArray(kind: NumericKind, src: number | ArrayBuffer): ArrayBufferView {
  // one call shape for every constructor: `new X(n)` or `new X(buf)`
  const make = <T>(C: { new (n: number): T; new (b: ArrayBuffer): T }): T => (typeof src === 'number' ? new C(src) : new C(src));
  switch (kind) {
    case 'f16': case 'u16': return make(Uint16Array);
    case 'f32': return make(Float32Array);
    case 'f64': return make(Float64Array);
    case 'i8': return make(Int8Array);
    case 'i16': return make(Int16Array);
    case 'i32': return make(Int32Array);
    case 'i64': return make(BigInt64Array);
    case 'u8': return make(Uint8Array);
    case 'u32': return make(Uint32Array);
    case 'u64': return make(BigUint64Array);
  }
}
