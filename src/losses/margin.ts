/**
 * Margin losses: soft_margin, multilabel_soft_margin, hinge_embedding,
 * multi_margin, margin_ranking, cosine_embedding (losses.md §2.12–2.17).
 * Formulas and operation order as PyTorch 2.x (aten/src/ATen/native/Loss.cpp,
 * LossMultiMargin.cpp, torch/nn/functional.py); the arithmetic-only kernels
 * (hinge, multi margin, margin ranking, cosine) are bit-identical to torch.
 */
import type { Chunk, KernelStats } from './kernel.js';
import { classOf } from './classification.js';
import { exp, log1p } from './elementary.js';

export interface MarginParams {
  readonly margin: number;
}

export interface MultilabelSoftMarginParams {
  /** Per-class weights (length C), or null; per-row / element-wise weights come as the weights role. */
  readonly weight: readonly number[] | null;
}

export interface MultiMarginParams {
  /** 1 or 2 (default 1). */
  readonly p: number;
  /** Default 1.0. */
  readonly margin: number;
  /** Per-class weights (length C), indexed by the target class, or null. */
  readonly weight: readonly number[] | null;
}

const NONE: KernelStats = { ignored: 0 };

/** Float32 1e-12 as a double: the EPSILON cosine_embedding_loss adds to each squared norm. */
const COSINE_EPS = 9.999999960041972e-13;

/** Lanes of at::Vectorized<double> (AVX2 and default builds), which fixes the order of torch's row sums. */
const VEC = 4;

/** Four-level cascade of torch's multi_row_sum: element (i, k, l) = a[off + i·rowStride + k·colStride + l]; adds into acc (nrows·lanes, zeroed). */
function multiRowSum(a: Float64Array, off: number, rowStride: number, colStride: number, nrows: number, lanes: number, size: number, acc: Float64Array): void {
  const width = nrows * lanes;
  const levels = 4;
  // level_power = max(4, CeilLog2(size) / num_levels)
  const ceilLog2 = size <= 2 ? 1 : 32 - Math.clz32(size - 1);
  const levelPower = Math.max(4, (ceilLog2 / levels) | 0);
  const levelStep = 1 << levelPower;
  const levelMask = levelStep - 1;
  for (let j = 0; j < levels * width; j++) acc[j] = 0;
  const add0 = (i: number): void => {
    const base = off + i * rowStride;
    for (let k = 0; k < nrows; k++) {
      for (let l = 0; l < lanes; l++) acc[k * lanes + l] = acc[k * lanes + l]! + a[base + k * colStride + l]!;
    }
  };
  let i = 0;
  while (i + levelStep <= size) {
    for (let j = 0; j < levelStep; j++, i++) add0(i);
    for (let j = 1; j < levels; j++) {
      for (let q = 0; q < width; q++) {
        acc[j * width + q] = acc[j * width + q]! + acc[(j - 1) * width + q]!;
        acc[(j - 1) * width + q] = 0;
      }
      if ((i & (levelMask << (j * levelPower))) !== 0) break;
    }
  }
  for (; i < size; i++) add0(i);
  for (let j = 1; j < levels; j++) {
    for (let q = 0; q < width; q++) acc[q] = acc[q]! + acc[j * width + q]!;
  }
}

/**
 * torch's row_sum: 4 interleaved partial sums (of scalars, or of VEC-lane vectors),
 * the leftovers added to the first, then the first plus the other three.
 * The result (lanes values) is left in acc[0 .. lanes).
 */
function rowSum(a: Float64Array, off: number, stride: number, lanes: number, size: number, acc: Float64Array): void {
  const ilp = 4;
  const sizeIlp = (size / ilp) | 0;
  multiRowSum(a, off, stride * ilp, stride, ilp, lanes, sizeIlp, acc);
  for (let i = sizeIlp * ilp; i < size; i++) {
    for (let l = 0; l < lanes; l++) acc[l] = acc[l]! + a[off + i * stride + l]!;
  }
  for (let k = 1; k < ilp; k++) {
    for (let l = 0; l < lanes; l++) acc[l] = acc[l]! + acc[k * lanes + l]!;
  }
}

/** Scratch for torchSum: 4 levels × 4 rows × VEC lanes. */
const SUM_ACC = new Float64Array(4 * 4 * VEC);

/**
 * a[off .. off+n) summed in the order of PyTorch's CPU `sum(dim=-1)` over a
 * contiguous float64 row (SumKernel.cpp cascade_sum): vectorized_inner_sum when
 * n ≥ VEC, scalar_inner_sum otherwise, stored onto a zero-filled output.
 */
export function torchRowSum(a: Float64Array, off: number, n: number): number {
  const acc = SUM_ACC;
  if (n < VEC) {
    rowSum(a, off, 1, 1, n, acc);
    return 0 + acc[0]!;
  }
  const vecSize = (n / VEC) | 0;
  rowSum(a, off, VEC, VEC, vecSize, acc);
  let fin = 0;
  for (let k = vecSize * VEC; k < n; k++) fin += a[off + k]!;
  for (let l = 0; l < VEC; l++) fin += acc[l]!;
  return 0 + fin;
}

/**
 * Above this, torch's vectorised log1p (Sleef_log1pd*_u10, LOG1P_BOUND) returns +inf
 * instead of ≈ log(u): soft_margin of −y·x = 709 is inf in torch, not 709.
 */
const SLEEF_LOG1P_BOUND = 1e307;

/**
 * ℓ = log1p(exp((−x)·y)) (PyTorch 2.x; not overflow-safe, as torch: exp overflows for
 * −y·x > 709.78, and log1p gives inf already for exp(−y·x) > 1e307, i.e. −y·x ≳ 706.9).
 * soft_margin([-800], [1]) = inf
 */
export function softMarginKernel(c: Chunk, _p: unknown, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length;
  for (let i = 0; i < n; i++) {
    const e = exp(-x[i]! * y[i]!);
    out[i] = e > SLEEF_LOG1P_BOUND ? Infinity : log1p(e);
  }
  return NONE;
}

/** log σ(x) = min(x, 0) − log1p(exp(−|x|)), PyTorch's log_sigmoid. */
function logSigmoid(x: number): number {
  return (x < 0 ? x : 0) - log1p(exp(-Math.abs(x)));
}

/**
 * e_ic = −(y·logσ(x) + (1 − y)·logσ(−x)), times the weight (per class from params,
 * or per row / element-wise from the weights role); ℓ_i = (Σ_c e_ic) / C, one value
 * per row; mean over N rows.
 * multilabel_soft_margin([[0.5, -1, 2]], [[1, 0, 1]]) = [0.3047555609137673]
 */
export function multilabelSoftMarginKernel(c: Chunk, p: MultilabelSoftMarginParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, C = c.preds.width, w = p.weight;
  const wm = c.weights;
  const wd = wm ? wm.data : null, wRow = wm ? wm.width === 1 : false;
  const e = new Float64Array(C);
  for (let r = 0, i = 0; r < c.rows; r++) {
    for (let k = 0; k < C; k++, i++) {
      const xi = x[i]!, yi = y[i]!;
      let v = -(yi * logSigmoid(xi) + (1 - yi) * logSigmoid(-xi));
      if (w) v = v * w[k]!;
      else if (wd) v = v * wd[wRow ? r : i]!;
      e[k] = v;
    }
    out[r] = torchRowSum(e, 0, C) / C;
  }
  return NONE;
}

/**
 * ℓ = [y ≠ 1]·max(margin − x, 0) + [y ≠ −1]·x, as torch's two where()s added:
 * y = 1 → 0 + x, y = −1 → max(margin − x, 0) + 0, any other y (NaN included) → both.
 * hinge_embedding([0.3, 2.0], [0, 2]) = [1.0, 2.0]
 */
export function hingeEmbeddingKernel(c: Chunk, p: MarginParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, n = x.length, margin = p.margin;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!, yi = y[i]!;
    const d = margin - xi;
    const clamped = d < 0 ? 0 : d; // clamp_min_(0) keeps NaN
    out[i] = (yi !== 1 ? clamped : 0) + (yi !== -1 ? xi : 0);
  }
  return NONE;
}

/** Why multi_margin's p / weight do not fit C classes, or null (PyTorch: only p == 1 and p == 2 supported). */
export function checkMultiMarginParams(p: MultiMarginParams, C: number): string | null {
  if (p.p !== 1 && p.p !== 2) return `multi_margin supports only p == 1 and p == 2 (got ${p.p})`;
  if (p.weight && p.weight.length !== C) return `--weight has ${p.weight.length} values but there are ${C} classes (prediction values per row)`;
  return null;
}

/**
 * ℓ_i = (Σ_{d≠y} h_d) / C with z_d = (margin − x[y]) + x[d] and h_d = z (p = 1) or z·z
 * (p = 2), times w[y], kept only where z > 0 (so NaN terms count 0). One value per row;
 * mean over N rows. Targets: one integer class column.
 * multi_margin([[nan, 0, 1]], [2]) = [0]
 */
export function multiMarginKernel(c: Chunk, p: MultiMarginParams, out: Float64Array): KernelStats {
  const x = c.preds.data, y = c.targets.data, C = c.preds.width, w = p.weight, margin = p.margin;
  const square = p.p === 2;
  for (let r = 0; r < c.rows; r++) {
    const t = classOf(y, r, C, NaN);
    const off = r * C;
    const xt = x[off + t]!;
    const wt = w ? w[t]! : 1;
    let sum = 0;
    for (let d = 0; d < C; d++) {
      if (d === t) continue;
      const z = margin - xt + x[off + d]!;
      if (z > 0) {
        let h = square ? z * z : z;
        if (w) h *= wt;
        sum += h;
      }
    }
    out[r] = sum / C;
  }
  return NONE;
}

/**
 * ℓ = max((−y)·(x1 − x2) + margin, 0) with x1 = preds, x2 = preds2, y = targets
 * (element-wise; one column each). NaN propagates (clamp_min).
 * margin_ranking([1], [2], [1], margin=0.5) = [1.5]
 */
export function marginRankingKernel(c: Chunk, p: MarginParams, out: Float64Array): KernelStats {
  const x1 = c.preds.data, y = c.targets.data, n = x1.length, margin = p.margin;
  if (!c.preds2) throw new Error('margin_ranking needs a second input (preds2)');
  const x2 = c.preds2.data;
  for (let i = 0; i < n; i++) {
    const z = -y[i]! * (x1[i]! - x2[i]!) + margin;
    out[i] = z < 0 ? 0 : z;
  }
  return NONE;
}

/**
 * cos_i = Σ x1·x2 / sqrt((Σ x1·x1 + ε)·(Σ x2·x2 + ε)) with ε = float32 1e-12 and the
 * sums in torch's order; ℓ_i = 1 − cos (y = 1), max(cos − margin, 0) (y = −1), 0 for any
 * other y (NaN included). x1 = preds (N, D), x2 = preds2 (N, D), y = targets (width 1).
 * One value per row; mean over N rows.
 * cosine_embedding([[1e-7, 0]], [[1e-7, 0]], [1]) = [0.9900990098618194]
 */
export function cosineEmbeddingKernel(c: Chunk, p: MarginParams, out: Float64Array): KernelStats {
  const a = c.preds.data, D = c.preds.width, y = c.targets.data, margin = p.margin;
  if (!c.preds2) throw new Error('cosine_embedding needs a second input (preds2)');
  const b = c.preds2.data;
  const prod = new Float64Array(D), sq1 = new Float64Array(D), sq2 = new Float64Array(D);
  for (let r = 0; r < c.rows; r++) {
    const off = r * D;
    for (let d = 0; d < D; d++) {
      const u = a[off + d]!, v = b[off + d]!;
      prod[d] = u * v;
      sq1[d] = u * u;
      sq2[d] = v * v;
    }
    const dot = torchRowSum(prod, 0, D);
    const m1 = torchRowSum(sq1, 0, D) + COSINE_EPS;
    const m2 = torchRowSum(sq2, 0, D) + COSINE_EPS;
    const cos = dot / Math.sqrt(m1 * m2);
    const yi = y[r]!;
    const neg = cos - margin;
    out[r] = (yi === 1 ? 1 - cos : 0) + (yi === -1 ? (neg < 0 ? 0 : neg) : 0);
  }
  return NONE;
}

/** Why these widths cannot work for margin_ranking (x1, x2, y one column each), or null. */
export function marginRankingWidthProblem(w: {
  readonly preds: { readonly width: number };
  readonly targets: { readonly width: number };
  readonly preds2?: { readonly width: number };
}): string | null {
  if (!w.preds2) return 'margin_ranking needs a second input column (x2)';
  if (w.preds.width !== 1 || w.preds2.width !== 1 || w.targets.width !== 1) {
    return `margin_ranking needs one x1, one x2 and one y column per row, got ${w.preds.width}, ${w.preds2.width} and ${w.targets.width}`;
  }
  return null;
}

/** Why these widths cannot work for cosine_embedding (x1 and x2 of equal width D, one y), or null. */
export function cosineEmbeddingWidthProblem(w: {
  readonly preds: { readonly width: number };
  readonly targets: { readonly width: number };
  readonly preds2?: { readonly width: number };
}): string | null {
  if (!w.preds2) return 'cosine_embedding needs a second input block (x2)';
  if (w.preds2.width !== w.preds.width) return `x1 has ${w.preds.width} values per row but x2 has ${w.preds2.width}`;
  if (w.targets.width !== 1) return `cosine_embedding needs one ±1 target per row, got ${w.targets.width} target values`;
  return null;
}
