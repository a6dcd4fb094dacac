/**
 * The bootstrap's pieces against independent references: the accumulator's replicate sums
 * against BigInt sums of w(seed, i, r)·x (the scalar weight definition), for any split of the
 * rows; the weights' distribution against Poisson(1); and the statistics — coverage of the 95 %
 * percentile interval and the standard error on data whose sampling distribution is known.
 */
import { describe, expect, it } from 'vitest';
import { BootAccumulator, bootWeight, rowKey } from '../../src/reduce/bootstrap.js';
import { mergeSums, ZERO_SUM, type ExactSum } from '../../src/reduce/exact-sum.js';
import { bootStats } from '../../src/write/result.js';
import { sumFromCount } from '../../src/reduce/exact-sum.js';
import { decompose } from '../helpers/exact.js';
import { mulberry32 } from '../helpers/rng.js';

function keysOf(seed: number, first: number, n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, k) => rowKey(seed, first + k));
}

/** Independent reference: exact Σ w·x per replicate (scaled by 2^1074) and the NaN/Inf flags. */
function reference(xs: readonly number[], seed: number, first: number, R: number): ExactSum[] {
  return Array.from({ length: R }, (_, r) => {
    let n = 0n, nan = false, posInf = false, negInf = false;
    xs.forEach((x, k) => {
      const w = bootWeight(seed, first + k, r);
      if (w === 0) return;
      if (x !== x) nan = true;
      else if (x === Infinity) posInf = true;
      else if (x === -Infinity) negInf = true;
      else {
        const { m, e } = decompose(x);
        n += BigInt(w) * (m << BigInt(e + 1074));
      }
    });
    return { n, nan, posInf, negInf };
  });
}

const SETS: Record<string, (r: () => number, n: number) => number[]> = {
  normal: (r, n) => Array.from({ length: n }, () => Math.abs(r() - 0.5) * 3),
  wide: (r, n) => Array.from({ length: n }, (_, i) => {
    const k = i % 9;
    if (k === 0) return 0;
    if (k === 1) return -0;
    if (k === 2) return (r() - 0.5) * 1e-310; // subnormal
    if (k === 3) return (r() < 0.5 ? -1 : 1) * 1.7e308 * r(); // near the top: the 2^993+ path
    return (r() < 0.5 ? -1 : 1) * 10 ** (r() * 600 - 300);
  }),
  cancelling: (r, n) => Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (1 + 2 ** -52 * Math.floor(r() * 8)) * 2 ** Math.floor(r() * 40)),
  special: (r, n) => Array.from({ length: n }, (_, i) => (i === 3 ? NaN : i === 10 ? Infinity : i === 17 ? -Infinity : r())),
};

describe('BootAccumulator: exact replicate sums (BigInt reference)', () => {
  for (const [name, make] of Object.entries(SETS)) {
    for (const R of [1, 7, 200]) {
      it(`${name}, R = ${R}: one pass and a random split merged equal the reference`, () => {
        const seed = 0x5eed + R;
        const r = mulberry32(R * 31 + name.length);
        const n = 1500;
        const xs = make(r, n);
        const first = 123456789012; // beyond 2^32: the row key's high word
        const ref = reference(xs, seed, first, R);
        const acc = new BootAccumulator(R);
        acc.addTerms(Float64Array.from(xs), keysOf(seed, first, n), n);
        expect(acc.sums()).toEqual(ref);
        // random pieces, merged in reverse
        let merged: ExactSum[] = Array(R).fill(ZERO_SUM);
        const cuts = [0, 1, 2, 511, 513, 1024, 1499, n];
        for (let p = cuts.length - 2; p >= 0; p--) {
          const a = cuts[p]!, b = cuts[p + 1]!;
          acc.addTerms(Float64Array.from(xs.slice(a, b)), keysOf(seed, first + a, b - a), b - a);
          const part = acc.sums();
          merged = merged.map((m, k) => mergeSums(m, part[k]!));
        }
        expect(merged).toEqual(ref);
      });
    }
  }

  it('addTerms with counting gives the same sums and the counts of addCounts (NaN and 2^993+ rows too)', () => {
    const R = 9, seed = 5, n = 2000;
    const xs = Float64Array.from({ length: n }, (_, i) => (i === 7 ? NaN : i === 8 ? 1e300 : i % 5) * 1.25);
    const keys = keysOf(seed, 40, n);
    const a = new BootAccumulator(R), b = new BootAccumulator(R);
    a.addTerms(xs, keys, n, true);
    b.addTerms(xs, keys, n);
    b.addCounts(keys, n);
    expect(a.sums()).toEqual(b.sums());
    expect(a.takeCounts()).toEqual(b.takeCounts());
  });

  it('weighted row counts equal Σ w per replicate', () => {
    const R = 13, seed = 99, n = 3000;
    const acc = new BootAccumulator(R);
    acc.addCounts(keysOf(seed, 0, n), n);
    const want = Array.from({ length: R }, (_, r) => {
      let c = 0;
      for (let i = 0; i < n; i++) c += bootWeight(seed, i, r);
      return c;
    });
    expect(acc.takeCounts()).toEqual(want);
  });
});

describe('bootstrap weights', () => {
  it('follow Poisson(1): frequencies of 0..4 within 4 standard errors over 2e6 draws; mean 1', () => {
    const counts = new Array(11).fill(0);
    const N = 10000, R = 200;
    let sum = 0;
    for (let i = 0; i < N; i++) for (let r = 0; r < R; r++) {
      const w = bootWeight(7, i, r);
      counts[w]++;
      sum += w;
    }
    const total = N * R;
    let fact = 1;
    for (let k = 0; k <= 4; k++) {
      if (k > 0) fact *= k;
      const p = Math.exp(-1) / fact;
      const se = Math.sqrt(p * (1 - p) / total);
      expect(Math.abs(counts[k] / total - p), `P(w = ${k})`).toBeLessThan(4 * se);
    }
    expect(Math.abs(sum / total - 1)).toBeLessThan(4 * Math.sqrt(1 / total));
  });
});

/** Box–Muller normal from a seeded uniform. */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

describe('bootstrap statistics (seeded; 1,000 data sets)', () => {
  it('l1 of N(0,1) residuals: the 95 % percentile interval covers E|Z| = √(2/π) in 92–97 % of data sets; SE ≈ analytic', () => {
    const SETS_N = 1000, n = 2000, R = 200;
    const truth = Math.sqrt(2 / Math.PI);
    const analyticSe = Math.sqrt(1 - 2 / Math.PI) / Math.sqrt(n);
    const acc = new BootAccumulator(R);
    let covered = 0, seRatio = 0;
    const r = mulberry32(20261207);
    console.log(`bootstrap coverage: seed 20261207, ${SETS_N} sets of n = ${n}, R = ${R}`);
    for (let s = 0; s < SETS_N; s++) {
      const xs = Float64Array.from({ length: n }, () => Math.abs(normal(r)));
      const keys = keysOf(s, 0, n);
      acc.addTerms(xs, keys, n);
      const num = acc.sums();
      acc.addCounts(keys, n);
      const den = acc.takeCounts().map((c) => sumFromCount(c));
      const b = bootStats({ num: ZERO_SUM, den: ZERO_SUM, boot: { num, den } }, 'mean', 0.95);
      if (b.low <= truth && truth <= b.high) covered++;
      seRatio += b.se / analyticSe;
    }
    const rate = covered / SETS_N;
    console.log(`coverage ${(100 * rate).toFixed(1)} %, mean SE / analytic ${(seRatio / SETS_N).toFixed(4)}`);
    expect(rate).toBeGreaterThanOrEqual(0.92);
    expect(rate).toBeLessThanOrEqual(0.97);
    expect(Math.abs(seRatio / SETS_N - 1)).toBeLessThan(0.03);
  });
});
