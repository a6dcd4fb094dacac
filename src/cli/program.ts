/**
 * The command line: commander definitions (help text lives beside each
 * option) and their conversion into a checked RunConfig. No side effects.
 */
import { Command, CommanderError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_GROUPS, type RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { parseNumberString } from '../parse/number.js';
import { checkDelimiter } from '../read/csv-cut.js';
import { capWorkers, WORKERS_PER_CPU } from '../pool/pool.js';
import { LOSS_NAMES, lossDef, optionFlag, resolveLosses, type LossOptions } from '../losses/registry.js';
import type { NanPolicy, Reduction } from '../types.js';

export type Command_ =
  | { kind: 'run'; config: RunConfig; warnings: string[] }
  | { kind: 'merge'; states: string[]; json: boolean; stateOut: string | null; ci: number | null; independent: boolean }
  | { kind: 'exit'; code: number };

/**
 * Option values. A bad one is a UsageError naming the option, the rule and the value as typed,
 * `--workers must be a positive integer (got '0')`, thrown from commander's argument parser
 * (commander passes errors other than its own through unchanged).
 */
function invalid(flag: string, rule: string, value: string, why = ''): UsageError {
  return new UsageError(`${flag} must be ${rule} (got '${value}'${why})`);
}

const NUMBER_RULE = 'a number (inf, -inf and nan allowed)';

/** A decimal number or inf/-inf/nan (any case), as in a CSV field: see parse/number.ts. */
function parseOptionNumber(text: string): number | undefined {
  return text.trim() === '' ? undefined : parseNumberString(text);
}

function float(flag: string): (value: string) => number {
  return (value) => {
    const v = parseOptionNumber(value);
    if (v === undefined) throw invalid(flag, NUMBER_RULE, value);
    return v;
  };
}

function integer(flag: string): (value: string) => number {
  return (value) => {
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) throw invalid(flag, 'an integer', value);
    return Number(value);
  };
}

function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      throw invalid(flag, 'a positive integer', value);
    }
    return Number(value);
  };
}

/** `1,2,0.5` or `@file` holding such a list (commas, spaces or newlines between numbers). */
function numberList(flag: string): (value: string) => number[] {
  const rule = 'a list of numbers (inf, -inf and nan allowed) separated by commas, or @file holding one';
  return (value) => {
    let text = value;
    if (value.startsWith('@')) {
      try {
        text = readFileSync(value.slice(1), 'utf8');
      } catch (e) {
        throw new UsageError(`${flag}: cannot read ${value.slice(1)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    const items = text.split(/[\s,]+/).filter((s) => s !== '');
    if (items.length === 0) throw invalid(flag, rule, value, '; no numbers in it');
    return items.map((s) => {
      const v = parseOptionNumber(s);
      if (v === undefined) throw invalid(flag, rule, value.length > 60 ? value.slice(0, 57) + '…' : value, `; '${s}' is not a number`);
      return v;
    });
  };
}

function choice<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw invalid(flag, `one of ${choices.join(', ')}`, value);
    return value as T;
  };
}

function delimiter(value: string): number {
  const v = value === '\\t' || value.toLowerCase() === 'tab' ? '\t' : value;
  let ok = v.length === 1 && v.charCodeAt(0) <= 127;
  if (ok) {
    try {
      checkDelimiter(v.charCodeAt(0));
    } catch {
      ok = false;
    }
  }
  if (!ok) throw invalid('--delimiter', "one ASCII character other than a quote, a newline, a digit, '+', '-', '.', 'e' or 'E' (or \\t)", value);
  return v.charCodeAt(0);
}

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none', 'batchmean'];

/** Bootstrap replicates at most (a state holds two exact sums per replicate, loss and group). */
export const MAX_REPLICATES = 10000;

function checkCi(v: number): void {
  if (!(v > 0 && v < 1)) throw invalid('--ci', 'a level in (0, 1), e.g. 0.95', String(v));
}
const NAN_POLICIES: readonly NanPolicy[] = ['propagate', 'omit', 'raise'];

const LOSS_HELP = `one or more losses, computed in one pass: ${LOSS_NAMES.join(', ')} (PyTorch names and aliases accepted, e.g. SmoothL1Loss)`;

export function buildProgram(out: { writeOut: (s: string) => void; writeErr: (s: string) => void }): Command {
  const program = new Command('losseval')
    .description('PyTorch-compatible losses over CSV, Arrow, Parquet and NumPy .npy files, with exact mean/sum reductions.')
    .usage('[options] <preds> [targets]')
    .argument('<preds>', 'predictions file (CSV, TSV, Arrow IPC file or stream, NumPy .npy, optionally gzipped; or Parquet), or - for stdin')
    .argument('[targets]', 'targets file, row-aligned with preds; without it, --target-cols picks targets from preds')
    .option('-l, --loss <names>', LOSS_HELP)
    .addOption(new Option('-r, --reduction <reduction>', 'mean, sum, none (per-row losses), or batchmean (kl_div: sum / rows)').argParser(choice('--reduction', REDUCTIONS)).default('mean'))
    .option('--pred-cols <list>', 'prediction columns: names, * globs, or 0-based indices with --no-header (default: all, or all but the target columns)')
    .option('--target-cols <list>', 'target columns (default: all columns of the targets file)')
    .option('--weight <list>', 'class weights (nll, cross_entropy, multi_margin, multilabel_soft_margin) or per-column weights (bce, bce_with_logits): numbers, or @file holding them (inf, -inf, nan allowed)', numberList('--weight'))
    .option('--weight-cols <list>', 'bce, bce_with_logits, multilabel_soft_margin: per-row (1 column) or element-wise (C columns) weights, from the targets file (or the single input)')
    .option('--weight-file <file>', 'the same weights from a CSV file (with header) of 1 or C columns, row-aligned with the targets')
    .option('--pos-weight <list>', 'bce_with_logits: per-column pos_weight: numbers, or @file', numberList('--pos-weight'))
    .option('--ignore-index <INT>', 'nll, cross_entropy: target class to leave out (default -100)', integer('--ignore-index'))
    .option('--label-smoothing <F>', 'cross_entropy: label smoothing in [0, 1] (default 0)', float('--label-smoothing'))
    .option('--var-cols <list>', 'gaussian_nll: variance columns of the preds file, 1 per row or one per prediction column')
    .option('--pred2-cols <list>', 'margin_ranking, cosine_embedding: the second input (x2), columns of the preds file')
    .option('--log-target', 'kl_div: targets are log-probabilities')
    .option('--no-log-input', 'poisson_nll: predictions are rates, not log-rates')
    .option('--full', 'poisson_nll, gaussian_nll: add the constant (Stirling) term')
    .option('--eps <F>', 'poisson_nll (default 1e-8), gaussian_nll (default 1e-6); any number, inf and nan too, as PyTorch', float('--eps'))
    .option('--margin <F>', 'hinge_embedding, multi_margin (default 1), margin_ranking, cosine_embedding (default 0); any number, inf and nan too, as PyTorch', float('--margin'))
    .option('--p <N>', 'multi_margin: 1 or 2 (default 1)', integer('--p'))
    .option('--beta <F>', 'smooth_l1: where the quadratic zone ends, >= 0 or inf (default 1.0; 0 = l1)', float('--beta'))
    .option('--delta <F>', 'huber: where the quadratic zone ends, > 0 or inf (default 1.0)', float('--delta'))
    .addOption(new Option('--nan-policy <policy>', 'NaN inputs: propagate (as PyTorch, with a warning), omit the rows, or raise an error').argParser(choice('--nan-policy', NAN_POLICIES)).default('propagate'))
    .option('--no-header', 'CSV files have no header row (select columns by 0-based index)')
    .option('--delimiter <char>', 'CSV delimiter (default: tab for .tsv, else comma)', delimiter)
    .option('-j, --workers <N>', `worker threads (default: available parallelism; at most ${WORKERS_PER_CPU} per available CPU, and never more than the input has chunks; CSV, Arrow and .npy files of up to 32 MiB in all, not gzipped, in default chunks run in the main thread)`, positiveInt('--workers'))
    .option('--chunk-rows <N>', 'rows per unit of work (default: one CSV input, about 2 MiB per chunk; only Parquet inputs, about 1 Mi values; else about 128 Ki values)', positiveInt('--chunk-rows'))
    .option('--chunk-bytes <N>', 'one CSV input without --chunk-rows: bytes per unit of work (default 2097152)', positiveInt('--chunk-bytes'))
    .option('--max-row-bytes <N>', 'CSV: the most bytes held for one unfinished row (default 268435456); past it, an error (usually an unclosed quote)', positiveInt('--max-row-bytes'))
    .option('-o, --output <file>', 'reduction none: write per-row losses to a .csv, .arrow or .parquet file (atomically) instead of stdout; with --group-by / --per-class (mean, sum): the table of groups')
    .option('--group-by <list>', 'one result per group of rows with equal keys in these columns (text, integer or boolean; from the predictions file or single input, else the targets file), then the overall result')
    .option('--per-class', 'one result per target class (one target column: class indices or labels); with --group-by, the class is the last key')
    .option('--max-groups <N>', `stop with an error past this many distinct groups (default ${DEFAULT_MAX_GROUPS})`, positiveInt('--max-groups'))
    .option('--bootstrap <R>', `Poisson bootstrap with R replicates (at most ${MAX_REPLICATES}) in the same pass: standard error and percentile interval per loss (and group)`, positiveInt('--bootstrap'))
    .option('--ci <level>', 'bootstrap interval level, in (0, 1) (default 0.95)', float('--ci'))
    .option('--seed <N>', 'bootstrap seed, an integer in [0, 4294967295] (default 0)', integer('--seed'))
    .option('--row-offset <N>', 'bootstrap shards: the global index of this input\'s first data row (so merged shards equal one run)', integer('--row-offset'))
    .option('--json', 'print the result as one JSON object with configuration and counts')
    .option('--state-out <file>', 'also write the exact, mergeable state of this run (mean/sum) for `losseval merge`')
    .option('--progress', 'show progress on stderr: a bar with percent and ETA (rows/s on stdin), ending on the final count (default: when stderr is a terminal)')
    .option('--no-progress', 'never show progress')
    .version('0.1.0', '-V, --version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    // options after `merge` belong to merge (its --json and --state-out)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: out.writeOut, writeErr: () => undefined })
    .action(() => undefined);
  program
    .command('merge')
    .description('combine the state files of shards (written with --state-out) and print what one run over all their rows would print')
    .usage('[options] <state.json...>')
    .argument('<states...>', 'state files, in any order')
    .option('--json', 'print the result as one JSON object')
    .option('--state-out <file>', 'also write the merged state (to merge again later)')
    .option('--ci <level>', 'bootstrap states: the interval level printed, in (0, 1) (default: the first state\'s)', float('--ci'))
    .option('--independent-shards', 'bootstrap states whose row ranges overlap (no --row-offset): merge them anyway, as independent streams')
    .helpOption('-h, --help', 'show this help')
    .action(() => undefined);
  program.addHelpText('after', `
Examples:
  losseval --loss smoothl1 preds.arrow targets.arrow
  losseval -l mse,l1 --target-cols y data.csv
  losseval -l huber --delta 0.5 -r none -o rows.csv preds.csv targets.csv
  losseval -l cross_entropy --pred-cols 'logit_*' --target-cols label classes.csv
  losseval -l bce --weight 1,2,0.5 probs.csv labels.csv
  losseval -l mse --state-out shard1.json shard1.arrow && losseval merge shard*.json
  losseval -l ce,nll --pred-cols 'logit_*' --target-cols label --group-by lang,source eval.csv
  losseval -l ce --pred-cols 'logit_*' --target-cols label --per-class --json eval.csv
  losseval -l l1,mse --bootstrap 1000 --ci 0.95 --seed 7 preds.csv targets.csv
  losseval -l mse --bootstrap 200 --row-offset 5000000 --state-out s2.json shard2.csv

CSV values: decimal numbers; nan (any case, optionally signed) or an empty field is NaN; inf, -inf,
infinity (any case) are infinities; anything else (NA, NULL, N/A, text) is an error. Blank lines are
skipped in files of two or more columns; in a one-column file an empty line is NaN.
Option values: inf, -inf and nan are taken wherever PyTorch takes them.

Exit status: 0 success, 1 bad data or a failed run, 2 bad usage. With --json, stderr lines are JSON
objects: {"warning": {...}}, and on failure {"error": {"kind", "message", "file", "line", ...}}.`);
  return program;
}

interface RawOptions {
  loss?: string;
  reduction: Reduction;
  predCols?: string;
  targetCols?: string;
  beta?: number;
  delta?: number;
  weight?: number[];
  weightCols?: string;
  weightFile?: string;
  posWeight?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  varCols?: string;
  pred2Cols?: string;
  logTarget?: boolean;
  logInput: boolean;
  full?: boolean;
  eps?: number;
  margin?: number;
  p?: number;
  nanPolicy: NanPolicy;
  header: boolean;
  delimiter?: number;
  workers?: number;
  chunkRows?: number;
  chunkBytes?: number;
  maxRowBytes?: number;
  output?: string;
  json?: boolean;
  stateOut?: string;
  progress?: boolean;
  groupBy?: string;
  perClass?: boolean;
  maxGroups?: number;
  bootstrap?: number;
  ci?: number;
  seed?: number;
  rowOffset?: number;
}

/** Commander's text without its "error: " prefix. */
function commanderMessage(e: CommanderError): string {
  return e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
}

/** Parse argv (without node and script) into a command; throws UsageError. */
export function parseCommandLine(args: string[], stderrIsTTY: boolean, writeOut: (s: string) => void): Command_ {
  const program = buildProgram({ writeOut, writeErr: () => undefined });
  try {
    program.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return { kind: 'exit', code: 0 };
      }
      throw new UsageError(commanderMessage(e));
    }
    throw e;
  }
  const merge = program.commands.find((c) => c.name() === 'merge')!;
  if (program.args[0] === 'merge' && merge.processedArgs.length > 0) {
    const mo = merge.opts<{ json?: boolean; stateOut?: string; ci?: number; independentShards?: boolean }>();
    if (mo.ci !== undefined) checkCi(mo.ci);
    return {
      kind: 'merge', states: merge.processedArgs[0] as string[], json: mo.json === true, stateOut: mo.stateOut ?? null,
      ci: mo.ci ?? null, independent: mo.independentShards === true,
    };
  }
  const o = program.opts<RawOptions>();
  const [preds, targets] = program.processedArgs as [string, string | undefined];
  if (o.loss === undefined) throw new UsageError(`missing required option --loss (one of: ${LOSS_NAMES.join(', ')})`);
  const lossOpts: LossOptions = {};
  if (o.beta !== undefined) lossOpts.beta = o.beta;
  if (o.delta !== undefined) lossOpts.delta = o.delta;
  if (o.weight !== undefined) lossOpts.weight = o.weight;
  if (o.posWeight !== undefined) lossOpts.posWeight = o.posWeight;
  if (o.ignoreIndex !== undefined) lossOpts.ignoreIndex = o.ignoreIndex;
  if (o.labelSmoothing !== undefined) lossOpts.labelSmoothing = o.labelSmoothing;
  if (o.logTarget) lossOpts.logTarget = true;
  if (o.logInput === false) lossOpts.logInput = false;
  if (o.full) lossOpts.full = true;
  if (o.eps !== undefined) lossOpts.eps = o.eps;
  if (o.margin !== undefined) lossOpts.margin = o.margin;
  if (o.p !== undefined) lossOpts.p = o.p;
  if (o.weightCols !== undefined && o.weightFile !== undefined) {
    throw new UsageError('give weights with --weight-cols or --weight-file, not both');
  }
  const losses = resolveLosses(o.loss, lossOpts);
  const warnings: string[] = [];
  for (const key of Object.keys(lossOpts) as (keyof LossOptions)[]) {
    if (!losses.some((l) => lossDef(l.name).options.includes(key))) {
      warnings.push(`${optionFlag(key)} is not used by ${losses.map((l) => l.name).join(', ')}`);
    }
  }
  if (o.reduction === 'none' && o.json && o.output === undefined) {
    throw new UsageError('--json with --reduction none needs --output FILE (stdout carries the rows)');
  }
  if (o.stateOut !== undefined && o.reduction === 'none') {
    throw new UsageError('--state-out needs --reduction mean or sum (a state holds exact sums, not rows)');
  }
  const grouped = o.groupBy !== undefined || o.perClass === true;
  if (o.output !== undefined && o.reduction !== 'none' && !grouped) {
    throw new UsageError(`--output is for per-row losses (--reduction none) or a --group-by table, not --reduction ${o.reduction}`);
  }
  if (o.maxGroups !== undefined && !grouped) throw new UsageError('--max-groups needs --group-by or --per-class');
  if (o.bootstrap === undefined) {
    for (const [v, flag] of [[o.ci, '--ci'], [o.seed, '--seed'], [o.rowOffset, '--row-offset']] as const) {
      if (v !== undefined) throw new UsageError(`${flag} needs --bootstrap`);
    }
  } else {
    if (o.bootstrap > MAX_REPLICATES) throw invalid('--bootstrap', `at most ${MAX_REPLICATES}`, String(o.bootstrap));
    if (o.reduction === 'none') throw new UsageError('--bootstrap needs --reduction mean or sum (it resamples the reduced loss)');
    if (o.chunkBytes !== undefined) throw new UsageError('--chunk-bytes cannot be used with --bootstrap: its chunks are cut by rows (--chunk-rows)');
    if (o.ci !== undefined) checkCi(o.ci);
    if (o.seed !== undefined && (o.seed < 0 || o.seed > 0xffffffff)) throw invalid('--seed', 'an integer in [0, 4294967295]', String(o.seed));
    if (o.rowOffset !== undefined && o.rowOffset < 0) throw invalid('--row-offset', 'a non-negative integer', String(o.rowOffset));
  }
  const cap = capWorkers(o.workers ?? availableParallelism());
  const workers = cap.workers;
  if (cap.note !== null) warnings.push(cap.note);
  const config: RunConfig = {
    preds,
    targets: targets ?? null,
    losses,
    reduction: o.reduction,
    nanPolicy: o.nanPolicy,
    predCols: o.predCols ?? null,
    targetCols: o.targetCols ?? null,
    weightCols: o.weightCols ?? null,
    weightFile: o.weightFile ?? null,
    varCols: o.varCols ?? null,
    pred2Cols: o.pred2Cols ?? null,
    header: o.header,
    delimiter: o.delimiter ?? null,
    workers,
    chunkRows: o.chunkRows ?? null,
    chunkBytes: o.chunkBytes ?? null,
    maxRowBytes: o.maxRowBytes ?? null,
    output: o.output ?? null,
    json: o.json === true,
    stateOut: o.stateOut ?? null,
    progress: o.progress ?? stderrIsTTY,
    groupBy: o.groupBy ?? null,
    perClass: o.perClass === true,
    maxGroups: o.maxGroups ?? DEFAULT_MAX_GROUPS,
    bootstrap: o.bootstrap ?? null,
    seed: o.seed ?? 0,
    rowOffset: o.rowOffset ?? 0,
    ci: o.ci ?? 0.95,
  };
  return { kind: 'run', config, warnings };
}
