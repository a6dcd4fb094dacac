/**
 * Correctly rounded exp(x) (round to nearest, ties to even) in plain IEEE arithmetic.
 *
 * Fast path (|x| < 708): k = round(x*256/ln2), r = x - k*ln2/256 as a double-double (3-part
 * Cody-Waite), exp(r) - 1 to r^7 with an exact r^2, times 2^(j/256) from a double-double table with
 * an exact (Dekker) product; a Ziv test with a 2^-77 relative bound; scaling by an exact power of two.
 * |x| >= 708 (overflow/underflow edges, subnormal results on the 2^-1074 grid) and undecided
 * roundings leave the inlinable hot path.
 */
import { F64, POW2, U32 } from './bits.js';
import { expSlow } from './bigint-slow.js';
import { EQ3, EQ4, EQ5, EQ6, EQ7, EXP_INV, EXP_L1, EXP_L2, EXP_L3, EXP_TAB } from './tables.js';

const SHIFT = 6755399441055744; // 1.5 * 2^52: adding it rounds to an integer
const SPLIT = 134217729; // 2^27 + 1
const E77 = 6.617444900424222e-24; // 2^-77: relative error bound of yh + yl
const TWO_P52 = 4503599627370496; // 2^52
const POW2_BIAS = 1074;

/**
 * Correctly rounded e^x.
 *
 * The hot path is split in two functions of < 460 bytes of bytecode each (V8's inlining limit),
 * with literal constants (module constants cost a hole check each); the literals are the doubles
 * generated in tables.ts: EXP_INV, EXP_L1, EXP_L2, EXP_L3 (ln2/256 in three parts), EQ3..EQ7.
 */
export function exp(x: number): number {
  F64[0] = x;
  if ((U32[1]! & 0x7fffffff) < 0x40862000) {
    // |x| < 708: k = round(x * 256/ln2), r = x - k*ln2/256 = rh + rl
    const kd = (x * 369.3299304675746 + 6755399441055744) - 6755399441055744;
    const a = x - kd * 0.002707606173999011; // exact (k*L1 exact, Sterbenz)
    const b = kd * 6.327543041506426e-14; // exact
    const rh = a - b;
    const bb = rh - a;
    const k = kd | 0;
    const y = expEval(rh, ((a - (rh - bb)) - (b + bb)) - kd * 1.5629239639119998e-24, (k & 255) << 2);
    if (y === y) return y * POW2[(k >> 8) + 1074]!;
  }
  return expRare(x);
}

/**
 * 2^(j/256) * exp(rh + rl) for |rh + rl| <= 2^-9.5 (j = i/4), correctly rounded, or NaN when the
 * Ziv test (relative bound 2^-77) cannot decide. exp(r) - 1 = r + r^2/2 + r^3 Q(r) to r^7 with an
 * exact r^2 (Dekker), times the double-double table entry with an exact product.
 * @internal
 */
export function expEval(rh: number, rl: number, i: number): number {
  const rc = 134217729 * rh;
  const rhh = rc - (rc - rh);
  const rhl = rh - rhh;
  const sh = rh * rh;
  const hs = 0.5 * sh;
  const ph = rh + hs; // exp(r) - 1 = ph + pl
  const pl =
    ((rh - ph) + hs) +
    (rl +
      (0.5 * (((rhh * rhh - sh) + 2 * rhh * rhl) + rhl * rhl) +
        rl * ph +
        sh * rh * (0.16666666666666666 + rh * (0.041666666666666664 + rh * (0.008333333333333333 + rh * (0.001388888888888889 + rh * 0.0001984126984126984))))));
  const th = EXP_TAB[i]!;
  const pc = 134217729 * ph;
  const phh = pc - (pc - ph);
  const phl = ph - phh;
  const thh = EXP_TAB[i + 2]!;
  const thl = EXP_TAB[i + 3]!;
  const u = th * ph;
  const s = th + u;
  const lo =
    ((th - s) + u) +
    ((((thh * phh - u) + thh * phl + thl * phh) + thl * phl) + (EXP_TAB[i + 1]! + (th * pl + EXP_TAB[i + 1]! * ph)));
  const yh = s + lo;
  const yl = (s - yh) + lo;
  const err = yh * 6.617444900424222e-24; // 2^-77
  const y = yh + (yl + err);
  return y === yh + (yl - err) ? y : NaN;
}

/** Scratch for expParts: [yh, yl, e] with e^x ~ (yh + yl) * 2^e. */
const PARTS = new Float64Array(3);

/**
 * The fast-path evaluation (reduction + expEval) without the range restriction (|x| <= 746),
 * returning the unrounded double-double, for the rare path's overflow/subnormal handling.
 */
function expParts(x: number): void {
  const kd = (x * EXP_INV + SHIFT) - SHIFT;
  const k = kd | 0;
  const i = (k & 255) << 2;
  const a = x - kd * EXP_L1;
  const b = kd * EXP_L2;
  const rh = a - b;
  const bb = rh - a;
  const rl = ((a - (rh - bb)) - (b + bb)) - kd * EXP_L3;
  const rc = SPLIT * rh;
  const rhh = rc - (rc - rh);
  const rhl = rh - rhh;
  const sh = rh * rh;
  const sl = ((rhh * rhh - sh) + 2 * rhh * rhl) + rhl * rhl;
  const q = sh * rh * (EQ3 + rh * (EQ4 + rh * (EQ5 + rh * (EQ6 + rh * EQ7))));
  const hs = 0.5 * sh;
  const ph = rh + hs;
  const pl = ((rh - ph) + hs) + (rl + (0.5 * sl + rl * ph + q));
  const th = EXP_TAB[i]!;
  const tl = EXP_TAB[i + 1]!;
  const thh = EXP_TAB[i + 2]!;
  const thl = EXP_TAB[i + 3]!;
  const pc = SPLIT * ph;
  const phh = pc - (pc - ph);
  const phl = ph - phh;
  const u = th * ph;
  const ul = ((thh * phh - u) + thh * phl + thl * phh) + thl * phl;
  const s = th + u;
  const lo = ((th - s) + u) + (ul + (tl + (th * pl + tl * ph)));
  const yh = s + lo;
  PARTS[0] = yh;
  PARTS[1] = (s - yh) + lo;
  PARTS[2] = k >> 8;
}

/** NaN, infinities, |x| >= 708 (overflow, subnormal results, underflow) and undecided roundings. */
function expRare(x: number): number {
  if (x !== x) return x;
  if (x > 709.79) return Infinity; // > the overflow threshold 709.782712893384 (+Infinity too)
  if (x < -745.2) return 0; // exp(x) < 2^-1075 (-Infinity too)
  F64[0] = x;
  if ((U32[1]! & 0x7fffffff) >= 0x40862000) {
    expParts(x);
    const yh = PARTS[0]!;
    const yl = PARTS[1]!;
    const e = PARTS[2]!;
    const err = yh * E77;
    if (e > -1022 || (e === -1022 && yh >= 1)) {
      // normal result: exact scaling (e <= 1024, in two steps at 1024)
      const y = yh + (yl + err);
      if (y === yh + (yl - err) && (e > -1022 || y >= 1)) return e > 1023 ? y * POW2[1023 + POW2_BIAS]! * 2 : y * POW2[e + POW2_BIAS]!;
    } else {
      // subnormal result: round (yh + yl) * 2^(e + 1074) to an integer, ties to even
      const sc = POW2[e + 1074 + POW2_BIAS]!; // e + 1074 in [-3, 52], so wh < 2^52
      const wh = yh * sc;
      const wl = yl * sc;
      const ew = err * sc + 2.220446049250313e-16; // + 2^-52: covers the rounding of d (<= 2^-54)
      const w = TWO_P52 + wh;
      const bw = w - TWO_P52;
      const d = ((TWO_P52 - (w - bw)) + (wh - bw)) + wl; // TwoSum error of 2^52 + wh, plus wl
      const ra = w + (d + ew);
      if (ra === w + (d - ew)) return (ra - TWO_P52) * POW2[-1074 + POW2_BIAS]!;
    }
  }
  return expSlow(x);
}
