/**
 * One loss over one chunk: the kernel's terms, then either the exact partial
 * sums (mean/sum) or the terms themselves (none). The single code path used by
 * the workers, the library and the kernel tests.
 */
import { ExactAccumulator, ZERO_SUM, sumFromCount, type ExactSum } from '../reduce/exact-sum.js';
import { lossDef } from './registry.js';
import type { Chunk, LossSpec } from './kernel.js';
import type { Reduction } from '../pool/task.js';

export interface LossOutput {
  /** The unreduced terms (PyTorch's reduction='none'), rows × width. */
  readonly terms: Float64Array;
  readonly width: number;
  /** Exact numerator and denominator of the mean (ZERO_SUM when `reduce` is false). */
  readonly num: ExactSum;
  readonly den: ExactSum;
  readonly elements: number;
  readonly ignored: number;
}

const acc = new ExactAccumulator();

function exactSumOfArray(xs: Float64Array): ExactSum {
  acc.reset();
  acc.addArray(xs);
  return acc.toSum();
}

/** `reduction` none returns the terms only; batchmean divides by rows (kl_div). */
export function evaluateLoss(spec: LossSpec, chunk: Chunk, reduction: Reduction): LossOutput {
  const reduce = reduction !== 'none';
  const def = lossDef(spec.name);
  const width = def.outWidth(chunk);
  const terms = new Float64Array(chunk.rows * width);
  const denominator = reduction === 'batchmean' ? 'rows' : def.denominator(chunk);
  const denTerms = denominator === 'den' ? new Float64Array(chunk.rows) : null;
  const stats = def.kernel(chunk, spec.params as never, terms, denTerms);
  if (!reduce) return { terms, width, num: ZERO_SUM, den: ZERO_SUM, elements: terms.length, ignored: stats.ignored };
  const num = exactSumOfArray(terms);
  const den = denTerms ? exactSumOfArray(denTerms) : sumFromCount(denominator === 'rows' ? chunk.rows : terms.length);
  return { terms, width, num, den, elements: terms.length, ignored: stats.ignored };
}
