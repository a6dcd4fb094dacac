/**
 * Regression kernels against the golden fixtures (test/golden): every term bit for bit equal to
 * the independent reference (scripts/refterms.py), mean/sum equal to the correctly rounded exact
 * reduction of the reference terms, and PyTorch's values within the stated ulp bound (these
 * losses are plain IEEE arithmetic: the terms are also torch's, bit for bit, bound 0).
 */
import { describe, expect, it } from 'vitest';
import { expectMatchesReference, loadGolden, matrix, num } from '../helpers/golden.js';
import { evaluateLoss } from '../../src/losses/evaluate.js';
import { lossDef } from '../../src/losses/registry.js';
import { roundQuotient, roundSum } from '../../src/reduce/exact-sum.js';
import { UsageError } from '../../src/errors.js';
import type { Chunk } from '../../src/losses/kernel.js';

for (const file of ['l1_loss', 'mse_loss', 'smooth_l1_loss', 'huber_loss']) {
  const golden = loadGolden(file);
  describe(`${file}: reference bit for bit, torch ${golden.torch} within its bound`, () => {
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
        expectMatchesReference(file, c, { terms: r.terms, sum: roundSum(r.num), mean: roundQuotient(r.num, r.den) });
      });
    }
  });
}
