/**
 * kl_div, poisson_nll, gaussian_nll, soft_margin, multilabel_soft_margin,
 * hinge_embedding, multi_margin, margin_ranking and cosine_embedding against
 * PyTorch's golden values (test/golden). The kernels are called directly (the
 * registry does not list them yet) and reduced exactly, as evaluate.ts does.
 * Every term must equal the independent reference (scripts/refterms.py: losseval's
 * operation order with correctly rounded log/log1p/exp) bit for bit, sum/mean/batchmean
 * the exact reduction of the reference terms rounded once, and PyTorch's own values must be
 * within the loss's stated ulp bound (test/helpers/torch-bounds.ts; 0 for the terms of the
 * arithmetic-only hinge, multi margin, margin ranking and cosine losses).
 */
import { describe, expect, it } from 'vitest';
import { expectMatchesReference, loadGolden, matrix, flat, num, type GoldenCase } from '../helpers/golden.js';
import { roundQuotient, roundSum } from '../../src/reduce/exact-sum.js';
import { evaluateLoss } from '../../src/losses/evaluate.js';
import { lossDef, type LossOptions } from '../../src/losses/registry.js';
import { KernelError } from '../../src/losses/kernel-error.js';
import { DataError, UsageError } from '../../src/errors.js';
import type { Chunk, KernelStats, Matrix } from '../../src/losses/kernel.js';
import {
  gaussianNllKernel, gaussianNllWidthProblem, klDivKernel, poissonNllKernel, 
} from '../../src/losses/distribution.js';
import {
  checkMultiMarginParams, cosineEmbeddingKernel, cosineEmbeddingWidthProblem, hingeEmbeddingKernel,
  marginRankingKernel, marginRankingWidthProblem, multiMarginKernel, multilabelSoftMarginKernel,
  softMarginKernel, torchRowSum, 
} from '../../src/losses/margin.js';

type AnyChunk = Chunk;
type Kernel = (c: AnyChunk, p: never, out: Float64Array, den: Float64Array | null) => KernelStats;

/** A golden case mapped to losseval's layout: the chunk, the kernel's params, the mean's denominator and out width. */
interface Setup {
  chunk: AnyChunk;
  params: unknown;
  denominator: 'elements' | 'rows';
  outWidth: number;
}

interface LossCase {
  kernel: Kernel;
  /** Throws where losseval has no form for the case (like the CLI would refuse it). */
  setup: (c: GoldenCase) => Setup;
}

const m = (v: { data: Float64Array; width: number }): Matrix => ({ data: v.data, width: v.width });

/** input and target as preds and targets (an (L,) tensor is L rows of one value). */
function base(c: GoldenCase): AnyChunk {
  const x = matrix(c.inputs.input, c.shapes.input!);
  const y = matrix(c.inputs.target, c.shapes.target!);
  if (x.rows !== y.rows) throw new Error('row counts differ');
  return { rows: x.rows, preds: m(x), targets: m(y) };
}

function elementwise(c: GoldenCase, params: unknown): Setup {
  const chunk = base(c);
  if (chunk.preds.width !== chunk.targets.width) throw new Error('input and target widths differ');
  return { chunk, params, denominator: 'elements', outWidth: chunk.preds.width };
}

const margin = (c: GoldenCase): number => num(c.kwargs.margin);

/**
 * gaussian_nll's var shapes as losseval's `vars` role: the input's shape (one per
 * value) or one per row ((N,) or (N, 1)). Anything else throws, as losseval has
 * no form for it (PyTorch raises `var is of incorrect size` for most of them).
 */
function varsMatrix(inputShape: number[], varShape: number[], v: unknown): Matrix {
  const data = Float64Array.from(flat(v));
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  if (inputShape.length === 2) {
    const [N, K] = inputShape as [number, number];
    if (same(varShape, [N, K])) return { data, width: K };
    if (same(varShape, [N]) || same(varShape, [N, 1])) return { data, width: 1 };
  } else if (inputShape.length === 1 && same(varShape, inputShape)) {
    return { data, width: 1 };
  }
  throw new Error(`var shape ${JSON.stringify(varShape)} has no losseval form for input ${JSON.stringify(inputShape)}`);
}

/** Per-class (C,), per-row (N, 1) or element-wise (N, C) weights: params.weight or the weights role. */
function classOrRoleWeights(c: GoldenCase, N: number, C: number): { weight: number[] | null; weights?: Matrix } {
  if (c.inputs.weight === undefined) return { weight: null };
  const s = c.shapes.weight!;
  const w = flat(c.inputs.weight);
  if (s.length === 1 && s[0] === C) return { weight: w };
  if (s.length === 2 && s[0] === N && (s[1] === 1 || s[1] === C)) return { weight: null, weights: { data: Float64Array.from(w), width: s[1]! } };
  throw new Error(`weight shape ${JSON.stringify(s)} has no losseval form`);
}

const LOSSES: Record<string, LossCase> = {
  kl_div: {
    kernel: klDivKernel as Kernel,
    setup: (c) => elementwise(c, { logTarget: c.kwargs.log_target === true }),
  },
  poisson_nll_loss: {
    kernel: poissonNllKernel as Kernel,
    setup: (c) => elementwise(c, { logInput: c.kwargs.log_input !== false, full: c.kwargs.full === true, eps: num(c.kwargs.eps) }),
  },
  gaussian_nll_loss: {
    kernel: gaussianNllKernel as Kernel,
    setup(c) {
      const s = elementwise(c, { full: c.kwargs.full === true, eps: num(c.kwargs.eps) });
      const chunk: Chunk = { ...s.chunk, vars: varsMatrix(c.shapes.input!, c.shapes.var!, c.inputs.var) };
      const bad = gaussianNllWidthProblem(chunk);
      if (bad) throw new Error(bad);
      return { ...s, chunk };
    },
  },
  soft_margin_loss: {
    kernel: softMarginKernel as Kernel,
    setup: (c) => elementwise(c, {}),
  },
  multilabel_soft_margin_loss: {
    kernel: multilabelSoftMarginKernel as Kernel,
    setup(c) {
      const chunk = base(c);
      const C = chunk.preds.width;
      if (chunk.targets.width !== C) throw new Error('input and target widths differ');
      const { weight, weights } = classOrRoleWeights(c, chunk.rows, C);
      return { chunk: weights ? { ...chunk, weights } : chunk, params: { weight }, denominator: 'rows', outWidth: 1 };
    },
  },
  hinge_embedding_loss: {
    kernel: hingeEmbeddingKernel as Kernel,
    setup: (c) => elementwise(c, { margin: margin(c) }),
  },
  multi_margin_loss: {
    kernel: multiMarginKernel as Kernel,
    setup(c) {
      const chunk = base(c);
      if (c.shapes.target!.length !== 1) throw new Error('target must be one class column');
      let weight: number[] | null = null;
      if (c.inputs.weight !== undefined) {
        if (c.shapes.weight!.length !== 1) throw new Error('weight must be one-dimensional');
        weight = flat(c.inputs.weight);
      }
      const params = { p: c.kwargs.p as number, margin: margin(c), weight };
      // p and the weight's length are checked by the registry (runCase), as in a run
      return { chunk, params, denominator: 'rows', outWidth: 1 };
    },
  },
  margin_ranking_loss: {
    kernel: marginRankingKernel as Kernel,
    setup(c) {
      const x2 = matrix(c.inputs.input2, c.shapes.input2!);
      const chunk: Chunk = { ...base(c), preds2: m(x2) };
      if (x2.rows !== chunk.rows) throw new Error('row counts differ');
      const bad = marginRankingWidthProblem(chunk);
      if (bad) throw new Error(bad);
      return { chunk, params: { margin: margin(c) }, denominator: 'elements', outWidth: 1 };
    },
  },
  cosine_embedding_loss: {
    kernel: cosineEmbeddingKernel as Kernel,
    setup(c) {
      // PyTorch: "0D or 1D target tensor expected"; losseval reads one ±1 column
      if (c.shapes.target!.length !== 1) throw new Error('target must be one column of ±1 (a 1-D tensor)');
      const x2 = matrix(c.inputs.input2, c.shapes.input2!);
      const chunk: Chunk = { ...base(c), preds2: m(x2) };
      if (x2.rows !== chunk.rows) throw new Error('row counts differ');
      const bad = cosineEmbeddingWidthProblem(chunk);
      if (bad) throw new Error(bad);
      return { chunk, params: { margin: margin(c) }, denominator: 'rows', outWidth: 1 };
    },
  },
};

/**
 * Run a case the way the CLI does: the setup's kernel params are losseval's
 * LossOptions (same keys), resolved and checked by the registry, evaluated by
 * evaluateLoss — so names, defaults, checks and denominators are all covered.
 */
function runCase(loss: string, c: GoldenCase) {
  const L = LOSSES[loss]!;
  const s = L.setup(c);
  const def = lossDef(loss);
  const params = def.resolve(s.params as LossOptions);
  // as run.ts does: a parameter problem is a usage error, a width problem a data error
  const bad = def.checkParams(params, s.chunk);
  if (bad) throw new UsageError(bad);
  const problem = def.checkWidths(s.chunk);
  if (problem) throw new DataError(problem, { file: 'golden' });
  expect(def.outWidth(s.chunk)).toBe(s.outWidth);
  expect(def.denominator(s.chunk)).toBe(s.denominator);
  const spec = { name: def.name, params };
  const r = evaluateLoss(spec, s.chunk, 'mean');
  const b = evaluateLoss(spec, s.chunk, 'batchmean');
  // the kernel called directly gives the same terms
  const direct = new Float64Array(r.terms.length);
  L.kernel(s.chunk, params as never, direct, null);
  expect(Array.from(direct, String)).toEqual(Array.from(r.terms, String));
  return { terms: r.terms, sum: roundSum(r.num), mean: roundQuotient(r.num, r.den), batchmean: roundQuotient(b.num, b.den) };
}

/**
 * What each error case must throw: losseval's class and message. `skip`: PyTorch's error is about a
 * tensor layout the CLI cannot express at all (a var of another shape, a 2-D target or weight), so
 * only this test's own set-up could refuse it; the case is skipped, saying why.
 */
function expectedError(c: GoldenCase): { cls: new (...a: never[]) => Error; re: RegExp } | { skip: string } {
  const e = c.error!;
  if (/var has negative entry/.test(e)) return { cls: KernelError, re: /^var has a negative entry$/ };
  if (/target out of range/.test(e)) return { cls: KernelError, re: /^class index out of range \[0, 4\)$/ };
  if (/only p == 1 and p == 2 supported/.test(e)) return { cls: UsageError, re: /^--p .*\b3\b/ }; // an option check: its class, option and value
  if (/var is of incorrect size/.test(e)) return { skip: `var shape ${JSON.stringify(c.shapes.var)} for input ${JSON.stringify(c.shapes.input)} has no losseval form (--var-cols: one per value or one per row)` };
  if (/weight must be one-dimensional/.test(e)) return { skip: 'a 2-D weight has no losseval form (--weight is a list)' };
  if (/0D or 1D target tensor expected/.test(e)) return { skip: 'a 2-D target has no losseval form (cosine_embedding reads one ±1 column)' };
  throw new Error(`no expectation for error ${e}`);
}

/** Cases PyTorch computes but losseval has no form for: the helper must refuse them. */
const unsupported = (loss: string, c: GoldenCase): boolean => {
  if (c.error !== null || loss !== 'gaussian_nll_loss') return false;
  try {
    varsMatrix(c.shapes.input!, c.shapes.var!, c.inputs.var);
    return false;
  } catch {
    return true;
  }
};

for (const loss of Object.keys(LOSSES)) {
  const golden = loadGolden(loss);
  const L = LOSSES[loss]!;
  describe(`${loss}: reference bit for bit, torch ${golden.torch} within its bound`, () => {
    for (const c of golden.cases) {
      if (unsupported(loss, c)) {
        it(`${c.name}: refused (no losseval var form)`, () => {
          expect(() => L.setup(c)).toThrow(/var shape/);
        });
        continue;
      }
      const want = c.error ? expectedError(c) : null;
      if (want && 'skip' in want) {
        it.skip(`${c.name}: ${want.skip}`, () => undefined);
        continue;
      }
      it(c.name, () => {
        if (want) {
          let err: unknown = null;
          try {
            runCase(loss, c);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(want.cls);
          expect((err as Error).message).toMatch(want.re);
          return;
        }
        const r = runCase(loss, c);
        expectMatchesReference(loss, c, { terms: r.terms, sum: r.sum, mean: r.mean, ...(loss === 'kl_div' ? { batchmean: r.batchmean } : {}) });
      });
    }
  });
}

describe('kernel details', () => {
  it('kl_div batchmean divides by rows: spec §5 = 1.2676320062719892 (exact from the terms)', () => {
    const c = loadGolden('kl_div').cases.find((k) => k.name === 'spec §5')!;
    expect(runCase('kl_div', c).batchmean).toBe(num(c.batchmean));
  });

  it('gaussian_nll: negative var is a KernelError on role vars with its row and offset', () => {
    const chunk: Chunk = {
      rows: 2, preds: { data: new Float64Array(4), width: 2 }, targets: { data: new Float64Array(4), width: 2 },
      vars: { data: Float64Array.from([1, 1, 1, -0.5]), width: 2 },
    };
    try {
      gaussianNllKernel(chunk, { full: false, eps: 1e-6 }, new Float64Array(4));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KernelError);
      const k = e as KernelError;
      expect([k.row, k.role, k.offset]).toEqual([1, 'vars', 1]);
    }
  });

  it('multi_margin: a non-integer or NaN class is a KernelError', () => {
    const chunk: Chunk = { rows: 1, preds: { data: Float64Array.from([0, 1]), width: 2 }, targets: { data: Float64Array.from([NaN]), width: 1 } };
    expect(() => multiMarginKernel(chunk, { p: 1, margin: 1, weight: null }, new Float64Array(1))).toThrow(KernelError);
    const half: Chunk = { ...chunk, targets: { data: Float64Array.from([0.5]), width: 1 } };
    expect(() => multiMarginKernel(half, { p: 1, margin: 1, weight: null }, new Float64Array(1))).toThrow(/not an integer/);
  });

  it('checkMultiMarginParams: p and weight length', () => {
    expect(checkMultiMarginParams({ p: 1, margin: 1, weight: null }, 3)).toBeNull();
    expect(checkMultiMarginParams({ p: 3, margin: 1, weight: null }, 3)).toMatch(/only p == 1 and p == 2/);
    expect(checkMultiMarginParams({ p: 2, margin: 1, weight: [1, 2] }, 3)).toMatch(/2 values but there are 3 classes/);
  });

  it("torchRowSum follows torch's order, not a running sum", () => {
    // 1e16 + 1 + ... : lanes of 4 keep the 1s apart from 1e16 until the end
    const a = Float64Array.from([1e16, 1, 1, 1, 1, 1, 1, 1]);
    let running = 0;
    for (const v of a) running += v;
    // lanes: [1e16+1, 2, 2, 2] → 0 + (1e16+1 rounds to 1e16) + 2 + 2 + 2 = 1e16 + 6
    expect(torchRowSum(a, 0, a.length)).toBe(1e16 + 6);
    expect(running).toBe(1e16);
  });
});
