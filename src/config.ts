/** The resolved configuration of one run: what cli/program.ts produces and run.ts consumes. */
import type { LossSpec } from './losses/kernel.js';
import type { NanPolicy, Reduction } from './types.js';

export interface RunConfig {
  readonly preds: string;
  /** Second file, or null for one-file mode (targets from --target-cols). */
  readonly targets: string | null;
  readonly losses: readonly LossSpec[];
  readonly reduction: Reduction;
  readonly nanPolicy: NanPolicy;
  readonly predCols: string | null;
  readonly targetCols: string | null;
  readonly weightCols: string | null;
  readonly weightFile: string | null;
  /** gaussian_nll variance columns and the second input of margin_ranking / cosine_embedding, from the preds file. */
  readonly varCols: string | null;
  readonly pred2Cols: string | null;
  readonly header: boolean;
  /** Delimiter byte, or null for the default (tab for .tsv, else comma). */
  readonly delimiter: number | null;
  readonly workers: number;
  /** Rows per chunk, or null for the default (about 128 Ki values per chunk). */
  readonly chunkRows: number | null;
  /** A single CSV input without chunkRows: bytes per chunk, or null for the default (2 MiB). */
  readonly chunkBytes: number | null;
  /** Longest CSV row accepted, in bytes, or null for the default (256 MiB). */
  readonly maxRowBytes: number | null;
  readonly output: string | null;
  readonly json: boolean;
  readonly stateOut: string | null;
  readonly progress: boolean;
  /** --group-by: key column names (or 0-based indices without a header), comma-separated; null: none. */
  readonly groupBy?: string | null;
  /** --per-class: group by the target value. */
  readonly perClass?: boolean;
  /** --max-groups (default DEFAULT_MAX_GROUPS). */
  readonly maxGroups?: number;
  /** --bootstrap replicates (null: none), --seed, --row-offset; --ci is the printed interval. */
  readonly bootstrap?: number | null;
  readonly seed?: number;
  readonly rowOffset?: number;
  readonly ci?: number;
}

/** Distinct groups a run may hold before it stops with a data error (--max-groups). */
export const DEFAULT_MAX_GROUPS = 100_000;
