/**
 * Arrow IPC input (main thread): open an IPC file or stream, from a path or
 * from a byte stream (stdin), and cut the selected columns into row-aligned
 * chunks of raw, transferable buffers.
 *
 * N.B. the main thread does no per-element work here: re-chunking across record
 * batches is typed-array `.slice()` / `.set()` (memcpy) plus bit-shift copies
 * of validity bitmaps. Conversion to float64 (and the per-row List length
 * check) happens in the workers, in `parse/arrow-column.ts`.
 *
 * Memory stays flat: record batches are read one at a time (random access
 * through a FileHandle for a path; a streaming reader for stdin). An IPC *file*
 * arriving on a stream is read as the stream embedded after its 8-byte magic
 * when that stream starts with a schema message (Arrow C++/pyarrow write one);
 * when it does not (arrow-js's file writer keeps the schema only in the footer),
 * the bytes are spooled to an unlinked temp file and read by random access.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  RecordBatchReader,
  DataType,
  Type,
  type Data,
  type Field,
  type RecordBatch,
  type Schema,
} from 'apache-arrow';
import { DataError } from '../errors.js';

export type NumericKind = 'f16' | 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64';

export interface ArrowFieldInfo {
  name: string;
  /** Element kind of a numeric column (or of a list's values); null for any other type. */
  kind: NumericKind | null;
  /** FixedSizeList size, else null. */
  listSize: number | null;
  /** Variable-length List of numbers. */
  isList: boolean;
  /** The Arrow type as arrow-js prints it (`Float64`, `FixedSizeList[3]<Float32>`, `Utf8`…), for messages. */
  type: string;
}

/** Raw data of one column for a contiguous run of rows; transferable. */
export interface ColumnSlice {
  kind: NumericKind;
  rows: number;
  /** Values per row: 1 for a plain column, the list size for FixedSizeList, the uniform length for List. */
  width: number;
  /**
   * Typed array of the column's (child) values for exactly these rows, own buffer, offset 0.
   * Plain and FixedSizeList: rows*width elements. List: the child values of these rows as stored
   * (a null row may hold any number of values, usually 0), placed by `listOffsets`.
   */
  values: ArrayBufferView;
  /** Row-level validity bitmap (bit i = row i, LSB first), own buffer, or null when no nulls. */
  validity: Uint8Array | null;
  /** Value-level validity for list children (bit j = values[j]), or null. */
  childValidity: Uint8Array | null;
  /** 1-based row number in the file of row 0 (for messages). */
  firstRow: number;
  /**
   * List columns only (else null): the raw Arrow offsets of the record-batch pieces this slice was
   * cut from, concatenated: piece p contributes listPieces[p] + 1 offsets (not rebased). The worker
   * checks every non-null row's length against `width`.
   */
  listOffsets: Int32Array | null;
  /** List columns only: rows per piece (sums to `rows`). */
  listPieces: Int32Array | null;
  /** List columns only: the 1-based row whose length fixed `width` (for messages); else 0. */
  widthRow: number;
  /** For messages: the file name and the column name. */
  file: string;
  column: string;
}

export interface ArrowSource {
  format: 'file' | 'stream';
  /** All fields of the schema, in order; `chunks()` takes indices into this array. */
  fields: ArrowFieldInfo[];
  /** Name used in messages (the path, or the stream's name). */
  name: string;
  /**
   * Values per row of each selected column: 1, the FixedSizeList size, or a List column's length
   * (that of its first non-null row; this may read ahead a few record batches, which are kept for
   * `chunks()`). A List column with rows but no non-null row is a data error; with no rows at all, 0.
   */
  widths(columns: number[]): Promise<number[]>;
  /**
   * Yields slices of the selected columns, re-chunked to exactly `rowsPerChunk` rows (the last chunk
   * may be shorter) whatever the record batch sizes; each item is parallel to `columns`. Can be
   * iterated once. Selecting a non-numeric column is a DataError naming column and type.
   */
  chunks(columns: number[], rowsPerChunk: number): AsyncIterable<ColumnSlice[]>;
  /** Release the file / stream (also done when `chunks()` finishes or is abandoned). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Sniffing

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

function hasMagic(b: Uint8Array, at: number): boolean {
  if (b.length < at + 6) return false;
  for (let i = 0; i < 6; i++) if (b[at + i] !== MAGIC[i]) return false;
  return true;
}

function readI32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24));
}
function readU16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/**
 * The header type of the flatbuffer `Message` in b[start, start+len): 1 Schema, 2 DictionaryBatch,
 * 3 RecordBatch, 0 none; `undefined` when the bytes are not there (yet), -1 when it is not a
 * well-formed message table.
 */
export function messageHeaderType(b: Uint8Array, start: number, len: number): number | undefined {
  const end = start + len;
  if (len < 8) return len < 0 ? -1 : undefined;
  if (b.length < start + 4) return undefined;
  const table = start + (readI32(b, start) >>> 0);
  if (table + 4 > end) return -1;
  if (b.length < table + 4) return undefined;
  const vtable = table - readI32(b, table);
  if (vtable < start || vtable + 4 > end) return -1;
  if (b.length < vtable + 4) return undefined;
  const vtSize = readU16(b, vtable);
  if (vtSize < 4 || vtable + vtSize > end) return -1;
  if (vtSize < 8) return 0; // header_type (field 1) absent: NONE
  if (b.length < vtable + 8) return undefined;
  const fieldOff = readU16(b, vtable + 6);
  if (fieldOff === 0) return 0;
  if (table + fieldOff >= end) return -1;
  if (b.length <= table + fieldOff) return undefined;
  return b[table + fieldOff]!;
}

/**
 * Sniff the first bytes: `'file'` for the `ARROW1` magic, `'stream'` for an IPC stream (continuation
 * marker 0xFFFFFFFF and a metadata length, or a legacy pre-0.15 stream whose first message is a
 * schema), else null. 8 bytes are enough for the common cases; more let it check the schema message.
 */
export function isArrowMagic(head: Uint8Array): 'file' | 'stream' | null {
  if (hasMagic(head, 0)) return 'file';
  if (head.length < 8) return null;
  const first = readI32(head, 0);
  if (first === -1) {
    const len = readI32(head, 4);
    if (len < 0) return null;
    if (len === 0) return 'stream'; // bare end-of-stream marker: an (invalid) empty stream
    const t = messageHeaderType(head, 8, len);
    return t === undefined || t === 1 ? 'stream' : null;
  }
  // Legacy stream (no continuation marker): only when we can see a schema message.
  if (first > 0 && first < (1 << 24)) {
    const t = messageHeaderType(head, 4, first);
    return t === 1 ? 'stream' : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Types

function numericKind(t: DataType): NumericKind | null {
  if (DataType.isInt(t)) {
    const w = (t as unknown as { bitWidth: number }).bitWidth;
    const s = (t as unknown as { isSigned: boolean }).isSigned;
    switch (w) {
      case 8: return s ? 'i8' : 'u8';
      case 16: return s ? 'i16' : 'u16';
      case 32: return s ? 'i32' : 'u32';
      case 64: return s ? 'i64' : 'u64';
      default: return null;
    }
  }
  if (DataType.isFloat(t)) {
    switch ((t as unknown as { precision: number }).precision) {
      case 0: return 'f16';
      case 1: return 'f32';
      case 2: return 'f64';
      default: return null;
    }
  }
  return null;
}

function fieldInfo(f: Field): ArrowFieldInfo {
  const t = f.type as DataType;
  const type = String(t);
  const plain = numericKind(t);
  if (plain) return { name: f.name, kind: plain, listSize: null, isList: false, type };
  if (t.typeId === Type.FixedSizeList) {
    const child = (t.children[0] as Field).type as DataType;
    const kind = numericKind(child);
    const size = (t as unknown as { listSize: number }).listSize;
    if (kind && Number.isInteger(size) && size >= 0) return { name: f.name, kind, listSize: size, isList: false, type };
  } else if (t.typeId === Type.List) {
    const kind = numericKind((t.children[0] as Field).type as DataType);
    if (kind) return { name: f.name, kind, listSize: null, isList: true, type };
  }
  return { name: f.name, kind: null, listSize: null, isList: false, type };
}

type TypedCtor = {
  new (n: number): ArrayBufferView & { length: number; set(a: ArrayLike<unknown>, o?: number): void };
};

const CTORS: Record<NumericKind, TypedCtor> = {
  f16: Uint16Array, f32: Float32Array, f64: Float64Array,
  i8: Int8Array, i16: Int16Array, i32: Int32Array, i64: BigInt64Array as unknown as TypedCtor,
  u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, u64: BigUint64Array as unknown as TypedCtor,
};

/** Any typed array, as arrow-js hands them out. */
interface Typed extends ArrayBufferView {
  length: number;
  subarray(a: number, b: number): Typed;
  slice(a: number, b: number): Typed;
}

// ---------------------------------------------------------------------------------------------
// Bitmaps

/** dst bits [dstOff, dstOff+n) := src bits [srcOff, srcOff+n); dst must be zero there. */
export function copyBits(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  let i = 0;
  while (i < n && ((dstOff + i) & 7) !== 0) {
    const s = srcOff + i, d = dstOff + i;
    dst[d >> 3]! |= ((src[s >> 3]! >> (s & 7)) & 1) << (d & 7);
    i++;
  }
  let s = (srcOff + i) >> 3;
  let d = (dstOff + i) >> 3;
  const shift = (srcOff + i) & 7;
  const whole = (n - i) >> 3;
  if (shift === 0) {
    dst.set(src.subarray(s, s + whole), d);
  } else {
    for (let k = 0; k < whole; k++, s++, d++) dst[d] = ((src[s]! >> shift) | (src[s + 1]! << (8 - shift))) & 0xff;
  }
  i += whole << 3;
  while (i < n) {
    const s2 = srcOff + i, d2 = dstOff + i;
    dst[d2 >> 3]! |= ((src[s2 >> 3]! >> (s2 & 7)) & 1) << (d2 & 7);
    i++;
  }
}

/** dst bits [off, off+n) := 1. */
function setBits(dst: Uint8Array, off: number, n: number): void {
  let i = off;
  const end = off + n;
  while (i < end && (i & 7) !== 0) { dst[i >> 3]! |= 1 << (i & 7); i++; }
  const whole = (end - i) >> 3;
  if (whole > 0) { dst.fill(0xff, i >> 3, (i >> 3) + whole); i += whole << 3; }
  while (i < end) { dst[i >> 3]! |= 1 << (i & 7); i++; }
}

function bitSet(b: Uint8Array, i: number): boolean {
  return ((b[i >> 3]! >> (i & 7)) & 1) === 1;
}

// ---------------------------------------------------------------------------------------------
// Opening

type Input = { path: string } | { stream: AsyncIterable<Uint8Array>; name: string };

type AnyReader = RecordBatchReader & AsyncIterable<RecordBatch>;

async function readHead(it: AsyncIterator<Uint8Array>, head: Uint8Array[], have: number, n: number):
  Promise<{ have: number; done: boolean }> {
  while (have < n) {
    const r = await it.next();
    if (r.done) return { have, done: true };
    const b = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBufferLike);
    if (b.length === 0) continue;
    head.push(b);
    have += b.length;
  }
  return { have, done: false };
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    if (o >= n) break;
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
  }
  return out.subarray(0, o);
}

async function* replay(head: Uint8Array[], skip: number, it: AsyncIterator<Uint8Array>, done: boolean):
  AsyncGenerator<Uint8Array> {
  try {
    for (const h of head) {
      if (skip >= h.length) { skip -= h.length; continue; }
      yield skip > 0 ? h.subarray(skip) : h;
      skip = 0;
    }
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}

function corrupt(name: string, detail: string): DataError {
  return new DataError(`not a valid Arrow IPC file or stream: ${detail}`, { file: name });
}

/** Open a path: random access through a FileHandle (arrow-js reads the footer, then one batch at a time). */
async function openPath(path: string): Promise<{ reader: AnyReader; format: 'file' | 'stream' }> {
  const fh = await fsp.open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, 4096));
    if (head.length > 0) await fh.read(head, 0, head.length, 0);
    const format = isArrowMagic(head);
    if (!format) throw corrupt(path, 'no Arrow magic or schema message at the start');
    if (format === 'file') {
      // Check the footer before arrow-js allocates what it claims: ... <footer> <int32 len> "ARROW1".
      const tail = new Uint8Array(10);
      if (size < 8 + 10) throw corrupt(path, 'file too short for an Arrow IPC file');
      await fh.read(tail, 0, 10, size - 10);
      const footerLen = readI32(tail, 0);
      if (!hasMagic(tail, 4)) throw corrupt(path, 'missing ARROW1 magic at the end (truncated file?)');
      if (footerLen <= 0 || footerLen > size - 8 - 10) throw corrupt(path, `footer length ${footerLen} does not fit a ${size}-byte file`);
    }
    const reader = (await RecordBatchReader.from(fh as never)) as unknown as AnyReader;
    await reader.open();
    return { reader, format };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/** Open a byte stream (stdin): streaming reader; an IPC file is read through its embedded stream or spooled. */
async function openStream(stream: AsyncIterable<Uint8Array>, name: string):
  Promise<{ reader: AnyReader; format: 'file' | 'stream'; cleanup: (() => Promise<void>) | null }> {
  const it = stream[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let { have, done } = await readHead(it, parts, 0, 8);
  let head = concat(parts, have);
  let format = isArrowMagic(head);
  if (format === 'stream' && readI32(head, 0) === -1) {
    // Let the sniffer see the whole first message when it is small.
    const len = readI32(head, 4);
    if (len > 0 && len <= (1 << 20)) {
      ({ have, done } = await readHead(it, parts, have, 8 + len));
      head = concat(parts, have);
      format = isArrowMagic(head);
    }
  }
  if (!format) {
    if (!done) await it.return?.();
    throw corrupt(name, 'no Arrow magic or schema message at the start');
  }
  if (format === 'stream') {
    const reader = (await RecordBatchReader.from(replay(parts, 0, it, done))) as unknown as AnyReader;
    await reader.open();
    return { reader, format, cleanup: null };
  }
  // IPC file on a stream. Does the embedded stream (after "ARROW1\0\0") start with a schema?
  ({ have, done } = await readHead(it, parts, have, 16));
  head = concat(parts, have);
  let embedded = false;
  if (have >= 16 && readI32(head, 8) === -1) {
    const len = readI32(head, 12);
    if (len > 0 && len <= (64 << 20)) {
      ({ have, done } = await readHead(it, parts, have, 16 + len));
      head = concat(parts, have);
      embedded = messageHeaderType(head, 16, len) === 1;
    }
  }
  if (embedded) {
    const reader = (await RecordBatchReader.from(replay(parts, 8, it, done))) as unknown as AnyReader;
    await reader.open();
    return { reader, format, cleanup: null };
  }
  // Spool to an unlinked temp file: disk, not memory.
  const tmp = join(tmpdir(), `losseval-${process.pid}-${randomBytes(6).toString('hex')}.arrow`);
  const out = await fsp.open(tmp, 'wx', 0o600);
  try {
    for await (const b of replay(parts, 0, it, done)) {
      let off = 0;
      while (off < b.length) off += (await out.write(b, off, b.length - off)).bytesWritten;
    }
  } catch (e) {
    await out.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await out.close();
  try {
    const { reader } = await openPath(tmp);
    // The reader holds its own handle; POSIX keeps the data until it is closed.
    const unlinked = await fsp.unlink(tmp).then(() => true, () => false);
    return { reader, format, cleanup: unlinked ? null : () => fsp.unlink(tmp).catch(() => undefined) };
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    if (e instanceof DataError) throw new DataError(e.detail, { file: name });
    throw e;
  }
}

export async function openArrow(input: Input): Promise<ArrowSource> {
  const name = 'path' in input ? input.path : input.name;
  let opened: { reader: AnyReader; format: 'file' | 'stream'; cleanup: (() => Promise<void>) | null };
  try {
    opened = 'path' in input ? { ...(await openPath(input.path)), cleanup: null } : await openStream(input.stream, input.name);
  } catch (e) {
    if (e instanceof DataError) throw e;
    if ((e as NodeJS.ErrnoException)?.code) throw e; // ENOENT etc.: the caller words those
    throw corrupt(name, (e as Error)?.message ?? String(e));
  }
  const schema = opened.reader.schema as Schema | null;
  if (!schema) {
    await opened.reader.cancel();
    throw corrupt(name, 'no schema');
  }
  return new Source(name, opened.format, schema, opened.reader, opened.cleanup);
}

// ---------------------------------------------------------------------------------------------
// Chunking

interface Piece {
  /** Column data of the selected columns in this batch. */
  cols: Data[];
  start: number;
  count: number;
  /** 1-based file row of batch row 0. */
  batchFirstRow: number;
}

class Source implements ArrowSource {
  readonly fields: ArrowFieldInfo[];
  private readonly peeked: { batch: RecordBatch; firstRow: number }[] = [];
  private rowsRead = 0;
  private batchIndex = 0;
  private exhausted = false;
  private started = false;
  private closed = false;
  private readonly listWidth = new Map<number, { width: number; row: number }>();

  constructor(
    readonly name: string,
    readonly format: 'file' | 'stream',
    schema: Schema,
    private readonly reader: AnyReader,
    private readonly cleanup: (() => Promise<void>) | null,
  ) {
    this.fields = schema.fields.map((f) => fieldInfo(f as Field));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.exhausted = true;
    this.peeked.length = 0;
    try { await this.reader.cancel(); } catch { /* already closed */ }
    if (this.cleanup) await this.cleanup();
  }

  private check(columns: number[]): void {
    for (const c of columns) {
      const f = this.fields[c];
      if (!Number.isInteger(c) || !f) throw new RangeError(`${this.name}: no column at index ${c}`);
      if (!f.kind) {
        throw new DataError(`column has type ${f.type}, not a number or a list of numbers`, { file: this.name, column: f.name });
      }
    }
  }

  /** Next record batch from the reader, with the 1-based file row of its row 0; null at the end. */
  private async readBatch(): Promise<{ batch: RecordBatch; firstRow: number } | null> {
    if (this.exhausted) return null;
    let r: IteratorResult<RecordBatch>;
    try {
      r = await this.reader.next();
    } catch (e) {
      this.exhausted = true;
      throw corrupt(this.name, `record batch ${this.batchIndex + 1}: ${(e as Error)?.message ?? e}`);
    }
    if (r.done) { this.exhausted = true; return null; }
    const batch = r.value;
    this.batchIndex++;
    const firstRow = this.rowsRead + 1;
    const n = batch.numRows;
    if (!Number.isSafeInteger(n) || n < 0) throw corrupt(this.name, `record batch ${this.batchIndex} claims ${n} rows`);
    this.rowsRead += n;
    return { batch, firstRow };
  }

  async widths(columns: number[]): Promise<number[]> {
    this.check(columns);
    const out: number[] = [];
    for (const c of columns) {
      const f = this.fields[c]!;
      if (f.listSize !== null) { out.push(f.listSize); continue; }
      if (!f.isList) { out.push(1); continue; }
      out.push((await this.listWidthOf(c)).width);
    }
    return out;
  }

  /** Find the first non-null row of List column c (reading ahead into `peeked` if needed). */
  private async listWidthOf(c: number): Promise<{ width: number; row: number }> {
    const known = this.listWidth.get(c);
    if (known) return known;
    let sawRows = false;
    for (let i = 0; ; i++) {
      let item = this.peeked[i];
      if (!item) {
        if (this.started) throw new Error('ArrowSource.widths() must be called before chunks() starts');
        const next = await this.readBatch();
        if (!next) break;
        this.peeked.push(next);
        item = next;
      }
      const n = item.batch.numRows;
      if (n === 0) continue;
      sawRows = true;
      const d = this.columnData(item.batch, c, item.firstRow);
      const offs = d.valueOffsets as unknown as Int32Array;
      const valid = d.nullCount > 0 ? d.nullBitmap as Uint8Array : null;
      for (let r = 0; r < n; r++) {
        if (valid && !bitSet(valid, d.offset + r)) continue;
        const w = { width: offs[r + 1]! - offs[r]!, row: item.firstRow + r };
        this.listWidth.set(c, w);
        return w;
      }
    }
    if (sawRows) {
      throw new DataError('every row of this List column is null, so its length is unknown', { file: this.name, column: this.fields[c]!.name });
    }
    const w = { width: 0, row: 0 };
    this.listWidth.set(c, w);
    return w;
  }

  /** Column c of a batch, with its buffers checked against the row count (cheap, O(1) per column). */
  private columnData(batch: RecordBatch, c: number, firstRow: number): Data {
    const d = batch.data.children[c] as Data | undefined;
    const n = batch.numRows;
    const f = this.fields[c]!;
    const bad = (what: string) =>
      new DataError(`corrupt Arrow data: the record batch starting at row ${firstRow} has ${n} rows but ${what}`,
        { file: this.name, column: f.name });
    if (!d) throw bad('no data for the column');
    if (d.length !== n) throw bad(`the column has ${d.length}`);
    // N.B. arrow-js: `values` and `valueOffsets` start at element 0 of the Data, the bitmaps at bit `offset`.
    if (d.nullCount > 0 && (d.nullBitmap?.length ?? 0) < ((d.offset + n + 7) >> 3)) throw bad('a shorter validity bitmap');
    if (f.listSize === null && !f.isList) {
      if ((d.values as Typed).length < n) throw bad(`only ${(d.values as Typed).length} values`);
      return d;
    }
    const child = d.children[0] as Data | undefined;
    if (!child) throw bad('no list values');
    let childEnd: number;
    if (f.listSize !== null) {
      childEnd = n * f.listSize;
      if (!Number.isSafeInteger(childEnd) || child.length < childEnd) throw bad(`only ${child.length} list values (list size ${f.listSize})`);
    } else {
      const offs = d.valueOffsets as unknown as Int32Array | undefined;
      if (!offs || offs.length < n + 1) throw bad('fewer list offsets');
      const a = offs[0]!, b = offs[n]!;
      if (a < 0 || b < a || b > child.length) throw bad(`list offsets ${a}..${b} outside its ${child.length} values`);
      childEnd = b;
    }
    if ((child.values as Typed).length < childEnd) throw bad(`only ${(child.values as Typed).length} list values`);
    if (child.nullCount > 0 && (child.nullBitmap?.length ?? 0) < ((child.offset + childEnd + 7) >> 3)) {
      throw bad('a shorter list-value validity bitmap');
    }
    return d;
  }

  chunks(columns: number[], rowsPerChunk: number): AsyncIterable<ColumnSlice[]> {
    this.check(columns);
    if (!Number.isSafeInteger(rowsPerChunk) || rowsPerChunk < 1) throw new RangeError(`rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
    if (this.started) throw new Error('ArrowSource.chunks() can be iterated only once');
    return this.iterate(columns, rowsPerChunk);
  }

  private async *iterate(columns: number[], rowsPerChunk: number): AsyncGenerator<ColumnSlice[]> {
    const widths = await this.widths(columns);
    this.started = true;
    let pending: Piece[] = [];
    let pendingRows = 0;
    let chunkFirstRow = 1;
    try {
      for (;;) {
        const item = this.peeked.shift() ?? (await this.readBatch());
        if (!item) break;
        const { batch, firstRow } = item;
        const n = batch.numRows;
        if (n === 0) continue;
        const cols = columns.map((c) => this.columnData(batch, c, firstRow));
        let start = 0;
        while (start < n) {
          const take = Math.min(rowsPerChunk - pendingRows, n - start);
          pending.push({ cols, start, count: take, batchFirstRow: firstRow });
          pendingRows += take;
          start += take;
          if (pendingRows === rowsPerChunk) {
            yield this.build(columns, widths, pending, pendingRows, chunkFirstRow);
            chunkFirstRow += pendingRows;
            pending = [];
            pendingRows = 0;
          }
        }
      }
      if (pendingRows > 0) yield this.build(columns, widths, pending, pendingRows, chunkFirstRow);
    } finally {
      await this.close();
    }
  }

  private build(columns: number[], widths: number[], pieces: Piece[], rows: number, firstRow: number): ColumnSlice[] {
    return columns.map((c, j) => {
      const f = this.fields[c]!;
      const kind = f.kind!;
      const width = widths[j]!;
      const base = {
        kind, rows, width, firstRow, file: this.name, column: f.name,
        listOffsets: null as Int32Array | null, listPieces: null as Int32Array | null, widthRow: 0,
      };
      const validity = rowValidity(pieces, j, rows);
      if (f.listSize === null && !f.isList) {
        const values = gather(kind, pieces.map((p) => {
          const d = p.cols[j]!;
          return (d.values as Typed).subarray(p.start, p.start + p.count);
        }), rows);
        return { ...base, values, validity, childValidity: null };
      }
      if (f.listSize !== null) {
        const s = f.listSize;
        const ranges = pieces.map((p) => {
          const d = p.cols[j]!;
          const child = d.children[0] as Data;
          const a = p.start * s;
          return { child, a, b: a + p.count * s };
        });
        const values = gather(kind, ranges.map((r) => (r.child.values as Typed).subarray(r.a, r.b)), rows * s);
        return { ...base, values, validity, childValidity: childValidity(ranges, rows * s) };
      }
      // Variable List: child values between the pieces' end offsets, plus the raw offsets.
      const offsets = new Int32Array(rows + pieces.length);
      const counts = new Int32Array(pieces.length);
      let o = 0;
      let total = 0;
      const ranges = pieces.map((p, k) => {
        const d = p.cols[j]!;
        const offs = d.valueOffsets as unknown as Int32Array;
        const lo = p.start;
        offsets.set(offs.subarray(lo, lo + p.count + 1), o);
        o += p.count + 1;
        counts[k] = p.count;
        const child = d.children[0] as Data;
        const a = offs[lo]!, b = offs[lo + p.count]!;
        if (a < 0 || b < a || b > child.length) {
          throw new DataError(`corrupt Arrow data: list offsets ${a}..${b} outside the list's ${child.length} values`,
            { file: this.name, row: p.batchFirstRow + p.start, column: f.name });
        }
        total += b - a;
        return { child, a, b };
      });
      const values = gather(kind, ranges.map((r) => (r.child.values as Typed).subarray(r.a, r.b)), total);
      const lw = this.listWidth.get(c);
      return {
        ...base, values, validity, childValidity: childValidity(ranges, total),
        listOffsets: offsets, listPieces: counts, widthRow: lw?.row ?? 0,
      };
    });
  }
}

/** Concatenate typed-array runs into one own buffer (a single run is `.slice()`d). */
function gather(kind: NumericKind, runs: Typed[], n: number): ArrayBufferView {
  if (runs.length === 1 && runs[0]!.length === n) return runs[0]!.slice(0, n);
  const out = new CTORS[kind](n);
  let o = 0;
  for (const r of runs) { out.set(r as unknown as ArrayLike<unknown>, o); o += r.length; }
  return out;
}

/** Row validity of column j over the pieces, re-aligned to bit 0; null when no piece has nulls. */
function rowValidity(pieces: Piece[], j: number, rows: number): Uint8Array | null {
  if (!pieces.some((p) => p.cols[j]!.nullCount > 0)) return null;
  const out = new Uint8Array((rows + 7) >> 3);
  let o = 0;
  for (const p of pieces) {
    const d = p.cols[j]!;
    if (d.nullCount > 0) copyBits(d.nullBitmap as Uint8Array, d.offset + p.start, out, o, p.count);
    else setBits(out, o, p.count);
    o += p.count;
  }
  return out;
}

/** Validity of list values over child ranges [a, b), re-aligned to bit 0; null when none has nulls. */
function childValidity(ranges: { child: Data; a: number; b: number }[], n: number): Uint8Array | null {
  if (!ranges.some((r) => r.child.nullCount > 0)) return null;
  const out = new Uint8Array((n + 7) >> 3);
  let o = 0;
  for (const r of ranges) {
    const len = r.b - r.a;
    if (r.child.nullCount > 0) copyBits(r.child.nullBitmap as Uint8Array, r.child.offset + r.a, out, o, len);
    else setBits(out, o, len);
    o += len;
  }
  return out;
}
