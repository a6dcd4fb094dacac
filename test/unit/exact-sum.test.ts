import { describe, it, expect } from 'vitest';
import {
  ExactAccumulator,
  ZERO_SUM,
  exactSumOf,
  mergeSums,
  roundQuotient,
  roundSum,
  sumFromCount,
  sumFromJSON,
  sumToJSON,
  type ExactSum,
} from '../../src/reduce/exact-sum.js';
import { mulberry32u as mulberry32 } from '../helpers/rng.js';

// ---------------------------------------------------------------------------------------------
// Independent reference: exact BigInt decomposition of doubles (DataView bits), rational rounding
// by BigInt division (remainder compared to half), result assembled from IEEE bits.

const dv = new DataView(new ArrayBuffer(8));

function bitsOf(x: number): bigint {
  dv.setFloat64(0, x);
  return dv.getBigUint64(0);
}
function fromBits(b: bigint): number {
  dv.setBigUint64(0, b);
  return dv.getFloat64(0);
}

/** x * 2^1074 as an exact BigInt (x finite). */
function scaled(x: number): bigint {
  const b = bitsOf(x);
  const neg = b >> 63n === 1n;
  const be = Number((b >> 52n) & 0x7ffn);
  const frac = b & ((1n << 52n) - 1n);
  const mag = be === 0 ? frac : (frac | (1n << 52n)) << BigInt(be - 1);
  return neg ? -mag : mag;
}

interface RefSum {
  n: bigint;
  nan: boolean;
  posInf: boolean;
  negInf: boolean;
}

function refSum(xs: ArrayLike<number>): RefSum {
  const r: RefSum = { n: 0n, nan: false, posInf: false, negInf: false };
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (Number.isNaN(x)) r.nan = true;
    else if (x === Infinity) r.posInf = true;
    else if (x === -Infinity) r.negInf = true;
    else r.n += scaled(x);
  }
  return r;
}

const blen = (a: bigint): number => (a === 0n ? 0 : a.toString(2).length);

/** Correctly rounded (ties-to-even) double nearest to P/Q, Q > 0. */
function refRound(P: bigint, Q: bigint): number {
  if (Q <= 0n) throw new Error('refRound: Q must be > 0');
  if (P === 0n) return 0;
  const neg = P < 0n;
  const a = neg ? -P : P;
  // ratio a/Q compared with 2^t, exactly
  const lessThanPow2 = (t: number): boolean => (t >= 0 ? a < Q << BigInt(t) : a << BigInt(-t) < Q);
  // smallest e >= -1074 with a/Q < 2^(e+53): the quantum of the result is 2^e
  let e = Math.max(-1074, blen(a) - blen(Q) - 56);
  while (!lessThanPow2(e + 53)) e++;
  while (e > -1074 && lessThanPow2(e + 52)) e--;
  let m: bigint;
  let twoRem: bigint;
  let D: bigint;
  if (e >= 0) {
    D = Q << BigInt(e);
    m = a / D;
    twoRem = 2n * (a % D);
  } else {
    const num = a << BigInt(-e);
    D = Q;
    m = num / Q;
    twoRem = 2n * (num % Q);
  }
  if (twoRem > D || (twoRem === D && m % 2n === 1n)) m += 1n;
  if (m === 1n << 53n) {
    m = 1n << 52n;
    e += 1;
  }
  let r: number;
  if (m >= 1n << 52n) {
    const biased = e + 1075;
    r = biased >= 2047 ? Infinity : fromBits((BigInt(biased) << 52n) | (m - (1n << 52n)));
  } else {
    if (e !== -1074) throw new Error('refRound: internal error');
    r = fromBits(m);
  }
  return neg ? -r : r;
}

const SCALE = 1n << 1074n;

function refRoundSum(s: RefSum): number {
  if (s.nan || (s.posInf && s.negInf)) return NaN;
  if (s.posInf) return Infinity;
  if (s.negInf) return -Infinity;
  return refRound(s.n, SCALE);
}

/** Exact power of two built from bits (no Math.pow). */
function p2(k: number): number {
  if (k >= -1022) return fromBits(BigInt(k + 1023) << 52n);
  return fromBits(1n << BigInt(k + 1074));
}

const MAX = Number.MAX_VALUE;
const MIN = Number.MIN_VALUE;

function expectSame(actual: number, expected: number, what = ''): void {
  if (!Object.is(actual, expected)) {
    throw new Error(`${what}: got ${actual} (${bitsOf(actual).toString(16)}), expected ${expected} (${bitsOf(expected).toString(16)})`);
  }
}

function expectState(s: ExactSum, r: RefSum, what = ''): void {
  if (s.n !== r.n || s.nan !== r.nan || s.posInf !== r.posInf || s.negInf !== r.negInf) {
    throw new Error(
      `${what}: state mismatch: got n=${s.n.toString(16)} nan=${s.nan} +inf=${s.posInf} -inf=${s.negInf}, ` +
        `expected n=${r.n.toString(16)} nan=${r.nan} +inf=${r.posInf} -inf=${r.negInf}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) and generators.


class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  u32(): number {
    return this.next();
  }
  /** uniform in [0, 1) with 53 random bits */
  float(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }
  int(lo: number, hi: number): number {
    // inclusive
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  bool(): boolean {
    return (this.next() & 1) === 1;
  }
  bits52(): bigint {
    return (BigInt(this.next() & 0xfffff) << 32n) | BigInt(this.next());
  }
  /** double with given biased exponent, random mantissa and sign */
  withExponent(be: number, sign?: boolean): number {
    const s = sign ?? this.bool();
    return fromBits((s ? 1n << 63n : 0n) | (BigInt(be) << 52n) | this.bits52());
  }
  bigint(bits: number): bigint {
    let r = 0n;
    for (let b = 0; b < bits; b += 32) r = (r << 32n) | BigInt(this.next());
    return bits <= 0 ? 0n : r & ((1n << BigInt(bits)) - 1n);
  }
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers: accumulate with the various entry points.

function sumVia(xs: Float64Array, mode: number, rng: Rng): ExactSum {
  switch (mode) {
    case 0:
      return exactSumOf(xs);
    case 1: {
      const acc = new ExactAccumulator({ flushEvery: rng.int(3, 9) });
      acc.addArray(xs);
      return acc.toSum();
    }
    case 2: {
      const acc = new ExactAccumulator();
      for (const x of xs) acc.add(x);
      return acc.toSum();
    }
    default: {
      // several addArray calls on sub-ranges, interleaved toSum
      const acc = new ExactAccumulator(rng.bool() ? {} : { flushEvery: rng.int(3, 40) });
      let i = 0;
      while (i < xs.length) {
        const j = Math.min(xs.length, i + rng.int(1, 50));
        acc.addArray(xs, i, j);
        if (rng.int(0, 3) === 0) acc.toSum();
        i = j;
      }
      expect(acc.count).toBe(xs.length);
      return acc.toSum();
    }
  }
}

function jsonTrip(s: ExactSum): ExactSum {
  return sumFromJSON(JSON.parse(JSON.stringify(sumToJSON(s))));
}

/** Split xs randomly into 1..17 parts, accumulate each, merge shuffled (some through JSON). */
function splitMergeSum(xs: Float64Array, rng: Rng): ExactSum {
  const parts = rng.int(1, 17);
  const cuts = [0, xs.length];
  for (let p = 1; p < parts; p++) cuts.push(rng.int(0, xs.length));
  cuts.sort((a, b) => a - b);
  const states: ExactSum[] = [];
  for (let p = 0; p + 1 < cuts.length; p++) {
    const part = xs.subarray(cuts[p], cuts[p + 1]);
    let s = sumVia(part, rng.int(0, 3), rng);
    if (rng.bool()) s = jsonTrip(s);
    if (rng.bool()) s = structuredClone(s);
    states.push(s);
  }
  rng.shuffle(states);
  // random merge tree: repeatedly merge two random states
  while (states.length > 1) {
    const i = rng.int(0, states.length - 1);
    const [a] = states.splice(i, 1);
    const j = rng.int(0, states.length - 1);
    states[j] = rng.bool() ? mergeSums(a!, states[j]!) : mergeSums(states[j]!, a!);
  }
  return states[0]!;
}

function checkDataSet(name: string, xs: Float64Array, rng: Rng, splits = 6): void {
  const ref = refSum(xs);
  const want = refRoundSum(ref);
  const whole = exactSumOf(xs);
  expectState(whole, ref, `${name} whole`);
  expectSame(roundSum(whole), want, `${name} whole`);
  expectState(jsonTrip(whole), ref, `${name} json`);
  const wantMean =
    xs.length === 0 ? NaN : ref.nan || ref.posInf || ref.negInf ? refRoundSum(ref) / xs.length : refRound(ref.n, BigInt(xs.length) << 1074n);
  expectSame(roundQuotient(whole, sumFromCount(xs.length)), wantMean, `${name} mean`);
  for (let k = 0; k < splits; k++) {
    const s = splitMergeSum(xs, rng);
    expectState(s, ref, `${name} split ${k}`);
    expectSame(roundSum(s), want, `${name} split ${k}`);
    expectSame(roundQuotient(s, sumFromCount(BigInt(xs.length))), wantMean, `${name} split mean ${k}`);
  }
}

const f64 = (a: number[]): Float64Array => Float64Array.from(a);
const sumOf = (a: number[]): number => roundSum(exactSumOf(f64(a)));

// ---------------------------------------------------------------------------------------------

describe('exact-sum: reference self-check', () => {
  it('reference rounding agrees with hardware on simple cases', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 2000; i++) {
      const a = rng.withExponent(rng.int(1, 2046));
      const b = rng.withExponent(rng.int(1, 2046));
      expectSame(refRound(scaled(a) + scaled(b), SCALE), a + b, 'a+b');
      if (b !== 0) expectSame(refRound(scaled(a) * (scaled(b) < 0n ? -1n : 1n), scaled(b) < 0n ? -scaled(b) : scaled(b)), a / b, 'a/b');
    }
  });
});

describe('exact-sum: fixed cases', () => {
  it('cancellation and intermediate overflow', () => {
    expectSame(sumOf([1e308, 1, -1e308]), 1);
    expectSame(sumOf([1e308, 1e308, -1e308]), 1e308);
    expectSame(sumOf([-1e308, -1e308, 1e308]), -1e308);
    expectSame(sumOf([0.1, 0.2, 0.3]), 0.6);
    expectSame(sumOf([1, 1e100, 1, -1e100]), 2);
  });

  it('overflow and ties at MAX', () => {
    expectSame(sumOf([MAX, MAX]), Infinity);
    expectSame(sumOf([-MAX, -MAX]), -Infinity);
    expectSame(sumOf([MAX, p2(970)]), Infinity); // MAX + ulp/2 ties to even -> Inf
    expectSame(sumOf([-MAX, -p2(970)]), -Infinity);
    expectSame(sumOf([MAX, p2(970), -MIN]), MAX);
    expectSame(sumOf([MAX, p2(969)]), MAX);
    expectSame(sumOf([MAX, MAX, -MAX]), MAX);
    expectSame(roundQuotient(exactSumOf(f64([MAX, MAX])), sumFromCount(2)), MAX);
    expectSame(roundQuotient(exactSumOf(f64([MAX, MAX, MAX])), sumFromCount(3)), MAX);
    expectSame(roundQuotient(exactSumOf(f64([MAX, MAX])), sumFromCount(1)), Infinity);
  });

  it('1e5 x 1e308 then 1e5 x -1e308 then 1', () => {
    const xs = new Float64Array(200001);
    xs.fill(1e308, 0, 100000);
    xs.fill(-1e308, 100000, 200000);
    xs[200000] = 1;
    expectSame(roundSum(exactSumOf(xs)), 1);
    const acc = new ExactAccumulator({ flushEvery: 7 });
    acc.addArray(xs);
    expectSame(roundSum(acc.toSum()), 1);
    checkDataSet('1e5 huge', xs, new Rng(2), 3);
  });

  it('subnormals', () => {
    expectSame(sumOf([MIN, MIN, MIN]), 3 * MIN);
    expectSame(sumOf([MIN, -MIN]), 0);
    const xs = new Float64Array(12345).fill(MIN);
    expectSame(roundSum(exactSumOf(xs)), 12345 * MIN);
    expectSame(roundQuotient(exactSumOf(xs), sumFromCount(12345)), MIN);
    // MIN * k for k across the subnormal/normal boundary
    const rng = new Rng(3);
    for (let i = 0; i < 300; i++) {
      const k = rng.int(1, 1 << 30);
      const x = k * MIN;
      expectSame(sumOf([x]), x);
      expectSame(sumOf([x, x]), 2 * x);
      expectSame(sumOf([x, -MIN, x]), refRoundSum(refSum([x, -MIN, x])));
    }
    // largest subnormal + smallest subnormal = smallest normal
    expectSame(sumOf([fromBits(0xfffffffffffffn), MIN]), p2(-1022));
    checkDataSet('3e4 x 3*MIN', new Float64Array(30000).fill(3 * MIN), new Rng(4), 3);
  });

  it('half-ulp ties', () => {
    const u = p2(-53);
    expectSame(sumOf([1, u]), 1); // tie to even (down)
    expectSame(sumOf([1 + p2(-52), u]), 1 + p2(-51)); // tie to even (up)
    expectSame(sumOf([1, u, MIN]), 1 + p2(-52)); // just above the tie
    expectSame(sumOf([1, u, -MIN]), 1); // just below the tie
    expectSame(sumOf([-1, -u]), -1);
    expectSame(sumOf([-1 - p2(-52), -u]), -1 - p2(-51));
    expectSame(sumOf([p2(53), 1]), p2(53));
    expectSame(sumOf([p2(53), 1, 1]), p2(53) + 2);
    expectSame(sumOf([p2(53) + 2, 1]), p2(53) + 4);
    // tie decided by a term 2000 binades below
    expectSame(sumOf([p2(1000), p2(947), p2(-1000)]), p2(1000) + p2(948));
    expectSame(sumOf([p2(1000), p2(947), -p2(-1000)]), p2(1000));
  });

  it('NaN and infinity combinations', () => {
    expectSame(sumOf([Infinity, -Infinity]), NaN);
    expectSame(sumOf([Infinity, 1, Infinity]), Infinity);
    expectSame(sumOf([-Infinity, MAX, MAX]), -Infinity);
    expectSame(sumOf([NaN, Infinity]), NaN);
    expectSame(sumOf([1, NaN, 2]), NaN);
    expectSame(sumOf([Infinity, -MAX, -MAX]), Infinity);
    const s = exactSumOf(f64([1, Infinity, NaN, -Infinity, 3]));
    expect(s).toEqual({ n: scaled(4), nan: true, posInf: true, negInf: true });
    // flags in all group positions of the 4-lane loop, plus tail
    for (let pos = 0; pos < 11; pos++) {
      const xs = new Float64Array(11).fill(0.5);
      xs[pos] = -Infinity;
      const st = exactSumOf(xs);
      expect(st.negInf).toBe(true);
      expect(st.posInf || st.nan).toBe(false);
      expect(st.n).toBe(scaled(5));
    }
  });

  it('signed zero: exact zero sums are +0', () => {
    expectSame(roundSum(ZERO_SUM), 0);
    expectSame(sumOf([]), 0);
    expectSame(sumOf([-0]), 0);
    expectSame(sumOf([-0, -0]), 0);
    expectSame(sumOf([1, -1]), 0);
    expectSame(sumOf([-MIN, MIN]), 0);
  });

  it('every exponent 0..2046', () => {
    const rng = new Rng(5);
    const vals: number[] = [];
    for (let be = 0; be <= 2046; be++) for (let k = 0; k < 3; k++) vals.push(rng.withExponent(be));
    checkDataSet('all exponents mixed', f64(rng.shuffle(vals.slice())), rng, 4);
    checkDataSet('all exponents ordered', f64(vals), rng, 2);
    const pos = vals.map(Math.abs);
    checkDataSet('all exponents positive', f64(pos), rng, 2);
    // each exponent alone, summed with itself (cells of that exponent, both lanes)
    for (let be = 0; be <= 2046; be++) {
      const x = rng.withExponent(be, false);
      const xs = f64([x, x, -x, x, x]);
      expectState(exactSumOf(xs), refSum(xs), `exp ${be}`);
    }
  });

  it('repeated values (pending-count growth, rare path repeated)', () => {
    const rng = new Rng(6);
    checkDataSet('1e5 x 0.1', new Float64Array(100000).fill(0.1), rng, 2);
    checkDataSet('1e5 x 1.7e300', new Float64Array(100000).fill(1.7e300), rng, 2);
    checkDataSet('1e5 x MAX', new Float64Array(100000).fill(MAX), rng, 2);
    const pm = new Float64Array(50000);
    for (let i = 0; i < pm.length; i += 2) {
      pm[i] = rng.withExponent(rng.int(900, 1100));
      pm[i + 1] = -pm[i]!;
    }
    const shuffled = f64(rng.shuffle(Array.from(pm)).concat([MIN, 3 * MIN, 1e-300]));
    checkDataSet('+-x pairs plus tiny', shuffled, rng, 3);
  });
});

describe('exact-sum: seeded random data sets', () => {
  const kinds: Array<[string, (r: Rng) => number]> = [
    ['uniform [0,10)', (r) => r.float() * 10],
    ['mixed [-10,10)', (r) => r.float() * 20 - 10],
    ['-log-like small positives', (r) => r.withExponent(r.int(1000, 1030), false)],
    // 10^U(-300,300) with random sign, generated as a log-uniform biased exponent
    ['10^U(-300,300)', (r) => r.withExponent(r.int(26, 2020))],
    ['any finite bits', (r) => r.withExponent(r.int(0, 2046))],
    ['near MAX', (r) => r.withExponent(r.int(2040, 2046))],
    ['subnormal/tiny', (r) => r.withExponent(r.int(0, 3))],
    [
      'with specials',
      (r) => {
        const k = r.int(0, 999);
        if (k === 0) return NaN;
        if (k === 1) return Infinity;
        if (k === 2) return -Infinity;
        return r.withExponent(r.int(0, 2046));
      },
    ],
    [
      'sparse huge among small',
      (r) => (r.int(0, 99) === 0 ? r.withExponent(r.int(2016, 2046)) : r.float() - 0.5),
    ],
  ];
  for (const [name, gen] of kinds) {
    it(name, () => {
      const rng = new Rng(0x5eed ^ name.length * 7919);
      for (let rep = 0; rep < 4; rep++) {
        const len = [0, 1, 3, 4, 5, 37, 1000, 20000][rng.int(0, 7)]!;
        const xs = new Float64Array(len);
        for (let i = 0; i < len; i++) xs[i] = gen(rng);
        checkDataSet(`${name} #${rep} (n=${len})`, xs, rng, 8);
      }
    });
  }
});

describe('exact-sum: ExactAccumulator behaviour', () => {
  it('tiny flush limits force the flush and carry paths', () => {
    const rng = new Rng(7);
    for (let rep = 0; rep < 40; rep++) {
      const len = rng.int(0, 3000);
      const xs = new Float64Array(len);
      const lo = rng.int(0, 2046);
      const hi = rng.int(lo, 2046);
      for (let i = 0; i < len; i++) xs[i] = rng.withExponent(rng.int(lo, hi));
      const ref = refSum(xs);
      for (let f = 3; f <= 9; f++) {
        const acc = new ExactAccumulator({ flushEvery: f });
        acc.addArray(xs);
        expectState(acc.toSum(), ref, `flushEvery ${f}`);
        const acc2 = new ExactAccumulator({ flushEvery: f });
        for (const x of xs) acc2.add(x);
        expectState(acc2.toSum(), ref, `flushEvery ${f} add()`);
      }
    }
  });

  it('carry-heavy digits: many identical huge-mantissa values with flushes', () => {
    const rng = new Rng(8);
    for (let rep = 0; rep < 20; rep++) {
      const x = fromBits((BigInt(rng.int(1, 2046)) << 52n) | ((1n << 52n) - 1n)) * (rng.bool() ? 1 : -1);
      const y = fromBits((BigInt(rng.int(1, 2046)) << 52n) | ((1n << 52n) - 1n)) * (rng.bool() ? 1 : -1);
      const xs = new Float64Array(5000);
      for (let i = 0; i < xs.length; i++) xs[i] = i % 3 === 0 ? y : x;
      expectState(exactSumOf(xs), refSum(xs), 'carry');
      const acc = new ExactAccumulator({ flushEvery: 1000 });
      acc.addArray(xs);
      expectState(acc.toSum(), refSum(xs), 'carry flush 1000');
    }
  });

  it('count, repeated toSum, continue after toSum, reset', () => {
    const acc = new ExactAccumulator();
    expect(acc.count).toBe(0);
    expect(acc.toSum()).toEqual(ZERO_SUM);
    acc.add(1);
    acc.add(NaN);
    acc.addArray(f64([2, Infinity, 3]));
    expect(acc.count).toBe(5);
    const s1 = acc.toSum();
    expect(acc.toSum()).toEqual(s1);
    expect(s1).toEqual({ n: scaled(6), nan: true, posInf: true, negInf: false });
    acc.addArray(f64([0.5, 0.25, 1e308, -1e308]), 1, 4);
    expect(acc.count).toBe(8);
    expect(acc.toSum().n).toBe(scaled(6.25));
    expect(Object.keys(s1).sort()).toEqual(['n', 'nan', 'negInf', 'posInf']);
    expect(structuredClone(s1)).toEqual(s1);
    acc.reset();
    expect(acc.count).toBe(0);
    expect(acc.toSum()).toEqual(ZERO_SUM);
    acc.addArray(f64([1e308, 1, -1e308]));
    expectSame(roundSum(acc.toSum()), 1);
  });

  it('subarray views (byteOffset) and start/end ranges', () => {
    const rng = new Rng(9);
    const base = new Float64Array(1003);
    for (let i = 0; i < base.length; i++) base[i] = rng.withExponent(rng.int(0, 2046));
    for (let rep = 0; rep < 50; rep++) {
      const a = rng.int(0, 1003);
      const b = rng.int(a, 1003);
      const view = base.subarray(a, b);
      expectState(exactSumOf(view), refSum(view), 'subarray');
      const acc = new ExactAccumulator();
      acc.addArray(base, a, b);
      expectState(acc.toSum(), refSum(view), 'range');
      expect(acc.count).toBe(b - a);
    }
    const shared = new Float64Array(new SharedArrayBuffer(8 * 100));
    for (let i = 0; i < 100; i++) shared[i] = rng.float() * 1e10;
    expectState(exactSumOf(shared), refSum(shared), 'shared');
  });

  it('rejects bad arguments', () => {
    const acc = new ExactAccumulator();
    expect(() => acc.addArray(f64([1, 2]), 1, 3)).toThrow(RangeError);
    expect(() => acc.addArray(f64([1, 2]), 2, 1)).toThrow(RangeError);
    expect(() => acc.addArray(f64([1, 2]), -1)).toThrow(RangeError);
    expect(() => acc.addArray([1, 2] as unknown as Float64Array)).toThrow(TypeError);
    expect(() => new ExactAccumulator({ flushEvery: 0 })).toThrow(RangeError);
    expect(() => new ExactAccumulator({ flushEvery: 1.5 })).toThrow(RangeError);
    expect(() => new ExactAccumulator({ flushEvery: 134217729 })).toThrow(RangeError);
    expect(() => sumFromCount(1.5)).toThrow(RangeError);
    expect(() => sumFromCount(NaN)).toThrow(RangeError);
  });
});

describe('exact-sum: rounding of random states', () => {
  it('roundSum on 20000 random states incl. ties, overflow and subnormal edges', () => {
    const rng = new Rng(10);
    const top = (1n << 1024n) - (1n << 970n); // MAX + ulp/2 boundary, unscaled
    for (let i = 0; i < 20000; i++) {
      let n: bigint;
      const kind = rng.int(0, 5);
      if (kind === 0) n = rng.bigint(rng.int(0, 2200));
      else if (kind === 1) {
        // exact tie: odd 54-bit integer shifted
        n = ((rng.bigint(53) | (1n << 53n)) | 1n) << BigInt(rng.int(0, 2044));
      } else if (kind === 2) {
        n = (((rng.bigint(53) | (1n << 53n)) | 1n) << BigInt(rng.int(1, 2000))) + BigInt(rng.int(-1, 1));
      } else if (kind === 3) {
        n = (top << 1074n) + BigInt(rng.int(-3, 3)) * (1n << BigInt(rng.int(0, 2044)));
      } else if (kind === 4) n = rng.bigint(rng.int(50, 56));
      else n = BigInt(rng.int(0, 1 << 30)) << BigInt(rng.int(0, 2100));
      if (rng.bool()) n = -n;
      const s: ExactSum = { n, nan: false, posInf: false, negInf: false };
      expectSame(roundSum(s), refRound(n, SCALE), `roundSum ${n.toString(16)}`);
      if (rng.int(0, 9) === 0) expect(jsonTrip(s)).toEqual(s);
    }
  });

  it('roundSum specials', () => {
    const mk = (nan: boolean, posInf: boolean, negInf: boolean, n = 5n): ExactSum => ({ n, nan, posInf, negInf });
    expectSame(roundSum(mk(true, false, false)), NaN);
    expectSame(roundSum(mk(false, true, true)), NaN);
    expectSame(roundSum(mk(false, true, false, -(1n << 3000n))), Infinity);
    expectSame(roundSum(mk(false, false, true, 1n << 3000n)), -Infinity);
    expectSame(roundSum(mk(false, false, false, 1n << 3000n)), Infinity);
    expectSame(roundSum(mk(false, false, false, -(1n << 3000n))), -Infinity);
  });
});

describe('exact-sum: roundQuotient', () => {
  it('matches correctly rounded BigInt division on random pairs', () => {
    const rng = new Rng(11);
    let checked = 0;
    for (let i = 0; i < 8000; i++) {
      let num: bigint;
      let den: bigint;
      const kind = rng.int(0, 5);
      if (kind === 0) {
        num = rng.bigint(rng.int(1, 2200));
        den = rng.bigint(rng.int(1, 2200));
      } else if (kind === 1) {
        // mean: den = count
        num = rng.bigint(rng.int(1, 2150));
        den = BigInt(rng.int(1, 1e9)) << 1074n;
      } else {
        // target quotient T*2^j (T 54..60 bits, odd T with 54 bits is an exact tie when normal),
        // optionally perturbed by one unit of the numerator just above/below
        const tb = kind === 2 ? 54 : rng.int(53, 60);
        const T = rng.bigint(tb - 1) | (1n << BigInt(tb - 1)) | (kind === 2 ? 1n : 0n);
        const j = kind === 4 ? rng.int(-1135, -1070) : kind === 5 ? rng.int(960, 975) : rng.int(-1140, 1000);
        const d0 = kind === 3 ? BigInt(rng.int(1, 1e6)) << 1074n : rng.bigint(rng.int(1, 300)) | 1n;
        num = T * d0;
        den = d0;
        if (j >= 0) num <<= BigInt(j);
        else den <<= BigInt(-j);
        num += BigInt(rng.int(-1, 1));
      }
      if (den === 0n) den = 1n;
      if (num === 0n) num = 1n;
      const sn = rng.bool();
      const sd = rng.bool();
      const N: ExactSum = { n: sn ? -num : num, nan: false, posInf: false, negInf: false };
      const D: ExactSum = { n: sd ? -den : den, nan: false, posInf: false, negInf: false };
      expectSame(roundQuotient(N, D), refRound(sn !== sd ? -num : num, den), `q ${num.toString(16)} / ${den.toString(16)}`);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5000);
  });

  it('means of counts: sumFromCount(k)', () => {
    const rng = new Rng(12);
    for (let i = 0; i < 2000; i++) {
      const len = rng.int(1, 60);
      const xs = new Float64Array(len);
      for (let t = 0; t < len; t++) xs[t] = rng.withExponent(rng.int(0, 2046));
      const s = exactSumOf(xs);
      const r = refSum(xs);
      expectSame(roundQuotient(s, sumFromCount(len)), refRound(r.n, BigInt(len) << 1074n), 'mean');
      expectSame(roundQuotient(s, sumFromCount(BigInt(len))), refRound(r.n, BigInt(len) << 1074n), 'mean bigint');
    }
    // mean of [MAX, MAX] is MAX although the rounded sum overflows
    expectSame(roundQuotient(exactSumOf(f64([MAX, MAX])), sumFromCount(2)), MAX);
    expectSame(roundQuotient(exactSumOf(f64([MIN])), sumFromCount(2)), 0); // tie -> even (0)
    expectSame(roundQuotient(exactSumOf(f64([3 * MIN])), sumFromCount(2)), 2 * MIN); // 1.5 -> 2
    expectSame(roundQuotient(exactSumOf(f64([-MIN])), sumFromCount(3)), -0);
  });

  it('specials table', () => {
    const S = (x: number): ExactSum => exactSumOf(f64([x]));
    const both: ExactSum = { n: 0n, nan: false, posInf: true, negInf: true };
    const zero = ZERO_SUM;
    const cases: Array<[ExactSum, ExactSum, number]> = [
      [zero, zero, NaN],
      [S(1), zero, Infinity],
      [S(-1), zero, -Infinity],
      [zero, S(5), 0],
      [zero, S(-5), -0],
      [S(-0), S(-5), -0],
      [S(1), S(Infinity), 0],
      [S(-1), S(Infinity), -0],
      [S(1), S(-Infinity), -0],
      [S(-1), S(-Infinity), 0],
      [zero, S(Infinity), 0],
      [zero, S(-Infinity), -0],
      [S(Infinity), S(Infinity), NaN],
      [S(Infinity), S(-Infinity), NaN],
      [S(Infinity), S(2), Infinity],
      [S(Infinity), S(-2), -Infinity],
      [S(-Infinity), S(2), -Infinity],
      [S(Infinity), zero, Infinity],
      [S(-Infinity), zero, -Infinity],
      [S(NaN), S(1), NaN],
      [S(1), S(NaN), NaN],
      [both, S(1), NaN],
      [S(1), both, NaN],
      [zero, both, NaN],
      [S(Infinity), sumFromCount(3), Infinity],
      [exactSumOf(f64([1, -Infinity])), sumFromCount(2), -Infinity],
      [exactSumOf(f64([MAX, MAX])), S(Infinity), 0], // exact finite (rounds to Inf) / Inf
      [exactSumOf(f64([-MAX, -MAX])), S(Infinity), -0],
      [S(Infinity), exactSumOf(f64([MAX, MAX])), Infinity], // Inf / exact finite
      [S(-Infinity), exactSumOf(f64([-MAX, -MAX])), Infinity],
      [exactSumOf(f64([MAX, MAX])), zero, Infinity],
      [exactSumOf(f64([-MAX, -MAX])), zero, -Infinity],
      // finite / huge finite: an ordinary exact division (subnormal result), not a special
      [S(1), exactSumOf(f64([MAX, MAX, 1])), refRound(SCALE, refSum([MAX, MAX, 1]).n)],
      [S(-1), exactSumOf(f64([MAX, MAX, 1])), -refRound(SCALE, refSum([MAX, MAX, 1]).n)],
      [S(MIN), exactSumOf(f64([MAX, MAX])), 0],
      [S(-MIN), exactSumOf(f64([MAX, MAX])), -0],
      [S(6), S(3), 2],
      [S(1), S(3), 1 / 3],
      [S(-1), S(3), -1 / 3],
      [S(MAX), S(0.5), Infinity],
      [S(-MAX), S(0.5), -Infinity],
    ];
    cases.forEach(([a, b, want], i) => expectSame(roundQuotient(a, b), want, `case ${i}`));
  });
});

describe('exact-sum: JSON', () => {
  it('round trips and uses signed lowercase hex', () => {
    expect(sumToJSON(ZERO_SUM)).toEqual({ sum: '0', nan: false, posInf: false, negInf: false });
    expect(sumToJSON({ n: -7994n, nan: true, posInf: false, negInf: true })).toEqual({
      sum: '-1f3a',
      nan: true,
      posInf: false,
      negInf: true,
    });
    const s = exactSumOf(f64([1e308, -3.5, 5e-324, Infinity]));
    expect(jsonTrip(s)).toEqual(s);
    expect(sumFromJSON({ format: 'exactsum/1', scale: -1074, count: '3', sum: 'ff', nan: false, posInf: false, negInf: false })).toEqual({
      n: 255n,
      nan: false,
      posInf: false,
      negInf: false,
    });
  });

  it('rejects malformed input', () => {
    const ok = { sum: '1f', nan: false, posInf: false, negInf: false };
    const bad: unknown[] = [
      null,
      undefined,
      5,
      'x',
      '{"sum":"0"}',
      [],
      [ok],
      {},
      { ...ok, sum: 5 },
      { ...ok, sum: 5n },
      { ...ok, sum: null },
      { ...ok, sum: '' },
      { ...ok, sum: '-' },
      { ...ok, sum: '-0' },
      { ...ok, sum: '01' },
      { ...ok, sum: '0x1f' },
      { ...ok, sum: '1F' },
      { ...ok, sum: '+1f' },
      { ...ok, sum: ' 1f' },
      { ...ok, sum: '1f ' },
      { ...ok, sum: '1g' },
      { ...ok, sum: '1.5' },
      { ...ok, sum: '--1' },
      { ...ok, sum: '1'.repeat(5000) },
      { ...ok, nan: 'false' },
      { ...ok, nan: 0 },
      { ...ok, posInf: null },
      { sum: '1f', nan: false, posInf: false },
      { sum: '1f', nan: false, negInf: false },
      { sum: '1f', posInf: false, negInf: false },
    ];
    for (const v of bad) {
      expect(() => sumFromJSON(v), JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))).toThrow(Error);
    }
    expect(() => sumFromJSON(null)).toThrow(/expected an object/);
    expect(() => sumFromJSON({ ...ok, sum: 'zz' })).toThrow(/hex/);
    expect(() => sumFromJSON({ ...ok, negInf: 1 })).toThrow(/negInf/);
    expect(sumFromJSON(ok)).toEqual({ n: 31n, nan: false, posInf: false, negInf: false });
    expect(sumFromJSON({ ...ok, sum: '-1f' }).n).toBe(-31n);
  });
});

describe('toSumWithin (the flush of an exponent range)', () => {
  it('equals toSum for short arrays of any exponents (seeded)', () => {
    const r = mulberry32(91);
    const f = new Float64Array(1), w = new Uint32Array(f.buffer);
    const a = new ExactAccumulator(), b = new ExactAccumulator();
    for (let t = 0; t < 300; t++) {
      const n = 1 + (r() % 300);
      const xs = new Float64Array(n);
      const wide = t % 3;
      for (let i = 0; i < n; i++) {
        w[0] = r(); w[1] = r();
        xs[i] = wide === 0 ? f[0]! : wide === 1 ? (r() / 2 ** 32 - 0.5) * 2 ** ((r() % 40) - 20) : (i % 7 === 0 ? 1e308 : i % 7 === 1 ? 5e-324 : -(r() / 2 ** 32));
      }
      let lo = 2047, hi = 0;
      for (const x of xs) { f[0] = x; const e = (w[1]! >>> 20) & 0x7ff; lo = Math.min(lo, e); hi = Math.max(hi, e); }
      a.reset(); b.reset();
      a.addArray(xs); b.addArray(xs);
      expect(a.toSumWithin(lo, hi)).toEqual(b.toSum());
    }
  });
});
