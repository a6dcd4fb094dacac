/**
 * --group-by / --per-class in the worker: each row's group (a small id per distinct key of the
 * chunk), the chunk's rows scattered into group order (a stable counting sort), and from there
 * one exact partial per group and loss (pool/chunk.ts runs every group's rows alone through
 * evaluateLoss, so a group's result is the result of a run over its rows).
 *
 * A key is held as a "binary string" (one char per byte; reduce/keys.ts): while a chunk is
 * grouped, rows are matched by hashing their key bytes where they lie (the CSV chunk, an Arrow
 * text buffer) against a table of the chunk's distinct keys, so no string is made per row — only
 * one per distinct key.
 */
import type { KeySlice } from '../types.js';
import { KEY_BOOL, KEY_NULL, KEY_NUM, KEY_TEXT, keyFromInt, keyFromNumber } from '../reduce/keys.js';

const TAG_NULL = KEY_NULL.charCodeAt(0);
const TAG_BOOL = KEY_BOOL.charCodeAt(0);
const TAG_NUM = KEY_NUM.charCodeAt(0);
const TAG_TEXT = KEY_TEXT.charCodeAt(0);
const QUOTE = 34;

/** FNV-1a over a tag byte then bytes [s, e). */
function hashBytes(tag: number, b: Uint8Array, s: number, e: number): number {
  let h = Math.imul(0x811c9dc5 ^ tag, 0x01000193);
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

/** The distinct keys of one chunk: key bytes (tag + value) → a dense id, in first-seen order. */
export class KeyTable {
  readonly keys: string[] = [];
  private slots = new Int32Array(1024).fill(-1);
  private hashes = new Int32Array(256);
  private arena = new Uint8Array(1 << 16);
  private arenaLen = 0;
  private starts = new Int32Array(257);
  private readonly buffer = Buffer.from(this.arena.buffer);
  private arenaBuf = this.buffer;

  /** More than `max` distinct keys: id() returns -1. */
  constructor(private readonly max: number) {}

  /** The id of the key tag + b[s, e) (added when new). */
  id(tag: number, b: Uint8Array, s: number, e: number): number {
    const h = hashBytes(tag, b, s, e);
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = this.slots[i]!;
      if (k < 0) return this.add(i, h, tag, b, s, e);
      if (this.hashes[k] === h && this.equal(k, tag, b, s, e)) return k;
    }
  }

  private equal(k: number, tag: number, b: Uint8Array, s: number, e: number): boolean {
    const a = this.starts[k]!, z = this.starts[k + 1]!;
    if (z - a !== e - s + 1 || this.arena[a] !== tag) return false;
    for (let i = a + 1, j = s; j < e; i++, j++) if (this.arena[i] !== b[j]) return false;
    return true;
  }

  private add(slot: number, h: number, tag: number, b: Uint8Array, s: number, e: number): number {
    const k = this.keys.length;
    if (k >= this.max) return -1;
    const len = e - s + 1;
    if (this.arenaLen + len > this.arena.length) {
      const grown = new Uint8Array(Math.max(2 * this.arena.length, this.arenaLen + len));
      grown.set(this.arena.subarray(0, this.arenaLen));
      this.arena = grown;
      this.arenaBuf = Buffer.from(grown.buffer);
    }
    const a = this.arenaLen;
    this.arena[a] = tag;
    this.arena.set(b.subarray(s, e), a + 1);
    this.arenaLen += len;
    if (k + 1 >= this.hashes.length) {
      const hs = new Int32Array(2 * this.hashes.length);
      hs.set(this.hashes);
      this.hashes = hs;
      const st = new Int32Array(2 * this.hashes.length + 1);
      st.set(this.starts);
      this.starts = st;
    }
    this.hashes[k] = h;
    this.starts[k + 1] = this.arenaLen;
    // a composite key (tag 255) is its parts' bytes
    this.keys.push(this.arenaBuf.toString('latin1', tag === 255 ? a + 1 : a, a + len));
    this.slots[slot] = k;
    if (2 * (k + 1) > this.slots.length) this.rehash();
    return k;
  }

  private rehash(): void {
    const slots = new Int32Array(2 * this.slots.length).fill(-1);
    const mask = slots.length - 1;
    for (let k = 0; k < this.keys.length; k++) {
      let i = this.hashes[k]! & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = k;
    }
    this.slots = slots;
  }
}

/** One key column of a chunk. */
export interface KeyColumn {
  /** The tag and bytes of kept row r's part, through `out` (valid until the next call). */
  part(r: number, out: PartRef): void;
}

export interface PartRef {
  tag: number;
  b: Uint8Array;
  s: number;
  e: number;
}

const scratchText = { b: new Uint8Array(256) };

function digits(text: string, out: PartRef): void {
  if (scratchText.b.length < text.length) scratchText.b = new Uint8Array(2 * text.length);
  for (let i = 0; i < text.length; i++) scratchText.b[i] = text.charCodeAt(i);
  out.b = scratchText.b;
  out.s = 0;
  out.e = text.length;
}

/**
 * A CSV key field, from the parser's spans (CsvChunk.keyFields): text as written; empty = missing.
 * `rowOf` maps kept rows to parsed rows (--nan-policy omit), or null.
 */
export function csvKeyColumn(bytes: Uint8Array, spans: Int32Array, nk: number, pos: number, rowOf: Int32Array | null): KeyColumn {
  let unq = new Uint8Array(64);
  return {
    part(kept, out) {
      const r = rowOf ? rowOf[kept]! : kept;
      const s = spans[2 * (r * nk + pos)]!;
      let e = spans[2 * (r * nk + pos) + 1]!;
      if (e >= 0) {
        out.tag = s === e ? TAG_NULL : TAG_TEXT;
        out.b = bytes;
        out.s = s;
        out.e = s === e ? s : e;
        return;
      }
      // a quoted field holding "": one quote each
      e = -e - 1;
      if (unq.length < e - s) unq = new Uint8Array(2 * (e - s));
      let n = 0;
      for (let i = s; i < e; i++) {
        unq[n++] = bytes[i]!;
        if (bytes[i] === QUOTE) i++;
      }
      out.tag = TAG_TEXT;
      out.b = unq;
      out.s = 0;
      out.e = n;
    },
  };
}

function bit(b: Uint8Array, i: number): boolean {
  return (b[i >> 3]! & (1 << (i & 7))) !== 0;
}

const EMPTY = new Uint8Array(0);
const BOOL_BYTES = [Uint8Array.of(48), Uint8Array.of(49)];

/** An Arrow key column (KeySlice); `rowOf` as for csvKeyColumn. */
export function sliceKeyColumn(k: KeySlice, rowOf: Int32Array | null): KeyColumn {
  const c = sliceColumn(k);
  return rowOf === null ? c : { part: (r, out) => c.part(rowOf[r]!, out) };
}

function sliceColumn(k: KeySlice): KeyColumn {
  const valid = k.validity;
  const missing = (r: number, out: PartRef): boolean => {
    if (valid === null || bit(valid, r)) return false;
    out.tag = TAG_NULL;
    out.b = EMPTY;
    out.s = 0;
    out.e = 0;
    return true;
  };
  switch (k.kind) {
    case 'text':
      return {
        part(r, out) {
          if (missing(r, out)) return;
          const s = k.offsets[r]!, e = k.offsets[r + 1]!;
          // an empty text is a missing key, as an empty CSV field
          out.tag = s === e ? TAG_NULL : TAG_TEXT;
          out.b = k.data;
          out.s = s;
          out.e = e;
        },
      };
    case 'int':
      return {
        part(r, out) {
          if (missing(r, out)) return;
          out.tag = TAG_NUM;
          digits(keyFromInt(k.values[r]!).slice(1), out);
        },
      };
    case 'bool':
      return {
        part(r, out) {
          if (missing(r, out)) return;
          out.tag = TAG_BOOL;
          out.b = BOOL_BYTES[bit(k.bits, r) ? 1 : 0]!;
          out.s = 0;
          out.e = 1;
        },
      };
  }
}

/** --per-class: the (kept) row's target value as a number key. */
export function classKeyColumn(targets: Float64Array): KeyColumn {
  let last = NaN, lastText = '';
  return {
    part(r, out) {
      const v = targets[r]!;
      if (v !== last || lastText === '') {
        last = v;
        lastText = keyFromNumber(v).slice(1);
      }
      out.tag = TAG_NUM;
      digits(lastText, out);
    },
  };
}

/**
 * Group ids of `rows` rows (the table's id of each row's key); null when the chunk holds more
 * keys than the table takes. One column: its part is the key; several: each part as 4 length
 * bytes, its tag and its bytes (reduce/keys.ts joinParts).
 */
export function groupIds(columns: readonly KeyColumn[], rows: number, table: KeyTable): Int32Array | null {
  if (idSpace.length < rows) idSpace = new Int32Array(rows + (rows >> 2));
  const ids = idSpace.subarray(0, rows);
  const ref: PartRef = { tag: 0, b: EMPTY, s: 0, e: 0 };
  if (columns.length === 1) {
    const c = columns[0]!;
    for (let r = 0; r < rows; r++) {
      c.part(r, ref);
      const id = table.id(ref.tag, ref.b, ref.s, ref.e);
      if (id < 0) return null;
      ids[r] = id;
    }
    return ids;
  }
  let buf = new Uint8Array(256);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (const c of columns) {
      c.part(r, ref);
      const len = ref.e - ref.s + 1;
      if (buf.length < n + 4 + len) {
        const g = new Uint8Array(2 * (n + 4 + len));
        g.set(buf.subarray(0, n));
        buf = g;
      }
      buf[n] = len & 255; buf[n + 1] = (len >>> 8) & 255; buf[n + 2] = (len >>> 16) & 255; buf[n + 3] = len >>> 24;
      buf[n + 4] = ref.tag;
      buf.set(ref.b.subarray(ref.s, ref.e), n + 5);
      n += 4 + len;
    }
    // the composite key's bytes, under a tag no part has
    const id = table.id(255, buf, 0, n);
    if (id < 0) return null;
    ids[r] = id;
  }
  return ids;
}

let idSpace = new Int32Array(0);

/**
 * groupIds for one CSV key field without --nan-policy omit (the common case), in one loop: the
 * spans' bytes are hashed where they lie. An escaped quoted field takes the general path.
 */
export function csvGroupIds(bytes: Uint8Array, spans: Int32Array, nk: number, pos: number, rows: number, table: KeyTable): Int32Array | null {
  if (idSpace.length < rows) idSpace = new Int32Array(rows + (rows >> 2));
  const ids = idSpace.subarray(0, rows);
  let general: KeyColumn | null = null;
  const ref: PartRef = { tag: 0, b: EMPTY, s: 0, e: 0 };
  for (let r = 0, k = 2 * pos; r < rows; r++, k += 2 * nk) {
    const s = spans[k]!, e = spans[k + 1]!;
    let id: number;
    if (e >= 0) {
      id = s === e ? table.id(TAG_NULL, bytes, s, s) : table.id(TAG_TEXT, bytes, s, e);
    } else {
      general ??= csvKeyColumn(bytes, spans, nk, pos, null);
      general.part(r, ref);
      id = table.id(ref.tag, ref.b, ref.s, ref.e);
    }
    if (id < 0) return null;
    ids[r] = id;
  }
  return ids;
}

/** Rows by group: group g's rows, in file order, are slots start[g] .. start[g + 1] of the sorted order. */
export function groupStarts(ids: Int32Array, groups: number): Int32Array {
  const start = new Int32Array(groups + 1);
  for (let r = 0; r < ids.length; r++) start[ids[r]! + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  return start;
}

/** Per-thread output space of scatterRows (slot: one per role), reused from chunk to chunk. */
const scatterSpace: Float64Array[] = [];

/**
 * Matrix rows scattered into group order (rows × width, row-major): row r goes to the next slot
 * of its group. The result is a view of this thread's space `slot`, valid until the next call.
 */
export function scatterRows(m: Float64Array, width: number, ids: Int32Array, start: Int32Array, slot: number): Float64Array {
  const fill = start.slice(0, start.length - 1);
  const need = ids.length * width;
  if ((scatterSpace[slot]?.length ?? -1) < need) scatterSpace[slot] = new Float64Array(need + (need >> 2));
  const out = scatterSpace[slot]!.subarray(0, need);
  if (width === 1) {
    for (let r = 0; r < ids.length; r++) out[fill[ids[r]!]!++] = m[r]!;
    return out;
  }
  for (let r = 0, s = 0; r < ids.length; r++, s += width) {
    const o = fill[ids[r]!]!++ * width;
    for (let k = 0; k < width; k++) out[o + k] = m[s + k]!;
  }
  return out;
}

/** The same scatter for one Int32 per row. */
export function scatterInts(m: Int32Array, ids: Int32Array, start: Int32Array): Int32Array {
  const fill = start.slice(0, start.length - 1);
  const out = new Int32Array(ids.length);
  for (let r = 0; r < ids.length; r++) out[fill[ids[r]!]!++] = m[r]!;
  return out;
}
