/**
 * Exact, mergeable run state: what `--state-out` writes and `losseval merge`
 * reads. Every field is an exact sum or a count, so merging is exact,
 * associative and commutative: any shards, in any order or tree, merge to the
 * state of one run over all their rows.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataError, UsageError } from '../errors.js';
import { mergeSums, sumFromJSON, sumToJSON, type ExactSum } from './exact-sum.js';
import type { LossSpec } from '../losses/kernel.js';
import type { NanPolicy } from '../types.js';
import { trackTempFile, untrackTempFile } from '../cleanup.js';
import { compareKeys, joinParts, keyParts, partFromStored, partToStored } from './keys.js';

/** The `format` field of every state file. */
export const STATE_FORMAT = 'losseval-state';
/**
 * The newest state file version this losseval reads and writes: 2 adds groups (--group-by,
 * --per-class). A state without them is still written as version 1, so older tools read it.
 */
export const STATE_VERSION = 2;

/** What must be equal for two states to merge. Input formats and paths are not part of it. */
export interface StateConfig {
  readonly losses: readonly LossSpec[];
  readonly reduction: 'mean' | 'sum' | 'batchmean';
  readonly nan_policy: NanPolicy;
  /** Column selection per role (names, or 0-based indices without a header). */
  readonly columns: Readonly<Record<string, readonly string[]>>;
  /** Version 2, grouped runs: the key columns (--group-by names, then the target column with --per-class). */
  readonly group_by?: readonly string[];
  readonly per_class?: boolean;
  /** Version 2, --bootstrap: replicates, seed and the weight generator (reduce/bootstrap.ts). */
  readonly bootstrap?: { readonly replicates: number; readonly seed: number; readonly generator: string };
}

/** One input of a run, as provenance: its name, format, whether gzipped, and its size in bytes when known. */
export interface StateInput {
  readonly file: string;
  /** The input's format as sniffed: csv, arrow, memory (arrays given to evaluate()), … */
  readonly format: string;
  readonly gzip: boolean;
  readonly bytes: number | null;
  /** CSV: blank lines skipped (files of two or more columns); absent for Arrow (and older states) */
  readonly blank_lines?: number;
}

/** Where the rows of one run came from. Merges keep every run's entry. */
export interface Provenance {
  readonly inputs: readonly StateInput[];
  readonly rows: number;
  /** --bootstrap: the global row indices [start, end) the run covered (--row-offset, rows read) */
  readonly row_range?: readonly [number, number];
}

/** One loss's exact state: numerator and denominator of its mean, elements and rows left out by ignore_index. */
export interface LossStateData {
  readonly name: string;
  readonly num: ExactSum;
  readonly den: ExactSum;
  readonly elements: number;
  readonly ignored_rows: number;
  /** --bootstrap: every replicate's exact weighted numerator and denominator */
  readonly boot?: { readonly num: readonly ExactSum[]; readonly den: readonly ExactSum[] };
}

/** One group's exact state: its key (reduce/keys.ts), rows, and one state per loss. */
export interface GroupStateData {
  readonly key: string;
  readonly rows: number;
  readonly losses: readonly LossStateData[];
}

/** A run's (or a merge's) exact state. */
export interface LossevalState {
  /** Grouped runs (config.group_by): every group, in key order. */
  readonly groups?: readonly GroupStateData[];
  /** --bootstrap: the confidence level printed (--ci; not part of what must match to merge) */
  readonly ci?: number;
  readonly config: StateConfig;
  readonly rows: number;
  readonly nan_values: number;
  readonly omitted_rows: number;
  readonly losses: readonly LossStateData[];
  readonly provenance: readonly Provenance[];
}

/** JSON with object keys sorted, so equal configurations print and hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function configFingerprint(c: StateConfig): string {
  return createHash('sha256').update(canonical(c)).digest('hex');
}

/** The first difference between two configurations, in words, or null. */
export function configDifference(a: StateConfig, b: StateConfig, an: string, bn: string): string | null {
  const names = (c: StateConfig): string => c.losses.map((l) => l.name).join(',');
  if (names(a) !== names(b)) return `losses differ: ${names(a)} in ${an}, ${names(b)} in ${bn}`;
  for (let i = 0; i < a.losses.length; i++) {
    const pa = a.losses[i]!.params, pb = b.losses[i]!.params;
    for (const k of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
      if (canonical(pa[k]) !== canonical(pb[k])) {
        return `${a.losses[i]!.name} option ${k} differs: ${canonical(pa[k])} in ${an}, ${canonical(pb[k])} in ${bn}`;
      }
    }
  }
  const ga = a.group_by ?? null, gb = b.group_by ?? null;
  if ((ga === null) !== (gb === null)) {
    const [g, n, u] = ga !== null ? [ga, an, bn] : [gb!, bn, an];
    return `${n} is grouped by ${g.join(',')}${(ga ?? gb) && (ga !== null ? a : b).per_class ? ' (--per-class)' : ''} (state version 2) but ${u} is not grouped`;
  }
  if (ga !== null && gb !== null && (ga.join(',') !== gb.join(',') || (a.per_class === true) !== (b.per_class === true))) {
    return `group keys differ: ${ga.join(',')}${a.per_class ? ' (--per-class)' : ''} in ${an}, ${gb.join(',')}${b.per_class ? ' (--per-class)' : ''} in ${bn}`;
  }
  const boot = (c: StateConfig): string => (c.bootstrap ? `--bootstrap ${c.bootstrap.replicates} --seed ${c.bootstrap.seed} (${c.bootstrap.generator})` : 'no --bootstrap');
  if (boot(a) !== boot(b)) return `bootstrap differs: ${boot(a)} in ${an}, ${boot(b)} in ${bn}`;
  if (a.reduction !== b.reduction) return `reduction differs: ${a.reduction} in ${an}, ${b.reduction} in ${bn}`;
  if (a.nan_policy !== b.nan_policy) return `nan policy differs: ${a.nan_policy} in ${an}, ${b.nan_policy} in ${bn}`;
  for (const role of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    const ca = (a.columns[role] ?? []).join(','), cb = (b.columns[role] ?? []).join(',');
    if (ca !== cb) return `${role} columns differ: [${ca}] in ${an}, [${cb}] in ${bn}`;
  }
  return null;
}

/**
 * Merge states of the same configuration (throws UsageError naming the
 * difference otherwise). `names` label the states in messages.
 */
export function mergeStates(
  states: readonly LossevalState[], names?: readonly string[], opts: { independent?: boolean } = {},
): LossevalState {
  if (states.length === 0) throw new UsageError('nothing to merge');
  const label = (i: number): string => names?.[i] ?? `state ${i + 1}`;
  const first = states[0]!;
  let rows = 0, nan = 0, omitted = 0;
  const losses = first.losses.map((l) => ({ ...l }));
  const provenance: Provenance[] = [];
  const groups = new Map<string, GroupStateData>();
  states.forEach((s, i) => {
    if (i > 0) {
      const diff = configDifference(first.config, s.config, label(0), label(i));
      if (diff) throw new UsageError(`cannot merge: ${diff}`);
      s.losses.forEach((l, k) => (losses[k] = mergeLoss(losses[k]!, l)));
    }
    for (const g of s.groups ?? []) {
      const m = groups.get(g.key);
      groups.set(g.key, m === undefined ? g : { key: g.key, rows: m.rows + g.rows, losses: m.losses.map((l, k) => mergeLoss(l, g.losses[k]!)) });
    }
    rows += s.rows;
    nan += s.nan_values;
    omitted += s.omitted_rows;
    provenance.push(...s.provenance);
  });
  if (first.config.bootstrap && !opts.independent) checkRowRanges(states, label);
  const keyCount = first.config.group_by?.length ?? 0;
  return {
    ...(first.ci !== undefined ? { ci: first.ci } : {}),
    config: first.config, rows, nan_values: nan, omitted_rows: omitted, losses, provenance,
    ...(first.config.group_by ? { groups: [...groups.values()].sort((a, b) => compareKeys(a.key, b.key, keyCount)) } : {}),
  };
}

function mergeLoss(m: LossStateData, l: LossStateData): LossStateData {
  return {
    name: m.name, num: mergeSums(m.num, l.num), den: mergeSums(m.den, l.den),
    elements: m.elements + l.elements, ignored_rows: m.ignored_rows + l.ignored_rows,
    ...(m.boot && l.boot ? {
      boot: { num: m.boot.num.map((x, r) => mergeSums(x, l.boot!.num[r]!)), den: m.boot.den.map((x, r) => mergeSums(x, l.boot!.den[r]!)) },
    } : {}),
  };
}

/**
 * Bootstrap shards must cover disjoint global rows (each shard's --row-offset): the same row
 * index in two shards would get the same weights. Merging them anyway takes --independent-shards.
 */
function checkRowRanges(states: readonly LossevalState[], label: (i: number) => string): void {
  const ranges: { a: number; b: number; who: string }[] = [];
  states.forEach((s, i) => {
    for (const p of s.provenance) if (p.row_range && p.row_range[1] > p.row_range[0]) ranges.push({ a: p.row_range[0], b: p.row_range[1], who: label(i) });
  });
  ranges.sort((x, y) => x.a - y.a);
  for (let k = 1; k < ranges.length; k++) {
    const p = ranges[k - 1]!, q = ranges[k]!;
    if (q.a < p.b) {
      throw new UsageError(
        `cannot merge: bootstrap rows ${q.a}–${q.b - 1} of ${q.who} overlap rows ${p.a}–${p.b - 1} of ${p.who}: ` +
        'run each shard with --row-offset (its first row\'s index in the whole input), or merge with --independent-shards',
      );
    }
  }
}

/** Provenance entries that occur more than once (the same shard merged twice). */
export function repeatedProvenance(s: LossevalState): Provenance[] {
  const seen = new Map<string, number>();
  for (const p of s.provenance) seen.set(canonical(p), (seen.get(canonical(p)) ?? 0) + 1);
  return s.provenance.filter((p, i) => seen.get(canonical(p))! > 1 && s.provenance.findIndex((q) => canonical(q) === canonical(p)) === i);
}

/** The state as the JSON value a state file holds (exact sums as hexadecimal integers × 2^-1074). */
export function stateToJSON(s: LossevalState): unknown {
  const lossesJSON = (ls: readonly LossStateData[]): unknown[] => ls.map((l) => ({
    name: l.name, numerator: sumToJSON(l.num), denominator: sumToJSON(l.den),
    elements: l.elements, ignored_rows: l.ignored_rows,
    ...(l.boot ? { replicates: l.boot.num.map((n, r) => ({ numerator: sumToJSON(n), denominator: sumToJSON(l.boot!.den[r]!) })) } : {}),
  }));
  const keyCount = s.config.group_by?.length ?? 0;
  return {
    format: STATE_FORMAT,
    version: s.config.group_by || s.config.bootstrap ? 2 : 1,
    ...(s.ci !== undefined ? { ci: s.ci } : {}),
    fingerprint: configFingerprint(s.config),
    config: s.config,
    rows: s.rows,
    nan_values: s.nan_values,
    omitted_rows: s.omitted_rows,
    losses: lossesJSON(s.losses),
    ...(s.groups ? {
      groups: s.groups.map((g) => ({ key: keyParts(g.key, keyCount).map(partToStored), rows: g.rows, losses: lossesJSON(g.losses) })),
    } : {}),
    provenance: s.provenance,
  };
}

function fail(msg: string): never {
  throw new Error(msg);
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} is not a count`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is not a list`);
  return v;
}

/** Validate parsed JSON as a state; throws Error with the reason. */
export function stateFromJSON(v: unknown): LossevalState {
  const o = obj(v, 'the state');
  if (o.format !== STATE_FORMAT) fail(`not a losseval state (format ${JSON.stringify(o.format)})`);
  if (typeof o.version !== 'number') fail('no format version');
  if (o.version > STATE_VERSION) fail(`written by a newer losseval (state format version ${o.version}; this one reads ${STATE_VERSION})`);
  if (o.version !== 1 && o.version !== 2) fail(`unknown state format version ${o.version}`);
  const c = obj(o.config, 'config');
  const losses = arr(c.losses, 'config.losses').map((l, i) => {
    const lo = obj(l, `config.losses[${i}]`);
    if (typeof lo.name !== 'string') fail(`config.losses[${i}].name is not a string`);
    return { name: lo.name, params: obj(lo.params, `config.losses[${i}].params`) as LossSpec['params'] };
  });
  if (c.reduction !== 'mean' && c.reduction !== 'sum' && c.reduction !== 'batchmean') fail('config.reduction is not mean, sum or batchmean');
  if (c.nan_policy !== 'propagate' && c.nan_policy !== 'omit' && c.nan_policy !== 'raise') fail('config.nan_policy is invalid');
  const cols = obj(c.columns, 'config.columns');
  const columns: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(cols)) {
    columns[k] = arr(list, `config.columns.${k}`).map((x) => (typeof x === 'string' ? x : fail(`config.columns.${k} holds a non-string`)));
  }
  let grouping = {};
  if (c.group_by !== undefined) {
    if (o.version < 2) fail('config.group_by in a version 1 state');
    const g = arr(c.group_by, 'config.group_by').map((x) => (typeof x === 'string' ? x : fail('config.group_by holds a non-string')));
    if (g.length === 0) fail('config.group_by is empty');
    if (c.per_class !== undefined && typeof c.per_class !== 'boolean') fail('config.per_class is not a boolean');
    grouping = { group_by: g, ...(c.per_class !== undefined ? { per_class: c.per_class } : {}) };
  }
  let bootstrap = {};
  if (c.bootstrap !== undefined) {
    if (o.version < 2) fail('config.bootstrap in a version 1 state');
    const b = obj(c.bootstrap, 'config.bootstrap');
    const replicates = count(b.replicates, 'config.bootstrap.replicates');
    if (replicates < 1) fail('config.bootstrap.replicates is 0');
    if (typeof b.seed !== 'number' || !Number.isInteger(b.seed) || b.seed < 0 || b.seed > 0xffffffff) fail('config.bootstrap.seed is not a 32-bit seed');
    if (typeof b.generator !== 'string') fail('config.bootstrap.generator is not a string');
    bootstrap = { bootstrap: { replicates, seed: b.seed, generator: b.generator } };
  }
  const config: StateConfig = { losses, reduction: c.reduction, nan_policy: c.nan_policy, columns, ...grouping, ...bootstrap };
  const R = config.bootstrap?.replicates ?? 0;
  if (o.fingerprint !== configFingerprint(config)) fail('the configuration does not match its fingerprint');
  const lossStates = lossesFromJSON(o.losses, 'losses', losses, R);
  let groups: GroupStateData[] | undefined;
  if (config.group_by) {
    const keyCount = config.group_by.length;
    const seen = new Set<string>();
    groups = arr(o.groups, 'groups').map((g, i) => {
      const go = obj(g, `groups[${i}]`);
      const parts = arr(go.key, `groups[${i}].key`);
      if (parts.length !== keyCount) fail(`groups[${i}].key has ${parts.length} parts, not ${keyCount}`);
      let key: string;
      try {
        key = joinParts(parts.map(partFromStored));
      } catch (e) {
        fail(`groups[${i}].key: ${(e as Error).message}`);
      }
      if (seen.has(key)) fail(`groups[${i}]: a key given twice`);
      seen.add(key);
      return { key, rows: count(go.rows, `groups[${i}].rows`), losses: lossesFromJSON(go.losses, `groups[${i}].losses`, losses, R) };
    }).sort((a, b) => compareKeys(a.key, b.key, keyCount));
  } else if (o.groups !== undefined) {
    fail('groups without config.group_by');
  }
  const provenance = arr(o.provenance, 'provenance').map((p, i) => {
    const po = obj(p, `provenance[${i}]`);
    const inputs = arr(po.inputs, `provenance[${i}].inputs`).map((x, j) => {
      const xo = obj(x, `provenance[${i}].inputs[${j}]`);
      if (typeof xo.file !== 'string' || typeof xo.format !== 'string' || xo.format === '' || typeof xo.gzip !== 'boolean') {
        fail(`provenance[${i}].inputs[${j}] is malformed`);
      }
      const bytes = xo.bytes === null ? null : count(xo.bytes, `provenance[${i}].inputs[${j}].bytes`);
      const blank = xo.blank_lines === undefined ? {} : { blank_lines: count(xo.blank_lines, `provenance[${i}].inputs[${j}].blank_lines`) };
      return { file: xo.file, format: xo.format, gzip: xo.gzip, bytes, ...blank } as StateInput;
    });
    let range = {};
    if (po.row_range !== undefined) {
      const rr = arr(po.row_range, `provenance[${i}].row_range`);
      const a = count(rr[0], `provenance[${i}].row_range[0]`), b = count(rr[1], `provenance[${i}].row_range[1]`);
      if (rr.length !== 2 || b < a) fail(`provenance[${i}].row_range is malformed`);
      range = { row_range: [a, b] as const };
    }
    return { inputs, rows: count(po.rows, `provenance[${i}].rows`), ...range };
  });
  return {
    config, rows: count(o.rows, 'rows'), nan_values: count(o.nan_values, 'nan_values'),
    omitted_rows: count(o.omitted_rows, 'omitted_rows'), losses: lossStates, provenance, ...(groups ? { groups } : {}),
    ...(R > 0 ? { ci: typeof o.ci === 'number' && o.ci > 0 && o.ci < 1 ? o.ci : fail('ci is not in (0, 1)') } : {}),
  };
}

/** Per-loss states (losses of `where`), checked against the configuration's losses. */
function lossesFromJSON(v: unknown, where: string, losses: readonly LossSpec[], R: number): LossStateData[] {
  const ls = arr(v, where);
  if (ls.length !== losses.length) fail(`${where} do not match the configuration`);
  return ls.map((l, i) => {
    const lo = obj(l, `${where}[${i}]`);
    if (lo.name !== losses[i]!.name) fail(`${where}[${i}] is not ${losses[i]!.name}`);
    let num: ExactSum, den: ExactSum;
    try {
      num = sumFromJSON(lo.numerator);
      den = sumFromJSON(lo.denominator);
    } catch (e) {
      fail(`${where}[${i}]: ${(e as Error).message}`);
    }
    let boot = {};
    if (R > 0) {
      const reps = arr(lo.replicates, `${where}[${i}].replicates`);
      if (reps.length !== R) fail(`${where}[${i}].replicates has ${reps.length} entries, not ${R}`);
      const bn: ExactSum[] = [], bd: ExactSum[] = [];
      reps.forEach((x, r) => {
        const xo = obj(x, `${where}[${i}].replicates[${r}]`);
        try {
          bn.push(sumFromJSON(xo.numerator));
          bd.push(sumFromJSON(xo.denominator));
        } catch (e) {
          fail(`${where}[${i}].replicates[${r}]: ${(e as Error).message}`);
        }
      });
      boot = { boot: { num: bn, den: bd } };
    } else if (lo.replicates !== undefined) {
      fail(`${where}[${i}].replicates without config.bootstrap`);
    }
    return {
      name: losses[i]!.name, num, den,
      elements: count(lo.elements, `${where}[${i}].elements`), ignored_rows: count(lo.ignored_rows, `${where}[${i}].ignored_rows`),
      ...boot,
    };
  });
}

/** Read a state file; a missing file is a usage error, anything unreadable a data error naming the file. */
export async function readStateFile(path: string): Promise<LossevalState> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${(e as Error).message})`}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DataError('corrupt state file: not valid JSON (truncated?)', { file: path });
  }
  try {
    return stateFromJSON(parsed);
  } catch (e) {
    throw new DataError(`corrupt state file: ${(e as Error).message}`, { file: path });
  }
}

/** Write a state atomically: a temporary file beside the target, then rename. */
export async function writeStateFile(path: string, s: LossevalState): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  trackTempFile(temp);
  try {
    await fsp.writeFile(temp, JSON.stringify(stateToJSON(s), null, 1) + '\n', { flag: 'wx' });
    await fsp.rename(temp, path);
  } catch (e) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw new DataError(`cannot write the state (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  } finally {
    untrackTempFile(temp);
  }
}
