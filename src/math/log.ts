/**
 * Correctly rounded natural logarithm (round to nearest, ties to even) in plain IEEE arithmetic.
 *
 * Fast path: x = 2^e * m, the top 9 mantissa bits pick r from LOG_TAB so that z = m_raw*r - 1 is
 * exact and |z| < 2^-9; log x = e*ln2 + T + log1p(z) is evaluated as a double-double with a dynamic
 * error bound, and a Ziv test returns the result only when both ends of the error interval round
 * to the same double. Undecided arguments (a few per million) go to the BigInt slow path.
 *
 * V8 inlines functions of at most 460 bytes of bytecode (920 in total per caller), so the hot path
 * is split into log (bit read, ~100 B), logHiLo (exact reduction) and logPoly (evaluation and
 * rounding test), and constants are written as literals (module constants cost a hole check each).
 * The literals are the doubles generated in tables.ts (LN2_HI, LN2_LO, LP3..LP8).
 */
import { F64, U32 } from './bits.js';
import { logSlow } from './bigint-slow.js';
import { LOG_TAB } from './tables.js';

/** Correctly rounded natural logarithm. */
export function log(x: number): number {
  F64[0] = x;
  const hi = U32[1]!; // little-endian word order, checked in bits.ts
  if (((hi - 0x00100000) >>> 0) < 0x7fe00000) {
    // positive, normal, finite
    const y = logHiLo(hi, U32[0]!, 0, 0, 0);
    if (y === y) return y;
  }
  return logRare(x);
}

/**
 * log of the positive normal double with words (hi, lo), plus eoff*ln2 and plus c (|c| <= 2^-52,
 * with absolute error at most cerr), correctly rounded; NaN when the rounding test cannot decide.
 * @internal
 */
export function logHiLo(hi: number, lo: number, eoff: number, c: number, cerr: number): number {
  const t = (hi - 0x3fe6a000) | 0; // window [0.7071, 1.4142) * 2^e
  const i = ((t >>> 11) & 511) << 2;
  // m_raw in [1, 2) split at 2^-42: mh has <= 43 bits, ml <= 10 bits, r <= 10 bits, so mh*r and
  // ml*r are exact, and z (a multiple of 2^-62 below 2^-9) is exact too.
  const mh = (hi & 0xfffff) * 9.5367431640625e-7 + (lo >>> 10) * 2.2737367544323206e-13 + 1;
  const r = LOG_TAB[i]!;
  return logPoly((mh * r - 1) + (lo & 1023) * 2.220446049250313e-16 * r, (t >> 20) + eoff, i, c, cerr);
}

/**
 * e*ln2 + T_i + log1p(z) + c for |z| < 2^-9 (T_i, TE_i from LOG_TAB at offset i), correctly
 * rounded, or NaN when undecided.
 *
 * log1p(z) = z - z^2/2 + z^3 P(z), P(z) = 1/3 - z/4 + ... - z^5/8 (Taylor), z^2 exact (Dekker).
 * Absolute error bound, each term derived by hand and checked against mpmath (observed error
 * <= 0.11 x bound on 3 x 30k arguments):
 * - z^2 * 2^-59: the rounding of z^3 P(z) (< 2^-50.5 relative, |z^3 P| < 0.34 * 2^-9 z^2) plus the
 *   truncated Taylor tail (|z|^9/9 < z^2 * 2^-66 for |z| < 2^-9);
 * - e^2 * 2^-93 >= (3|e| + 2) * 2^-96: e*LN2_LO (representation and rounding) for e != 0;
 * - TE_i (2^-93, 0 where T_i = 0): T_LO's representation and the additions of the low parts;
 * - |yh| * 2^-100: the remaining double-double roundings (~2^-104 |yh|), and keeps err above the
 *   rounding of yl +- err; cerr: the caller's error in c.
 * @internal
 */
export function logPoly(z: number, e: number, i: number, c: number, cerr: number): number {
  const zc = 134217729 * z; // Dekker split: z^2 = p + pl exactly
  const zh = zc - (zc - z);
  const zl = z - zh;
  const p = z * z;
  const hp = 0.5 * p;
  const s = z - hp;
  const lz =
    ((z - s) - hp) -
    0.5 * (((zh * zh - p) + 2 * zh * zl) + zl * zl) +
    p * z * (0.3333333333333333 + z * (-0.25 + z * (0.2 + z * (-0.16666666666666666 + z * (0.14285714285714285 + z * -0.125))))) +
    c;
  // table part: a exact (e*LN2_HI and T_HI on the 2^-42 grid), b its low part
  const a = e * 0.6931471805598903 + LOG_TAB[i + 1]!;
  const h = a + s;
  const bb = h - a;
  const l = ((a - (h - bb)) + (s - bb)) + (e * 5.497923018708371e-14 + LOG_TAB[i + 2]!) + lz;
  const yh = h + l;
  const yl = (h - yh) + l;
  const err = p * 1.734723475976807e-18 + e * e * 1.0097419586828951e-28 + Math.abs(yh) * 7.888609052210118e-31 + LOG_TAB[i + 3]! + cerr;
  const u = yh + (yl + err);
  return u === yh + (yl - err) ? u : NaN;
}

/** Special values, subnormal arguments and undecided roundings. */
function logRare(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : NaN; // -0 too; negatives and NaN give NaN
  if (x === Infinity) return x;
  if (x < 2.2250738585072014e-308) {
    // subnormal: scale by 2^54 into the normal range (exact)
    F64[0] = x * 18014398509481984;
    const y = logHiLo(U32[1]!, U32[0]!, -54, 0, 0);
    if (y === y) return y;
  }
  return logSlow(x);
}
