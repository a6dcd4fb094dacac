/**
 * nll, cross_entropy, binary_cross_entropy and binary_cross_entropy_with_logits
 * against PyTorch's golden values (test/golden). nll is plain arithmetic and
 * must match bit for bit; the others go through exp/log, where PyTorch's
 * vectorised kernels are not correctly rounded, so terms are compared with the
 * tolerance of losses.md §1.3 (|Δ| ≤ 1e-12·|ref| + 1e-14·max|input|).
 */
import { describe, expect, it } from 'vitest';
import { loadGolden, matrix, flat, num, type GoldenCase } from '../helpers/golden.js';
import { evaluateLoss } from '../../src/losses/evaluate.js';
import { lossDef, type LossOptions } from '../../src/losses/registry.js';
import { roundQuotient, roundSum } from '../../src/reduce/exact-sum.js';
import type { Chunk, Matrix } from '../../src/losses/kernel.js';

function close(got: number, ref: number, scale: number): boolean {
  if (Number.isNaN(ref) || !Number.isFinite(ref)) return Object.is(got, ref);
  return Math.abs(got - ref) <= 1e-12 * Math.abs(ref) + 1e-14 * scale;
}

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

for (const [file, exact] of [['nll_loss', true], ['cross_entropy', false], ['binary_cross_entropy', false], ['binary_cross_entropy_with_logits', false]] as const) {
  const golden = loadGolden(file);
  describe(`${file} matches torch ${golden.torch}`, () => {
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
        const ref = flat(c.none);
        const scale = Math.max(1, ...flat(c.inputs.input).filter(Number.isFinite).map(Math.abs));
        expect(r.terms.length).toBe(ref.length);
        if (exact) {
          expect(Array.from(r.terms, String)).toEqual(ref.map(String));
          expect(Object.is(roundSum(r.num), num(c.sum))).toBe(true);
          expect(Object.is(roundQuotient(r.num, r.den), num(c.mean))).toBe(true);
        } else {
          const bad = ref.flatMap((v, i) => (close(r.terms[i]!, v, scale) ? [] : [`${i}: ${r.terms[i]} vs ${v}`]));
          expect(bad).toEqual([]);
          expect(close(roundSum(r.num), num(c.sum), scale * ref.length)).toBe(true);
          expect(close(roundQuotient(r.num, r.den), num(c.mean), scale)).toBe(true);
        }
      });
    }
  });
}
