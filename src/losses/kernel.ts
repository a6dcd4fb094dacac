/**
 * The kernel interface. Kernels are pure functions over one chunk of rows:
 * no I/O, no pool code, no formatting. They run in the workers.
 */

/** A row-major float64 matrix: `rows × width` values. */
export interface Matrix {
  readonly data: Float64Array;
  readonly width: number;
}

/** One chunk of rows, split into the roles the losses read. */
export interface Chunk {
  readonly rows: number;
  readonly preds: Matrix;
  readonly targets: Matrix;
  readonly weights?: Matrix;
  /** gaussian_nll variances: one per row (width 1) or one per prediction value. */
  readonly vars?: Matrix;
  /** The second input of margin_ranking and cosine_embedding. */
  readonly preds2?: Matrix;
}

/** The roles a chunk can carry, in the order NaN checks and messages visit them. */
export const ROLES = ['preds', 'targets', 'weights', 'vars', 'preds2'] as const;
export type RoleName = (typeof ROLES)[number];

/** What a kernel reports besides its terms. */
export interface KernelStats {
  /** Rows left out of the reduction (ignore_index). */
  ignored: number;
}

/**
 * Fills `out` (rows × outWidth) with the per-element or per-row loss terms —
 * the values PyTorch's `reduction='none'` returns — and, for losses whose mean
 * has its own denominator, `den` (one term per row, summed exactly).
 */
export type KernelFn<P> = (chunk: Chunk, params: P, out: Float64Array, den: Float64Array | null) => KernelStats;

/** How `mean` divides: by the element count of the unreduced output, by rows, or by the exact sum of `den` terms. */
export type Denominator = 'elements' | 'rows' | 'den';

/** Parameter values after defaults and checks; plain data so it crosses to workers. */
export type ParamValue = number | boolean | readonly number[] | null;
export type Params = Readonly<Record<string, ParamValue>>;

/** A resolved loss: canonical name plus checked parameters. Plain data. */
export interface LossSpec {
  readonly name: string;
  readonly params: Params;
}
