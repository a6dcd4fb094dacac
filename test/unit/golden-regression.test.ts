/**
 * Regression kernels against PyTorch's golden values (test/golden). These
 * losses are plain IEEE arithmetic, so every per-element term must be
 * bit-identical to torch's, and mean/sum must equal the correctly rounded
 * exact reduction of those terms.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden, matrix, flat, num } from '../helpers/golden.js';
import { evaluateLoss } from '../../src/losses/evaluate.js';
import { lossDef } from '../../src/losses/registry.js';
import { roundQuotient, roundSum } from '../../src/reduce/exact-sum.js';
import { UsageError } from '../../src/errors.js';
import type { Chunk } from '../../src/losses/kernel.js';

const bits = (xs: ArrayLike<number>): string[] => Array.from(xs, (x) => (Object.is(x, -0) ? '-0' : String(x)));

for (const file of ['l1_loss', 'mse_loss', 'smooth_l1_loss', 'huber_loss']) {
  const golden = loadGolden(file);
  describe(`${file} matches torch ${golden.torch}`, () => {
    for (const c of golden.cases) {
      it(c.name, () => {
        const def = lossDef(golden.loss);
        const opts: Record<string, number> = {};
        for (const k of ['beta', 'delta']) if (c.kwargs[k] !== undefined) opts[k] = num(c.kwargs[k]);
        if (c.error) {
          expect(() => def.resolve(opts)).toThrow(UsageError);
          return;
        }
        const params = def.resolve(opts);
        const x = matrix(c.inputs.input, c.shapes.input!);
        const y = matrix(c.inputs.target, c.shapes.target!);
        const chunk: Chunk = { rows: x.rows, preds: { data: x.data, width: x.width }, targets: { data: y.data, width: y.width } };
        const spec = { name: def.name, params };
        const r = evaluateLoss(spec, chunk, 'mean');
        expect(bits(r.terms)).toEqual(bits(flat(c.none)));
        expect(Object.is(roundSum(r.num), num(c.sum))).toBe(true);
        expect(Object.is(roundQuotient(r.num, r.den), num(c.mean))).toBe(true);
      });
    }
  });
}
