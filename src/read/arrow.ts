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
import type { Data, DataType as DataTypeT, Field, RecordBatch, RecordBatchReader as RecordBatchReaderT, Schema } from 'apache-arrow';
import { RecordBatchReader, DataType, Type } from './arrow-lib.js';
import { DataError } from '../errors.js';
import { concat, readHead, replay } from './bytes.js';
import { spareBuffer } from './spare.js';

export type { NumericKind, ColumnSlice } from '../types.js';
import type { ColumnSlice, KeySlice, NumericKind } from '../types.js';

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
  /** The schema allows nulls in the column / in a list's values (a batch holding nulls where it does not is corrupt). */
  nullable?: boolean;
  childNullable?: boolean;
  /** What a --group-by key made of this column is: Utf8 / LargeUtf8 / Dictionary<Utf8> text, integers, booleans; else null. */
  keyKind?: 'text' | 'dict' | 'int' | 'bool' | null;
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
  chunks(columns: number[], rowsPerChunk: number, keys?: number[]): AsyncIterable<ColumnSlice[] & { groupKeys?: KeySlice[] }>;
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
  if (vtSize < 4) return -1;
  if (vtSize < 8) return 0; // header_type (field 1) absent: NONE
  // Like the flatbuffers readers (apache-arrow's too), only the vtable entry read must be there: a
  // vtable size that runs past the message is not checked by them, so it is no reason to refuse here.
  if (vtable + 8 > end) return -1;
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
// Metadata checks
//
// apache-arrow trusts the flatbuffer metadata: lengths, counts and offsets are used as given, so a
// corrupt count can make it loop for minutes or build millions of objects, and a corrupt offset can
// make its file reader read 2^40 bytes. Every message (the footer, the schema, each dictionary and
// record batch) is therefore parsed here first, with every read bounds-checked, and checked against
// the bytes that really exist (the file size, or the bytes the stream delivers) before apache-arrow
// sees it. Nothing here allocates more than the metadata bytes themselves.

/** A malformed metadata structure; turned into a DataError naming the message by the caller. */
class MetaError extends Error {
  /** Header type of the message, when it could be read (1 schema, 2 dictionary, 3 record batch). */
  type = 0;
  /** Rows the record batch claims, when known (and sane). */
  rows: number | null = null;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bounds-checked reads of one flatbuffer held in b[0, b.length). */
class Flat {
  private readonly dv: DataView;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(at: number, n: number, what: string): void {
    if (!(at >= 0 && at + n <= this.b.length)) throw new MetaError(`${what} lies outside the ${this.b.length}-byte metadata`);
  }
  u8(at: number, what: string): number { this.need(at, 1, what); return this.dv.getUint8(at); }
  i16(at: number, what: string): number { this.need(at, 2, what); return this.dv.getInt16(at, true); }
  u16(at: number, what: string): number { this.need(at, 2, what); return this.dv.getUint16(at, true); }
  i32(at: number, what: string): number { this.need(at, 4, what); return this.dv.getInt32(at, true); }
  u32(at: number, what: string): number { this.need(at, 4, what); return this.dv.getUint32(at, true); }
  i64(at: number, what: string): bigint { this.need(at, 8, what); return this.dv.getBigInt64(at, true); }
  /** The table an offset at `at` points to (checked: its vtable header is in bounds). */
  deref(at: number, what: string): number {
    const t = at + this.u32(at, what);
    this.table(t, what);
    return t;
  }
  root(what: string): number { return this.deref(0, what); }
  table(t: number, what: string): void {
    const vt = t - this.i32(t, what);
    this.u16(vt, `${what} (vtable)`);
    this.u16(vt + 2, `${what} (vtable)`);
  }
  /**
   * Position of field `i` of table `t` (0 when absent). Like the flatbuffers readers, only the vtable
   * entry actually read has to be there: a vtable that claims more entries than exist is tolerated.
   */
  field(t: number, i: number, size: number, what: string): number {
    const vt = t - this.i32(t, what);
    const vtSize = this.u16(vt, what);
    const e = 4 + 2 * i;
    if (e + 2 > vtSize) return 0;
    const off = this.u16(vt + e, what);
    if (off === 0) return 0;
    this.need(t + off, size, what);
    return t + off;
  }
  /** Vector of `elem`-byte elements referenced by field `i` of table `t`: [start, length]; null when absent. */
  vector(t: number, i: number, elem: number, what: string): { start: number; length: number } | null {
    const f = this.field(t, i, 4, what);
    if (!f) return null;
    const v = f + this.u32(f, what);
    const length = this.u32(v, what);
    const start = v + 4;
    if (length * elem > this.b.length - start) {
      throw new MetaError(`${what} claims ${length} entries, more than its ${this.b.length}-byte metadata can hold`);
    }
    return { start, length };
  }
  /** Checks a string (or byte vector) referenced by field `i` of table `t`; returns it (at most 200 bytes of it). */
  string(t: number, i: number, what: string): string {
    const v = this.vector(t, i, 1, what);
    return v ? new TextDecoder().decode(this.b.subarray(v.start, v.start + Math.min(v.length, 200))) : '';
  }
  keyValues(t: number, i: number, what: string): void {
    const v = this.vector(t, i, 4, what);
    if (!v) return;
    for (let k = 0; k < v.length; k++) {
      const kv = this.deref(v.start + 4 * k, what);
      this.string(kv, 0, what);
      this.string(kv, 1, what);
    }
  }
}

/** What one schema field contributes to a record batch: field nodes and buffers, in apache-arrow's order. */
export interface FieldLayout {
  /** For messages. */
  name: string;
  typeId: number;
  /** Element size in bytes for Int / FloatingPoint (the types whose buffer sizes are checked), else 0. */
  width: number;
  /** FixedSizeList size, else -1. */
  listSize: number;
  /** Buffers of this node itself (-1: not known, e.g. view types). */
  buffers: number;
  children: FieldLayout[];
}

export interface SchemaLayout {
  fields: FieldLayout[];
  /** Field nodes a record batch must have (pre-order over the fields). */
  nodes: number;
  /** Buffers a record batch must have, or -1 when some type's count is not known here. */
  buffers: number;
  /** Dictionary id → layout of its values (a one-field "schema"). */
  dictionaries: Map<bigint, SchemaLayout>;
  version: number;
}

/** Flatbuffers `Type` union tags (Schema.fbs). */
const T = {
  Null: 1, Int: 2, FloatingPoint: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9, Timestamp: 10,
  Interval: 11, List: 12, Struct: 13, Union: 14, FixedSizeBinary: 15, FixedSizeList: 16, Map: 17, Duration: 18,
  LargeBinary: 19, LargeUtf8: 20, LargeList: 21,
} as const;

/** Parses and checks a `Schema` table; the number of fields (all levels) is bounded by the metadata size. */
function schemaLayout(fb: Flat, schema: number, version: number): SchemaLayout {
  const what = 'schema';
  fb.i16(fb.field(schema, 0, 2, what) || 0, what); // endianness (or the vtable start: always readable)
  fb.keyValues(schema, 2, 'schema metadata');
  let budget = Math.floor(fb.b.length / 4) + 1;
  const dictionaries = new Map<bigint, SchemaLayout>();
  const totals = { nodes: 0, buffers: 0 };
  const walk = (f: number, depth: number, tot: { nodes: number; buffers: number }): FieldLayout => {
    if (--budget < 0 || depth > 64) throw new MetaError('the schema has more (or deeper) fields than its metadata can hold');
    const w = 'schema field';
    const name = fb.string(f, 0, `${w} name`);
    const typeId = fb.field(f, 2, 1, w) ? fb.u8(fb.field(f, 2, 1, w), w) : 0;
    const typeAt = fb.field(f, 3, 4, w);
    const type = typeAt ? fb.deref(typeAt, `${w} type`) : 0;
    const dictAt = fb.field(f, 4, 4, w);
    fb.keyValues(f, 6, `${w} metadata`);
    const kids = fb.vector(f, 5, 4, `${w} children`);
    const childTables: number[] = [];
    for (let k = 0; k < (kids?.length ?? 0); k++) childTables.push(fb.deref(kids!.start + 4 * k, `${w} child`));
    if (typeId === 0 || typeId > 26) throw new MetaError(`schema field of unknown type ${typeId}`);
    const param = (i: number, size: number): number => (type ? fb.field(type, i, size, `${w} type`) : 0);
    let width = 0;
    let listSize = -1;
    let buffers: number;
    if (typeId === T.Int) {
      const bw = param(0, 4) ? fb.i32(param(0, 4), w) : 0;
      // the format allows these four widths only: another is a corrupt schema, not a type to refuse
      if (bw !== 8 && bw !== 16 && bw !== 32 && bw !== 64) throw new MetaError(`an Int field of bit width ${bw}`);
      width = bw / 8;
    } else if (typeId === T.FloatingPoint) {
      const p = param(0, 2) ? fb.i16(param(0, 2), w) : 0;
      if (p !== 0 && p !== 1 && p !== 2) throw new MetaError(`a FloatingPoint field of precision ${p}`);
      width = p === 0 ? 2 : p === 1 ? 4 : 8;
    } else if (typeId === T.FixedSizeList) {
      listSize = param(0, 4) ? fb.i32(param(0, 4), w) : 0;
      if (listSize < 0) throw new MetaError(`a FixedSizeList of size ${listSize}`);
    }
    switch (typeId) {
      case T.Null: buffers = 0; break;
      case T.Int: case T.FloatingPoint: case T.Bool: case T.Decimal: case T.Date: case T.Time: case T.Timestamp:
      case T.Interval: case T.FixedSizeBinary: case T.Duration: buffers = 2; break;
      case T.Binary: case T.Utf8: case T.LargeBinary: case T.LargeUtf8: buffers = 3; break;
      case T.List: case T.LargeList: case T.Map: buffers = 2; break;
      case T.Struct: case T.FixedSizeList: buffers = 1; break;
      case T.Union: {
        const dense = param(0, 2) ? fb.i16(param(0, 2), w) === 1 : false;
        buffers = (dense ? 2 : 1) + (version < 4 ? 1 : 0);
        break;
      }
      default: buffers = -1;
    }
    const node: FieldLayout = { name, typeId, width, listSize, buffers, children: [] };
    if (dictAt) {
      // dictionary-encoded: the batch holds validity + indices; the values come from dictionary batches
      const d = fb.deref(dictAt, `${w} dictionary`);
      const idAt = fb.field(d, 0, 8, w);
      const id = idAt ? fb.i64(idAt, w) : 0n;
      const it = fb.field(d, 1, 4, w);
      if (it) fb.deref(it, `${w} dictionary index type`);
      const sub = { nodes: 0, buffers: 0 };
      const valueLayout: FieldLayout = { name, typeId, width, listSize, buffers, children: [] };
      sub.nodes++;
      if (sub.buffers >= 0) sub.buffers = buffers < 0 ? -1 : sub.buffers + buffers;
      for (const c of childTables) valueLayout.children.push(walk(c, depth + 1, sub));
      dictionaries.set(id, { fields: [valueLayout], nodes: sub.nodes, buffers: sub.buffers, dictionaries, version });
      tot.nodes++;
      if (tot.buffers >= 0) tot.buffers += 2;
      return { name, typeId: -1, width: 0, listSize: -1, buffers: 2, children: [] };
    }
    tot.nodes++;
    if (tot.buffers >= 0) tot.buffers = buffers < 0 ? -1 : tot.buffers + buffers;
    for (const c of childTables) node.children.push(walk(c, depth + 1, tot));
    if ((typeId === T.List || typeId === T.LargeList || typeId === T.FixedSizeList || typeId === T.Map) && node.children.length < 1) {
      throw new MetaError('a list field without its child field');
    }
    return node;
  };
  const fv = fb.vector(schema, 1, 4, 'schema fields');
  const fields: FieldLayout[] = [];
  for (let k = 0; k < (fv?.length ?? 0); k++) fields.push(walk(fb.deref(fv!.start + 4 * k, 'schema field'), 0, totals));
  return { fields, nodes: totals.nodes, buffers: totals.buffers, dictionaries, version };
}

export interface MessageInfo {
  /** 1 Schema, 2 DictionaryBatch, 3 RecordBatch. */
  type: number;
  /** Body bytes apache-arrow will read after the metadata (0 for a schema). */
  bodyLength: number;
  /** Rows of a record batch (or dictionary batch). */
  rows: number;
  /** The schema layout of a Schema message. */
  schema: SchemaLayout | null;
  /** A record batch's buffers (offsets into its body) and field nodes, pre-order; whether its body is compressed. */
  batch?: BatchLayout;
}

export interface BatchLayout {
  buffers: { offset: number; length: number }[];
  nodes: { length: number; nullCount: number }[];
  compressed: boolean;
}

function safeCount(v: bigint, what: string): number {
  if (v < 0n) throw new MetaError(`${what} is ${v}`);
  if (v > MAX_SAFE) throw new MetaError(`${what} is ${v}, beyond 2^53`);
  return Number(v);
}

/**
 * Parses and checks one `Message` flatbuffer (the metadata bytes, without the length prefix).
 * `bodyRoom`: the bytes after the metadata that really exist (Infinity when not known yet, on a stream).
 * `schema`: the layout record batches are checked against (null before the schema is known).
 */
export function checkMessage(meta: Uint8Array, bodyRoom: number, schema: SchemaLayout | null): MessageInfo {
  const fb = new Flat(meta);
  const m = fb.root('message');
  const versionAt = fb.field(m, 0, 2, 'message version');
  const version = versionAt ? fb.i16(versionAt, 'message version') : 0;
  const htAt = fb.field(m, 1, 1, 'message header type');
  const type = htAt ? fb.u8(htAt, 'message header type') : 0;
  const hAt = fb.field(m, 2, 4, 'message header');
  if (type < 1 || type > 3) throw new MetaError(`message of type ${type} (not a schema, dictionary or record batch)`);
  if (!hAt) throw new MetaError('message without a header');
  const header = fb.deref(hAt, 'message header');
  fb.keyValues(m, 4, 'message metadata');
  if (type === 1) {
    // apache-arrow reads no body after a schema message, whatever bodyLength says
    return { type, bodyLength: 0, rows: 0, schema: schemaLayout(fb, header, version) };
  }
  const blAt = fb.field(m, 3, 8, 'message body length');
  const bodyLength = safeCount(blAt ? fb.i64(blAt, 'message body length') : 0n, 'the message body length');
  if (bodyLength > bodyRoom) {
    throw new MetaError(`the message body claims ${bodyLength} bytes but only ${bodyRoom} remain`);
  }
  let rb = header;
  let layout = schema;
  if (type === 2) {
    const idAt = fb.field(header, 0, 8, 'dictionary id');
    const id = idAt ? fb.i64(idAt, 'dictionary id') : 0n;
    const dAt = fb.field(header, 1, 4, 'dictionary data');
    if (!dAt) throw new MetaError('dictionary batch without data');
    rb = fb.deref(dAt, 'dictionary data');
    layout = schema?.dictionaries.get(id) ?? null;
  }
  const batch: BatchLayout = { buffers: [], nodes: [], compressed: false };
  const rows = checkRecordBatch(fb, rb, bodyLength, layout, type === 3, batch);
  return { type, bodyLength, rows, schema: null, ...(type === 3 ? { batch } : {}) };
}

/** checkMessage, with a failure annotated with the message type (and rows) when they could be read. */
function checkMessageNamed(meta: Uint8Array, bodyRoom: number, schema: SchemaLayout | null): MessageInfo {
  try {
    return checkMessage(meta, bodyRoom, schema);
  } catch (e) {
    if (e instanceof MetaError) {
      try {
        const fb = new Flat(meta);
        const m = fb.root('message');
        const htAt = fb.field(m, 1, 1, '');
        e.type = htAt ? fb.u8(htAt, '') : 0;
        if (e.type === 3) {
          const h = fb.deref(fb.field(m, 2, 4, ''), '');
          const lenAt = fb.field(h, 0, 8, '');
          const len = lenAt ? fb.i64(lenAt, '') : 0n;
          if (len >= 0n && len <= MAX_SAFE) e.rows = Number(len);
        }
      } catch { /* as much as could be read */ }
    }
    throw e;
  }
}

/** `record batch 3 (rows 201–300)`, `dictionary batch 1`, `schema`, or `message 4` (type unknown). */
function messageLabel(type: number, batch: number, dict: number, message: number, firstRow: number, rows: number | null): string {
  if (type === 1) return 'schema';
  if (type === 2) return `dictionary batch ${dict}`;
  if (type !== 3) return `message ${message}`;
  const range = rows === null ? ` (from row ${firstRow})` : rows > 0 ? ` (rows ${firstRow}–${firstRow + rows - 1})` : ` (0 rows, after row ${firstRow - 1})`;
  return `record batch ${batch}${range}`;
}

function checkRecordBatch(fb: Flat, rb: number, bodyLength: number, layout: SchemaLayout | null, top: boolean, out: BatchLayout): number {
  const lenAt = fb.field(rb, 0, 8, 'batch length');
  const length = lenAt ? fb.i64(lenAt, 'batch length') : 0n;
  if (length < 0n || length > MAX_SAFE) throw new MetaError(`it claims ${length} rows`);
  const rows = Number(length);
  const nodes = fb.vector(rb, 1, 16, 'field nodes');
  const buffers = fb.vector(rb, 2, 16, 'buffers');
  const compressed = fb.field(rb, 3, 4, 'compression') !== 0;
  if (compressed) fb.deref(fb.field(rb, 3, 4, 'compression'), 'compression');
  const variadic = fb.vector(rb, 4, 8, 'variadic buffer counts');
  const nNodes = nodes?.length ?? 0;
  const nBuffers = buffers?.length ?? 0;
  for (let k = 0; k < (variadic?.length ?? 0); k++) {
    const v = fb.i64(variadic!.start + 8 * k, 'variadic buffer count');
    if (v < 0n || v > BigInt(nBuffers)) throw new MetaError(`a variadic buffer count of ${v} (the batch has ${nBuffers} buffers)`);
  }
  const buf: { offset: number; length: number }[] = [];
  for (let k = 0; k < nBuffers; k++) {
    const at = buffers!.start + 16 * k;
    const o = fb.i64(at, 'buffer'), l = fb.i64(at + 8, 'buffer');
    if (o < 0n || l < 0n || o + l > BigInt(bodyLength)) {
      throw new MetaError(`buffer ${k + 1} (offset ${o}, length ${l}) lies outside the ${bodyLength}-byte message body`);
    }
    buf.push({ offset: Number(o), length: Number(l) });
  }
  const node: { length: number; nullCount: number }[] = [];
  for (let k = 0; k < nNodes; k++) {
    const at = nodes!.start + 16 * k;
    const l = fb.i64(at, 'field node'), nc = fb.i64(at + 8, 'field node');
    if (l < 0n || l > MAX_SAFE) throw new MetaError(`field node ${k + 1} claims ${l} values`);
    if (nc < -1n || nc > l) throw new MetaError(`field node ${k + 1} claims ${nc} nulls in ${l} values`);
    node.push({ length: Number(l), nullCount: Number(nc) });
  }
  out.buffers = buf;
  out.nodes = node;
  out.compressed = compressed;
  if (!layout) return rows;
  if (nNodes < layout.nodes) throw new MetaError(`${nNodes} field nodes for the schema's ${layout.nodes} fields`);
  if (layout.buffers >= 0 && nBuffers < layout.buffers) {
    throw new MetaError(`${nBuffers} buffers where the schema's fields need ${layout.buffers}`);
  }
  if (layout.buffers < 0 || compressed) return rows;
  // Walk the fields as apache-arrow will: top-level columns must have the batch's length, and numeric
  // columns (and the values of FixedSizeLists of numbers) buffers that hold that many values.
  let ni = 0, bi = 0;
  const visit = (f: FieldLayout, depth: number, need: number | null): void => {
    const n = node[ni++]!;
    const first = bi;
    bi += f.buffers;
    const col = JSON.stringify(layout.fields[colIndex]!.name);
    const where = depth === 0 ? `column ${col}` : `the values of column ${col}`;
    // more values than rows are tolerated (apache-arrow reads the first `need`), fewer are not
    if (need !== null && n.length < need) throw new MetaError(`${where} has ${n.length} values, not ${need}`);
    const used = need ?? n.length;
    if (need !== null && f.width > 0 && f.buffers === 2) {
      const validity = buf[first]!, data = buf[first + 1]!;
      if (data.length < used * f.width) {
        throw new MetaError(`${where}: ${used} values of ${f.width} bytes need ${used * f.width} bytes, its buffer has ${data.length}`);
      }
      if (n.nullCount > 0 && validity.length < Math.ceil(used / 8)) {
        throw new MetaError(`${where}: ${used} values need a ${Math.ceil(used / 8)}-byte validity bitmap, it has ${validity.length}`);
      }
    }
    const childNeed = depth === 0 && f.listSize >= 0 && need !== null ? used * f.listSize : null;
    for (const c of f.children) visit(c, depth + 1, childNeed);
  };
  let colIndex = 0;
  for (; colIndex < layout.fields.length; colIndex++) visit(layout.fields[colIndex]!, 0, top ? rows : null);
  return rows;
}

/** Metadata prefix at b[0..]: continuation marker (optional) + int32 length, as apache-arrow reads it. */
function prefixOf(b: Uint8Array): { prefix: number; len: number } | null {
  if (b.length < 4) return null;
  const first = readI32(b, 0);
  if (first !== -1) return { prefix: 4, len: first };
  if (b.length < 8) return null;
  return { prefix: 8, len: readI32(b, 4) };
}

/**
 * An IPC stream, checked message by message before apache-arrow reads it: each message's metadata is
 * buffered and checked, then passed on with its body. `size`: total bytes when known (a file), so that
 * a body longer than the rest of the file is refused before it is read.
 */
export async function* checkedStream(
  src: AsyncIterable<Uint8Array>, name: string, size = Infinity, allowTrailing = false,
): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  let queue: Uint8Array[] = [];
  let queued = 0;
  let done = false;
  let consumed = 0; // bytes passed on so far
  const fill = async (n: number): Promise<void> => {
    while (queued < n && !done) {
      const r = await it.next();
      if (r.done) { done = true; break; }
      const b = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBufferLike);
      if (b.length === 0) continue;
      queue.push(b);
      queued += b.length;
    }
  };
  const peek = (n: number): Uint8Array => concat(queue, Math.min(n, queued));
  const take = (n: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const h = queue[0]!;
      if (h.length <= left) { out.push(h); queue.shift(); left -= h.length; } else {
        out.push(h.subarray(0, left)); queue[0] = h.subarray(left); left = 0;
      }
    }
    queued -= n;
    consumed += n;
    return out;
  };
  let schema: SchemaLayout | null = null;
  let batches = 0, dicts = 0, rows = 0, messages = 0;
  try {
    for (;;) {
      await fill(8);
      const p = prefixOf(peek(8));
      if (p && p.prefix === 8 && queued < 8) { yield* take(queued); return; }
      if (!p || p.len === 0) {
        // end of stream (as apache-arrow sees it): pass the marker on, nothing after it
        const marker = Math.min(queued, p ? p.prefix : queued);
        if (!allowTrailing) {
          // bytes after the end: a stream cut or corrupted mid-way, not an empty tail (an IPC
          // file's embedded stream is followed by its footer, hence allowTrailing)
          await fill(marker + 1);
          if (queued > marker || (!p && queued > 0)) {
            throw corrupt(name, `data after the end-of-stream marker (after ${batches} record batches, ${rows} rows): truncated or corrupt?`);
          }
        }
        yield* take(marker);
        return;
      }
      messages++;
      const label = (type: number, r: number | null) =>
        messageLabel(type, batches + 1, dicts + 1, messages, rows + 1, r);
      const unknown = schema ? `message ${messages} (after record batch ${batches})` : 'the first message (schema)';
      if (p.len < 0) throw corrupt(name, `${unknown}: metadata length ${p.len}`);
      const room = size - consumed - p.prefix;
      if (p.len > room) throw corrupt(name, `${unknown}: metadata length ${p.len} but only ${Math.max(0, room)} bytes remain`);
      await fill(p.prefix + p.len);
      if (queued < p.prefix + p.len) {
        throw corrupt(name, `${unknown}: metadata length ${p.len} but only ${queued - p.prefix} bytes remain (truncated?)`);
      }
      const meta = peek(p.prefix + p.len).subarray(p.prefix);
      let info: MessageInfo;
      try {
        info = checkMessageNamed(meta, size - consumed - p.prefix - p.len, schema);
      } catch (e) {
        if (!(e instanceof MetaError)) throw e;
        throw corrupt(name, `${e.type ? label(e.type, e.rows) : unknown}: ${e.message}`);
      }
      if (!schema && info.type !== 1) throw corrupt(name, 'the stream does not start with a schema message');
      if (info.type === 1 && schema) throw corrupt(name, `message ${messages}: a second schema message (after record batch ${batches})`);
      const labelled = label(info.type, info.rows);
      if (info.type === 1) schema = info.schema;
      else if (info.type === 2) dicts++;
      else batches++;
      yield* take(p.prefix + p.len);
      let left = info.bodyLength;
      while (left > 0) {
        if (queued === 0) await fill(1);
        if (queued === 0) {
          throw corrupt(name, `${labelled}: the message body claims ${info.bodyLength} bytes but the stream ends after ${info.bodyLength - left}`);
        }
        const n = Math.min(left, queue[0]!.length);
        yield* take(n);
        left -= n;
      }
      if (info.type === 3) rows += info.rows;
    }
  } finally {
    queue = [];
    if (!done) await it.return?.();
  }
}

/** An IPC file's footer, checked: the schema layout and the message blocks. */
interface FileLayout {
  schema: SchemaLayout;
  batches: { offset: number; meta: number; body: number }[];
  dictionaries: { offset: number; meta: number; body: number }[];
  /** Bytes in the file: messages must end by here. */
  dataEnd: number;
}

function checkFooter(footer: Uint8Array, dataEnd: number): FileLayout {
  const fb = new Flat(footer);
  const f = fb.root('footer');
  const versionAt = fb.field(f, 0, 2, 'footer version');
  const version = versionAt ? fb.i16(versionAt, 'footer version') : 0;
  const sAt = fb.field(f, 1, 4, 'footer schema');
  if (!sAt) throw new MetaError('the footer has no schema');
  const schema = schemaLayout(fb, fb.deref(sAt, 'footer schema'), version);
  fb.keyValues(f, 4, 'footer metadata');
  const blocks = (i: number, what: string) => {
    const v = fb.vector(f, i, 24, what);
    const out: { offset: number; meta: number; body: number }[] = [];
    for (let k = 0; k < (v?.length ?? 0); k++) {
      const at = v!.start + 24 * k;
      const offset = fb.i64(at, what), meta = fb.i32(at + 8, what), body = fb.i64(at + 16, what);
      if (offset < 8n || meta <= 0 || body < 0n || offset + BigInt(meta) + body > BigInt(dataEnd)) {
        throw new MetaError(`${what} block ${k + 1} (offset ${offset}, metadata ${meta}, body ${body} bytes) lies outside the ${dataEnd}-byte file`);
      }
      out.push({ offset: Number(offset), meta, body: Number(body) });
    }
    return out;
  };
  return { schema, dictionaries: blocks(2, 'dictionary'), batches: blocks(3, 'record batch'), dataEnd };
}

/** Reads and checks the message of one footer block (as apache-arrow will read it at block.offset); bodyStart: where its body starts in the file. */
async function checkBlock(fh: fsp.FileHandle, block: { offset: number; meta: number }, dataEnd: number,
  schema: SchemaLayout, expect: number): Promise<MessageInfo & { bodyStart: number }> {
  const head = new Uint8Array(8);
  const got = (await fh.read(head, 0, Math.min(8, dataEnd - block.offset), block.offset)).bytesRead;
  const p = prefixOf(head.subarray(0, got));
  if (!p || p.len <= 0) throw new MetaError(`no message at offset ${block.offset}`);
  const room = dataEnd - block.offset - p.prefix;
  if (p.len > room) throw new MetaError(`metadata length ${p.len} but only ${room} bytes remain in the file`);
  const meta = new Uint8Array(p.len);
  await fh.read(meta, 0, p.len, block.offset + p.prefix);
  const info = checkMessageNamed(meta, room - p.len, schema);
  if (info.type !== expect) throw new MetaError(`a message of type ${info.type} where a ${expect === 3 ? 'record' : 'dictionary'} batch belongs`);
  return { ...info, bodyStart: block.offset + p.prefix + p.len };
}

// ---------------------------------------------------------------------------------------------
// Types

function numericKind(t: DataTypeT): NumericKind | null {
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
  // corrupt schema metadata can give types that arrow-js cannot even print (a List without a child)
  try {
    return fieldInfoOf(f);
  } catch {
    return { name: f.name, kind: null, listSize: null, isList: false, type: 'an unreadable type (corrupt schema)' };
  }
}

function keyKindOf(t: DataTypeT): ArrowFieldInfo['keyKind'] {
  if (t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8) return 'text';
  if (t.typeId === Type.Bool) return 'bool';
  if (DataType.isInt(t)) return 'int';
  if (DataType.isDictionary(t)) {
    const v = (t as unknown as { dictionary: DataTypeT }).dictionary;
    return v.typeId === Type.Utf8 || v.typeId === Type.LargeUtf8 ? 'dict' : null;
  }
  return null;
}

function fieldInfoOf(f: Field): ArrowFieldInfo {
  const t = f.type as DataTypeT;
  const type = String(t);
  const nullable = f.nullable !== false;
  const plain = numericKind(t);
  const keyKind = keyKindOf(t);
  if (plain) return { name: f.name, kind: plain, listSize: null, isList: false, type, nullable, keyKind };
  if (keyKind) return { name: f.name, kind: null, listSize: null, isList: false, type, nullable, keyKind };
  if (t.typeId === Type.FixedSizeList || t.typeId === Type.List) {
    const childField = t.children[0] as Field;
    const kind = numericKind(childField.type as DataTypeT);
    const childNullable = childField.nullable !== false;
    if (t.typeId === Type.FixedSizeList) {
      const size = (t as unknown as { listSize: number }).listSize;
      if (kind && Number.isInteger(size) && size >= 0) return { name: f.name, kind, listSize: size, isList: false, type, nullable, childNullable };
    } else if (kind) {
      return { name: f.name, kind, listSize: null, isList: true, type, nullable, childNullable };
    }
  }
  return { name: f.name, kind: null, listSize: null, isList: false, type };
}

type TypedCtor = {
  new (n: number): ArrayBufferView & { length: number; set(a: ArrayLike<unknown>, o?: number): void };
  new (buffer: ArrayBuffer, byteOffset: number, length: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
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

type AnyReader = RecordBatchReaderT & AsyncIterable<RecordBatch>;




function corrupt(name: string, detail: string): DataError {
  return new DataError(`not a valid Arrow IPC file or stream: ${detail}`, { file: name });
}

/** Checks a record batch's metadata before apache-arrow reads it: (0-based index, 1-based first row) → rows. */
type BatchCheck = (index: number, firstRow: number) => Promise<void>;

interface Opened {
  reader: AnyReader;
  format: 'file' | 'stream';
  cleanup: (() => Promise<void>) | null;
  check: BatchCheck | null;
  /** An IPC file on disk: its checked footer, for reading plain columns straight from the file (see DirectPlan). */
  direct?: { path: string; layout: FileLayout };
}

/**
 * Open a path. An IPC file: its footer and every dictionary block are checked against the file size,
 * then apache-arrow reads it by random access through a FileHandle, each record batch block checked
 * just before (see `BatchCheck`). An IPC stream: read as a byte stream through `checkedStream`.
 */
async function openPath(path: string, name = path, direct = true): Promise<Opened> {
  const fh = await fsp.open(path, 'r');
  let handed = false;
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, 4096));
    if (head.length > 0) await fh.read(head, 0, head.length, 0);
    const format = isArrowMagic(head);
    if (!format) throw corrupt(name, 'no Arrow magic or schema message at the start');
    if (format === 'stream') {
      const bytes = fh.createReadStream({ highWaterMark: 1 << 20, start: 0 }) as AsyncIterable<Uint8Array>;
      handed = true; // the read stream owns the handle now (closes it at the end or when destroyed)
      const reader = (await RecordBatchReader.from(checkedStream(bytes, name, size))) as unknown as AnyReader;
      await reader.open();
      return { reader, format, cleanup: null, check: null };
    }
    // ... <footer> <int32 len> "ARROW1".
    const tail = new Uint8Array(10);
    if (size < 8 + 10) throw corrupt(name, 'file too short for an Arrow IPC file');
    await fh.read(tail, 0, 10, size - 10);
    const footerLen = readI32(tail, 0);
    if (!hasMagic(tail, 4)) throw corrupt(name, 'missing ARROW1 magic at the end (truncated file?)');
    if (footerLen <= 0 || footerLen > size - 8 - 10) throw corrupt(name, `footer length ${footerLen} does not fit a ${size}-byte file`);
    const footer = new Uint8Array(footerLen);
    await fh.read(footer, 0, footerLen, size - 10 - footerLen);
    let layout: FileLayout;
    try {
      // apache-arrow reads a block wherever it points: checked against the real file size
      layout = checkFooter(footer, size);
    } catch (e) {
      if (e instanceof MetaError) throw corrupt(name, `footer: ${e.message}`);
      throw e;
    }
    for (let k = 0; k < layout.dictionaries.length; k++) {
      try {
        await checkBlock(fh, layout.dictionaries[k]!, layout.dataEnd, layout.schema, 2);
      } catch (e) {
        if (e instanceof MetaError) throw corrupt(name, `dictionary batch ${k + 1}: ${e.message}`);
        throw e;
      }
    }
    const check: BatchCheck = async (index, firstRow) => {
      const block = layout.batches[index];
      if (!block) return;
      try {
        await checkBlock(fh, block, layout.dataEnd, layout.schema, 3);
      } catch (e) {
        if (e instanceof MetaError) {
          throw corrupt(name, `${messageLabel(3, index + 1, 0, 0, firstRow, e.type === 3 ? e.rows : null)}: ${e.message}`);
        }
        throw e;
      }
    };
    const reader = (await RecordBatchReader.from(fh as never)) as unknown as AnyReader;
    await reader.open();
    return { reader, format, cleanup: null, check, ...(direct ? { direct: { path, layout } } : {}) };
  } catch (e) {
    if (!handed) await fh.close().catch(() => undefined);
    throw e;
  }
}

/** Open a byte stream (stdin): streaming reader; an IPC file is read through its embedded stream or spooled. */
async function openStream(stream: AsyncIterable<Uint8Array>, name: string): Promise<Opened> {
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
    const reader = (await RecordBatchReader.from(checkedStream(replay(parts, 0, it, done), name))) as unknown as AnyReader;
    await reader.open();
    return { reader, format, cleanup: null, check: null };
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
    const reader = (await RecordBatchReader.from(checkedStream(replay(parts, 8, it, done), name, Infinity, true))) as unknown as AnyReader;
    await reader.open();
    return { reader, format, cleanup: null, check: null };
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
    // (no direct reads: the spool file is unlinked once open)
    const opened = await openPath(tmp, name, false);
    // The reader holds its own handle; POSIX keeps the data until it is closed.
    const unlinked = await fsp.unlink(tmp).then(() => true, () => false);
    return { ...opened, cleanup: unlinked ? null : () => fsp.unlink(tmp).then(() => undefined, () => undefined) };
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export async function openArrow(input: Input): Promise<ArrowSource> {
  const name = 'path' in input ? input.path : input.name;
  let opened: Opened;
  try {
    opened = 'path' in input ? await openPath(input.path) : await openStream(input.stream, input.name);
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
  return new Source(name, opened.format, schema, opened.reader, opened.cleanup, opened.check, opened.direct ?? null);
}

// ---------------------------------------------------------------------------------------------
// Chunking

interface Piece {
  /** Column data of the selected columns in this batch. */
  cols: Data[];
  /** Column data of the key columns in this batch. */
  keys: Data[];
  start: number;
  count: number;
  /** 1-based file row of batch row 0. */
  batchFirstRow: number;
}

/** Record batch metadata blocks read at once while planning direct reads. */
const PLAN_READS = 64;

/** Plain columns of an IPC file read straight from it (Source.planDirect). */
interface DirectPlan {
  fh: fsp.FileHandle;
  /** per selected column: element kind and bytes, its field node and data buffer index in a batch */
  cols: { kind: NumericKind; bytes: number; node: number; data: number }[];
  /** the batches with rows: their row count and each column's data offset in the file */
  batches: { rows: number; data: number[] }[];
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
    private readonly checkBatch: BatchCheck | null = null,
    private readonly direct: { path: string; layout: FileLayout } | null = null,
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
      if (this.checkBatch) await this.checkBatch(this.batchIndex, this.rowsRead + 1);
      r = await this.reader.next();
    } catch (e) {
      this.exhausted = true;
      if (e instanceof DataError) throw e; // from the metadata checks, already naming the batch
      throw corrupt(this.name, `record batch ${this.batchIndex + 1} (from row ${this.rowsRead + 1}): ${(e as Error)?.message ?? e}`);
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

  /** Column c of a batch, checked: present, as long as the batch, its validity bitmap long enough and allowed. */
  private batchColumn(batch: RecordBatch, c: number, firstRow: number): { d: Data; n: number; f: ArrowFieldInfo; bad: (what: string) => DataError } {
    const d = batch.data.children[c] as Data | undefined;
    const n = batch.numRows;
    const f = this.fields[c]!;
    const bad = (what: string): DataError =>
      new DataError(`corrupt Arrow data: the record batch starting at row ${firstRow} has ${n} rows but ${what}`,
        { file: this.name, column: f.name });
    if (!d) throw bad('no data for the column');
    if (d.length !== n) throw bad(`the column has ${d.length}`);
    // N.B. arrow-js: `values` and `valueOffsets` start at element 0 of the Data, the bitmaps at bit `offset`.
    if (d.nullCount > 0 && (d.nullBitmap?.length ?? 0) < ((d.offset + n + 7) >> 3)) throw bad('a shorter validity bitmap');
    if (d.nullCount > 0 && f.nullable === false) throw bad(`${d.nullCount} nulls in a column the schema declares non-nullable`);
    return { d, n, f, bad };
  }

  /** Column c of a batch, with its buffers checked against the row count (cheap, O(1) per column). */
  private columnData(batch: RecordBatch, c: number, firstRow: number): Data {
    const { d, n, f, bad } = this.batchColumn(batch, c, firstRow);
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
    if (child.nullCount > 0 && f.childNullable === false) {
      throw bad(`${child.nullCount} null list values where the schema declares them non-nullable`);
    }
    return d;
  }

  chunks(columns: number[], rowsPerChunk: number, keys: number[] = []): AsyncIterable<ColumnSlice[] & { groupKeys?: KeySlice[] }> {
    this.check(columns);
    for (const c of keys) {
      const f = this.fields[c];
      if (!Number.isInteger(c) || !f) throw new RangeError(`${this.name}: no column at index ${c}`);
      if (!f.keyKind) throw new DataError(`column has type ${f.type}, not text, integers or booleans (a group key)`, { file: this.name, column: f.name });
    }
    if (!Number.isSafeInteger(rowsPerChunk) || rowsPerChunk < 1) throw new RangeError(`rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
    if (this.started) throw new Error('ArrowSource.chunks() can be iterated only once');
    return this.iterate(columns, rowsPerChunk, keys);
  }

  /** Key column c of a batch, checked against the row count. */
  private keyData(batch: RecordBatch, c: number, firstRow: number): Data {
    const { d, n, f, bad } = this.batchColumn(batch, c, firstRow);
    if (f.keyKind === 'text') {
      const offs = d.valueOffsets as unknown as ArrayLike<number | bigint> | undefined;
      if (!offs || offs.length < n + 1) throw bad('fewer text offsets');
      const a = Number(offs[0]!), b = Number(offs[n]!);
      if (a < 0 || b < a || b > (d.values as Uint8Array).length) throw bad(`text offsets ${a}..${b} outside its ${(d.values as Uint8Array).length} bytes`);
    } else if (f.keyKind === 'bool') {
      if ((d.values as Uint8Array).length < ((d.offset + n + 7) >> 3)) throw bad('a shorter boolean bitmap');
    } else if ((d.values as Typed).length < n) {
      throw bad(`only ${(d.values as Typed).length} values`);
    }
    return d;
  }

  /** One key column over the pieces (key position j) as a KeySlice of `rows` rows. */
  private buildKey(c: number, j: number, pieces: Piece[], rows: number): KeySlice {
    const f = this.fields[c]!;
    const validity = keyValidity(pieces, j, rows);
    if (f.keyKind === 'int') {
      const kind = numericKind(pieces[0]!.keys[j]!.type as DataTypeT)!;
      const values = gather(kind, pieces.map((p) => (p.keys[j]!.values as Typed).subarray(p.start, p.start + p.count)), rows);
      return { kind: 'int', rows, values: values as never, validity };
    }
    if (f.keyKind === 'bool') {
      const bits = new Uint8Array((rows + 7) >> 3);
      let o = 0;
      for (const p of pieces) {
        const d = p.keys[j]!;
        copyBits(d.values as Uint8Array, d.offset + p.start, bits, o, p.count);
        o += p.count;
      }
      return { kind: 'bool', rows, bits, validity };
    }
    // text: the rows' bytes, one after another (dictionary entries written out per row)
    const parts: Uint8Array[] = [];
    const offsets = new Int32Array(rows + 1);
    let o = 0, total = 0;
    for (const p of pieces) {
      const d = p.keys[j]!;
      if (f.keyKind === 'dict') {
        const entries = dictionaryEntries(d);
        const idx = d.values as Typed & ArrayLike<number | bigint>;
        for (let r = p.start; r < p.start + p.count; r++) {
          const e = entries[Number(idx[r]!)];
          if (e === undefined && (validity === null || bitSet(validity, o))) {
            throw new DataError(`corrupt Arrow data: dictionary index ${idx[r]} outside its ${entries.length} entries`,
              { file: this.name, row: p.batchFirstRow + r, column: f.name });
          }
          if (e !== undefined) { parts.push(e); total += e.length; }
          offsets[++o] = total;
        }
      } else {
        const offs = d.valueOffsets as unknown as ArrayLike<number | bigint>;
        const a = Number(offs[p.start]!), b = Number(offs[p.start + p.count]!);
        parts.push((d.values as Uint8Array).subarray(a, b));
        for (let r = p.start; r < p.start + p.count; r++) offsets[++o] = total + Number(offs[r + 1]!) - a;
        total += b - a;
      }
    }
    const data = new Uint8Array(total);
    let at = 0;
    for (const b of parts) { data.set(b, at); at += b.length; }
    return { kind: 'text', rows, offsets, data, validity };
  }

  private async *iterate(columns: number[], rowsPerChunk: number, keys: number[]): AsyncGenerator<ColumnSlice[] & { groupKeys?: KeySlice[]; recycle?: true }> {
    const widths = await this.widths(columns);
    const plan = keys.length === 0 && this.peeked.length === 0 && this.batchIndex === 0 ? await this.planDirect(columns) : null;
    if (plan) {
      yield* this.iterateDirect(plan, columns, rowsPerChunk);
      return;
    }
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
        const keyCols = keys.map((c) => this.keyData(batch, c, firstRow));
        let start = 0;
        while (start < n) {
          const take = Math.min(rowsPerChunk - pendingRows, n - start);
          pending.push({ cols, keys: keyCols, start, count: take, batchFirstRow: firstRow });
          pendingRows += take;
          start += take;
          if (pendingRows === rowsPerChunk) {
            yield this.withKeys(this.build(columns, widths, pending, pendingRows, chunkFirstRow), keys, pending, pendingRows);
            chunkFirstRow += pendingRows;
            pending = [];
            pendingRows = 0;
          }
        }
      }
      if (pendingRows > 0) yield this.withKeys(this.build(columns, widths, pending, pendingRows, chunkFirstRow), keys, pending, pendingRows);
    } finally {
      await this.close();
    }
  }

  /**
   * Plain numeric columns of an IPC file on disk, without nulls or body compression in any batch:
   * where each column's values lie in the file, so that chunks are read straight into (recycled)
   * transferable buffers, one read per column and batch, with no record batch decoded or copied on
   * this thread. Null (apache-arrow reads the file) for anything else, and when a batch's metadata
   * fails its check (then reported in order by the usual path).
   */
  private async planDirect(columns: number[]): Promise<DirectPlan | null> {
    const d = this.direct;
    if (!d || d.layout.schema.buffers < 0) return null;
    const top = d.layout.schema.fields;
    // pre-order node and buffer index of each top-level field
    const nodeAt: number[] = [], bufAt: number[] = [];
    const count = (f: FieldLayout): { nodes: number; buffers: number } =>
      f.children.reduce((a, c) => { const k = count(c); return { nodes: a.nodes + k.nodes, buffers: a.buffers + k.buffers }; }, { nodes: 1, buffers: f.buffers });
    for (let i = 0, n = 0, b = 0; i < top.length; i++) {
      nodeAt.push(n);
      bufAt.push(b);
      const k = count(top[i]!);
      n += k.nodes;
      b += k.buffers;
    }
    const cols: DirectPlan['cols'] = [];
    for (const c of columns) {
      const f = this.fields[c]!, l = top[c];
      if (!l || !f.kind || f.listSize !== null || f.isList || f.keyKind === 'dict') return null;
      if ((l.typeId !== T.Int && l.typeId !== T.FloatingPoint) || l.buffers !== 2 || l.children.length > 0) return null;
      if (l.width !== CTORS[f.kind].BYTES_PER_ELEMENT) return null;
      cols.push({ kind: f.kind, bytes: l.width, node: nodeAt[c]!, data: bufAt[c]! + 1 });
    }
    const fh = await fsp.open(d.path, 'r');
    let plan: DirectPlan | null = null;
    try {
      const batches: DirectPlan['batches'] = [];
      // every batch's metadata, PLAN_READS blocks at a time (one by one, 1200 batches took 0.15-0.2 s)
      const blocks = d.layout.batches;
      for (let k0 = 0; k0 < blocks.length; k0 += PLAN_READS) {
        let infos: (MessageInfo & { bodyStart: number })[];
        try {
          infos = await Promise.all(blocks.slice(k0, k0 + PLAN_READS).map((block) => checkBlock(fh, block, d.layout.dataEnd, d.layout.schema, 3)));
        } catch (e) {
          if (e instanceof MetaError) return null;
          throw e;
        }
        for (const info of infos) {
          const b = info.batch!;
          if (b.compressed || cols.some((col) => b.nodes[col.node]!.nullCount !== 0)) return null;
          if (info.rows > 0) batches.push({ rows: info.rows, data: cols.map((col) => info.bodyStart + b.buffers[col.data]!.offset) });
        }
      }
      plan = { fh, cols, batches };
      return plan;
    } finally {
      // the handle goes with the plan; without one it is closed here
      if (plan === null) await fh.close().catch(() => undefined);
    }
  }

  private async *iterateDirect(plan: DirectPlan, columns: number[], rowsPerChunk: number): AsyncGenerator<ColumnSlice[] & { recycle: true }> {
    this.started = true;
    const { fh, cols, batches } = plan;
    const total = batches.reduce((a, b) => a + b.rows, 0);
    try {
      let bi = 0, inBatch = 0; // where the next chunk starts
      for (let first = 1; first <= total;) {
        const n = Math.min(rowsPerChunk, total - first + 1);
        const read = await Promise.all(cols.map(async (col, j): Promise<ColumnSlice | { short: number; column: string }> => {
          const buf = spareBuffer(n * col.bytes);
          const u8 = new Uint8Array(buf, 0, n * col.bytes);
          // the first short read in file order names the batch (whatever order the reads finish in)
          const reads: Promise<number>[] = [];
          for (let o = 0, b = bi, r = inBatch; o < n; b++, r = 0) {
            const take = Math.min(n - o, batches[b]!.rows - r);
            const len = take * col.bytes, at = batches[b]!.data[j]! + r * col.bytes, dst = o * col.bytes;
            reads.push(fh.read(u8, dst, len, at).then(({ bytesRead }) => (bytesRead === len ? -1 : b)));
            o += take;
          }
          const short = (await Promise.all(reads)).find((b) => b >= 0);
          const f = this.fields[columns[j]!]!;
          if (short !== undefined) return { short, column: f.name };
          return {
            kind: col.kind, rows: n, width: 1, values: new CTORS[col.kind](buf, 0, n) as ArrayBufferView,
            validity: null, childValidity: null, firstRow: first, file: this.name, column: f.name,
            listOffsets: null, listPieces: null, widthRow: 0,
          };
        }));
        // a short read: the file changed since its footer was read (the first column in order is named)
        const bad = read.find((x): x is { short: number; column: string } => 'short' in x);
        if (bad) throw corrupt(this.name, `column ${JSON.stringify(bad.column)}: the file ended inside record batch ${bad.short + 1} (did it change while being read?)`);
        const slices = read as ColumnSlice[];
        for (let left = n; left > 0;) {
          const take = Math.min(left, batches[bi]!.rows - inBatch);
          left -= take;
          inBatch += take;
          if (inBatch === batches[bi]!.rows) { bi++; inBatch = 0; }
        }
        first += n;
        yield Object.assign(slices, { recycle: true as const });
      }
    } finally {
      await fh.close().catch(() => undefined);
      await this.close();
    }
  }

  private withKeys(slices: ColumnSlice[], keys: number[], pieces: Piece[], rows: number): ColumnSlice[] & { groupKeys?: KeySlice[] } {
    if (keys.length === 0) return slices;
    return Object.assign(slices, { groupKeys: keys.map((c, j) => this.buildKey(c, j, pieces, rows)) });
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
  return piecesValidity(pieces, (p) => p.cols[j]!, rows);
}

/** Row validity of key column j over the pieces (as rowValidity). */
function keyValidity(pieces: Piece[], j: number, rows: number): Uint8Array | null {
  return piecesValidity(pieces, (p) => p.keys[j]!, rows);
}

function piecesValidity(pieces: Piece[], data: (p: Piece) => Data, rows: number): Uint8Array | null {
  if (!pieces.some((p) => data(p).nullCount > 0)) return null;
  const out = new Uint8Array((rows + 7) >> 3);
  let o = 0;
  for (const p of pieces) {
    const d = data(p);
    if (d.nullCount > 0) copyBits(d.nullBitmap as Uint8Array, d.offset + p.start, out, o, p.count);
    else setBits(out, o, p.count);
    o += p.count;
  }
  return out;
}


const dictionaryCache = new WeakMap<object, Uint8Array[]>();
const utf8Encoder = new TextEncoder();

/** The UTF-8 bytes of each entry of a Dictionary<Utf8> column's dictionary (cached per dictionary). */
function dictionaryEntries(d: Data): Uint8Array[] {
  const dict = (d as unknown as { dictionary?: { length: number; get(i: number): string | null } }).dictionary;
  if (!dict) return [];
  let e = dictionaryCache.get(dict);
  if (!e) {
    e = [];
    for (let i = 0; i < dict.length; i++) e.push(utf8Encoder.encode(dict.get(i) ?? ''));
    dictionaryCache.set(dict, e);
  }
  return e;
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
