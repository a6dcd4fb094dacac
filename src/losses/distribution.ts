/**
 * Distribution losses: kl_div, poisson_nll, gaussian_nll (losses.md §2.9–2.11).
 * Element-wise: K prediction values against K target values per row; the
 * unreduced output is rows × K and `mean` divides by the element count
 * (kl_div's `batchmean` by the row count). Formulas and operation order as
 * PyTorch 2.x (aten/src/ATen/native/Loss.cpp, torch/nn/functional.py).
 */
import { KernelError } from './kernel-error.js';
import type { Chunk, KernelStats } from './kernel.js';
import { exp, log } from './elementary.js';

export interface KlDivParams {
  /** The target holds log-probabilities (PyTorch's log_target). */
  readonly logTarget: boolean;
}

export interface PoissonNllParams {
  /** The prediction is log(rate) (PyTorch's log_input, default true). */
  readonly logInput: boolean;
  /** Add the Stirling term where y > 1 (default false). */
  readonly full: boolean;
  /** Added to the rate before the log when logInput is false (default 1e-8). */
  readonly eps: number;
}

export interface GaussianNllParams {
  /** Add 0.5·log(2π) (default false). */
  readonly full: boolean;
  /** Variances are clamped to at least eps (default 1e-6). */
  readonly eps: number;
}

const NONE: KernelStats = { ignored: 0 };

/** 2π as PyTorch's `2 * c10::pi<double>`. */
const TWO_PI = 6.283185307179586;
/** Python's `0.5 * math.log(2 * math.pi)`, the constant gaussian_nll_loss adds when full. */
const HALF_LOG_TWO_PI = 0.9189385332046727;


/**
 * log_target = false: ℓ = xlogy(p, p) − p·x, xlogy(p, p) = NaN if p is NaN, 0 if p = 0, else p·log(p).
 * log_target = true:  ℓ = exp(t)·(t − x).
 * p = 0 gives 0 for finite x; p = 0 with x = −inf gives NaN (0·inf), as torch.
 * kl_div([-inf, -1], [0, 0.5]) = [nan, 0.15342640972002736]
 */
export function klDivKernel(c: Chunk, p: KlDivParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length;
  if (p.logTarget) {
    for (let i = 0; i < n; i++) {
      const t = y[i]!;
      out[i] = exp(t) * (t - x[i]!);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const t = y[i]!;
      // at::xlogy(t, t): NaN check first, then the 0·log 0 = 0 case
      const xl = t !== t ? NaN : t === 0 ? 0 : t * log(t);
      out[i] = xl - t * x[i]!;
    }
  }
  return NONE;
}

/**
 * log_input: ℓ = exp(x) − y·x (no overflow protection: x > 709.78 → inf);
 * otherwise ℓ = x − y·log(x + eps). full adds ((y·log(y)) − y) + 0.5·log(2π·y)
 * wherever y ≤ 1 is false (so NaN y gives NaN), else + 0.
 * poisson_nll([0], [2], full) = 1.651806484604536
 */
export function poissonNllKernel(c: Chunk, p: PoissonNllParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length, eps = p.eps;
  if (p.logInput) {
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      out[i] = exp(xi) - y[i]! * xi;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      out[i] = xi - y[i]! * log(xi + eps);
    }
  }
  if (p.full) {
    for (let i = 0; i < n; i++) {
      const t = y[i]!;
      // stirling_term.masked_fill(target <= 1, 0), then loss += it
      const s = t <= 1 ? 0 : t * log(t) - t + 0.5 * log(TWO_PI * t);
      out[i] = out[i]! + s;
    }
  }
  return NONE;
}

/**
 * ℓ = 0.5·(log v + d·d / v) with d = x − y and v = max(var, eps) (NaN var stays NaN),
 * plus 0.5·log(2π) when full. `vars` has one variance per row (width 1) or per
 * prediction value (width K); a negative variance throws KernelError (role 'vars').
 * gaussian_nll([1, 1], [1, 2], var=[0, 1e-9]) = [-6.907755278982137, 499993.092244721]
 */
export function gaussianNllKernel(c: Chunk, p: GaussianNllParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, K = c.preds.width, eps = p.eps;
  const vm = c.vars;
  if (!vm) throw new Error('gaussian_nll needs a variance role (vars)');
  const vd = vm.data, perRow = vm.width === 1;
  if (!perRow && vm.width !== K) throw new Error(`gaussian_nll: ${vm.width} variances per row, need 1 or ${K}`);
  // PyTorch rejects the whole tensor before computing anything: check first
  for (let i = 0; i < vd.length; i++) {
    if (vd[i]! < 0) throw new KernelError('var has a negative entry', (i / vm.width) | 0, 'vars', i % vm.width);
  }
  for (let r = 0, i = 0; r < c.rows; r++) {
    for (let k = 0; k < K; k++, i++) {
      const raw = vd[perRow ? r : i]!;
      // var.clamp_(min=eps): NaN propagates
      const v = raw < eps ? eps : raw;
      const d = x[i]! - y[i]!;
      out[i] = 0.5 * (log(v) + (d * d) / v);
    }
  }
  if (p.full) {
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + HALF_LOG_TWO_PI;
  }
  return NONE;
}

/** Why these role widths cannot work for gaussian_nll (K predictions, K targets, 1 or K variances), or null. */
export function gaussianNllWidthProblem(w: {
  readonly preds: { readonly width: number };
  readonly targets: { readonly width: number };
  readonly vars?: { readonly width: number };
}): string | null {
  const K = w.preds.width;
  if (w.targets.width !== K) return `${K} prediction values per row but ${w.targets.width} target values`;
  if (!w.vars) return 'gaussian_nll needs variance columns';
  if (w.vars.width !== 1 && w.vars.width !== K) {
    return `variances need 1 value per row or ${K} (one per prediction value), got ${w.vars.width}`;
  }
  return null;
}
