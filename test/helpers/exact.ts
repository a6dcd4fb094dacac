/**
 * An independent exact reference for tests: doubles → exact rationals (BigInt),
 * and a correctly rounded rational → double written from first principles
 * (not sharing code with src/reduce).
 */
const view = new DataView(new ArrayBuffer(8));

/** x = m · 2^e exactly, with integer m (sign included). */
export function decompose(x: number): { m: bigint; e: number } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0x7ff) throw new Error('not finite');
  if (exp === 0) return { m: sign * mant, e: -1074 };
  mant |= 1n << 52n;
  return { m: sign * mant, e: exp - 1075 };
}

/** Exact sum of finite doubles, scaled by 2^1074 (an integer). */
export function exactScaledSum(xs: Iterable<number>): bigint {
  let s = 0n;
  for (const x of xs) {
    const { m, e } = decompose(x);
    s += m << BigInt(e + 1074);
  }
  return s;
}

const MAX_EXP = 1023;

/** The double nearest to num/den (den > 0), ties to even; ±Infinity past the overflow threshold. */
export function roundRational(num: bigint, den: bigint): number {
  if (den <= 0n) throw new Error('den must be positive');
  if (num === 0n) return 0;
  const neg = num < 0n;
  const a = neg ? -num : num;
  // find e with 2^52 <= a / (den·2^e) < 2^53, clamped to the subnormal grid e >= -1074
  let e = a.toString(2).length - den.toString(2).length - 53;
  const scaled = (k: number): [bigint, bigint] => {
    const n = k >= 0 ? a : a << BigInt(-k);
    const d = k >= 0 ? den << BigInt(k) : den;
    return [n / d, n % d];
  };
  for (;;) {
    const [q] = scaled(e);
    if (q >= 1n << 53n) e++;
    else if (q < 1n << 52n && e > -1074) e--;
    else break;
  }
  if (e < -1074) e = -1074;
  let [q, r] = scaled(e);
  const d = e >= 0 ? den << BigInt(e) : den;
  const twice = 2n * r;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q += 1n;
  if (q === 1n << 53n) { q >>= 1n; e++; }
  if (e + 52 > MAX_EXP) return neg ? -Infinity : Infinity;
  // q·2^e is exact in binary64 here; build it without Math.pow
  let v = Number(q);
  let k = e;
  while (k > 0) { const s = Math.min(k, 1000); v *= 2 ** s; k -= s; }
  while (k < 0) { const s = Math.min(-k, 1000); v /= 2 ** s; k += s; }
  return neg ? -v : v;
}

/** Correctly rounded sum of finite doubles. */
export function exactSum(xs: Iterable<number>): number {
  return roundRational(exactScaledSum(xs), 1n << 1074n);
}

/** Correctly rounded (Σ xs) / count. */
export function exactMean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return roundRational(exactScaledSum(xs), BigInt(xs.length) << 1074n);
}

/** Correctly rounded (Σ num) / (Σ den). */
export function exactRatio(num: readonly number[], den: readonly number[]): number {
  const n = exactScaledSum(num), d = exactScaledSum(den);
  if (d === 0n) return n === 0n ? NaN : n > 0n ? Infinity : -Infinity;
  return d > 0n ? roundRational(n, d) : roundRational(-n, -d);
}
