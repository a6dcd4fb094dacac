/**
 * Parquet value and level encodings → typed arrays (worker-safe, no file access).
 *
 * Levels and dictionary indices: the RLE / bit-packed hybrid. Values: PLAIN,
 * dictionary (PLAIN_DICTIONARY, RLE_DICTIONARY), BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED
 * (INT32, INT64) and RLE (BOOLEAN). Every read is bounded by the page: running past it,
 * a dictionary index past the dictionary, or a run that does not fit is a ParquetFormatError.
 */
import { deltaBinaryUnpack } from 'hyparquet/src/delta.js';
import type { LeafDesc, NumericKind } from '../../types.js';

export type { LeafDesc };
import { ParquetFormatError } from './errors.js';
import { POW2, POW2_BIAS } from '../../math/bits.js';
import { numericArray } from '../arrow-column.js';

export type Values = Float32Array | Float64Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Uint8Array | Uint16Array;

export function allocValues(kind: NumericKind, n: number): Values {
  // Parquet decodes to these kinds only (see LeafDesc); no i8/i16/u16 arrays
  if (kind === 'i8' || kind === 'i16' || kind === 'u16') throw new Error(`internal: no Parquet decoding to ${kind}`);
  return numericArray(kind, n) as Values;
}

function short(what: string, need: number, have: number): ParquetFormatError {
  return new ParquetFormatError(`${what} needs ${need} bytes, the page has ${have}`);
}

/**
 * The RLE / bit-packed hybrid: `n` values of `width` bits from bytes[pos, end) into out[0, n).
 * Returns the position after the last run read.
 */
export function readHybrid(
  b: Uint8Array, pos: number, end: number, width: number, out: Uint8Array | Int32Array | Uint32Array, n: number,
): number {
  if (width > 32) throw new ParquetFormatError(`bit width ${width} in an RLE / bit-packed run`);
  const byteW = (width + 7) >> 3;
  const limit = width === 32 ? 2 ** 32 : POW2[width + POW2_BIAS]!;
  let i = 0;
  while (i < n) {
    // ULEB128 run header
    let h = 0, shift = 0, byte = 0x80;
    while (byte & 0x80) {
      if (pos >= end) throw new ParquetFormatError(`RLE / bit-packed data ends after ${i} of ${n} values`);
      if (shift > 28) throw new ParquetFormatError('RLE / bit-packed run header too long');
      byte = b[pos++]!;
      h += (byte & 0x7f) * POW2[shift + POW2_BIAS]!;
      shift += 7;
    }
    if (h % 2 === 1) {
      const groups = (h - 1) / 2;
      const count = Math.min(groups * 8, n - i);
      const bytes = groups * width; // the run as written
      const need = Math.ceil((count * width) / 8); // what the values we use occupy
      if (pos + need > end) throw short('a bit-packed run', need, end - pos);
      if (width === 0) out.fill(0, i, i + count);
      else unpack(b, pos, width, out, i, count);
      i += count;
      pos = Math.min(end, pos + bytes);
    } else {
      const count = Math.min(h / 2, n - i);
      if (pos + byteW > end) throw short('an RLE run', byteW, end - pos);
      let v = 0;
      for (let k = 0; k < byteW; k++) v += b[pos + k]! * POW2[8 * k + POW2_BIAS]!;
      pos += byteW;
      if (v >= limit) throw new ParquetFormatError(`RLE value ${v} does not fit ${width} bits`);
      out.fill(v, i, i + count);
      i += count;
    }
  }
  return pos;
}

/** Bit-packed values (LSB first) of `width` ≤ 32 bits from b[pos…] into out[at, at + count). */
function unpack(b: Uint8Array, pos: number, width: number, out: Uint8Array | Int32Array | Uint32Array, at: number, count: number): void {
  if (width <= 24) {
    const mask = (1 << width) - 1;
    let acc = 0, bits = 0, p = pos;
    for (let k = 0; k < count; k++) {
      while (bits < width) {
        acc |= b[p++]! << bits;
        bits += 8;
      }
      out[at + k] = acc & mask;
      acc >>>= width;
      bits -= width;
    }
    return;
  }
  // wide values: up to 5 bytes each, combined exactly in float64 arithmetic
  const mod = POW2[width + POW2_BIAS]!;
  for (let k = 0; k < count; k++) {
    const bit = k * width;
    const p = pos + Math.floor(bit / 8);
    const s = bit % 8;
    let v = 0;
    for (let j = 4; j >= 0; j--) v = v * 256 + (b[p + j] ?? 0);
    out[at + k] = Math.floor(v / POW2[s + POW2_BIAS]!) % mod;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function view(b: Uint8Array, pos: number, bytes: number): Uint8Array {
  // an own, aligned copy: typed arrays over it need element alignment (Uint8Array's slice:
  // a Buffer's slice would be a view)
  return Uint8Array.prototype.slice.call(b, pos, pos + bytes);
}

/** Bytes one PLAIN value takes (BOOLEAN: 1/8; BYTE_ARRAY: variable, -1). */
function plainWidth(d: LeafDesc): number {
  switch (d.physical) {
    case 'INT32': case 'FLOAT': return 4;
    case 'INT64': case 'DOUBLE': return 8;
    case 'FIXED_LEN_BYTE_ARRAY': return d.typeLength;
    default: return -1;
  }
}

/** PLAIN-encoded values: `n` of them from bytes[pos, end). */
export function readPlain(b: Uint8Array, pos: number, end: number, d: LeafDesc, n: number): Values {
  if (d.physical === 'BOOLEAN') {
    const need = Math.ceil(n / 8);
    if (pos + need > end) throw short(`${n} PLAIN BOOLEAN values`, need, end - pos);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (b[pos + (i >> 3)]! >> (i & 7)) & 1;
    return out;
  }
  if (d.physical === 'BYTE_ARRAY') return byteArrayDecimals(b, pos, end, d, n);
  const w = plainWidth(d);
  const need = n * w;
  if (pos + need > end) throw short(`${n} PLAIN ${d.physical} values`, need, end - pos);
  return fromBytes(view(b, pos, need), d, n);
}

/** `n` fixed-width little-endian values laid out in `raw` (own buffer) → the leaf's typed array. */
function fromBytes(raw: Uint8Array, d: LeafDesc, n: number): Values {
  if (!LITTLE_ENDIAN) throw new Error('internal: Parquet decoding needs a little-endian machine');
  const buf = raw.buffer as ArrayBuffer;
  if (d.decimalScale !== null) {
    const out = new Float64Array(n);
    const scale = d.decimalScale;
    if (d.physical === 'INT32') {
      const v = new Int32Array(buf, 0, n);
      for (let i = 0; i < n; i++) out[i] = decimalToFloat64(v[i]!, scale);
    } else if (d.physical === 'INT64') {
      const v = new BigInt64Array(buf, 0, n);
      for (let i = 0; i < n; i++) out[i] = decimalBigToFloat64(v[i]!, scale);
    } else {
      const w = d.typeLength;
      for (let i = 0; i < n; i++) out[i] = decimalBigToFloat64(bigEndianSigned(raw, i * w, w), scale);
    }
    return out;
  }
  switch (d.kind) {
    case 'f32': return new Float32Array(buf, 0, n);
    case 'f64': return new Float64Array(buf, 0, n);
    case 'i32': return new Int32Array(buf, 0, n);
    case 'u32': return new Uint32Array(buf, 0, n);
    case 'i64': return new BigInt64Array(buf, 0, n);
    case 'u64': return new BigUint64Array(buf, 0, n);
    case 'f16': return new Uint16Array(buf, 0, n);
    default: throw new Error(`internal: PLAIN ${d.physical} as ${d.kind}`);
  }
}

function bigEndianSigned(b: Uint8Array, at: number, w: number): bigint {
  let v = 0n;
  for (let k = 0; k < w; k++) v = (v << 8n) | BigInt(b[at + k]!);
  if (w > 0 && b[at]! & 0x80) v -= 1n << BigInt(8 * w);
  return v;
}

function byteArrayDecimals(b: Uint8Array, pos: number, end: number, d: LeafDesc, n: number): Values {
  if (d.decimalScale === null) throw new Error('internal: BYTE_ARRAY values that are not decimals');
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (pos + 4 > end) throw short(`BYTE_ARRAY value ${i + 1} of ${n}`, 4, end - pos);
    const len = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! * 2 ** 24);
    pos += 4;
    if (pos + len > end) throw short(`BYTE_ARRAY value ${i + 1} of ${n}`, len, end - pos);
    if (len > 64) throw new ParquetFormatError(`a DECIMAL of ${len} bytes`);
    out[i] = decimalBigToFloat64(bigEndianSigned(b, pos, len), d.decimalScale);
    pos += len;
  }
  return out;
}

const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** unscaled / 10^scale rounded once: exact operands (|u| < 2^53, 10^s ≤ 10^22) make one IEEE division correct. */
export function decimalToFloat64(unscaled: number, scale: number): number {
  if (scale >= 0 && scale <= 22 && Math.abs(unscaled) <= 2 ** 53) return unscaled / POW10[scale]!;
  return decimalBigToFloat64(BigInt(unscaled), scale);
}

/** The same for any size: V8's string → number conversion is correctly rounded for any digit count. */
export function decimalBigToFloat64(unscaled: bigint, scale: number): number {
  const a = unscaled < 0n ? -unscaled : unscaled;
  if (scale >= 0 && scale <= 22 && a <= 9007199254740992n) return Number(unscaled) / POW10[scale]!;
  return Number(`${unscaled}e${-scale}`);
}

/** BYTE_STREAM_SPLIT: byte k of value i is at pos + k·n + i. */
export function readByteStreamSplit(b: Uint8Array, pos: number, end: number, d: LeafDesc, n: number): Values {
  const w = plainWidth(d);
  if (w <= 0) throw new ParquetFormatError(`BYTE_STREAM_SPLIT for ${d.physical}`);
  const need = n * w;
  if (pos + need > end) throw short(`${n} BYTE_STREAM_SPLIT values`, need, end - pos);
  const raw = new Uint8Array(need);
  for (let k = 0; k < w; k++) {
    const src = pos + k * n;
    for (let i = 0, o = k; i < n; i++, o += w) raw[o] = b[src + i]!;
  }
  return fromBytes(raw, d, n);
}

/** DELTA_BINARY_PACKED (INT32, INT64): checks the block header, then hyparquet's unpacker. */
export function readDelta(b: Uint8Array, pos: number, end: number, d: LeafDesc, n: number, after?: { pos: number }): Values {
  if (d.physical !== 'INT32' && d.physical !== 'INT64') throw new ParquetFormatError(`DELTA_BINARY_PACKED for ${d.physical}`);
  // header: block size (a multiple of 128), miniblocks per block (values per miniblock a multiple of 32)
  let p = pos;
  const uvar = (): number => {
    let v = 0, shift = 0, byte = 0x80;
    while (byte & 0x80) {
      if (p >= end || shift > 49) throw new ParquetFormatError('DELTA_BINARY_PACKED header ends early');
      byte = b[p++]!;
      v += (byte & 0x7f) * POW2[shift + POW2_BIAS]!;
      shift += 7;
    }
    return v;
  };
  const block = uvar();
  const mini = uvar();
  uvar(); // total count
  // the first value, a zigzag varint of up to 64 bits
  let zz = 0n, zshift = 0n, zbyte = 0x80;
  while (zbyte & 0x80) {
    if (p >= end || zshift > 63n) throw new ParquetFormatError('DELTA_BINARY_PACKED header ends early');
    zbyte = b[p++]!;
    zz |= BigInt(zbyte & 0x7f) << zshift;
    zshift += 7n;
  }
  const first = (zz >> 1n) ^ -(zz & 1n);
  if (block === 0 || block % 128 !== 0 || mini === 0 || block % mini !== 0 || (block / mini) % 32 !== 0) {
    throw new ParquetFormatError(`DELTA_BINARY_PACKED block of ${block} values in ${mini} miniblocks`);
  }
  const reader = { view: new DataView(b.buffer, b.byteOffset + pos, end - pos), offset: 0 };
  const out = d.physical === 'INT32' ? new Int32Array(Math.max(n, 1)) : new BigInt64Array(Math.max(n, 1));
  if (n > 0) {
    try {
      deltaBinaryUnpack(reader, n, out);
    } catch (e) {
      if (e instanceof RangeError) throw new ParquetFormatError(`DELTA_BINARY_PACKED data ends before ${n} values`);
      throw e;
    }
  }
  if (after) after.pos = n > 0 ? pos + reader.offset : p;
  const vals = out.subarray(0, n);
  if (vals instanceof Int32Array && n > 0) {
    // hyparquet reads the first INT32 value through a 32-bit varint, which loses its high bits when
    // a writer stores it as a 64-bit zigzag (DuckDB does for UINT_32); every later value is the
    // first plus deltas mod 2^32, so the same correction mod 2^32 fixes them all
    const fix = (Number(BigInt.asIntN(32, first)) - vals[0]!) | 0;
    if (fix !== 0) for (let i = 0; i < n; i++) vals[i] = (vals[i]! + fix) | 0;
  }
  if (d.decimalScale !== null) {
    const f = new Float64Array(n);
    for (let i = 0; i < n; i++) f[i] = decimalBigToFloat64(BigInt(vals[i]!), d.decimalScale);
    return f;
  }
  if (d.kind === 'u32') return new Uint32Array(vals.buffer, 0, n);
  if (d.kind === 'u64') return new BigUint64Array(vals.buffer, 0, n);
  return vals as Int32Array | BigInt64Array;
}

/** Dictionary indices (bit width byte + hybrid runs) → the dictionary's values. */
export function readDictIndices(b: Uint8Array, pos: number, end: number, dict: Values, n: number): Values {
  if (pos >= end) {
    if (n === 0) return sliceValues(dict, 0);
    throw new ParquetFormatError('dictionary-encoded data page has no bit width');
  }
  const width = b[pos]!;
  if (width > 32) throw new ParquetFormatError(`dictionary index bit width ${width}`);
  const idx = new Uint32Array(n);
  readHybrid(b, pos + 1, end, width, idx, n);
  const size = dict.length;
  const out = sliceValues(dict, n);
  const o = out as unknown as { [i: number]: number | bigint };
  const dv = dict as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    const k = idx[i]!;
    if (k >= size) throw new ParquetFormatError(`dictionary index ${k} out of range (the dictionary has ${size} values)`);
    o[i] = dv[k]!;
  }
  return out;
}

/** A new, zeroed typed array of the same type as `like`. */
function sliceValues(like: Values, n: number): Values {
  return new (like.constructor as new (n: number) => Values)(n);
}

/** BOOLEAN values under RLE (data page v2): 4-byte length, then hybrid runs of width 1. */
export function readRleBooleans(b: Uint8Array, pos: number, end: number, n: number): Values {
  if (pos + 4 > end) throw short('RLE BOOLEAN values', 4, end - pos);
  const len = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! * 2 ** 24);
  if (pos + 4 + len > end) throw short('RLE BOOLEAN values', len, end - pos - 4);
  const out = new Uint8Array(n);
  readHybrid(b, pos + 4, pos + 4 + len, 1, out, n);
  return out;
}

/** Byte strings: value i is data[start[i], end[i]). */
export interface TextValues {
  readonly data: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

const INT32_DESC: LeafDesc = { physical: 'INT32', typeLength: 0, kind: 'i32', decimalScale: null, maxDef: 0, maxRep: 0, repDef: 0 };

/** PLAIN BYTE_ARRAY values (4-byte length, then the bytes), as text (own copy of the bytes). */
export function readPlainText(b: Uint8Array, pos: number, end: number, n: number): TextValues {
  const start = new Int32Array(n), stop = new Int32Array(n);
  const base = pos;
  for (let i = 0; i < n; i++) {
    if (pos + 4 > end) throw short(`BYTE_ARRAY value ${i + 1} of ${n}`, 4, end - pos);
    const len = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! * 2 ** 24);
    pos += 4;
    if (pos + len > end) throw short(`BYTE_ARRAY value ${i + 1} of ${n}`, len, end - pos);
    start[i] = pos - base;
    pos += len;
    stop[i] = pos - base;
  }
  return { data: Uint8Array.prototype.slice.call(b, base, pos), start, end: stop };
}

/** DELTA_LENGTH_BYTE_ARRAY: the lengths (DELTA_BINARY_PACKED), then the bytes. */
export function readDeltaLengthText(b: Uint8Array, pos: number, end: number, n: number): TextValues {
  const after = { pos };
  const lens = readDelta(b, pos, end, INT32_DESC, n, after) as Int32Array;
  let p = after.pos;
  const base = p;
  const start = new Int32Array(n), stop = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = lens[i]!;
    if (len < 0) throw new ParquetFormatError(`DELTA_LENGTH_BYTE_ARRAY value ${i + 1} of ${n} has length ${len}`);
    if (p + len > end) throw short(`DELTA_LENGTH_BYTE_ARRAY value ${i + 1} of ${n}`, len, end - p);
    start[i] = p - base;
    p += len;
    stop[i] = p - base;
  }
  return { data: Uint8Array.prototype.slice.call(b, base, p), start, end: stop };
}

/** DELTA_BYTE_ARRAY: prefix lengths and suffix lengths (DELTA_BINARY_PACKED), then the suffixes. */
export function readDeltaText(b: Uint8Array, pos: number, end: number, n: number): TextValues {
  const after = { pos };
  const prefix = readDelta(b, pos, end, INT32_DESC, n, after) as Int32Array;
  const suffix = readDelta(b, after.pos, end, INT32_DESC, n, after) as Int32Array;
  let p = after.pos;
  let total = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const pre = prefix[i]!, suf = suffix[i]!;
    if (pre < 0 || pre > prev || suf < 0) {
      throw new ParquetFormatError(`DELTA_BYTE_ARRAY value ${i + 1} of ${n} has prefix ${pre} (the value before has ${prev} bytes) and suffix ${suf}`);
    }
    prev = pre + suf;
    total += prev;
    if (total > 1 << 30) throw new ParquetFormatError(`DELTA_BYTE_ARRAY values of more than ${1 << 30} bytes in one page`);
  }
  const data = new Uint8Array(total);
  const start = new Int32Array(n), stop = new Int32Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const pre = prefix[i]!, suf = suffix[i]!;
    if (p + suf > end) throw short(`DELTA_BYTE_ARRAY value ${i + 1} of ${n}`, suf, end - p);
    if (i > 0) data.copyWithin(o, start[i - 1]!, start[i - 1]! + pre);
    data.set(b.subarray(p, p + suf), o + pre);
    p += suf;
    start[i] = o;
    o += pre + suf;
    stop[i] = o;
  }
  return { data, start, end: stop };
}
