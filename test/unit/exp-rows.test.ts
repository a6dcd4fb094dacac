/**
 * Log-softmax's row shifts in WebAssembly (asm/exp.ts, src/math/exp-rows.ts) against the JS
 * reference (src/math/exp.ts), bit for bit:
 *  1. every term: the module's e^x, in either SIMD lane and in its scalar tail, equals the JS fast
 *     path's value (the correctly rounded result of test/fixtures/math/exp.txt, 2000 published
 *     hard cases included), and it gives no term (NaN) exactly where the JS fast path gives none
 *     (|x| ≥ 708, NaN, a rounding its Ziv test leaves undecided);
 *  2. whole rows: rowShifts with the module and without it give the same max and sum bits on
 *     seeded random rows of many widths and scales, with NaN, ±Infinity and rows that take the
 *     JS rare path (seed printed). Needs `npm run build` (dist/math/exp.wasm).
 */
import { describe, expect, it } from 'vitest';
import { exp, expEval } from '../../src/math/exp.js';
import { expRowsWasmAvailable, expTermsWasm, rowShifts, setExpRowsWasm } from '../../src/math/exp-rows.js';
import { wasmSimdSupported } from '../../src/wasm/load.js';
import { mulberry32 } from '../helpers/rng.js';
import { readMathFixture, toBits } from '../helpers/math-fixture.js';

const bits = (x: number): string => toBits(x).toString(16);

/** exp's fast path in src/math/exp.ts, written out: its value, or NaN where exp() takes its rare path. */
function jsFastPath(x: number): number {
  if (!(Math.abs(x) < 708)) return NaN;
  const kd = (x * 369.3299304675746 + 6755399441055744) - 6755399441055744;
  const a = x - kd * 0.002707606173999011;
  const b = kd * 6.327543041506426e-14;
  const rh = a - b;
  const bb = rh - a;
  const k = kd | 0;
  const y = expEval(rh, ((a - (rh - bb)) - (b + bb)) - kd * 1.5629239639119998e-24, (k & 255) << 2);
  return y === y ? y * 2 ** (k >> 8) : NaN;
}


describe('log-softmax row shifts in WebAssembly', () => {
  it('is built and loads in this Node (WebAssembly SIMD, dist/math/exp.wasm)', () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(expRowsWasmAvailable()).toBe(true);
  });

  it('gives every term the JS fast path gives, with the same bits, and no other (fixture with hard cases, both lanes and the scalar tail)', () => {
    const rows = readMathFixture('exp');
    expect(rows.length).toBeGreaterThan(7000);
    const xs = rows.map(([x]) => x);
    // each argument in lane 0 and in lane 1, beside itself (the two lanes of a pair fail together)
    let terms = 0, none = 0;
    const bad: string[] = [];
    const got = expTermsWasm(new Float64Array(xs.flatMap((x) => [x, x])))!;
    rows.forEach(([x, want], i) => {
      const js = jsFastPath(x);
      for (const j of [2 * i, 2 * i + 1]) {
        const w = got[j]!;
        if (Number.isNaN(js)) {
          none++;
          if (!Number.isNaN(w)) bad.push(`${bits(x)}: module gave ${bits(w)} where the JS fast path gives none`);
        } else {
          terms++;
          if (bits(w) !== bits(js)) bad.push(`${bits(x)}: module ${bits(w)}, JS ${bits(js)}`);
          if (bits(js) !== bits(want)) bad.push(`${bits(x)}: JS fast path ${bits(js)} is not the correctly rounded ${bits(want)}`);
        }
      }
    });
    // the scalar tail: one value after each pair of zeros
    for (const [x] of rows.slice(0, 3000)) {
      const w = expTermsWasm(new Float64Array([0, 0, x]))![2]!;
      const js = jsFastPath(x);
      if (bits(w) !== bits(js)) bad.push(`tail ${bits(x)}: module ${bits(w)}, JS ${bits(js)}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
    // the fixture exercises both: terms decided, and hard cases the fast path leaves to the rare path
    expect(terms).toBeGreaterThan(10000);
    expect(none).toBeGreaterThan(0);
  });

  it('seeded random rows: the same max and sum bits with and without the module', () => {
    const seed = 20261208;
    console.log(`exp-rows sweep: seed ${seed}`);
    const rnd = mulberry32(seed);
    const special = [NaN, Infinity, -Infinity, 0, -0, 708, -708, 745, -745];
    let cases = 0;
    for (const C of [1, 2, 3, 7, 8, 9, 16, 33, 1000, 1001]) {
      for (const scale of [1e-3, 1, 30, 400, 1000]) {
        const rows = C >= 1000 ? 6 : 40;
        const x = new Float64Array(rows * C);
        for (let i = 0; i < x.length; i++) {
          const u = rnd();
          x[i] = u < 0.01 ? special[Math.floor(rnd() * special.length)]! : (rnd() - 0.5) * 2 * scale;
        }
        // rows of equal values, and a row of -Infinity only
        if (rows > 2) {
          x.fill(1.25, 0, C);
          x.fill(-Infinity, C, 2 * C);
        }
        const out = [0, 1].map(() => ({ m: new Float64Array(rows), s: new Float64Array(rows) }));
        for (const w of [0, 1]) {
          const prev = setExpRowsWasm(w === 1);
          try {
            rowShifts(x, rows, C, out[w]!.m, out[w]!.s);
          } finally {
            setExpRowsWasm(prev);
          }
        }
        for (let r = 0; r < rows; r++) {
          expect(bits(out[1]!.m[r]!), `C ${C}, scale ${scale}, row ${r}: max`).toBe(bits(out[0]!.m[r]!));
          expect(bits(out[1]!.s[r]!), `C ${C}, scale ${scale}, row ${r}: sum`).toBe(bits(out[0]!.s[r]!));
          cases++;
        }
        // only some rows, listed in any order: the same bits for those, the others untouched
        const only = Int32Array.from({ length: rows }, (_, r) => r).filter(() => rnd() < 0.4).reverse();
        for (const w of [0, 1]) {
          const sub = { m: new Float64Array(rows).fill(-7.5), s: new Float64Array(rows).fill(-7.5) };
          const prev = setExpRowsWasm(w === 1);
          try {
            rowShifts(x, rows, C, sub.m, sub.s, only);
          } finally {
            setExpRowsWasm(prev);
          }
          const listed = new Set(only);
          for (let r = 0; r < rows; r++) {
            const wantM = listed.has(r) ? bits(out[0]!.m[r]!) : bits(-7.5), wantS = listed.has(r) ? bits(out[0]!.s[r]!) : bits(-7.5);
            expect([bits(sub.m[r]!), bits(sub.s[r]!)], `C ${C}, scale ${scale}, only, module ${w}, row ${r}`).toEqual([wantM, wantS]);
          }
        }
        // the JS reference itself: the sum is exp's, in order
        const r = rows - 1, m = out[0]!.m[r]!;
        let s = 0;
        for (let k = 0; k < C; k++) s += exp(x[r * C + k]! - m);
        expect(bits(out[0]!.s[r]!)).toBe(bits(s));
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });
});
