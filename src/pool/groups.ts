/**
 * --group-by / --per-class in the worker: each row's group key, the rows of a chunk sorted by
 * key (a counting sort, stable), and one exact partial per group and loss — every group's loss
 * is computed by the same evaluateLoss call on that group's rows alone, so a group's result is
 * the result of a run over its rows, and the chunk's overall partial is the exact sum of its
 * groups' partials (equal, bit for bit, to the ungrouped partial).
 *
 * A key is a "binary string": one char per byte or tag, compared by code unit. One key part is
 * a tag then its value (see keys.ts for the tags and the order); a composite key (several
 * --group-by columns) is its parts, each preceded by its length in two chars.
 */
import type { KeySlice } from '../types.js';
import { KEY_NULL, KEY_TEXT, KEY_BOOL, keyFromNumber, keyFromInt } from '../reduce/keys.js';

/** A Buffer view of `bytes`, for latin1Slice (one char per byte). */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The text bytes [s, e) as one key part. */
function textPart(buf: Buffer, s: number, e: number): string {
  return s === e ? KEY_NULL : KEY_TEXT + buf.toString('latin1', s, e);
}

/**
 * Keys of one CSV part's key fields, from the parser's spans (CsvChunk.keyFields): rows × nk
 * parts, key-major per row. An empty field is a missing key; a quoted field's "" is one quote.
 */
export function csvKeyParts(bytes: Uint8Array, spans: Int32Array, rows: number, nk: number): string[] {
  const buf = bufferOf(bytes);
  const out: string[] = new Array(rows * nk);
  for (let i = 0; i < rows * nk; i++) {
    const s = spans[2 * i]!;
    let e = spans[2 * i + 1]!;
    if (e < 0) {
      e = -e - 1;
      out[i] = KEY_TEXT + buf.toString('latin1', s, e).replace(/""/g, '"');
    } else {
      out[i] = textPart(buf, s, e);
    }
  }
  return out;
}

function bit(b: Uint8Array, i: number): boolean {
  return (b[i >> 3]! & (1 << (i & 7))) !== 0;
}

/** Keys of one Arrow key column (rows parts). */
export function sliceKeyParts(k: KeySlice): string[] {
  const out: string[] = new Array(k.rows);
  const valid = k.validity;
  switch (k.kind) {
    case 'text': {
      const buf = bufferOf(k.data);
      for (let r = 0; r < k.rows; r++) {
        out[r] = valid !== null && !bit(valid, r) ? KEY_NULL : KEY_TEXT + buf.toString('latin1', k.offsets[r]!, k.offsets[r + 1]!);
      }
      return out;
    }
    case 'int':
      for (let r = 0; r < k.rows; r++) out[r] = valid !== null && !bit(valid, r) ? KEY_NULL : keyFromInt(k.values[r]!);
      return out;
    case 'bool':
      for (let r = 0; r < k.rows; r++) out[r] = valid !== null && !bit(valid, r) ? KEY_NULL : KEY_BOOL + (bit(k.bits, r) ? '1' : '0');
      return out;
  }
}

/** Per-class keys: the target value of each row (targets of width 1). */
export function classKeyParts(targets: Float64Array, rows: number): string[] {
  const out: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = keyFromNumber(targets[r]!);
  return out;
}

/** Composite keys of `rows` rows from nk parts per row (parts[r * nk + k]). */
export function compositeKeys(parts: readonly string[], rows: number, nk: number): string[] {
  if (nk === 1) return parts as string[];
  const out: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    let key = '';
    for (let k = 0; k < nk; k++) {
      const p = parts[r * nk + k]!;
      key += String.fromCharCode(p.length & 0xffff, p.length >>> 16) + p;
    }
    out[r] = key;
  }
  return out;
}

/** Rows of a chunk sorted by key: the distinct keys (first-seen order), and each group's rows. */
export interface GroupedRows {
  readonly keys: string[];
  /** group g's rows are perm[start[g] .. start[g + 1]) */
  readonly start: Int32Array;
  readonly perm: Int32Array;
}

/** Group `keys` (one per row); more than `max` distinct keys gives null. */
export function groupRows(keys: readonly string[], max: number): GroupedRows | null {
  const ids = new Map<string, number>();
  const gid = new Int32Array(keys.length);
  const distinct: string[] = [];
  for (let r = 0; r < keys.length; r++) {
    const k = keys[r]!;
    let g = ids.get(k);
    if (g === undefined) {
      g = distinct.length;
      if (g >= max) return null;
      ids.set(k, g);
      distinct.push(k);
    }
    gid[r] = g;
  }
  const start = new Int32Array(distinct.length + 1);
  for (let r = 0; r < gid.length; r++) start[gid[r]! + 1]!++;
  for (let g = 0; g < distinct.length; g++) start[g + 1]! += start[g]!;
  const fill = start.slice(0, distinct.length);
  const perm = new Int32Array(keys.length);
  for (let r = 0; r < gid.length; r++) perm[fill[gid[r]!]!++] = r;
  return { keys: distinct, start, perm };
}

/** Matrix rows in `perm` order (rows × width, row-major). */
export function permuteRows(m: Float64Array, width: number, perm: Int32Array): Float64Array {
  const out = new Float64Array(perm.length * width);
  if (width === 1) {
    for (let i = 0; i < perm.length; i++) out[i] = m[perm[i]!]!;
    return out;
  }
  for (let i = 0, o = 0; i < perm.length; i++) {
    for (let k = 0, s = perm[i]! * width; k < width; k++) out[o++] = m[s + k]!;
  }
  return out;
}
