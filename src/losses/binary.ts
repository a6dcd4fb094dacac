/**
 * Binary losses on probabilities or logits: binary_cross_entropy and
 * binary_cross_entropy_with_logits (losses.md §2.7–2.8, PyTorch 2.x formulas).
 * Weights broadcast as PyTorch does for an (N, C) table: per column (the
 * --weight list), per row (one weight column) or element-wise (C columns).
 */
import { KernelError } from './kernel-error.js';
import type { Chunk, KernelStats } from './kernel.js';
import { exp, log, log1p } from './elementary.js';

export interface BinaryParams {
  /** Per-column weights (length C), or null. */
  readonly weight: readonly number[] | null;
}

export interface LogitsParams extends BinaryParams {
  /** Per-column pos_weight (length C), or null. */
  readonly posWeight: readonly number[] | null;
}

const NONE: KernelStats = { ignored: 0 };

/** Multiply the unweighted terms by the weight in whichever form was given. */
function applyWeights(c: Chunk, weight: readonly number[] | null, out: Float64Array): void {
  const C = c.preds.width;
  if (weight) {
    for (let i = 0; i < out.length; i++) out[i] = out[i]! * weight[i % C]!;
    return;
  }
  const wm = c.weights;
  if (!wm) return;
  const wd = wm.data;
  if (wm.width === 1) {
    for (let r = 0, i = 0; r < c.rows; r++) {
      const w = wd[r]!;
      for (let k = 0; k < C; k++, i++) out[i] = out[i]! * w;
    }
  } else {
    for (let i = 0; i < out.length; i++) out[i] = out[i]! * wd[i]!;
  }
}

/**
 * ℓ = ((y − 1)·max(log1p(−x), −100) − y·max(log x, −100))·w, with 0 ≤ x ≤ 1 and 0 ≤ y ≤ 1 checked.
 * bce([0.0], [1.0]) = 100 (the log clamp)
 */
export function bceKernel(c: Chunk, p: BinaryParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, C = c.preds.width, n = x.length;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!, yi = y[i]!;
    if (!(xi >= 0 && xi <= 1)) throw new KernelError('input (a probability) should be between 0 and 1', (i / C) | 0, 'preds', i % C);
    if (!(yi >= 0 && yi <= 1)) throw new KernelError('target should be between 0 and 1', (i / C) | 0, 'targets', i % C);
    let l1 = log1p(-xi);
    if (l1 < -100) l1 = -100;
    let l0 = log(xi);
    if (l0 < -100) l0 = -100;
    out[i] = (yi - 1) * l1 - yi * l0;
  }
  applyWeights(c, p.weight, out);
  return NONE;
}

/** log σ(x) = min(x, 0) − log1p(exp(−|x|)), PyTorch's stable form. */
function logSigmoid(x: number): number {
  return (x < 0 ? x : 0) - log1p(exp(-Math.abs(x)));
}

/**
 * ℓ = ((1 − y)·x − L·log σ(x))·w with L = (pos_weight − 1)·y + 1 (L = 1 without pos_weight).
 * bce_with_logits([40], [1]) = 4.248354255291589e-18
 */
export function bceWithLogitsKernel(c: Chunk, p: LogitsParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, C = c.preds.width, n = x.length, pw = p.posWeight;
  if (pw) {
    for (let i = 0; i < n; i++) {
      const xi = x[i]!, yi = y[i]!;
      const lw = (pw[i % C]! - 1) * yi + 1;
      out[i] = (1 - yi) * xi - lw * logSigmoid(xi);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const xi = x[i]!, yi = y[i]!;
      out[i] = (1 - yi) * xi - logSigmoid(xi);
    }
  }
  applyWeights(c, p.weight, out);
  return NONE;
}
