/** countNaN (src/parse/nan.ts): the sum-first shortcut never hides a NaN and never invents one. */
import { describe, expect, it } from 'vitest';
import { countNaN } from '../../src/parse/nan.js';
import { mulberry32 } from '../helpers/rng.js';

const exact = (a: Float64Array, from = 0, to = a.length): number => {
  let n = 0;
  for (let i = from; i < to; i++) if (Number.isNaN(a[i]!)) n++;
  return n;
};

describe('countNaN', () => {
  it('counts a NaN at every position of the four running sums and of the tail', () => {
    for (const n of [0, 1, 3, 4, 5, 8, 13]) {
      for (let at = 0; at < n; at++) {
        const a = new Float64Array(n).fill(1.5);
        a[at] = NaN;
        expect(countNaN(a), `length ${n}, NaN at ${at}`).toBe(1);
      }
      expect(countNaN(new Float64Array(n))).toBe(0);
    }
  });

  it('+Infinity beside -Infinity (a NaN sum without a NaN) gives 0; overflow to Infinity gives 0', () => {
    expect(countNaN(new Float64Array([Infinity, -Infinity, 1, 2, 3]))).toBe(0);
    expect(countNaN(new Float64Array([1.7976931348623157e308, 1.7976931348623157e308, -1.7976931348623157e308, -1.7976931348623157e308]))).toBe(0);
    expect(countNaN(new Float64Array([Infinity, -Infinity, NaN, NaN, 0]))).toBe(2);
  });

  it('seeded random arrays and ranges: the exact count (seed printed)', () => {
    const seed = 7;
    console.log(`countNaN sweep: seed ${seed}`);
    const rnd = mulberry32(seed);
    const special = [NaN, Infinity, -Infinity, -0, 5e-324, 1.7976931348623157e308];
    for (let c = 0; c < 300; c++) {
      const n = Math.floor(rnd() * 40);
      const p = rnd() * 0.3;
      const a = Float64Array.from({ length: n }, () => (rnd() < p ? special[Math.floor(rnd() * special.length)]! : (rnd() - 0.5) * 1e3));
      const from = Math.floor(rnd() * (n + 1)), to = from + Math.floor(rnd() * (n - from + 1));
      expect(countNaN(a, from, to), `case ${c}`).toBe(exact(a, from, to));
      expect(countNaN(a)).toBe(exact(a));
    }
  });
});
