/**
 * Orchestration only: open the inputs, resolve columns to roles, cut the rows
 * into chunks, run them on the pool, merge the exact partials in order, and
 * write per-row output. Throws LossevalError; never exits.
 */
import { promises as fsp } from 'node:fs';
import { DEFAULT_MAX_GROUPS, type RunConfig } from './config.js';
import { isGzip, openSource, sniffFormat } from './read/source.js';
import { openTable, type Table, type TablePart } from './read/table.js';
import { CsvCutError } from './read/csv-cut.js';
import { selectColumns, remainingColumns } from './read/columns.js';
import { createPool, type KernelPool } from './pool/pool.js';
import { prepareChunk, recyclable, runChunk } from './pool/chunk.js';
import { recycleBuffer } from './read/spare.js';
import { OrderedWindow } from './pool/ordered.js';
import type { BootPartial, ChunkTask, InputInfo, LossPartial, Plan, RoleRef, TaskResult } from './pool/task.js';
import type { InputPart } from './types.js';
import { LOSS_NAMES, lossDef, type LossDef, type RoleWidths } from './losses/registry.js';
import { ROLES, type LossSpec, type RoleName } from './losses/kernel.js';
import { mergeSums, ZERO_SUM, type ExactSum } from './reduce/exact-sum.js';
import type { LossevalState } from './reduce/state.js';
import { compareKeys } from './reduce/keys.js';
import { BOOT_GENERATOR } from './reduce/bootstrap.js';
import { addBoot } from './pool/chunk.js';
import { checkWritableDir, openRowSink, rowOutputFormat, type RowSink } from './write/rows.js';
import { ProgressLine, progressOf, type OnProgress } from './write/progress.js';
import { DataError, UsageError } from './errors.js';

export interface RunIO {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stderrIsTTY: boolean;
  /** stdout is a terminal: grouped results print as an aligned table (else TSV) */
  readonly stdoutIsTTY?: boolean;
}

/** How far a run has got (write/progress.ts): input bytes read of totalBytes (null when a size is unknown), rows done. */
export type { ProgressInfo } from './write/progress.js';

/** What a library caller adds to a run (see api/evaluate.ts); the CLI uses none of it. */
export interface RunHooks {
  /** Tables to read instead of opening the paths of config.preds / targets / weightFile. */
  readonly tables?: Partial<Record<'preds' | 'targets' | 'weights', () => Promise<Table>>>;
  /** Stops the run between chunks (the error is the signal's reason); no output is left. */
  readonly signal?: AbortSignal;
  /** Called after every chunk in input order, and once at the end with the final counts. */
  readonly onProgress?: OnProgress;
  /** Reduction none without config.output: the per-row losses go here instead of to stdout (widths: output values per row, per loss). */
  readonly rowSink?: (header: readonly string[], widths: readonly number[]) => RowSink;
}

/** The warnings a finished run gives (stderr for the CLI, `warnings` for evaluate()). */
export function runWarnings(config: RunConfig, s: RunSummary): string[] {
  if (s.nanValues === 0) return [];
  if (config.nanPolicy === 'omit') return [`omitted ${s.omittedRows} rows holding ${s.nanValues} NaN values`];
  return [`${s.nanValues} NaN values in the input; rows holding them give nan, as in PyTorch`];
}

/** One loss's merged state: exact numerator and denominator, counts. */
export interface LossState {
  readonly spec: LossSpec;
  num: ExactSum;
  den: ExactSum;
  elements: number;
  ignored: number;
  /** --bootstrap: replicate sums */
  boot?: BootPartial;
}

export interface InputSummary {
  readonly file: string;
  readonly format: Table['format'];
  readonly gzip: boolean;
  readonly bytes: number | null;
  readonly columns: readonly string[];
  /** CSV: blank lines skipped (two or more columns) */
  readonly blankLines?: number;
}

/** One group's merged state (--group-by, --per-class): its rows and one state per loss. */
export interface GroupState {
  rows: number;
  readonly losses: { num: ExactSum; den: ExactSum; elements: number; ignored: number; boot?: BootPartial }[];
}

export interface RunSummary {
  /** --group-by / --per-class: the key column names, and each group's state by key (reduce/keys.ts) */
  readonly groups?: { readonly columns: readonly string[]; readonly entries: ReadonlyMap<string, GroupState> };
  readonly rows: number;
  readonly nanValues: number;
  readonly omittedRows: number;
  readonly losses: readonly LossState[];
  readonly inputs: readonly InputSummary[];
  /** Selected column names per role (0-based indices without a header). */
  readonly columns: Readonly<Record<string, readonly string[]>>;
}

/** The run's exact state, as --state-out writes it and the result is printed from. */
export function summaryState(config: RunConfig, s: RunSummary): LossevalState {
  const g = s.groups;
  const R = config.bootstrap ?? 0;
  const emptyBoot = (): BootPartial => ({ num: Array(R).fill(ZERO_SUM), den: Array(R).fill(ZERO_SUM) });
  const lossData = (ls: readonly { num: ExactSum; den: ExactSum; elements: number; ignored: number; boot?: BootPartial }[]) =>
    ls.map((l, i) => ({
      name: config.losses[i]!.name, num: l.num, den: l.den, elements: l.elements, ignored_rows: l.ignored,
      ...(R > 0 ? { boot: l.boot ?? emptyBoot() } : {}),
    }));
  const rowsRead = s.rows + s.omittedRows;
  return {
    ...(R > 0 ? { ci: config.ci ?? 0.95 } : {}),
    config: {
      losses: config.losses,
      reduction: config.reduction === 'none' ? 'mean' : config.reduction,
      nan_policy: config.nanPolicy,
      columns: s.columns,
      ...(g ? { group_by: g.columns, ...(config.perClass ? { per_class: true } : {}) } : {}),
      ...(R > 0 ? { bootstrap: { replicates: R, seed: config.seed ?? 0, generator: BOOT_GENERATOR } } : {}),
    },
    ...(g ? {
      groups: [...g.entries].sort((a, b) => compareKeys(a[0], b[0], g.columns.length))
        .map(([key, v]) => ({ key, rows: v.rows, losses: lossData(v.losses) })),
    } : {}),
    rows: s.rows,
    nan_values: s.nanValues,
    omitted_rows: s.omittedRows,
    losses: lossData(s.losses),
    provenance: [{
      ...(R > 0 ? { row_range: [config.rowOffset ?? 0, (config.rowOffset ?? 0) + rowsRead] as const } : {}),
      inputs: s.inputs.map(({ file, format, gzip, bytes, blankLines }) => (
        { file, format, gzip, bytes, ...(blankLines !== undefined ? { blank_lines: blankLines } : {}) })),
      rows: s.rows,
    }],
  };
}


/** Which columns of which input make up each role. */
interface Selection {
  /** Per input: column indices, in the order their values appear in a parsed row. */
  readonly fields: number[][];
  readonly roles: Partial<Record<RoleName, { input: number; columns: number[] }>>;
  /** Per input: --group-by key columns it holds, in key order. */
  readonly keyFields: number[][];
  /** --group-by columns in order: where each is (input, position in keyFields[input]), and its name. */
  readonly keys: { input: number; pos: number; name: string }[];
}

/**
 * --group-by columns: each is looked up in the predictions file (or the single input) first,
 * then in the targets file. They are not prediction or target columns by default.
 */
function selectKeys(config: RunConfig, tables: Table[]): Pick<Selection, 'keyFields' | 'keys'> {
  const keyFields: number[][] = tables.map(() => []);
  const keys: Selection['keys'] = [];
  if (!config.groupBy) return { keyFields, keys };
  const dataTables = config.targets !== null ? 2 : 1;
  for (const item of config.groupBy.split(',')) {
    let found = false;
    for (let i = 0; i < dataTables && !found; i++) {
      const t = tables[i]!;
      let cols: number[];
      try {
        cols = selectColumns(item, t.columns, '--group-by', t.name);
      } catch (e) {
        if (i + 1 < dataTables) continue;
        const memory = tables.slice(0, dataTables).find((x) => x.format === 'memory');
        if (memory) throw new UsageError(`--group-by: arrays given to evaluate() have no key columns (${memory.name}): pass an apache-arrow Table holding the key column '${item.trim()}'`);
        if (dataTables === 2) throw new UsageError(`--group-by: no column '${item.trim()}' in ${tables[0]!.name} or ${t.name}`);
        throw e;
      }
      if (!t.checkKeys) {
        throw new UsageError(t.format === 'memory'
          ? `--group-by: arrays given to evaluate() have no key columns (${t.name}): pass an apache-arrow Table holding the key column`
          : `--group-by: ${t.format} inputs have no group key columns (${t.name}): use CSV, Arrow or Parquet`);
      }
      t.checkKeys(cols, '--group-by');
      for (const c of cols) {
        if (keyFields[i]!.includes(c)) throw new UsageError(`--group-by: column '${colName(t, c)}' given twice`);
        keys.push({ input: i, pos: keyFields[i]!.length, name: colName(t, c) });
        keyFields[i]!.push(c);
      }
      found = true;
    }
  }
  return { keyFields, keys };
}

function colName(t: Table, i: number): string {
  return t.columns[i]!.name ?? String(i);
}

function select(config: RunConfig, tables: Table[]): Selection {
  const preds = tables[0]!;
  const fields: number[][] = tables.map(() => []);
  const { keyFields, keys } = selectKeys(config, tables);
  const predKeys = keyFields[0]!, targetKeys = keyFields[1] ?? [];
  const roles: Selection['roles'] = {};
  const take = (role: RoleName, input: number, columns: number[]): void => {
    roles[role] = { input, columns };
    fields[input]!.push(...columns);
  };
  const pick = (list: string, t: Table, option: string): number[] => selectColumns(list, t.columns, option, t.name);
  // variances and second inputs always come from the predictions file
  const varCols = config.varCols !== null ? pick(config.varCols, preds, '--var-cols') : [];
  const pred2Cols = config.pred2Cols !== null ? pick(config.pred2Cols, preds, '--pred2-cols') : [];
  if (config.targets === null) {
    if (config.targetCols === null) {
      throw new UsageError('one input file: say which columns are targets with --target-cols (or give a targets file)');
    }
    const targetCols = pick(config.targetCols, preds, '--target-cols');
    const weightCols = config.weightCols !== null ? pick(config.weightCols, preds, '--weight-cols') : [];
    const predCols = config.predCols !== null
      ? pick(config.predCols, preds, '--pred-cols')
      : remainingColumns(preds.columns, [...targetCols, ...weightCols, ...varCols, ...pred2Cols, ...predKeys]);
    if (predCols.length === 0) throw new UsageError(`${preds.name}: no columns left for predictions`);
    take('preds', 0, predCols);
    take('targets', 0, targetCols);
    if (weightCols.length) take('weights', 0, weightCols);
  } else {
    const targets = tables[1]!;
    const weightCols = config.weightCols !== null ? pick(config.weightCols, targets, '--weight-cols') : [];
    const predCols = config.predCols !== null
      ? pick(config.predCols, preds, '--pred-cols')
      : remainingColumns(preds.columns, [...varCols, ...pred2Cols, ...predKeys]);
    const targetCols = config.targetCols !== null
      ? pick(config.targetCols, targets, '--target-cols')
      : remainingColumns(targets.columns, [...weightCols, ...targetKeys]);
    if (predCols.length === 0) throw new UsageError(`${preds.name}: no columns to read predictions from`);
    if (targetCols.length === 0) throw new UsageError(`${targets.name}: no columns to read targets from`);
    take('preds', 0, predCols);
    take('targets', 1, targetCols);
    if (weightCols.length) take('weights', 1, weightCols);
  }
  if (config.weightFile !== null) {
    const wi = tables.length - 1;
    take('weights', wi, remainingColumns(tables[wi]!.columns, []));
  }
  if (varCols.length) take('vars', 0, varCols);
  if (pred2Cols.length) take('preds2', 0, pred2Cols);
  return { fields, roles, keyFields, keys };
}

function buildPlan(
  config: RunConfig, tables: Table[], sel: Selection, widths: number[][], rowsAsCsv: boolean,
): Plan {
  // value positions of each selected column within its input's parsed row
  const inputs: InputInfo[] = tables.map((t, i) => ({
    file: t.name,
    columns: sel.fields[i]!.flatMap((c, j) => {
      const w = widths[i]![j]!;
      return Array.from({ length: w }, (_, k) => (w === 1 ? t.columns[c]!.name : `${t.columns[c]!.name ?? c}[${k}]`));
    }),
  }));
  const roleRef = (role: RoleName): RoleRef | undefined => {
    const r = sel.roles[role];
    if (!r) return undefined;
    const cols = sel.fields[r.input]!;
    const first = cols.indexOf(r.columns[0]!);
    let start = 0;
    for (let j = 0; j < first; j++) start += widths[r.input]![j]!;
    let width = 0;
    for (let j = first; j < first + r.columns.length; j++) width += widths[r.input]![j]!;
    return { input: r.input, start, width };
  };
  const roles: Record<string, RoleRef> = {};
  for (const name of ROLES) {
    const ref = roleRef(name);
    if (ref) roles[name] = ref;
  }
  return {
    losses: config.losses,
    reduction: config.reduction,
    nanPolicy: config.nanPolicy,
    inputs,
    roles: roles as unknown as Plan['roles'],
    rowsAsCsv,
    ...(config.bootstrap ? { bootstrap: { replicates: config.bootstrap, seed: config.seed ?? 0, rowOffset: config.rowOffset ?? 0 } } : {}),
    ...(sel.keys.length > 0 || config.perClass ? {
      groups: {
        refs: sel.keys.map(({ input, pos }) => ({ input, pos })),
        perClass: config.perClass === true,
        max: config.maxGroups ?? DEFAULT_MAX_GROUPS,
        file: tables[sel.keys[0]?.input ?? (sel.roles.targets?.input ?? 0)]!.name,
      },
    } : {}),
  };
}

function checkWidths(config: RunConfig, defs: readonly LossDef[], plan: Plan, where: string): void {
  const w: RoleWidths = plan.roles;
  if (w.weights && !defs.some((d) => d.weightColumns)) {
    const users = LOSS_NAMES.filter((n) => lossDef(n).weightColumns).join(', ');
    throw new UsageError(`--weight-cols / --weight-file are read by ${users} only`);
  }
  for (const [role, flag] of [['vars', '--var-cols'], ['preds2', '--pred2-cols']] as const) {
    const users = defs.filter((d) => d.needs?.includes(role));
    if (w[role] && users.length === 0) {
      throw new UsageError(`${flag} is read by ${LOSS_NAMES.filter((n) => lossDef(n).needs?.includes(role)).join(', ')} only`);
    }
    if (!w[role] && users.length > 0) throw new UsageError(`${users.map((d) => d.name).join(', ')} needs ${flag}`);
  }
  if (config.reduction === 'batchmean' && defs.some((d) => d.name !== 'kl_div')) {
    throw new UsageError(`--reduction batchmean is kl_div's; not for ${defs.filter((d) => d.name !== 'kl_div').map((d) => d.name).join(', ')}`);
  }
  defs.forEach((d, i) => {
    const bad = d.checkParams(config.losses[i]!.params, w);
    if (bad) throw new UsageError(`${d.name}: ${bad}`);
  });
  for (const d of defs) {
    const problem = d.checkWidths(w);
    if (problem) throw new DataError(`${d.name}: ${problem}`, { file: where });
  }
}

/**
 * Default chunk size: about 128 Ki values per chunk, at most 64 Ki rows. When every input is
 * Parquet, about 1 Mi values: a chunk that starts inside a page decompresses that page again,
 * so fewer, larger chunks waste less (the workers decode them; only byte ranges cross threads).
 */
function defaultChunkRows(widths: number[][], allParquet = false): number {
  let values = 0;
  for (const ws of widths) for (const w of ws) values += w;
  if (allParquet) return Math.max(1, Math.floor((1 << 20) / Math.max(1, values)));
  return Math.max(1, Math.min(65536, Math.floor(131072 / Math.max(1, values))));
}

/**
 * Bytes per chunk when a single CSV input is cut by size (no --chunk-rows): rows are then
 * counted by the workers' parse, not on the main thread.
 */
export const DEFAULT_CHUNK_BYTES = 2 << 20;

/**
 * Zip the inputs' chunks row for row; different row counts are a DataError naming both counts.
 * With `bytes` (a single CSV input only) chunks are cut by size and their rows left uncounted.
 */
async function* zipChunks(
  tables: Table[], sel: Selection, rowsPerChunk: number, bytes: number | null,
): AsyncGenerator<{ rows: number | null; parts: InputPart[]; transfer: ArrayBuffer[] }> {
  if (bytes !== null && tables.length !== 1) throw new Error('internal: chunks by size for one input only');
  const its = tables.map((t, i) => t.chunks(sel.fields[i]!, rowsPerChunk, bytes, sel.keyFields[i]!)[Symbol.asyncIterator]());
  let before = 0;
  for (;;) {
    const next: IteratorResult<TablePart>[] = [];
    for (const it of its) next.push(await it.next());
    const counts = next.map((r) => (r.done ? 0 : r.value.rows));
    if (next.every((r) => r.done)) return;
    // (edges) a CSV whose data is blank lines only gives one block of 0 rows: nothing to pair
    if (counts.every((c) => c === 0) && next.some((r) => r.done)) continue;
    if (counts.some((c) => c !== counts[0])) {
      const totals: number[] = [];
      for (let i = 0; i < tables.length; i++) totals.push(before + counts[i]! + (next[i]!.done ? 0 : await tables[i]!.countRest()));
      const a = tables[0]!, bi = totals.findIndex((t) => t !== totals[0]);
      if (bi < 0) throw new Error(`internal: chunks of ${counts.join('/')} rows with equal totals ${totals[0]}`);
      throw new DataError(
        `row counts differ: ${a.name} has ${totals[0]} rows but ${tables[bi]!.name} has ${totals[bi]} rows`,
      );
    }
    const parts: InputPart[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const r of next) {
      const v = (r as IteratorYieldResult<TablePart>).value;
      parts.push(v.part);
      transfer.push(...v.transfer);
    }
    before += counts[0] ?? 0;
    yield { rows: counts[0]!, parts, transfer };
  }
}

/** A worker that threw or exited instead of returning a result. */
interface WorkerCrash {
  readonly ok: false;
  readonly crash: string;
}

/** What the in-order consumer needs to know of a submitted chunk. */
interface Submitted {
  readonly rows: number | null;
  /** the CSV part's first line when known on submission (single-input runs) */
  readonly firstLine: number | null;
}

/** The crash of a chunk whose first data row (0-based) is `firstRow` and, for CSV, first line `line`. */
function taskFailure(task: Submitted, firstRow: number, at: { file: string; line: number } | null, msg: string): DataError {
  const rows = task.rows !== null ? `data rows ${firstRow + 1}–${firstRow + task.rows}` : `the chunk from data row ${firstRow + 1}`;
  return new DataError(`worker failed on ${rows}${at ? ` (${at.file} from line ${at.line})` : ''}: ${msg}`);
}

export async function run(config: RunConfig, io: RunIO, hooks: RunHooks = {}): Promise<RunSummary> {
  const defs = config.losses.map((s) => lossDef(s.name));
  const dialect = { header: config.header, delimiter: config.delimiter, maxRowBytes: config.maxRowBytes };
  const inputs = [
    { role: 'preds' as const, path: config.preds, dialect },
    ...(config.targets !== null ? [{ role: 'targets' as const, path: config.targets, dialect }] : []),
    // --weight-file is always a CSV with a header, whatever the data's dialect
    ...(config.weightFile !== null ? [{ role: 'weights' as const, path: config.weightFile, dialect: { header: true, delimiter: null, maxRowBytes: config.maxRowBytes } }] : []),
  ];
  const paths = inputs.filter((i) => !hooks.tables?.[i.role]).map((i) => i.path);
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('only one input can be standard input (-)');
  hooks.signal?.throwIfAborted();
  if (config.stateOut !== null) await checkWritableDir(config.stateOut);
  // Worker threads take ~0.2 s to start: for a large input, start them now, while the
  // inputs are opened; a small one may fit in one chunk and never need them.
  // (edges: threads start as chunks come; about one per default chunk of the input is started now)
  const { size, compressed, parquet } = await knownSize(paths);
  // A file input of at most IN_PROCESS_BYTES in default chunks runs on this thread: starting workers
  // (~0.2 s, and each loads the modules again) costs more than their parallel share saves. Not for
  // gzip or Parquet files: their size on disk says little about how many rows they hold.
  // (every input a file: in-memory inputs, from evaluate(), have no size on disk)
  const inProcess = paths.length === inputs.length && !paths.includes('-') && !compressed && size <= IN_PROCESS_BYTES
    && config.chunkRows === null && config.chunkBytes === null;
  const pool: PoolRef = {
    pool: !inProcess && size >= EAGER_POOL_BYTES ? createPool(config.workers, Math.ceil(size / DEFAULT_CHUNK_BYTES), parquet) : null,
    inProcess,
  };
  const tables: Table[] = [];
  try {
    for (const i of inputs) {
      const given = hooks.tables?.[i.role];
      tables.push(given ? await given() : await openTable(await openSource(i.path, io.stdin), i.dialect));
    }
    return await runTables(config, io, hooks, defs, tables, pool);
  } finally {
    for (const t of tables) await t.close().catch(() => undefined);
    await pool.pool?.close();
  }
}

/** Inputs at least this large start the pool before reading. */
const EAGER_POOL_BYTES = 4 << 20;

/** File inputs up to this size (in default chunks) run in-process (measured: bench/run.mjs, start-up case). */
const IN_PROCESS_BYTES = 32 << 20;

interface PoolRef {
  pool: KernelPool | null;
  /** run every chunk on this thread (a small file input) */
  readonly inProcess: boolean;
}

/** Total size of the input files on disk (stdin counts 0), and whether any is gzip or Parquet (by magic bytes). */
async function knownSize(paths: readonly string[]): Promise<{ size: number; compressed: boolean; parquet: boolean }> {
  let size = 0;
  let compressed = false;
  let parquet = false;
  const head = new Uint8Array(8);
  for (const p of paths) {
    if (p === '-') continue;
    try {
      const fh = await fsp.open(p, 'r');
      try {
        size += (await fh.stat()).size;
        const { bytesRead } = await fh.read(head, 0, head.length, 0);
        const h = head.subarray(0, bytesRead);
        const pq = sniffFormat(h) === 'parquet';
        parquet ||= pq;
        compressed ||= isGzip(h) || pq;
      } finally {
        await fh.close();
      }
    } catch {
      // openSource reports a missing or unreadable file
    }
  }
  return { size, compressed, parquet };
}

async function runTables(
  config: RunConfig, io: RunIO, hooks: RunHooks, defs: LossDef[], tables: Table[], poolRef: PoolRef,
): Promise<RunSummary> {
  const sel = select(config, tables);
  const widths: number[][] = [];
  for (let i = 0; i < tables.length; i++) widths.push(await tables[i]!.widths(sel.fields[i]!));
  const toCaller = config.reduction === 'none' && config.output === null && hooks.rowSink !== undefined;
  const rowsAsCsv = config.reduction === 'none' && !toCaller && rowOutputFormat(config.output) === 'csv';
  const plan = buildPlan(config, tables, sel, widths, rowsAsCsv);
  if (config.perClass && plan.roles.targets.width !== 1) {
    throw new UsageError(`--per-class groups rows by their target class: it needs one target column (class indices), not ${plan.roles.targets.width}`);
  }
  checkWidths(config, defs, plan, tables[0]!.name);
  const grouping = plan.groups !== undefined;
  if (grouping && config.reduction === 'none' && (toCaller || rowOutputFormat(config.output) !== 'csv')) {
    throw new UsageError('--group-by / --per-class with --reduction none write CSV rows only (stdout or -o FILE.csv)');
  }
  const keyNames = [...sel.keys.map((k) => k.name), ...(config.perClass ? [colName(tables[sel.roles.targets!.input]!, sel.roles.targets!.columns[0]!)] : [])];
  const groupMap = new Map<string, GroupState>();
  const maxGroups = plan.groups?.max ?? 0;
  // grouped runs: larger chunks, as each (group, chunk) pair costs one exact partial per loss
  const rowsPerChunk = config.chunkRows ?? Math.min(1 << 20, defaultChunkRows(widths, tables.every((t) => t.format === 'parquet')) * (grouping ? GROUPED_CHUNK_SCALE : 1));
  const single = tables.length === 1 && tables[0]!.format === 'csv';
  // one Parquet input (without --chunk-rows) sizes its own chunks too: see ParquetTable.chunks
  const selfSized = tables.length === 1 && tables[0]!.format === 'parquet';
  // --bootstrap keys every row by its global index: chunks are cut by rows, so each knows its first row
  const byBytes = config.chunkRows === null && (single || selfSized) && !config.bootstrap
    ? (config.chunkBytes ?? DEFAULT_CHUNK_BYTES * (grouping ? GROUPED_CHUNK_SCALE : 1)) : null;

  const states: LossState[] = config.losses.map((spec) => ({ spec, num: ZERO_SUM, den: ZERO_SUM, elements: 0, ignored: 0 }));
  let rows = 0, nanValues = 0, omittedRows = 0;
  const blankLines = tables.map(() => 0);
  let sink: RowSink | null = null;
  if (config.reduction === 'none') {
    const header = [...(grouping ? keyNames : []), ...outputHeader(defs, tables, sel, plan)];
    sink = toCaller ? hooks.rowSink!(header, defs.map((d) => d.outWidth(plan.roles))) : await openRowSink(config.output, header, io.stdout);
  }
  // (edges) the progress line consumes the run's onProgress({ bytesRead, totalBytes, rows }) reports
  const progress = config.progress ? new ProgressLine(io.stderr) : null;
  let rowsRead = 0;
  // one report per chunk, consumed by the caller's onProgress and the progress line alike
  const report = progress === null && hooks.onProgress === undefined ? null : (final = false): void => {
    const p = progressOf(tables, rowsRead);
    if (!final) progress?.update(p);
    hooks.onProgress?.(p);
  };
  // a single CSV input's next line: chunks cut by size learn their first line from the ones before
  let nextLine: number | null = null;
  const submitted: Submitted[] = [];
  const window = new OrderedWindow<TaskResult | WorkerCrash>(config.workers * 2, async (r) => {
    const task = submitted.shift()!;
    const line = task.firstLine ?? nextLine;
    if (!r.ok) {
      if ('crash' in r) throw taskFailure(task, rowsRead, single && line !== null ? { file: tables[0]!.name, line } : null, r.crash);
      const { message, relativeLine, ...at } = r.error;
      if (relativeLine && at.line !== undefined) {
        if (line === null) throw new Error('internal: a relative line without a known chunk start');
        at.line = line + at.line - 1;
      }
      throw new DataError(message, at.file !== undefined ? { ...at, file: at.file } : undefined);
    }
    if (single) nextLine = line !== null && r.lines !== undefined ? line + r.lines : null;
    if (r.recycled) for (const b of r.recycled) recycleBuffer(b);
    rows += r.rows;
    nanValues += r.nanValues;
    omittedRows += r.omitted;
    r.blankLines?.forEach((b, i) => (blankLines[i]! += b));
    r.partials.forEach((p: LossPartial, i) => addInto(states[i]!, p));
    if (r.groups) {
      const g = r.groups;
      for (let k = 0; k < g.keys.length; k++) {
        let gs = groupMap.get(g.keys[k]!);
        if (gs === undefined) {
          gs = { rows: 0, losses: config.losses.map(() => ({ num: ZERO_SUM, den: ZERO_SUM, elements: 0, ignored: 0 })) };
          groupMap.set(g.keys[k]!, gs);
        }
        gs.rows += g.rows[k]!;
        g.partials[k]!.forEach((p, i) => addInto(gs!.losses[i]!, p));
      }
      if (groupMap.size > maxGroups) {
        throw new DataError(`more than ${maxGroups} groups (--max-groups ${maxGroups}); raise --max-groups or group by fewer columns`, { file: plan.groups!.file });
      }
    }
    if (sink) {
      if (r.csv) await sink.writeCsv(r.csv);
      else if (r.columns) await sink.writeColumns(r.columns, r.rows);
    }
    rowsRead += r.rows + r.omitted;
    report?.();
    hooks.signal?.throwIfAborted();
  });
  try {
    let seq = 0;
    let firstRow: number | null = 0;
    const chunks = zipChunks(tables, sel, rowsPerChunk, byBytes)[Symbol.asyncIterator]();
    // a row too long to cut, in chunks cut by size: its line is known once the chunks before it are in
    let cutError: CsvCutError | null = null;
    const pull = async (): Promise<IteratorResult<Awaited<ReturnType<typeof chunks.next>>['value']>> => {
      try {
        return await chunks.next();
      } catch (e) {
        if (!(e instanceof CsvCutError && e.relative)) throw e;
        cutError = e;
        return { done: true, value: undefined };
      }
    };
    let next = await pull();
    while (!next.done) {
      hooks.signal?.throwIfAborted();
      const chunk = next.value;
      const part = chunk.parts[0]!;
      const task: ChunkTask = { seq: seq++, rows: chunk.rows, firstRow, parts: chunk.parts, plan };
      submitted.push({ rows: chunk.rows, firstLine: part.kind === 'csv' ? part.firstLine : null });
      // Without an eager pool, the pool starts with the second chunk, so the next chunk is read
      // first: an input that fits in one chunk runs in-process. Otherwise a chunk is handed on
      // before the next one is read.
      const lookahead = !poolRef.inProcess && poolRef.pool === null;
      if (lookahead) next = await pull();
      if (poolRef.inProcess || (lookahead && next.done)) {
        await prepareChunk(task);
        // handled at once: the result may share this thread's scratch space with the next chunk
        await window.push(Promise.resolve(runChunk(task)));
        await window.drain();
        // the next block may reuse this one's buffer
        for (const b of recyclable(chunk.parts)) recycleBuffer(b);
      } else {
        poolRef.pool ??= createPool(config.workers);
        await window.push(poolRef.pool.submit(task, chunk.transfer).catch((e: unknown): WorkerCrash => (
          { ok: false, crash: e instanceof Error ? e.message : String(e) })));
      }
      if (!lookahead) next = await pull();
      firstRow = firstRow !== null && chunk.rows !== null ? firstRow + chunk.rows : null;
    }
    await window.drain();
    if (cutError !== null) {
      const e: CsvCutError = cutError;
      if (nextLine === null) throw new Error('internal: a cut error without a known line');
      throw new DataError(e.withLine(nextLine + e.line - 1).message, { file: tables[0]!.name });
    }
    for (const t of tables) await t.source.finish();
    hooks.signal?.throwIfAborted();
    progress?.finish(progressOf(tables, rowsRead));
    if (sink) await sink.commit();
    report?.(true);
  } catch (e) {
    progress?.finish(null);
    // let chunks still running finish before the pool is shut down: destroying it under
    // a busy worker makes piscina throw from an event handler
    await window.settle();
    if (sink) await sink.abort();
    throw e;
  }
  const columns: Record<string, string[]> = {};
  for (const [role, r] of Object.entries(sel.roles)) columns[role] = r.columns.map((c) => colName(tables[r.input]!, c));
  return {
    ...(grouping ? { groups: { columns: keyNames, entries: groupMap } } : {}),
    rows, nanValues, omittedRows, losses: states, columns,
    inputs: tables.map((t, i) => ({
      file: t.name, format: t.format, gzip: t.source.gzip, bytes: t.source.size,
      columns: sel.fields[i]!.map((c) => colName(t, c)),
      ...(t.format === 'csv' ? { blankLines: blankLines[i]! } : {}),
    })),
  };
}

/** Add a chunk's partial into a merged state. */
function addInto(s: { num: ExactSum; den: ExactSum; elements: number; ignored: number; boot?: BootPartial }, p: LossPartial): void {
  s.num = mergeSums(s.num, p.num);
  s.den = mergeSums(s.den, p.den);
  s.elements += p.elements;
  s.ignored += p.ignored;
  if (p.boot) s.boot = s.boot ? addBoot(s.boot, p.boot) : p.boot;
}

/** Grouped runs cut chunks this many times larger (fewer per-group partials to make and merge). */
const GROUPED_CHUNK_SCALE = 2;

function outputHeader(defs: readonly LossDef[], tables: Table[], sel: Selection, plan: Plan): string[] {
  const predRole = sel.roles.preds!;
  const predNames = plan.inputs[predRole.input]!.columns.slice(plan.roles.preds.start, plan.roles.preds.start + plan.roles.preds.width)
    .map((n, k) => n ?? colName(tables[predRole.input]!, predRole.columns[k] ?? k));
  const header: string[] = [];
  for (const d of defs) {
    const w = d.outWidth(plan.roles);
    if (w === 1) header.push(d.name);
    else for (let k = 0; k < w; k++) header.push(`${d.name}:${predNames[k] ?? k}`);
  }
  return header;
}

