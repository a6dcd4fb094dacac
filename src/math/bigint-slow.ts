/**
 * Slow paths: correctly rounded log / log1p / exp by a Ziv loop in BigInt fixed point.
 *
 * Only reached when the double-double fast path cannot decide the rounding (a few arguments per
 * million, plus the published hard cases), so clarity beats speed here. Each evaluation returns an
 * integer A and a bound K with |f(x) * 2^F - A| <= K; the result is decided when A - K and A + K round
 * to the same double. Otherwise the precision doubles. f(x) is transcendental for every argument that
 * gets here (x != 1 for log, x != 0 for log1p/exp), so the loop terminates.
 */
import { HI, LO, POW2, POW2_BIAS, scalePow2 } from './bits.js';
import { LOG1P_NEAR0, LOG_NEAR1 } from './tables.js';

const F = new Float64Array(1);
const W = new Uint32Array(F.buffer);

/** |x| = M * 2^E exactly for finite nonzero x; returns [signed M, E]. */
function decompose(x: number): [bigint, number] {
  F[0] = x;
  const hi = W[HI]!;
  const lo = W[LO]!;
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) {
    e = -1074;
  } else {
    m |= 1n << 52n;
    e = bexp - 1075;
  }
  return [hi >>> 31 ? -m : m, e];
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : (n < 0n ? -n : n).toString(2).length;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/**
 * Correctly rounded double nearest to n * 2^-p (ties to even), with subnormals on the 2^-1074 grid
 * and overflow to +-Infinity.
 */
export function roundFixed(n: bigint, p: number): number {
  if (n === 0n) return 0;
  const neg = n < 0n;
  const a = neg ? -n : n;
  const len = bitLength(a);
  const top = len - 1 - p; // a * 2^-p lies in [2^top, 2^(top+1))
  let r: number;
  if (top >= -1022) {
    let q = a;
    let sc = -p;
    if (len > 64) {
      const s = len - 64;
      const t = a >> BigInt(s);
      q = (t << BigInt(s)) === a ? t : t | 1n; // sticky bit keeps the rounding of Number() correct
      sc = s - p;
    }
    // Number(bigint) rounds to nearest, ties to even; the power-of-two scaling is then exact
    // (or overflows to Infinity exactly when the rounded value is >= 2^1024).
    r = scalePow2(Number(q), sc);
  } else {
    // subnormal (or zero) result: round a * 2^(1074 - p) to an integer, ties to even
    const s = p - 1074;
    let q: bigint;
    if (s <= 0) {
      q = a << BigInt(-s);
    } else {
      q = a >> BigInt(s);
      const rem = a - (q << BigInt(s));
      const half = 1n << BigInt(s - 1);
      if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    }
    r = Number(q) * POW2[-1074 + POW2_BIAS]!;
  }
  return neg ? -r : r;
}

// ---------------------------------------------------------------- ln 2
let ln2Prec = 0;
let ln2Val = 0n;

/** ln2 * 2^f, truncated, with error < 2 (in units of 2^-f). */
function ln2Fixed(f: number): bigint {
  if (f > ln2Prec) {
    const g = (f > 512 ? 2 * f : 1024) + 32;
    // ln 2 = 2 atanh(1/3)
    const one = 1n << BigInt(g);
    let term = one / 3n;
    let sum = term;
    for (let k = 3n; term !== 0n; k += 2n) {
      term /= 9n;
      sum += term / k;
    }
    ln2Val = (2n * sum) >> 32n;
    ln2Prec = g - 32;
  }
  return ln2Val >> BigInt(ln2Prec - f);
}

/** atanh(t) * 2^f for 0 <= t = tf * 2^-f <= 0.2, and the number of series terms used. */
function atanhFixed(tf: bigint, f: number): [bigint, number] {
  const fb = BigInt(f);
  const t2 = (tf * tf) >> fb;
  let term = tf;
  let sum = tf;
  let n = 1;
  for (let k = 3n; ; k += 2n) {
    term = (term * t2) >> fb;
    if (term === 0n) break;
    sum += term / k;
    n++;
  }
  return [sum, n];
}

/**
 * log(N * 2^-s) for N > 0 with about p correct leading bits: [A, K, f] with
 * |log(N * 2^-s) * 2^f - A| <= K.
 */
function logFixed(n: bigint, s: number, p: number): [bigint, bigint, number] {
  const len = bitLength(n);
  let sh = len - 1; // m = n / 2^sh in [1, 2)
  if (len >= 2 && n >> BigInt(len - 2) === 3n) sh = len; // m >= 1.5: use m / 2 in [0.75, 1)
  const e0 = sh - s;
  const d = 1n << BigInt(sh);
  const num = n - d;
  const den = n + d;
  // log m = 2 atanh(num / den), |num/den| <= 0.2
  let f = p + 8;
  if (e0 === 0) {
    const lz = bitLength(num) - bitLength(den); // result is about 2^lz
    if (lz < 0) f -= lz;
  }
  let a = 0n;
  let k = 4n;
  if (num !== 0n) {
    const tf = (abs(num) << BigInt(f)) / den; // error < 1
    const [sum, terms] = atanhFixed(tf, f);
    a = num < 0n ? -2n * sum : 2n * sum;
    k += BigInt(2 * (3 * terms + 4));
  }
  if (e0 !== 0) {
    a += BigInt(e0) * ln2Fixed(f);
    k += BigInt(2 * (e0 < 0 ? -e0 : e0) + 2);
  }
  return [a, k, f];
}

/** Correctly rounded log(N * 2^-s), N > 0, N * 2^-s != 1. */
function logRational(n: bigint, s: number): number {
  for (let p = 128; ; p *= 2) {
    const [a, k, f] = logFixed(n, s, p);
    const lo = roundFixed(a - k, f);
    const hi = roundFixed(a + k, f);
    if (lo === hi) return lo;
  }
}

let near1: Map<number, number> | undefined;
let near0: Map<number, number> | undefined;

function pairs(list: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < list.length; i += 2) m.set(list[i]!, list[i + 1]!);
  return m;
}

/** Correctly rounded log(x) for finite x > 0, x != 1. */
export function logSlow(x: number): number {
  near1 ??= pairs(LOG_NEAR1);
  const t = near1.get(x);
  if (t !== undefined) return t;
  const [m, e] = decompose(x);
  return logRational(m, -e);
}

/** Correctly rounded log1p(x) for finite x > -1, x != 0. */
export function log1pSlow(x: number): number {
  near0 ??= pairs(LOG1P_NEAR0);
  const t = near0.get(x);
  if (t !== undefined) return t;
  const [m, e] = decompose(x);
  if (e < 0) return logRational((1n << BigInt(-e)) + m, -e);
  return logRational(1n + (m << BigInt(e)), 0);
}

const INV_LN2 = 1.4426950408889634;

/** Correctly rounded exp(x) for finite x != 0 (any magnitude: overflow and underflow included). */
export function expSlow(x: number): number {
  if (x > 710) return Infinity;
  if (x < -746) return 0;
  const [m, e] = decompose(x);
  const kd = Math.floor(x * INV_LN2 + 0.5);
  const k = BigInt(kd);
  const ak = kd < 0 ? -kd : kd;
  for (let p = 128; ; p *= 2) {
    const f = p + 24;
    const fb = BigInt(f);
    const sh = e + f;
    const xf = sh >= 0 ? m << BigInt(sh) : m >> BigInt(-sh); // error < 1
    const r = xf - k * ln2Fixed(f); // error < 1 + 2|k|; |r| < 0.35 * 2^f
    const one = 1n << fb;
    let sum = one;
    let term = one;
    let n = 1;
    for (; ; n++) {
      term = ((term * r) >> fb) / BigInt(n);
      if (term === 0n) break;
      sum += term;
    }
    const kk = BigInt(2 * n + 8 + 2 * (1 + 2 * ak));
    const lo = roundFixed(sum - kk, f - kd);
    const hi = roundFixed(sum + kk, f - kd);
    if (lo === hi) return lo;
  }
}
