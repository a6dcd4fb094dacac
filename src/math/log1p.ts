/**
 * Correctly rounded log1p(x) = log(1 + x) (round to nearest, ties to even).
 *
 * |x| < 2^-53: the result is x. |x| < 2^-9: the log polynomial with z = x (table entry 300 has
 * T = 0, TE = 0). Otherwise 1 + x = u + v exactly (TwoSum) and log1p(x) = log(u) + v/u with an
 * error below 2^-105 (|v/u| <= 2^-53), through the same evaluation as log.
 */
import { F64, U32 } from './bits.js';
import { log1pSlow } from './bigint-slow.js';
import { logPoly } from './log.js';
import { LOG_TAB } from './tables.js';

/** Correctly rounded log(1 + x). */
export function log1p(x: number): number {
  F64[0] = x;
  const ax = U32[1]! & 0x7fffffff;
  let z = x;
  let e = 0;
  let i = 300 << 2; // table entry with r = 1, T = 0, TE = 0
  let c = 0;
  let cerr = 0;
  if (ax >= 0x3f600000) {
    // |x| >= 2^-9
    if (!(x > -1) || ax >= 0x7ff00000) return log1pRare(x);
    const u = 1 + x;
    const bb = u - x;
    // c = v/u with 1 + x = u + v exactly; 2^-105 bounds the error of c as log(1 + v/u)
    c = ((x - (u - bb)) + (1 - bb)) / u;
    cerr = 2.465190328815662e-32;
    // the reduction of logHiLo (one logPoly call site keeps log1p within V8's inlining budget)
    F64[0] = u;
    const hi = U32[1]!;
    const lo = U32[0]!;
    const t = (hi - 0x3fe6a000) | 0;
    i = ((t >>> 11) & 511) << 2;
    const r = LOG_TAB[i]!;
    z = (((hi & 0xfffff) * 9.5367431640625e-7 + (lo >>> 10) * 2.2737367544323206e-13 + 1) * r - 1) + (lo & 1023) * 2.220446049250313e-16 * r;
    e = t >> 20;
  } else if (ax < 0x3ca00000) {
    return x; // |x| < 2^-53 (and +-0): log1p(x) rounds to x
  }
  const y = logPoly(z, e, i, c, cerr);
  return y === y ? y : log1pSlow(x);
}

/** x <= -1, +-Infinity, NaN. */
function log1pRare(x: number): number {
  if (x === -1) return -Infinity;
  if (x === Infinity) return x;
  return NaN; // x < -1, -Infinity, NaN
}
