/**
 * nll, cross_entropy, binary_cross_entropy and binary_cross_entropy_with_logits against the
 * golden fixtures (test/golden): every term bit for bit equal to the independent reference
 * (scripts/refterms.py: losseval's operation order with correctly rounded log/log1p/exp),
 * sum/mean equal to the exact sum/quotient of the reference terms (weighted Σ w[y] denominators
 * included) rounded once, and PyTorch's own values within the loss's stated ulp bound
 * (test/helpers/torch-bounds.ts): PyTorch's vectorised exp/log are not correctly rounded.
 */
import { describe, expect, it } from 'vitest';
import { expectMatchesReference, loadGolden, matrix, flat, num, type GoldenCase } from '../helpers/golden.js';
import { evaluateLoss } from '../../src/losses/evaluate.js';
import { lossDef, type LossOptions } from '../../src/losses/registry.js';
import { roundQuotient, roundSum } from '../../src/reduce/exact-sum.js';
import type { Chunk, Matrix } from '../../src/losses/kernel.js';

/** Build the chunk and options of a golden case the way the CLI would. Throws where losseval refuses. */
function setup(loss: string, c: GoldenCase): { chunk: Chunk; opts: LossOptions } {
  const x = matrix(c.inputs.input, c.shapes.input!);
  const y = matrix(c.inputs.target, c.shapes.target!);
  const opts: LossOptions = {};
  if (c.kwargs.ignore_index !== undefined) opts.ignoreIndex = c.kwargs.ignore_index as number;
  if (c.kwargs.label_smoothing !== undefined) opts.labelSmoothing = num(c.kwargs.label_smoothing);
  let weights: Matrix | undefined;
  const C = x.width;
  const N = x.rows;
  const binary = loss.startsWith('binary');
  if (c.inputs.weight !== undefined) {
    const shape = c.shapes.weight!;
    const w = flat(c.inputs.weight);
    if (!binary) opts.weight = w;
    // PyTorch's broadcast forms on an (N, C) table, mapped to losseval's options
    else if (shape.length === 0 || (shape.length === 1 && shape[0] === 1 && C !== 1)) opts.weight = Array(C).fill(w[0]);
    else if ((shape.length === 1 && shape[0] === C) || (shape.length === 2 && shape[0] === 1 && shape[1] === C)) opts.weight = w;
    else if (shape.length === 2 && shape[0] === N && (shape[1] === 1 || shape[1] === C)) weights = { data: Float64Array.from(w), width: shape[1]! };
    else throw new Error(`weight shape ${JSON.stringify(shape)} has no losseval form`);
  }
  if (c.inputs.pos_weight !== undefined) {
    const shape = c.shapes.pos_weight!;
    if (shape.length === 1 && shape[0] === C) opts.posWeight = flat(c.inputs.pos_weight);
    else throw new Error(`pos_weight shape ${JSON.stringify(shape)} has no losseval form`);
  }
  if (x.rows !== y.rows) throw new Error('row counts differ');
  const chunk: Chunk = {
    rows: x.rows, preds: { data: x.data, width: x.width }, targets: { data: y.data, width: y.width },
    ...(weights ? { weights } : {}),
  };
  return { chunk, opts };
}

function runCase(loss: string, c: GoldenCase) {
  const def = lossDef(loss);
  const { chunk, opts } = setup(loss, c);
  const params = def.resolve(opts);
  const problem = def.checkParams(params, chunk) ?? def.checkWidths(chunk);
  if (problem) throw new Error(problem);
  return evaluateLoss({ name: def.name, params }, chunk, 'mean');
}

/** Cases PyTorch computes but losseval has no form for (per-row pos_weight broadcasts). */
const unsupported = (c: GoldenCase): boolean => {
  const s = c.shapes.pos_weight;
  return s !== undefined && !(s.length === 1 && s[0] === c.shapes.input![c.shapes.input!.length - 1]) && c.error === null;
};

for (const file of ['nll_loss', 'cross_entropy', 'binary_cross_entropy', 'binary_cross_entropy_with_logits']) {
  const golden = loadGolden(file);
  describe(`${file}: reference bit for bit, torch ${golden.torch} within its bound`, () => {
    for (const c of golden.cases) {
      if (unsupported(c)) {
        it(`${c.name}: refused (no per-row/element-wise pos_weight form)`, () => {
          expect(() => setup(file, c)).toThrow(/pos_weight shape/);
        });
        continue;
      }
      if (num(c.kwargs.label_smoothing ?? 0) < 0) {
        // PyTorch silently treats ε < 0 as 0; losseval refuses it as a usage error (README)
        it(`${c.name}: refused`, () => {
          expect(() => runCase(file, c)).toThrow(/--label-smoothing must be between 0.0 and 1.0/);
        });
        continue;
      }
      it(c.name, () => {
        if (c.error) {
          expect(() => runCase(file, c)).toThrow();
          return;
        }
        const r = runCase(file, c);
        expectMatchesReference(file, c, { terms: r.terms, sum: roundSum(r.num), mean: roundQuotient(r.num, r.den) });
      });
    }
  });
}
