/**
 * What crosses between the main thread and the workers: plain,
 * structured-clone-safe data. Buffers are transferred, not copied.
 */
import type { LossSpec } from '../losses/kernel.js';
import type { ExactSum } from '../reduce/exact-sum.js';
import type { InputPart, NanPolicy, Reduction } from '../types.js';

/** Where a role's values sit: input `input`, value positions [start, start + width) of each parsed row. */
export interface RoleRef {
  readonly input: number;
  readonly start: number;
  readonly width: number;
}

export interface InputInfo {
  /** File name for messages. */
  readonly file: string;
  /** Column name for messages, per value position of the parsed row (null: no header). */
  readonly columns: readonly (string | null)[];
}

/** Everything about a run the workers need; the same for every chunk. */
export interface Plan {
  readonly losses: readonly LossSpec[];
  readonly reduction: Reduction;
  readonly nanPolicy: NanPolicy;
  readonly inputs: readonly InputInfo[];
  readonly roles: {
    readonly preds: RoleRef;
    readonly targets: RoleRef;
    readonly weights?: RoleRef;
    readonly vars?: RoleRef;
    readonly preds2?: RoleRef;
  };
  /** Reduction none with CSV output: workers format the rows as CSV text. */
  readonly rowsAsCsv: boolean;
  /** --group-by / --per-class: how each row's key is made (pool/groups.ts). */
  readonly groups?: GroupPlan;
  /** --bootstrap: replicates, seed, and the global index of the input's first row (--row-offset). */
  readonly bootstrap?: { readonly replicates: number; readonly seed: number; readonly rowOffset: number };
}

/** Where each key column of --group-by is: input `input`, key position `pos` of that input's part. */
export interface GroupPlan {
  /** --group-by columns in order (empty with perClass) */
  readonly refs: readonly { readonly input: number; readonly pos: number }[];
  /** --per-class: the key is the row's target value */
  readonly perClass: boolean;
  /** --max-groups */
  readonly max: number;
  /** For messages: the file of the first key column. */
  readonly file: string;
}

/** One chunk's groups: keys (pool/groups.ts), and per group its rows and one partial per loss. */
export interface GroupPartials {
  readonly keys: readonly string[];
  readonly rows: readonly number[];
  readonly partials: readonly (readonly LossPartial[])[];
}

export interface ChunkTask {
  readonly seq: number;
  /** null: a single CSV part cut by bytes, whose rows the parse counts */
  readonly rows: number | null;
  /** 0-based index of the chunk's first row among all data rows (null when not known yet). */
  readonly firstRow: number | null;
  readonly parts: readonly InputPart[];
  readonly plan: Plan;
}

/** One loss's partial result for one chunk: exact sums and counts, never a mean. */
export interface LossPartial {
  readonly num: ExactSum;
  readonly den: ExactSum;
  readonly elements: number;
  readonly ignored: number;
  /** --bootstrap: each replicate's exact weighted numerator and denominator */
  readonly boot?: BootPartial;
}

export interface BootPartial {
  readonly num: readonly ExactSum[];
  readonly den: readonly ExactSum[];
}

export interface TaskError {
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  /** `line` counts from the chunk's first line (its part's firstLine was null) */
  readonly relativeLine?: true;
  readonly row?: number;
  readonly column?: string;
  /** the offending value as written (for --json errors; the message quotes it too) */
  readonly value?: string;
}

export type TaskResult =
  | {
      readonly ok: true;
      readonly seq: number;
      /** Rows that reached the kernels (after --nan-policy omit). */
      readonly rows: number;
      readonly omitted: number;
      /** A chunk of one CSV input: the newlines it spans. */
      readonly lines?: number;
      /** Blank lines skipped, per input part (absent when none). */
      readonly blankLines?: readonly number[];
      readonly nanValues: number;
      readonly partials: readonly LossPartial[];
      /** --group-by / --per-class (mean, sum): the chunk's groups */
      readonly groups?: GroupPartials;
      /** Reduction none: CSV text of the output rows (rowsAsCsv) … */
      readonly csv?: Uint8Array;
      /** … or the output columns. */
      readonly columns?: readonly Float64Array[];
      /** The chunk's CSV byte buffers, handed back from a worker for reuse. */
      readonly recycled?: readonly ArrayBuffer[];
    }
  | { readonly ok: false; readonly seq: number; readonly error: TaskError };
