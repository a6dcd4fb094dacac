/**
 * Element-wise regression losses: l1, mse, smooth_l1, huber.
 * Formulas and operation order as PyTorch's CPU kernels (losses.md §2.1–2.4),
 * so per-element terms are bit-identical to torch's float64 results.
 */
import type { Chunk, KernelStats } from './kernel.js';

const NONE: KernelStats = { ignored: 0 };

/** ℓ = |x − y|. l1([1.5], [1.0]) = 0.5 */
export function l1Kernel(c: Chunk, _p: unknown, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length;
  for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]! - y[i]!);
  return NONE;
}

/** ℓ = d·d with d = x − y. mse([-2], [1]) = 9 */
export function mseKernel(c: Chunk, _p: unknown, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - y[i]!;
    out[i] = d * d;
  }
  return NONE;
}

/** z = |x − y|; ℓ = ((0.5·z)·z)/β if z < β else z − 0.5·β; β = 0 is l1. smooth_l1([0.2],[0],β=1) = 0.02 */
export function smoothL1Kernel(c: Chunk, p: { beta: number }, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length, beta = p.beta;
  if (beta === 0) return l1Kernel(c, p, out);
  const halfBeta = 0.5 * beta;
  for (let i = 0; i < n; i++) {
    const z = Math.abs(x[i]! - y[i]!);
    out[i] = z < beta ? (0.5 * z * z) / beta : z - halfBeta;
  }
  return NONE;
}

/** z = |x − y|; ℓ = 0.5·z·z if z < δ else δ·(z − 0.5·δ). huber([3],[-1],δ=2) = 6 */
export function huberKernel(c: Chunk, p: { delta: number }, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length, delta = p.delta;
  const halfDelta = 0.5 * delta;
  for (let i = 0; i < n; i++) {
    const z = Math.abs(x[i]! - y[i]!);
    out[i] = z < delta ? 0.5 * z * z : delta * (z - halfDelta);
  }
  return NONE;
}
