/**
 * One loss over one chunk: the kernel's terms, then either the exact partial
 * sums (mean/sum) or the terms themselves (none). The single code path used by
 * the workers, the library and the kernel tests.
 */
import { ExactAccumulator, sumFromCount, type ExactSum } from '../reduce/exact-sum.js';
import { lossDef } from './registry.js';
import type { Chunk, LossSpec } from './kernel.js';
import type { Reduction } from '../types.js';

export interface LossOutput {
  /**
   * The unreduced terms (PyTorch's reduction='none'), rows × width. With a reducing
   * `reduction` this is a view of scratch space, valid until the next evaluateLoss call.
   */
  readonly terms: Float64Array;
  readonly width: number;
  /** Exact numerator and denominator of the mean. */
  readonly num: ExactSum;
  readonly den: ExactSum;
  readonly elements: number;
  readonly ignored: number;
  /** How the mean divides (batchmean: by rows), and with 'den' the per-row terms (scratch, as `terms`). */
  readonly denominator: 'elements' | 'rows' | 'den';
  readonly denTerms: Float64Array | null;
}

const acc = new ExactAccumulator();

/**
 * Scratch space for terms that are summed and dropped (mean/sum): one buffer per
 * thread, grown as needed, instead of a new allocation per loss and chunk.
 */
let scratchTerms = new Float64Array(0);
let scratchDen = new Float64Array(0);

function scratch(which: 'terms' | 'den', n: number): Float64Array {
  if (which === 'terms') {
    if (scratchTerms.length < n) scratchTerms = new Float64Array(n);
    return scratchTerms.subarray(0, n).fill(0);
  }
  if (scratchDen.length < n) scratchDen = new Float64Array(n);
  return scratchDen.subarray(0, n).fill(0);
}

/**
 * Exact sum of xs. A short array (one group's rows in a chunk) is first scanned for its exponent
 * range, so the flush reads only those cells.
 */
function exactSumOfArray(xs: Float64Array): ExactSum {
  acc.reset();
  acc.addArray(xs);
  if (xs.length > SHORT) return acc.toSum();
  const w = new Uint32Array(xs.buffer, xs.byteOffset, xs.length * 2);
  let lo = 2047, hi = 0;
  for (let i = 1; i < w.length; i += 2) {
    const e = (w[i]! >>> 20) & 0x7ff;
    if (e < lo) lo = e;
    if (e > hi) hi = e;
  }
  return acc.toSumWithin(lo, hi);
}

/** Arrays up to this long get the exponent-range flush. */
const SHORT = 4096;

/** `reduction` none returns the terms, with the exact sums of a mean; batchmean divides by rows (kl_div). */
export function evaluateLoss(spec: LossSpec, chunk: Chunk, reduction: Reduction): LossOutput {
  const reduce = reduction !== 'none';
  const def = lossDef(spec.name);
  const width = def.outWidth(chunk);
  // per-row output is handed back (and transferred); reduced terms live in scratch space
  const terms = reduce ? scratch('terms', chunk.rows * width) : new Float64Array(chunk.rows * width);
  const denominator = reduction === 'batchmean' ? 'rows' : def.denominator(chunk);
  const denTerms = denominator === 'den' ? scratch('den', chunk.rows) : null;
  const stats = def.kernel(chunk, spec.params as never, terms, denTerms);
  const num = exactSumOfArray(terms);
  const den = denTerms ? exactSumOfArray(denTerms) : sumFromCount(denominator === 'rows' ? chunk.rows : terms.length);
  return { terms, width, num, den, elements: terms.length, ignored: stats.ignored, denominator, denTerms };
}
