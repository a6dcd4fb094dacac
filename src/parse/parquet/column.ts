/**
 * One Parquet column chunk, decoded page by page (worker-safe: bytes come from a
 * `ChunkBytes`, no file access here). A cursor holds one decoded data page at a time:
 * its levels and its non-null values as a typed array. `fillFlat` and `fillList` copy
 * rows out of it into a chunk's arrays, moving on to the next page as needed, so memory
 * is one page per column, whatever the row group's size.
 *
 * Every size in a page header is checked before it sizes anything: a page that claims
 * more than MAX_PAGE_BYTES uncompressed, or more than MAX_PAGE_VALUES values, is corrupt
 * (a decompression bomb), as is one that runs past its column chunk.
 */
import { parquetHeader } from 'hyparquet/src/column.js';
import type { PageHeader } from 'hyparquet';
import { decompress } from './codecs.js';
import { ParquetFormatError } from './errors.js';
import {
  readByteStreamSplit, readDelta, readDeltaLengthText, readDeltaText, readDictIndices, readHybrid, readPlain, readPlainText,
  readRleBooleans, type LeafDesc, type TextValues, type Values,
} from './values.js';
import { POW2, POW2_BIAS } from '../../math/bits.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!LITTLE_ENDIAN) throw new Error('losseval reads Parquet on little-endian machines only');

/** The largest uncompressed page accepted (DuckDB writes one page per column chunk). */
export const MAX_PAGE_BYTES = 512 << 20;
/** The most values (level entries) one page may hold. */
export const MAX_PAGE_VALUES = 1 << 26;

/** Bytes [pos, pos + len) of one column chunk (pos relative to the chunk's start). */
export interface ChunkBytes {
  readonly length: number;
  read(pos: number, len: number): Uint8Array;
}

export interface ChunkMeta {
  readonly codec: string;
  /** Level entries in the chunk, from the column metadata; null: the bytes are not the whole chunk. */
  readonly numValues: number | null;
  /** Rows of the row group. */
  readonly rows: number;
}

/**
 * The value of an RLE run that starts the levels and covers all `n` of them, else -1: a page
 * whose levels are all one value (every value present, or every row a new one) needs no array.
 */
function singleRun(b: Uint8Array, pos: number, end: number, width: number, n: number): number {
  let h = 0, shift = 0, byte = 0x80;
  while (byte & 0x80) {
    if (pos >= end || shift > 28) return -1;
    byte = b[pos++]!;
    h += (byte & 0x7f) * POW2[shift + POW2_BIAS]!;
    shift += 7;
  }
  if (h % 2 === 1 || h / 2 < n) return -1;
  const bytes = (width + 7) >> 3;
  if (pos + bytes > end) return -1;
  let v = 0;
  for (let k = 0; k < bytes; k++) v += b[pos + k]! * POW2[8 * k + POW2_BIAS]!;
  return v;
}

/** Bits needed for levels up to `max`. */
function bitWidth(max: number): number {
  return max === 0 ? 0 : 32 - Math.clz32(max);
}

const HEADER_TRY = 1 << 16;
const HEADER_MAX = 16 << 20;

export class ColumnCursor {
  private pos = 0;
  private dict: Values | null = null;
  /** text keys (desc.text): the dictionary's strings, and those the current page's values index */
  private dictText: TextValues | null = null;
  private text: TextValues | null = null;
  /** the current page: entries, levels (null: all at the maximum), non-null values */
  private entries = 0;
  private defs: Uint8Array | null = null;
  private reps: Uint8Array | null = null;
  private values: Values | null = null;
  /** PLAIN fixed-width values without nulls are not decoded: copied as bytes from the page */
  private raw: Uint8Array | null = null;
  private rawOff = 0;
  private rawW = 0;
  /** position in the current page: entry e, value v */
  private e = 0;
  private v = 0;
  /** entries decoded so far in the chunk */
  private seen = 0;
  /** rows started so far (lists) / filled (flat) */
  rowsDone = 0;

  constructor(readonly desc: LeafDesc, readonly meta: ChunkMeta, private readonly bytes: ChunkBytes) {}

  private header(): { h: PageHeader; start: number } {
    const left = this.bytes.length - this.pos;
    let n = Math.min(left, HEADER_TRY);
    for (;;) {
      const b = this.bytes.read(this.pos, n);
      const reader = { view: new DataView(b.buffer, b.byteOffset, b.byteLength), offset: 0 };
      try {
        const h = parquetHeader(reader);
        return { h, start: this.pos + reader.offset };
      } catch (e) {
        if (n < left && n < HEADER_MAX) {
          n = Math.min(left, HEADER_MAX, n * 16);
          continue;
        }
        throw new ParquetFormatError(`corrupt page header at byte ${this.pos} of the column chunk (${(e as Error).message})`);
      }
    }
  }

  /** Decode the next data page (reading a dictionary page first if one comes). False at the chunk's end. */
  private nextPage(): boolean {
    const d = this.desc;
    for (;;) {
      if (this.pos >= this.bytes.length) return false;
      const { h, start } = this.header();
      const csize = h.compressed_page_size, usize = h.uncompressed_page_size;
      if (!Number.isSafeInteger(csize) || csize < 0 || !Number.isSafeInteger(usize) || usize < 0) {
        throw new ParquetFormatError(`page header with sizes ${csize}/${usize}`);
      }
      if (usize > MAX_PAGE_BYTES) throw new ParquetFormatError(`page claims ${usize} uncompressed bytes; at most ${MAX_PAGE_BYTES} are supported`);
      if (start + csize > this.bytes.length) {
        throw new ParquetFormatError(`page of ${csize} bytes at byte ${this.pos} runs past the column chunk (${this.bytes.length} bytes)`);
      }
      this.pos = start + csize;
      const raw = this.bytes.read(start, csize);
      if (h.type === 'DICTIONARY_PAGE') {
        const dh = h.dictionary_page_header;
        if (!dh) throw new ParquetFormatError('dictionary page without its header');
        if (this.dict) throw new ParquetFormatError('a second dictionary page in one column chunk');
        const n = checkCount(dh.num_values, 'dictionary page');
        const page = decompress(this.meta.codec, raw, usize);
        if (d.text) {
          this.dictText = readPlainText(page, 0, page.length, n);
          this.dict = identity(n);
        } else {
          this.dict = readPlain(page, 0, page.length, d, n);
        }
        continue;
      }
      if (h.type === 'DATA_PAGE') {
        const ph = h.data_page_header;
        if (!ph) throw new ParquetFormatError('data page without its header');
        const n = checkCount(ph.num_values, 'data page');
        const page = decompress(this.meta.codec, raw, usize);
        let p = 0;
        const levels = (max: number, enc: string | undefined, what: string, trivial: number): Uint8Array | null => {
          if (max === 0) return null;
          if (enc !== 'RLE') throw new ParquetFormatError(`${what} levels in ${enc ?? 'an unknown encoding'}; only RLE is supported`);
          if (p + 4 > page.length) throw new ParquetFormatError(`${what} levels run past the page`);
          const len = page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16) | (page[p + 3]! * 2 ** 24);
          p += 4;
          if (p + len > page.length) throw new ParquetFormatError(`${what} levels of ${len} bytes run past the page`);
          const at = p;
          p += len;
          if (singleRun(page, at, at + len, bitWidth(max), n) === trivial) return null;
          const out = new Uint8Array(n);
          readHybrid(page, at, at + len, bitWidth(max), out, n);
          return out;
        };
        this.reps = levels(d.maxRep, ph.repetition_level_encoding, 'repetition', 0);
        this.defs = levels(d.maxDef, ph.definition_level_encoding, 'definition', d.maxDef);
        this.startPage(n, ph.encoding, page, p, page.length);
        return true;
      }
      if (h.type === 'DATA_PAGE_V2') {
        const ph = h.data_page_header_v2;
        if (!ph) throw new ParquetFormatError('data page v2 without its header');
        const n = checkCount(ph.num_values, 'data page');
        const rl = ph.repetition_levels_byte_length, dl = ph.definition_levels_byte_length;
        if (!Number.isSafeInteger(rl) || !Number.isSafeInteger(dl) || rl < 0 || dl < 0 || rl + dl > csize) {
          throw new ParquetFormatError(`data page v2 with level lengths ${rl} + ${dl} in ${csize} bytes`);
        }
        const levels = (max: number, at: number, len: number, trivial: number): Uint8Array | null => {
          if (max === 0) return null;
          if (singleRun(raw, at, at + len, bitWidth(max), n) === trivial) return null;
          const out = new Uint8Array(n);
          readHybrid(raw, at, at + len, bitWidth(max), out, n);
          return out;
        };
        this.reps = levels(d.maxRep, 0, rl, 0);
        this.defs = levels(d.maxDef, rl, dl, d.maxDef);
        const body = raw.subarray(rl + dl);
        const bodySize = usize - rl - dl;
        if (bodySize < 0) throw new ParquetFormatError(`data page v2 with level lengths ${rl} + ${dl} in ${usize} uncompressed bytes`);
        const page = ph.is_compressed === false ? body : decompress(this.meta.codec, body, bodySize);
        if (page.length !== bodySize) throw new ParquetFormatError(`data page v2 holds ${page.length} value bytes, its header says ${bodySize}`);
        this.startPage(n, ph.encoding, page, 0, page.length);
        return true;
      }
      // INDEX_PAGE and unknown page types carry no values
    }
  }

  private startPage(n: number, encoding: string | undefined, page: Uint8Array, p: number, end: number): void {
    const d = this.desc;
    this.seen += n;
    if (this.meta.numValues !== null && this.seen > this.meta.numValues) {
      throw new ParquetFormatError(`pages hold more than the column chunk's ${this.meta.numValues} values`);
    }
    let present = n;
    const defs = this.defs;
    if (defs) {
      present = 0;
      const max = d.maxDef;
      for (let i = 0; i < n; i++) {
        const l = defs[i]!;
        if (l === max) present++;
        else if (l > max) throw new ParquetFormatError(`definition level ${l} above the column's maximum ${max}`);
      }
      if (present === n) this.defs = null;
    }
    if (this.reps) {
      for (let i = 0; i < n; i++) if (this.reps[i]! > d.maxRep) throw new ParquetFormatError(`repetition level ${this.reps[i]} above the column's maximum ${d.maxRep}`);
    }
    const w = rawWidth(d);
    if (encoding === 'PLAIN' && w > 0 && this.defs === null) {
      if (p + n * w > end) throw new ParquetFormatError(`${n} PLAIN ${d.physical} values need ${n * w} bytes, the page has ${end - p}`);
      this.raw = page;
      this.rawOff = p;
      this.rawW = w;
      this.values = null;
    } else {
      this.raw = null;
      this.values = this.decodeValues(encoding, page, p, end, present);
    }
    this.entries = n;
    this.e = 0;
    this.v = 0;
  }

  private decodeValues(encoding: string | undefined, page: Uint8Array, p: number, end: number, n: number): Values {
    const d = this.desc;
    if (d.text) {
      // text: the values are indices into this.text
      switch (encoding) {
        case 'PLAIN':
          this.text = readPlainText(page, p, end, n);
          return identity(n);
        case 'DELTA_LENGTH_BYTE_ARRAY':
          this.text = readDeltaLengthText(page, p, end, n);
          return identity(n);
        case 'DELTA_BYTE_ARRAY':
          this.text = readDeltaText(page, p, end, n);
          return identity(n);
        case 'PLAIN_DICTIONARY': case 'RLE_DICTIONARY':
          if (!this.dict) throw new ParquetFormatError('dictionary-encoded page without a dictionary page');
          this.text = this.dictText;
          return readDictIndices(page, p, end, this.dict, n);
      }
      throw new ParquetFormatError(`encoding ${encoding ?? 'unknown'} is not supported for ${d.physical} text`);
    }
    switch (encoding) {
      case 'PLAIN':
        return readPlain(page, p, end, d, n);
      case 'PLAIN_DICTIONARY': case 'RLE_DICTIONARY':
        if (!this.dict) throw new ParquetFormatError('dictionary-encoded page without a dictionary page');
        return readDictIndices(page, p, end, this.dict, n);
      case 'BYTE_STREAM_SPLIT':
        return readByteStreamSplit(page, p, end, d, n);
      case 'DELTA_BINARY_PACKED':
        return readDelta(page, p, end, d, n);
      case 'RLE':
        if (d.physical === 'BOOLEAN') return readRleBooleans(page, p, end, n);
        break;
    }
    throw new ParquetFormatError(`encoding ${encoding ?? 'unknown'} is not supported for ${d.physical}`);
  }

  /** After the last fill: the chunk must be used up, with as many rows as its row group. */
  finish(): void {
    if (this.e < this.entries) throw new ParquetFormatError(`column chunk holds more than its row group's ${this.meta.rows} rows`);
    while (this.nextPage()) {
      if (this.entries > 0) throw new ParquetFormatError(`column chunk holds more than its row group's ${this.meta.rows} rows`);
    }
    if (this.meta.numValues !== null && this.seen !== this.meta.numValues) {
      throw new ParquetFormatError(`pages hold ${this.seen} values, the column chunk's metadata says ${this.meta.numValues}`);
    }
  }

  /** Pass over `count` rows (from the start of the bytes, which begin at a page holding a row start). */
  skip(count: number): void {
    const d = this.desc;
    if (d.maxRep === 0) {
      while (count > 0) {
        if (this.e >= this.entries && !this.nextPage()) throw new ParquetFormatError(`column chunk ends before row ${this.rowsDone + count + 1} of its row group`);
        const take = Math.min(count, this.entries - this.e);
        if (this.defs === null) this.v += take;
        else for (let k = 0; k < take; k++) if (this.defs[this.e + k] === d.maxDef) this.v++;
        this.e += take;
        count -= take;
        this.rowsDone += take;
      }
      return;
    }
    let rows = 0;
    for (;;) {
      if (this.e >= this.entries && !this.nextPage()) break;
      const rep = this.reps ? this.reps[this.e]! : 0;
      if (rep === 0) {
        if (rows === count) break;
        rows++;
      } else if (rows === 0) {
        throw new ParquetFormatError(`repetition level ${rep} at the start of a row`);
      }
      if ((this.defs ? this.defs[this.e]! : d.maxDef) === d.maxDef) this.v++;
      this.e++;
    }
    this.rowsDone += rows;
    if (rows < count) throw new ParquetFormatError(`column chunk ends before row ${this.rowsDone + 1} of its row group`);
  }

  /**
   * One value per row: copy `count` rows into out[at…]; a null row leaves 0 and clears its
   * bit in `nulls` (a row bitmap, made on the first null and returned).
   */
  fillFlat(out: Values, at: number, count: number, nulls: Uint8Array | null): Uint8Array | null {
    const o = out as unknown as { [i: number]: number | bigint } & { set(a: ArrayLike<unknown>, at: number): void };
    while (count > 0) {
      if (this.e >= this.entries && !this.nextPage()) {
        throw new ParquetFormatError(`column chunk ends after ${this.rowsDone} of its row group's ${this.meta.rows} rows`);
      }
      const take = Math.min(count, this.entries - this.e);
      const vals = this.values!;
      if (this.raw !== null) {
        const w = this.rawW, src = this.rawOff + this.v * w;
        new Uint8Array(out.buffer, out.byteOffset + at * w, take * w).set(this.raw.subarray(src, src + take * w));
        this.v += take;
      } else if (this.defs === null) {
        o.set(vals.subarray(this.v, this.v + take), at);
        this.v += take;
      } else {
        const defs = this.defs, max = this.desc.maxDef;
        const vv = vals as unknown as { [i: number]: number | bigint };
        for (let k = 0; k < take; k++) {
          if (defs[this.e + k] === max) {
            o[at + k] = vv[this.v++]!;
          } else {
            if (nulls === null) {
              nulls = new Uint8Array(Math.ceil(out.length / 8)).fill(0xff);
            }
            const r = at + k;
            nulls[r >> 3]! &= ~(1 << (r & 7));
          }
        }
      }
      this.e += take;
      at += take;
      count -= take;
      this.rowsDone += take;
    }
    return nulls;
  }

  /** Text keys (desc.text), one value per row: append `count` rows to `out` (a null row: no bytes, its validity bit cleared). */
  fillText(out: TextBuilder, count: number): void {
    const max = this.desc.maxDef;
    while (count > 0) {
      if (this.e >= this.entries && !this.nextPage()) {
        throw new ParquetFormatError(`column chunk ends after ${this.rowsDone} of its row group's ${this.meta.rows} rows`);
      }
      const take = Math.min(count, this.entries - this.e);
      const idx = this.values!, t = this.text!, defs = this.defs;
      for (let k = 0; k < take; k++) {
        if (defs === null || defs[this.e + k] === max) {
          const i = idx[this.v++] as number;
          out.push(t.data, t.start[i]!, t.end[i]!);
        } else {
          out.pushNull();
        }
      }
      this.e += take;
      count -= take;
      this.rowsDone += take;
    }
  }

  /**
   * A list per row: append `count` rows (or fewer at the chunk's end) to `out`. Stops before the
   * entry that would start row count + 1, so a row is always whole. `maxLen`: a longer row is an
   * error at once (it must not size memory). Returns the rows appended.
   */
  fillList(out: ListBuilder, count: number, maxLen: number, onLong: (row: number, len: number) => never): number {
    const d = this.desc;
    const listDef = d.repDef - 1; // def level of an empty (defined) list
    let rows = 0;
    let len = 0;
    let inRow = false;
    let rowNo = 0;
    for (;;) {
      if (this.e >= this.entries && !this.nextPage()) break;
      const rep = this.reps ? this.reps[this.e]! : 0;
      const def = this.defs ? this.defs[this.e]! : d.maxDef;
      if (rep === 0) {
        // the row before is whole: a long one is reported with its real length
        if (len > maxLen) onLong(rowNo, len);
        if (rows === count) break;
        out.startRow();
        rows++;
        rowNo = ++this.rowsDone;
        len = 0;
        if (def < d.repDef) {
          inRow = false;
          if (def < listDef) out.nullRow();
          this.e++;
          continue;
        }
        inRow = true;
      } else if (!inRow) {
        throw new ParquetFormatError(`repetition level ${rep} ${rows === 0 ? 'at the start of a row' : 'after an empty or null list'}`);
      }
      if (def < d.repDef) throw new ParquetFormatError(`definition level ${def} inside a list`);
      // past maxLen, values are counted, not kept
      if (++len <= maxLen) {
        if (def === d.maxDef) out.push(this.values!, this.v);
        else out.pushNull();
      }
      if (def === d.maxDef) this.v++;
      this.e++;
    }
    if (len > maxLen) onLong(rowNo, len);
    return rows;
  }
}

/** Bytes per value when PLAIN values of a flat column can be copied as they are (little-endian), else 0. */
function rawWidth(d: LeafDesc): number {
  if (d.maxRep !== 0 || d.decimalScale !== null) return 0;
  switch (d.physical) {
    case 'FLOAT': case 'INT32': return 4;
    case 'DOUBLE': case 'INT64': return 8;
    case 'FIXED_LEN_BYTE_ARRAY': return d.kind === 'f16' ? 2 : 0;
    default: return 0;
  }
}

function checkCount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ParquetFormatError(`${what} header with ${String(n)} values`);
  if (n > MAX_PAGE_VALUES) throw new ParquetFormatError(`${what} claims ${n} values; at most ${MAX_PAGE_VALUES} are supported`);
  return n;
}

/** 0, 1, …, n - 1: a text page's values index its own strings in order. */
function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Collects text key rows: rows + 1 offsets from 0, the bytes, and row validity (null: no nulls). */
export class TextBuilder {
  readonly offsets: Int32Array;
  data: Uint8Array;
  size = 0;
  rows = 0;
  validity: Uint8Array | null = null;

  constructor(private readonly maxRows: number) {
    this.offsets = new Int32Array(maxRows + 1);
    this.data = new Uint8Array(Math.max(64, maxRows * 8));
  }

  push(src: Uint8Array, s: number, e: number): void {
    const len = e - s;
    if (this.size + len > this.data.length) {
      if (this.size + len > 0x7fffffff) throw new ParquetFormatError('text keys of more than 2 GiB in one chunk');
      const grown = new Uint8Array(Math.min(0x7fffffff, Math.max(this.data.length * 2, this.size + len)));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    this.data.set(src.subarray(s, e), this.size);
    this.size += len;
    this.offsets[++this.rows] = this.size;
  }

  pushNull(): void {
    if (this.validity === null) this.validity = new Uint8Array((this.maxRows + 7) >> 3).fill(0xff);
    const r = this.rows;
    this.validity[r >> 3]! &= ~(1 << (r & 7));
    this.offsets[++this.rows] = this.size;
  }
}

/** Collects list rows: offsets, slot values, slot and row validity. */
export class ListBuilder {
  offsets: Int32Array;
  values: Values;
  slots = 0;
  rows = 0;
  rowValidity: Uint8Array | null = null;
  slotValidity: Uint8Array | null = null;

  constructor(private readonly make: (n: number) => Values, private readonly maxRows: number, slotsHint: number) {
    this.offsets = new Int32Array(maxRows + 1);
    this.values = make(Math.max(16, slotsHint));
  }

  startRow(): void {
    this.offsets[this.rows] = this.slots;
    this.rows++;
    this.offsets[this.rows] = this.slots;
  }

  nullRow(): void {
    if (this.rowValidity === null) this.rowValidity = new Uint8Array(Math.ceil(this.maxRows / 8)).fill(0xff);
    const r = this.rows - 1;
    this.rowValidity[r >> 3]! &= ~(1 << (r & 7));
  }

  private room(): void {
    if (this.slots < this.values.length) return;
    const grown = this.make(this.values.length * 2);
    (grown as unknown as { set(a: Values): void }).set(this.values);
    this.values = grown;
    if (this.slotValidity) {
      const v = new Uint8Array(Math.ceil(grown.length / 8)).fill(0xff);
      v.set(this.slotValidity);
      this.slotValidity = v;
    }
  }

  push(src: Values, i: number): void {
    this.room();
    (this.values as unknown as { [i: number]: number | bigint })[this.slots] = (src as unknown as { [i: number]: number | bigint })[i]!;
    this.slots++;
    this.offsets[this.rows] = this.slots;
  }

  pushNull(): void {
    this.room();
    if (this.slotValidity === null) this.slotValidity = new Uint8Array(Math.ceil(this.values.length / 8)).fill(0xff);
    const s = this.slots;
    this.slotValidity[s >> 3]! &= ~(1 << (s & 7));
    this.slots++;
    this.offsets[this.rows] = this.slots;
  }
}
