/**
 * Decimal number parsing for CSV fields (worker side; no allocation on the fast path).
 *
 * Accepted syntax (after trimming, see below):
 *   number := [+-]? ( digits ( '.' digits? )? | '.' digits ) ( [eE] [+-]? digits )?
 *   NaN    := [+-]? 'nan' | ''                        (any letter case, as Python's float() and DuckDB;
 *                                                     the empty field is NaN)
 *   ±Inf   := [+-]? ( 'inf' | 'infinity' )          (any letter case)
 * Anything else ('0x10', '1_000', '1e', 'nan1', text, interior spaces) is invalid; so are the
 * missing-value words of other tools (NA, N/A, NULL, #N/A, None): see the README.
 *
 * Trimming: leading and trailing spaces (0x20) and tabs (0x09) around the field are ignored,
 * except that a byte equal to the CSV delimiter is never trimmed (so with `--delimiter '\t'`
 * only spaces are trimmed). A field made only of spaces/tabs is therefore empty, i.e. NaN.
 *
 * Conversion is correctly rounded (round-half-to-even to the nearest float64):
 *  - fast path (Clinger): the digits, read as an integer, are below 2^53 (so at most 15-16
 *    significant digits) and the decimal exponent is within ±22 (plus the "small mantissa,
 *    exponent up to 37" extension): one multiply/divide of two
 *    exactly representable doubles, so the single IEEE rounding is the correct one;
 *  - general path: the syntax is validated by the same byte loop, then the ASCII text is
 *    handed to `Number()`, whose conversion in V8 is correctly rounded for any digit count.
 *
 * NaN token vs invalid, without allocating: the byte-level functions return NaN in both cases
 * and set the module-level flag `numberInvalid` (true = invalid syntax, false = a NaN token).
 * The flag is only written when the result is NaN, so callers test it only after `v !== v`:
 *
 *     const v = parseNumberBytes(buf, s, e, delim);
 *     if (v !== v && numberInvalid) { ...report a data error... }
 */

/** Exact powers of ten 1e0..1e22 (all exactly representable as float64). */
const POW10: readonly number[] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/** Set when a byte-level parse returns NaN: true = invalid syntax, false = NaN token / empty. */
export let numberInvalid = false;

/** Index just past the last byte consumed by `scanNumber` (== start when no number was found). */
export let scanEnd = 0;

let forceGeneral = false;

/**
 * Testing hook: when true, every conversion goes through the general path (`Number()` on the
 * validated text) instead of the Clinger fast path. Returns the previous setting.
 */
export function setForceGeneralPath(on: boolean): boolean {
  const prev = forceGeneral;
  forceGeneral = on;
  return prev;
}

const decoder = new TextDecoder();

function ascii(b: Uint8Array, s: number, e: number): string {
  if (e - s <= 64) {
    let str = '';
    for (let k = s; k < e; k++) str += String.fromCharCode(b[k]!);
    return str;
  }
  return decoder.decode(b.subarray(s, e));
}

/**
 * Scan the longest prefix of b[start, end) that is a decimal number (sign, digits, optional
 * fraction, optional complete exponent) and return its correctly rounded value. Sets `scanEnd`
 * to the index after the consumed bytes; if no digit was found, `scanEnd === start` and the
 * result is NaN. Tokens (nan/inf) and trimming are NOT handled here (see parseNumberBytes).
 * An incomplete exponent ('1e', '1e+') is not consumed: scanEnd stops before the 'e'.
 */
export function scanNumber(b: Uint8Array, start: number, end: number): number {
  let i = start;
  let c = i < end ? b[i]! : 0;
  let neg = false;
  if (c === 45) {
    neg = true;
    c = ++i < end ? b[i]! : 0;
  } else if (c === 43) {
    c = ++i < end ? b[i]! : 0;
  }
  // m accumulates every digit; it is exact as long as it stays below 2^53 (and once it
  // exceeds 2^53 it can never come back below, so checking the final m is enough).
  let m = 0;
  let e10 = 0;
  // integer part
  const i0 = i;
  let d = c - 48;
  while (d >>> 0 <= 9) {
    m = m * 10 + d;
    c = ++i < end ? b[i]! : 0;
    d = c - 48;
  }
  let nd = i - i0; // all mantissa digits
  if (c === 46) {
    const f0 = ++i;
    c = i < end ? b[i]! : 0;
    d = c - 48;
    while (d >>> 0 <= 9) {
      m = m * 10 + d;
      c = ++i < end ? b[i]! : 0;
      d = c - 48;
    }
    nd += i - f0;
    e10 = f0 - i;
  }
  if (nd === 0) {
    scanEnd = start;
    return NaN;
  }
  if (c === 101 || c === 69) {
    let j = i + 1;
    let ec = j < end ? b[j]! : 0;
    let eneg = false;
    if (ec === 45) {
      eneg = true;
      ec = ++j < end ? b[j]! : 0;
    } else if (ec === 43) {
      ec = ++j < end ? b[j]! : 0;
    }
    let ed = ec - 48;
    if (ed >>> 0 <= 9) {
      let ex = 0;
      do {
        if (ex < 100000000) ex = ex * 10 + ed;
        else e10 = 1e9; // absurd exponent: saturate so that the general path (Number()) decides
        ec = ++j < end ? b[j]! : 0;
        ed = ec - 48;
      } while (ed >>> 0 <= 9);
      i = j;
      if (e10 !== 1e9) e10 += eneg ? -ex : ex;
    }
    // else: incomplete exponent, not consumed (i stays at the 'e')
  }
  scanEnd = i;
  if (m === 0) return neg ? -0 : 0;
  if (m < 9007199254740992 && !forceGeneral) {
    if (e10 >= 0) {
      if (e10 <= 22) {
        const v = m * POW10[e10]!;
        return neg ? -v : v;
      }
      if (e10 <= 37) {
        // m * 10^(e10-22) exact if it stays below 2^53; then one rounding by * 1e22.
        const mm = m * POW10[e10 - 22]!;
        if (mm <= 9007199254740991) {
          const v = mm * 1e22;
          return neg ? -v : v;
        }
      }
    } else if (e10 >= -22) {
      const v = m / POW10[-e10]!;
      return neg ? -v : v;
    }
  }
  // General path: syntax already validated; V8's string-to-double is correctly rounded.
  return Number(ascii(b, start, i));
}

function lower(c: number): number {
  return c | 0x20;
}

/** Is b[s, e) one of the ±Inf tokens, case-insensitively (without the sign)? */
function isInfWord(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n !== 3 && n !== 8) return false;
  if (lower(b[s]!) !== 105 || lower(b[s + 1]!) !== 110 || lower(b[s + 2]!) !== 102) return false; // inf
  if (n === 3) return true;
  // inity
  return (
    lower(b[s + 3]!) === 105 &&
    lower(b[s + 4]!) === 110 &&
    lower(b[s + 5]!) === 105 &&
    lower(b[s + 6]!) === 116 &&
    lower(b[s + 7]!) === 121
  );
}

/**
 * Parse one whole field b[start, end) (trimming spaces/tabs that are not the delimiter; pass
 * delimiter -1 to trim both). Returns the value; NaN with `numberInvalid` telling whether the
 * field was a NaN token (false) or invalid (true).
 */
export function parseNumberBytes(b: Uint8Array, start: number, end: number, delimiter = -1): number {
  let s = start;
  let e = end;
  const trimSp = delimiter !== 32;
  const trimTab = delimiter !== 9;
  while (s < e) {
    const c = b[s]!;
    if ((c === 32 && trimSp) || (c === 9 && trimTab)) s++;
    else break;
  }
  while (e > s) {
    const c = b[e - 1]!;
    if ((c === 32 && trimSp) || (c === 9 && trimTab)) e--;
    else break;
  }
  if (s === e) {
    numberInvalid = false;
    return NaN;
  }
  const v = scanNumber(b, s, e);
  if (scanEnd === e) return v;
  if (scanEnd === s) {
    // tokens (no digit was found: off the numeric path)
    const c0 = b[s]!;
    const signed = c0 === 45 || c0 === 43;
    const t = signed ? s + 1 : s;
    if (e - t === 3 && lower(b[t]!) === 110 && lower(b[t + 1]!) === 97 && lower(b[t + 2]!) === 110) {
      // nan in any case, optionally signed
      numberInvalid = false;
      return NaN;
    }
    if (isInfWord(b, t, e)) return c0 === 45 ? -Infinity : Infinity;
  }
  numberInvalid = true;
  return NaN;
}

/**
 * Parse one field without any fast path (validation by the same byte loop, then `Number()`).
 * For tests: must agree bit for bit with parseNumberBytes.
 */
export function parseNumberBytesGeneral(b: Uint8Array, start: number, end: number, delimiter = -1): number {
  const prev = setForceGeneralPath(true);
  try {
    return parseNumberBytes(b, start, end, delimiter);
  } finally {
    setForceGeneralPath(prev);
  }
}

/**
 * String variant for the main thread and tests: same rules as a CSV field (spaces and tabs
 * around the text are trimmed). Returns undefined when the text is not a number or token.
 */
export function parseNumberString(s: string): number | undefined {
  const n = s.length;
  const b = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c > 127) return undefined;
    b[k] = c;
  }
  const v = parseNumberBytes(b, 0, n, -1);
  if (v !== v && numberInvalid) return undefined;
  return v;
}
