/**
 * `evaluate()`: everything the CLI does, for programs. Options are the CLI's in
 * camelCase and are checked by the very same code (they are turned into the
 * command line and parsed by cli/program.ts), so a bad option is the same
 * UsageError with the same text. Inputs may be paths, byte streams, arrays
 * already in memory or apache-arrow tables; the answer is bit-identical to the
 * CLI's on the same values.
 */
import { Readable as ReadableStream } from 'node:stream';
import { parseCommandLine } from '../cli/program.js';
import type { RunConfig } from '../config.js';
import { run, summaryState, runWarnings, type InputSummary, type ProgressInfo, type RunHooks, type RunSummary } from '../run.js';
import { lossDef, type LossOptions } from '../losses/registry.js';
import type { LossSpec } from '../losses/kernel.js';
import { roundQuotient, roundSum, type ExactSum } from '../reduce/exact-sum.js';
import { writeStateFile, type LossevalState, type LossStateData } from '../reduce/state.js';
import { bootStats, lossValue } from '../write/result.js';
import { keyParts, partJson } from '../reduce/keys.js';
import { openStream } from '../read/source.js';
import { openTable, type Table } from '../read/table.js';
import { columnFromJs, columnFromMatrix, isNumericArray, memoryTable, type NumericArray } from '../read/memory.js';
import type { RowSink } from '../write/rows.js';
import { UsageError } from '../errors.js';
import type { NanPolicy, Reduction } from '../types.js';

export type { ProgressInfo, InputSummary } from '../run.js';
export type { NumericArray } from '../read/memory.js';

/** A loss with its own options: `{ name: 'cross_entropy', labelSmoothing: 0.1 }`. */
export interface LossSpecInput extends LossOptions {
  /** Any name the CLI's `--loss` takes: `smooth_l1`, `SmoothL1Loss`, `ce`, … */
  readonly name: string;
}

/** A loss by name, or with its own options. */
export type LossInput = string | LossSpecInput;

/** A row-major matrix: `values.length / width` rows of `width` values (logits, K targets per row). */
export interface Matrix {
  readonly values: NumericArray;
  readonly width: number;
}

/** What an apache-arrow `Table` looks like to losseval (serialised with apache-arrow's `tableToIPC`). */
export interface ArrowTableLike {
  readonly schema: unknown;
  readonly batches: readonly unknown[];
  readonly numRows: number;
}

/** What an apache-arrow `Vector` looks like to losseval: one column. */
export interface ArrowVectorLike {
  readonly type: unknown;
  readonly data: readonly unknown[];
  readonly length: number;
}

/**
 * One input: a file path (CSV, TSV, Arrow IPC file or stream, NumPy .npy, gzipped or not, or
 * Parquet), a byte stream of such a file (Parquet is spooled to a temporary file first), a typed
 * array or `number[]` (one column), a `number[][]` or {@link Matrix} (one vector per row), or an
 * apache-arrow `Table` / `Vector`. Typed arrays (a `Uint8Array` too) are values, never
 * file bytes: wrap bytes in a stream (`Readable.from([bytes])`).
 */
export type InputData =
  | string
  | NodeJS.ReadableStream | AsyncIterable<Uint8Array>
  | NumericArray | readonly number[] | readonly (readonly number[])[]
  | Matrix
  | ArrowTableLike | ArrowVectorLike;

/** Column lists as the CLI takes them (`'logit_*,bias'`) or as arrays of names, globs or indices. */
export type ColumnList = string | readonly (string | number)[];

/** The options of a run: the CLI's, in camelCase, with the CLI's defaults. */
export interface EvaluateOptions extends LossOptions {
  /** A loss, or several computed in one pass; options given here apply to every loss that takes them. */
  readonly loss: LossInput | readonly LossInput[];
  readonly preds: InputData;
  /** Row-aligned targets; without them, `targetCols` picks the targets from `preds`. */
  readonly targets?: InputData;
  /** `--weight-file`: per-row or element-wise weights, row-aligned with the targets. */
  readonly weightFile?: InputData;
  readonly predCols?: ColumnList;
  readonly targetCols?: ColumnList;
  readonly weightCols?: ColumnList;
  readonly varCols?: ColumnList;
  readonly pred2Cols?: ColumnList;
  /** `mean` (default), `sum`, `none` (per-row losses) or `batchmean` (kl_div). */
  readonly reduction?: Reduction;
  /** `propagate` (default, as PyTorch), `omit` the rows, or `raise` an error. */
  readonly nanPolicy?: NanPolicy;
  /** CSV inputs have a header row (default true). */
  readonly header?: boolean;
  /** CSV delimiter, one character (default: tab for .tsv, else comma). */
  readonly delimiter?: string;
  /** Worker threads (default: available parallelism). Inputs of one chunk run in the calling thread. */
  readonly workers?: number;
  readonly chunkRows?: number;
  readonly chunkBytes?: number;
  readonly maxRowBytes?: number;
  /** Reduction none: write the per-row losses to this .csv or .arrow file instead of returning them. */
  readonly output?: string;
  /** Also write the exact, mergeable state (mean/sum) to this file. */
  readonly stateOut?: string;
  /** Cancels the run between chunks: it rejects with the signal's reason and leaves no output file. */
  readonly signal?: AbortSignal;
  /** Called after every chunk, in input order, and once at the end with the final counts. */
  readonly onProgress?: (p: ProgressInfo) => void;
  /**
   * `--group-by`: key columns (text, integers, booleans) of the predictions input (or the single
   * input), else of the targets; the result's `groups` then holds one result per group. Inputs
   * given as typed arrays have no key columns: pass an apache-arrow Table holding them.
   */
  readonly groupBy?: ColumnList;
  /** `--per-class`: one result per target class. */
  readonly perClass?: boolean;
  readonly maxGroups?: number;
  /** `--bootstrap`: replicates of a Poisson(1) bootstrap; each loss (and group) gets `bootstrap`. */
  readonly bootstrap?: number;
  /** Interval level (default 0.95). */
  readonly ci?: number;
  /** Bootstrap seed, 0..2^32-1 (default 0). */
  readonly seed?: number;
  /** The global index of the input's first row, for bootstrap shards (default 0). */
  readonly rowOffset?: number;
}

/** A loss's bootstrap figures: standard error and percentile interval at `ci`. */
export interface BootstrapResult {
  readonly se: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly ci: number;
  readonly replicates: number;
  /** replicates with a defined value (one that drew no row of a small group has none) */
  readonly replicatesUsed: number;
  readonly seed: number;
}

/** One group's results (groupBy / perClass), in the CLI's key order. */
export interface GroupResult {
  /** Key column → value: text, a number, a boolean, or null (missing). */
  readonly key: Readonly<Record<string, string | number | boolean | null>>;
  readonly rows: number;
  readonly losses: readonly GroupLossResult[];
}

export interface GroupLossResult {
  readonly name: string;
  readonly value: number;
  readonly exactSum: ExactSum;
  readonly exactDenominator: ExactSum;
  readonly elements: number;
  readonly ignoredRows: number;
  readonly bootstrap?: BootstrapResult;
}

/** One loss's result. */
export interface LossResult {
  /** Canonical name, as the CLI prints it (`smooth_l1`). */
  readonly name: string;
  /** PyTorch's functional name (`smooth_l1_loss`). */
  readonly torch: string;
  /** The loss's options after defaults, in camelCase. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The reduced value as the CLI prints it: correctly rounded mean (sum, batchmean) of the exact sums. For `none`: the mean. */
  readonly value: number;
  /** The exact sum of the terms, correctly rounded. */
  readonly sum: number;
  /** The exact sum of the terms, unrounded (for mergeSums / roundQuotient). */
  readonly exactSum: ExactSum;
  /** The exact denominator of the mean (elements, rows or Σ weights, by the loss's rule). */
  readonly exactDenominator: ExactSum;
  readonly elements: number;
  /** Rows left out by ignore_index. */
  readonly ignoredRows: number;
  /** Reduction none without `output`: the per-row losses, row-major, `width` per row. */
  readonly rows?: Float64Array;
  /** Values per row in `rows`: 1, or K for an element-wise loss over K columns. */
  readonly width?: number;
  /** Column names of `rows` (as in the CLI's CSV header). */
  readonly columns?: readonly string[];
  /** With `bootstrap`: standard error and interval. */
  readonly bootstrap?: BootstrapResult;
}

export interface EvaluateResult {
  readonly reduction: Reduction;
  /** In the order asked. */
  readonly losses: readonly LossResult[];
  /** Rows that reached the kernels (after nanPolicy omit). */
  readonly rows: number;
  readonly nanValues: number;
  readonly omittedRows: number;
  readonly inputs: readonly InputSummary[];
  /** The selected column names per role. */
  readonly columns: Readonly<Record<string, readonly string[]>>;
  /** The exact state (`mergeStates`, `writeStateFile`); null for reduction none. */
  readonly state: LossevalState | null;
  /** What the CLI prints as warnings (options no chosen loss uses, NaN counts). */
  readonly warnings: readonly string[];
  /** groupBy / perClass (mean, sum): every group in key order. */
  readonly groups?: readonly GroupResult[];
}

type Role = 'preds' | 'targets' | 'weights';

function isStream(v: unknown): v is AsyncIterable<Uint8Array> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

function isMatrix(v: unknown): v is Matrix {
  return typeof v === 'object' && v !== null && 'values' in v && 'width' in v && isNumericArray((v as Matrix).values);
}

function isArrowTable(v: unknown): v is ArrowTableLike {
  return typeof v === 'object' && v !== null && 'schema' in v && 'batches' in v;
}

function isArrowVector(v: unknown): v is ArrowVectorLike {
  return typeof v === 'object' && v !== null && 'type' in v && 'data' in v && Array.isArray((v as ArrowVectorLike).data);
}

/** How an input is opened: a path goes on the command line; anything else becomes a table opener. */
function opener(role: Role, data: InputData, dialect: { header: boolean; delimiter: number | null; maxRowBytes: number | null }): (() => Promise<Table>) | null {
  const name = `<${role}>`;
  if (typeof data === 'string') return null;
  if (isNumericArray(data)) return () => Promise.resolve(memoryTable(name, [{ name: role, values: data, width: 1 }]));
  if (Array.isArray(data)) return () => Promise.resolve(memoryTable(name, [columnFromJs(role, data as readonly unknown[])]));
  if (isMatrix(data)) return () => Promise.resolve(memoryTable(name, [columnFromMatrix(role, data.values, data.width)]));
  if (isArrowTable(data) || isArrowVector(data)) {
    return async () => {
      const arrow = await import('apache-arrow');
      const table = isArrowTable(data) ? data as unknown as InstanceType<typeof arrow.Table> : new arrow.Table({ [role]: data as never });
      const bytes = arrow.tableToIPC(table, 'stream');
      return openTable(await openStream((async function* () { yield bytes; })(), name), dialect);
    };
  }
  if (isStream(data)) return async () => openTable(await openStream(data, name), dialect);
  throw new UsageError(`${role}: not an input (a path, a byte stream, a typed array, number[], number[][], { values, width } or an apache-arrow Table/Vector)`);
}

/** A number as the command line writes it (exactly: String() of a double parses back to it). */
function num(v: number): string {
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

const LOSS_OPTION_KEYS = ['beta', 'delta', 'weight', 'posWeight', 'ignoreIndex', 'labelSmoothing', 'logTarget', 'logInput', 'full', 'eps', 'margin', 'p'] as const;

function flag(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Loss options as command-line arguments. */
function lossArgs(o: LossOptions): string[] {
  const args: string[] = [];
  for (const key of LOSS_OPTION_KEYS) {
    const v = o[key];
    if (v === undefined) continue;
    if (key === 'logTarget' || key === 'full') {
      if (typeof v !== 'boolean') throw new UsageError(`${flag(key)} must be true or false (got ${JSON.stringify(v)})`);
      if (v) args.push(flag(key));
    } else if (key === 'logInput') {
      if (typeof v !== 'boolean') throw new UsageError(`--log-input must be true or false (got ${JSON.stringify(v)})`);
      if (!v) args.push('--no-log-input');
    } else if (key === 'weight' || key === 'posWeight') {
      const list = Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v as ArrayLike<number>, num).join(',') : String(v);
      args.push(`${flag(key)}=${list}`);
    } else {
      args.push(`${flag(key)}=${num(v as number)}`);
    }
  }
  return args;
}

function columnArg(key: string, v: ColumnList | undefined): string[] {
  if (v === undefined) return [];
  return [`${flag(key)}=${typeof v === 'string' ? v : v.map(String).join(',')}`];
}

function lossName(l: LossInput): string {
  if (typeof l === 'string') return l;
  if (typeof l !== 'object' || l === null || typeof l.name !== 'string') {
    throw new UsageError(`--loss: a loss is a name or { name, ...options } (got ${JSON.stringify(l)})`);
  }
  return l.name;
}

/** The command line that means the same run (inputs given as data get a placeholder name). */
function commandLine(o: EvaluateOptions, losses: readonly LossInput[], paths: string[]): string[] {
  const args = ['-l', losses.map(lossName).join(','), ...lossArgs(o)];
  if (o.reduction !== undefined) args.push(`--reduction=${String(o.reduction)}`);
  if (o.nanPolicy !== undefined) args.push(`--nan-policy=${String(o.nanPolicy)}`);
  args.push(...columnArg('predCols', o.predCols), ...columnArg('targetCols', o.targetCols), ...columnArg('weightCols', o.weightCols),
    ...columnArg('varCols', o.varCols), ...columnArg('pred2Cols', o.pred2Cols));
  if (o.header === false) args.push('--no-header');
  if (o.delimiter !== undefined) args.push(`--delimiter=${String(o.delimiter)}`);
  for (const key of ['workers', 'chunkRows', 'chunkBytes', 'maxRowBytes'] as const) {
    if (o[key] !== undefined) args.push(`${flag(key)}=${num(o[key])}`);
  }
  if (o.output !== undefined) args.push(`--output=${o.output}`);
  args.push(...columnArg('groupBy', o.groupBy));
  if (o.perClass !== undefined) {
    if (typeof o.perClass !== 'boolean') throw new UsageError(`--per-class must be true or false (got ${JSON.stringify(o.perClass)})`);
    if (o.perClass) args.push('--per-class');
  }
  for (const key of ['maxGroups', 'bootstrap', 'ci', 'seed', 'rowOffset'] as const) {
    if (o[key] !== undefined) args.push(`${flag(key)}=${num(o[key])}`);
  }
  if (o.stateOut !== undefined) args.push(`--state-out=${o.stateOut}`);
  if (o.weightFile !== undefined) args.push(`--weight-file=${paths[2]!}`);
  args.push('--no-progress', '--', paths[0]!, ...(o.targets !== undefined ? [paths[1]!] : []));
  return args;
}

function parseRun(args: string[]): { config: RunConfig; warnings: string[] } {
  const cmd = parseCommandLine(args, false, () => undefined);
  if (cmd.kind !== 'run') throw new Error(`internal: evaluate() parsed as ${cmd.kind}`);
  return cmd;
}

/** Per-row losses collected in memory: one Float64Array per output column, joined at the end. */
class MemorySink implements RowSink {
  readonly format = 'arrow' as const;
  private readonly parts: Float64Array[][];
  private rows = 0;
  result: Float64Array[] | null = null;

  constructor(readonly header: readonly string[], readonly widths: readonly number[]) {
    this.parts = header.map(() => []);
  }

  writeCsv(): Promise<void> {
    return Promise.reject(new Error('internal: CSV bytes for an in-memory sink'));
  }

  writeColumns(columns: readonly Float64Array[], rows: number): Promise<void> {
    columns.forEach((c, i) => this.parts[i]!.push(c.length === rows ? c : c.subarray(0, rows)));
    this.rows += rows;
    return Promise.resolve();
  }

  commit(): Promise<void> {
    this.result = this.parts.map((ps) => {
      const out = new Float64Array(this.rows);
      let at = 0;
      for (const p of ps) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    });
    return Promise.resolve();
  }

  abort(): Promise<void> {
    this.parts.forEach((p) => (p.length = 0));
    return Promise.resolve();
  }
}

/**
 * Evaluate one or more losses over predictions and targets, exactly as the CLI does.
 *
 * ```ts
 * const r = await evaluate({ loss: 'smoothl1', preds: 'preds.arrow', targets: 'targets.arrow' });
 * r.losses[0].value; // 0.20862989095875725
 * ```
 * @throws UsageError for a bad option or input form, DataError for bad data (file, line, column, value).
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  if (typeof options !== 'object' || options === null) throw new UsageError('evaluate() takes an options object');
  const losses: readonly LossInput[] = Array.isArray(options.loss) ? options.loss : [options.loss as LossInput];
  if (options.loss === undefined || losses.length === 0) throw new UsageError('missing required option --loss');
  if (options.preds === undefined) throw new UsageError('missing the predictions (preds)');
  const given: [Role, InputData | undefined][] = [['preds', options.preds], ['targets', options.targets], ['weights', options.weightFile]];
  const paths = given.map(([role, d]) => (typeof d === 'string' ? d : `<${role}>`));
  const { config: parsed, warnings } = parseRun(commandLine(options, losses, paths));
  // a loss's own options: parsed the same way, over the run's options
  const specs: LossSpec[] = losses.map((l, i) => {
    if (typeof l === 'string') return parsed.losses[i]!;
    const own = parseRun(['-l', l.name, ...lossArgs(options), ...lossArgs(l), '--', paths[0]!]);
    warnings.push(...own.warnings);
    return own.config.losses[0]!;
  });
  const config: RunConfig = { ...parsed, losses: specs };
  const dialect = { header: config.header, delimiter: config.delimiter, maxRowBytes: config.maxRowBytes };
  const tables: RunHooks['tables'] = {};
  for (const [role, d] of given) {
    if (d === undefined) continue;
    const open = opener(role, d, role === 'weights' ? { header: true, delimiter: null, maxRowBytes: config.maxRowBytes } : dialect);
    if (open) tables[role] = open;
  }
  let sink: MemorySink | null = null;
  const hooks: RunHooks = {
    tables,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    rowSink: (header, widths) => (sink = new MemorySink(header, widths)),
  };
  // standard input only when a path says '-' (touching process.stdin opens it)
  const stdin = paths.includes('-') ? process.stdin : ReadableStream.from([]);
  const summary = await run(config, { stdin, stdout: process.stdout, stderr: process.stderr, stderrIsTTY: false }, hooks);
  const state = summaryState(config, summary);
  if (config.stateOut !== null) await writeStateFile(config.stateOut, state);
  return result(config, summary, state, sink, [...warnings, ...runWarnings(config, summary)]);
}

function result(config: RunConfig, s: RunSummary, state: LossevalState, sink: MemorySink | null, warnings: string[]): EvaluateResult {
  const rows = (sink as MemorySink | null)?.result ?? null;
  let col = 0;
  const losses = s.losses.map((l, i): LossResult => {
    const def = lossDef(l.spec.name);
    const value = config.reduction === 'sum' ? roundSum(l.num) : roundQuotient(l.num, l.den);
    const base = {
      name: def.name, torch: def.torch, params: l.spec.params, value, sum: roundSum(l.num),
      exactSum: l.num, exactDenominator: l.den, elements: l.elements, ignoredRows: l.ignored,
    };
    if (rows === null || sink === null) return base;
    const { header, widths } = sink as MemorySink;
    const width = widths[i]!;
    const cols = rows.slice(col, col + width);
    const names = header.slice(col, col + width);
    col += width;
    return { ...base, rows: width === 1 ? cols[0]! : interleave(cols, s.rows), width, columns: names };
  });
  const reduction = state.config.reduction;
  const boot = (l: LossStateData): { bootstrap?: BootstrapResult } => {
    if (!l.boot || !state.config.bootstrap) return {};
    const b = bootStats(l, reduction, state.ci ?? 0.95);
    return {
      bootstrap: {
        se: b.se, ciLow: b.low, ciHigh: b.high, ci: state.ci ?? 0.95, replicates: state.config.bootstrap.replicates,
        replicatesUsed: b.used, seed: state.config.bootstrap.seed,
      },
    };
  };
  const keyCols = state.config.group_by ?? [];
  const groups = config.reduction === 'none' ? undefined : state.groups?.map((g): GroupResult => {
    const parts = keyParts(g.key, keyCols.length);
    const key: Record<string, string | number | boolean | null> = {};
    keyCols.forEach((k, i) => (key[k] = partJson(parts[i]!)));
    return {
      key, rows: g.rows,
      losses: g.losses.map((l) => ({
        name: l.name, value: lossValue(l, reduction), exactSum: l.num, exactDenominator: l.den,
        elements: l.elements, ignoredRows: l.ignored_rows, ...boot(l),
      })),
    };
  });
  return {
    reduction: config.reduction, losses: losses.map((l, i) => ({ ...l, ...boot(state.losses[i]!) })), rows: s.rows, nanValues: s.nanValues,
    omittedRows: s.omittedRows, inputs: s.inputs, columns: s.columns, state: config.reduction === 'none' ? null : state, warnings,
    ...(groups ? { groups } : {}),
  };
}

function interleave(cols: readonly Float64Array[], rows: number): Float64Array {
  const w = cols.length;
  const out = new Float64Array(rows * w);
  cols.forEach((c, k) => {
    for (let r = 0; r < rows; r++) out[r * w + k] = c[r]!;
  });
  return out;
}
