/**
 * Group keys (--group-by, --per-class): how a key is held, ordered, printed and stored.
 *
 * A key part is a tag char and a value, in one "binary" string (one char per byte of text):
 *   null (a missing key: an empty CSV field, an Arrow null)  '\0'
 *   boolean                                                  '\1' + '0' | '1'
 *   number (Arrow integers, --per-class targets)             '\2' + decimal text (integers exact, any width)
 *   text (CSV fields as written, Arrow Utf8 / Dictionary)    '\3' + the UTF-8 bytes, one char each
 * A composite key (several key columns) is its parts, each after its length in 4 bytes (little-endian).
 *
 * Order (the printed order of groups, the same for any chunking, worker count or merge): part
 * by part, null < booleans (false < true) < numbers < text. Numbers compare by value. Text that
 * is an integer literal (`-?[0-9]+`, e.g. a CSV fold or class column) sorts by that integer,
 * before other text, ties ("01" and "1" are different keys) by bytes; other text by the byte
 * order of its UTF-8 bytes (= Unicode code point order).
 */
import { formatNumber } from '../write/format.js';

export const KEY_NULL = '\u0000';
export const KEY_BOOL = '\u0001';
export const KEY_NUM = '\u0002';
export const KEY_TEXT = '\u0003';

/** An integer key part (Arrow integer columns). */
export function keyFromInt(v: number | bigint): string {
  return KEY_NUM + (typeof v === 'bigint' ? v.toString() : String(v));
}

/** A number key part (--per-class targets): integers as integers, -0 as 0, else the shortest round-trip text. */
export function keyFromNumber(v: number): string {
  if (Number.isSafeInteger(v)) return KEY_NUM + String(v === 0 ? 0 : v);
  if (Number.isInteger(v)) return KEY_NUM + BigInt(v).toString();
  return KEY_NUM + formatNumber(v);
}

/** The parts of a composite key (`count` key columns). */
export function keyParts(key: string, count: number): string[] {
  if (count === 1) return [key];
  const parts: string[] = [];
  let i = 0;
  for (let k = 0; k < count; k++) {
    const len = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) * 16777216);
    parts.push(key.slice(i + 4, i + 4 + len));
    i += 4 + len;
  }
  if (i !== key.length) throw new Error('internal: a malformed composite key');
  return parts;
}

/** The composite key of parts (the inverse of keyParts). */
export function joinParts(parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  return parts.map((p) => String.fromCharCode(p.length & 255, (p.length >>> 8) & 255, (p.length >>> 16) & 255, p.length >>> 24) + p).join('');
}

const INT_RE = /^-?[0-9]+$/;

function compareNumberText(a: string, b: string): number {
  const ai = INT_RE.test(a), bi = INT_RE.test(b);
  if (ai && bi) {
    const x = BigInt(a), y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = Number(a.replace(/^(-?)inf$/, '$1Infinity')), y = Number(b.replace(/^(-?)inf$/, '$1Infinity'));
  // nan last
  if (x !== x || y !== y) return x !== x && y !== y ? 0 : x !== x ? 1 : -1;
  if (x !== y) return x < y ? -1 : 1;
  return ai === bi ? 0 : ai ? -1 : 1;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order of two key parts (see the module doc). */
export function comparePart(a: string, b: string): number {
  const ta = a.charCodeAt(0), tb = b.charCodeAt(0);
  if (ta !== tb) return ta - tb;
  const va = a.slice(1), vb = b.slice(1);
  if (a[0] === KEY_NUM) return compareNumberText(va, vb);
  if (a[0] === KEY_TEXT) {
    const ia = INT_RE.test(va), ib = INT_RE.test(vb);
    if (ia !== ib) return ia ? -1 : 1;
    if (ia) {
      const c = compareNumberText(va, vb);
      if (c !== 0) return c;
    }
  }
  return compareBytes(va, vb);
}

/** Order of two composite keys of `count` parts. */
export function compareKeys(a: string, b: string, count: number): number {
  if (count === 1) return comparePart(a, b);
  const pa = keyParts(a, count), pb = keyParts(b, count);
  for (let k = 0; k < count; k++) {
    const c = comparePart(pa[k]!, pb[k]!);
    if (c !== 0) return c;
  }
  return 0;
}

const utf8 = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function textBytes(v: string): Uint8Array {
  return Buffer.from(v, 'latin1');
}

/** A key part as the user sees it: its text (invalid UTF-8 shown with U+FFFD), or null when missing. */
export function partText(p: string): string | null {
  switch (p[0]) {
    case KEY_NULL: return null;
    case KEY_BOOL: return p[1] === '1' ? 'true' : 'false';
    case KEY_NUM: return p.slice(1);
    default: return utf8.decode(textBytes(p.slice(1)));
  }
}

/** A key part as a --json value: text, a number (a string when beyond 2^53), a boolean, or null. */
export function partJson(p: string): string | number | boolean | null {
  switch (p[0]) {
    case KEY_NULL: return null;
    case KEY_BOOL: return p[1] === '1';
    case KEY_NUM: {
      const t = p.slice(1);
      const v = Number(t);
      return Number.isFinite(v) && (!INT_RE.test(t) || Number.isSafeInteger(v)) ? v : t;
    }
    default: return utf8.decode(textBytes(p.slice(1)));
  }
}

/** A key part in a state file, exactly: null, a boolean, {"number": text}, text, or {"bytes": hex} (invalid UTF-8). */
export type StoredPart = null | boolean | string | { readonly number: string } | { readonly bytes: string };

export function partToStored(p: string): StoredPart {
  switch (p[0]) {
    case KEY_NULL: return null;
    case KEY_BOOL: return p[1] === '1';
    case KEY_NUM: return { number: p.slice(1) };
    default: {
      const b = textBytes(p.slice(1));
      try {
        return utf8Strict.decode(b);
      } catch {
        return { bytes: Buffer.from(b).toString('hex') };
      }
    }
  }
}

const NUMBER_TEXT = /^(-?[0-9]+|-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|nan|-?inf)$/;

/** The inverse of partToStored; throws Error on anything else. */
export function partFromStored(v: unknown): string {
  if (v === null) return KEY_NULL;
  if (typeof v === 'boolean') return KEY_BOOL + (v ? '1' : '0');
  if (typeof v === 'string') return KEY_TEXT + Buffer.from(v, 'utf8').toString('latin1');
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.number === 'string' && NUMBER_TEXT.test(o.number)) return KEY_NUM + o.number;
    if (typeof o.bytes === 'string' && /^(?:[0-9a-f]{2})*$/.test(o.bytes)) return KEY_TEXT + Buffer.from(o.bytes, 'hex').toString('latin1');
  }
  throw new Error(`not a group key part: ${JSON.stringify(v)}`);
}
