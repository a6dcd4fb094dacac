/**
 * Class-index and class-probability losses: nll, cross_entropy
 * (losses.md §2.5–2.6). Predictions are C values per row; targets are one
 * integer class per row, or C probabilities (cross_entropy only).
 */
import { KernelError } from './kernel-error.js';
import type { Chunk, KernelStats } from './kernel.js';
import { log, rowShifts } from './elementary.js';

export interface ClassParams {
  /** Class weights (length C), or null. */
  readonly weight: readonly number[] | null;
  readonly ignoreIndex: number;
}

export interface CrossEntropyParams extends ClassParams {
  readonly labelSmoothing: number;
}

/**
 * The class of row r, or -1 for an ignored row (NaN ignore index: none);
 * throws KernelError for a non-integer or out-of-range class.
 */
export function classOf(y: Float64Array, r: number, C: number, ignoreIndex: number): number {
  const t = y[r]!;
  // PyTorch compares with ignore_index before the range check
  if (t === ignoreIndex) return -1;
  if (!Number.isInteger(t)) throw new KernelError('class index is not an integer', r, 'targets', 0);
  if (t < 0 || t >= C) throw new KernelError(`class index out of range [0, ${C})`, r, 'targets', 0);
  return t;
}

/**
 * ℓ_i = −w[y_i]·x[i, y_i]; ignored rows give 0 and weigh 0 in the mean's denominator Σ w[y_i].
 * nll([[-0.5,-1.2,-2.3]], [0]) = 0.5
 */
export function nllKernel(c: Chunk, p: ClassParams, out: Float64Array, den: Float64Array | null): KernelStats {
  const C = c.preds.width, x = c.preds.data, y = c.targets.data, w = p.weight;
  let ignored = 0;
  for (let r = 0; r < c.rows; r++) {
    const t = classOf(y, r, C, p.ignoreIndex);
    if (t < 0) {
      out[r] = 0;
      if (den) den[r] = 0;
      ignored++;
      continue;
    }
    const wt = w ? w[t]! : 1;
    out[r] = -x[r * C + t]! * wt;
    if (den) den[r] = wt;
  }
  return { ignored };
}

/** Per-thread scratch for log-probabilities, reused across chunks. */
let lpBuffer = new Float64Array(0);
function scratchLp(n: number): Float64Array {
  if (lpBuffer.length < n) lpBuffer = new Float64Array(n);
  return lpBuffer.subarray(0, n);
}

/** Per-thread scratch for the rows' shifts (max and log Σ exp(x − max)), reused across chunks. */
let shiftBuffer = new Float64Array(0);
/** Per-thread scratch for a list of row indices, reused across chunks. */
let rowBuffer = new Int32Array(0);
function scratchRows(n: number): Int32Array {
  if (rowBuffer.length < n) rowBuffer = new Int32Array(n);
  return rowBuffer;
}

/**
 * m_r = max of row r with NaN propagated, and ls_r = log Σ_k exp(x_rk − m_r): the shared part of
 * every lp_rc = (x_rc − m_r) − ls_r (as PyTorch; the max shift keeps logits of ±1000 finite).
 */
function rowShiftsOf(x: Float64Array, rows: number, C: number, only?: Int32Array): { m: Float64Array; ls: Float64Array } {
  if (shiftBuffer.length < 2 * rows) shiftBuffer = new Float64Array(2 * rows);
  const m = shiftBuffer.subarray(0, rows);
  const ls = shiftBuffer.subarray(rows, 2 * rows);
  rowShifts(x, rows, C, m, ls, only);
  if (only) for (const r of only) ls[r] = log(ls[r]!);
  else for (let r = 0; r < rows; r++) ls[r] = log(ls[r]!);
  return { m, ls };
}

/**
 * Class-index mode: exactly nll over the log-softmax, plus label smoothing:
 * ℓ_i = (1−ε)·w[y]·(−lp_y) + (ε/C)·Σ_c w_c·(−lp_c), ignored rows 0; mean over Σ w[y_i].
 * Probability mode (C target values): ℓ_i = −Σ_c (lp_c·t'_c)·w_c with t' = t·(1−ε) + ε/C;
 * mean over N.
 * cross_entropy([[1000, 0, -1000]], [1]) = 1000
 */
export function crossEntropyKernel(c: Chunk, p: CrossEntropyParams, out: Float64Array, den: Float64Array | null): KernelStats {
  const C = c.preds.width, x = c.preds.data, y = c.targets.data, w = p.weight;
  const eps = p.labelSmoothing, keep = 1 - eps, spread = eps / C;
  const lp = scratchLp(c.rows * C);
  if (c.targets.width !== C && eps === 0) {
    // nll reads only lp at the target class: compute just that one, for the rows with a valid,
    // not ignored class (ignored rows, often padding, cost nothing; nll validates the class)
    const valid = scratchRows(c.rows);
    let n = 0;
    for (let r = 0; r < c.rows; r++) {
      const t = y[r]!;
      if (Number.isInteger(t) && t >= 0 && t < C && t !== p.ignoreIndex) valid[n++] = r;
    }
    const { m, ls } = rowShiftsOf(x, c.rows, C, valid.subarray(0, n));
    for (let j = 0; j < n; j++) {
      const r = valid[j]!, off = r * C;
      lp[off + y[r]!] = x[off + y[r]!]! - m[r]! - ls[r]!;
    }
    return nllKernel({ rows: c.rows, preds: { data: lp, width: C }, targets: c.targets }, p, out, den);
  }
  const { m, ls } = rowShiftsOf(x, c.rows, C);
  for (let r = 0, off = 0; r < c.rows; r++, off += C) {
    const mr = m[r]!, lr = ls[r]!;
    for (let k = 0; k < C; k++) lp[off + k] = x[off + k]! - mr - lr;
  }
  if (c.targets.width === C) {
    for (let r = 0, off = 0; r < c.rows; r++, off += C) {
      let acc = 0;
      for (let k = 0; k < C; k++) {
        let t = y[off + k]!;
        if (eps > 0) t = t * keep + spread;
        acc += w ? lp[off + k]! * t * w[k]! : lp[off + k]! * t;
      }
      out[r] = -acc;
    }
    return { ignored: 0 };
  }
  const stats = nllKernel({ rows: c.rows, preds: { data: lp, width: C }, targets: c.targets }, p, out, den);
  if (eps > 0) {
    for (let r = 0, off = 0; r < c.rows; r++, off += C) {
      if (y[r] === p.ignoreIndex) continue;
      let smooth = 0;
      for (let k = 0; k < C; k++) smooth += w ? lp[off + k]! * w[k]! : lp[off + k]!;
      out[r] = keep * out[r]! + -smooth * spread;
    }
  }
  return stats;
}
