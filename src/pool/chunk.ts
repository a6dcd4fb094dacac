/**
 * The work on one chunk, independent of the pool: parse the raw parts into
 * float64 role matrices, apply the NaN policy, run every loss kernel and
 * return exact partial sums (or the per-row losses for reduction none).
 * Runs in a worker; also callable in-process.
 */
import { csvValuesBound, parseCsvChunk } from '../parse/csv.js';
import { locateRow, fieldText } from '../parse/csv-locate.js';
import { sliceToFloat64, sliceValueText } from '../parse/arrow-column.js';
import { countNaN } from '../parse/nan.js';
import { DataError } from '../errors.js';
import { lossDef } from '../losses/registry.js';
import { KernelError } from '../losses/kernel-error.js';
import { evaluateLoss, type LossOutput } from '../losses/evaluate.js';
import { ROLES, type Chunk, type Matrix, type RoleName } from '../losses/kernel.js';
import type { BootPartial, ChunkTask, GroupPartials, LossPartial, RoleRef, TaskError, TaskResult } from './task.js';
import { classKeyColumn, csvGroupIds, csvKeyColumn, groupIds, groupStarts, KeyTable, scatterInts, scatterRows, sliceKeyColumn, type KeyColumn } from './groups.js';
import { keyParts, partText } from '../reduce/keys.js';
import { mergeSums, sumFromCount, ZERO_SUM, type ExactSum } from '../reduce/exact-sum.js';
import { BootAccumulator, rowKey } from '../reduce/bootstrap.js';
import type { ArrowPart, ColumnSlice, CsvPart, InputPart } from '../types.js';
import { formatNumber } from '../write/format.js';


class ChunkFailure extends Error {
  constructor(readonly detail: TaskError) {
    super(detail.message);
  }
}

/** A part ready to parse: Parquet parts are decoded to column slices first (see decodeParts). */
type Part = CsvPart | ArrowPart;
type DecodedTask = Omit<ChunkTask, 'parts'> & { readonly parts: readonly Part[] };

/**
 * The Parquet page decoder, loaded by prepareChunk for the first task with a Parquet part: with its
 * codecs it costs ~30 ms of module loading per thread, which CSV and Arrow runs do not pay.
 */
let parquetDecoder: typeof import('../parse/parquet/part.js') | null = null;
let parquetLoading: Promise<void> | null = null;

/** Start loading the Parquet decoder now (a worker of a run with Parquet inputs, before its first task). */
export function preloadParquet(): Promise<void> {
  parquetLoading ??= import('../parse/parquet/part.js').then((m) => { parquetDecoder = m; });
  return parquetLoading;
}

/** Load what `task` needs beyond the CSV and Arrow paths (the Parquet decoder); await it before runChunk. */
export async function prepareChunk(task: ChunkTask): Promise<void> {
  if (parquetDecoder === null && task.parts.some((p) => p.kind === 'parquet')) await preloadParquet();
}

/** Decode the task's Parquet parts (read their byte ranges) into Arrow-style column slices. */
function decodeParts(task: ChunkTask): DecodedTask {
  if (!task.parts.some((p) => p.kind === 'parquet')) return task as DecodedTask;
  const pq = parquetDecoder;
  if (pq === null) throw new Error('internal: a Parquet part before prepareChunk loaded the decoder');
  const parts = task.parts.map((p: InputPart, i): Part => {
    if (p.kind !== 'parquet') return p;
    try {
      const slices = pq.decodeParquetPart(p, i);
      return { kind: 'arrow', slices, ...(p.keys && p.keys.length > 0 ? { keys: pq.decodeParquetKeys(p) } : {}) };
    } catch (e) {
      if (e instanceof pq.ParquetPartError) {
        throw new ChunkFailure({ message: e.detail, file: e.file, column: e.column, ...(e.row !== undefined ? { row: e.row } : {}) });
      }
      throw e;
    }
  });
  return { ...task, parts };
}

function partWidth(part: Part): number {
  if (part.kind === 'csv') return part.fields.length;
  let w = 0;
  for (const s of part.slices) w += s.width;
  return w;
}

/**
 * Parse space per input, reused from chunk to chunk on this thread: a parsed part is read only
 * while its chunk is being run (roles that take it whole are views of it).
 */
const parseSpace: Float64Array[] = [];

function space(index: number, n: number): Float64Array {
  const s = parseSpace[index];
  if (s !== undefined && s.length >= n) return s;
  const grown = new Float64Array(Math.max(n, s === undefined ? 0 : Math.min(2 * s.length, n + (n >> 1))));
  parseSpace[index] = grown;
  return grown;
}

/** Key span space per input, reused as parseSpace (fresh pages cost more than the spans' parse). */
const keySpaces: Int32Array[] = [];

function keySpace(index: number, n: number): Int32Array {
  const s = keySpaces[index];
  if (s !== undefined && s.length >= n) return s;
  return (keySpaces[index] = new Int32Array(n + (n >> 2)));
}

/** A CSV part's line number for the chunk's 0-based line offset `offset` (relative: see CsvPart.firstLine). */
function lineAt(part: CsvPart, offset: number): { line: number; relativeLine?: true } {
  return part.firstLine === null ? { line: 1 + offset, relativeLine: true } : { line: part.firstLine + offset };
}

/**
 * One parsed input part: rows × width values (for CSV, views of this thread's parse space). A
 * part that failed to parse gives its rows before the bad one, and the error to report unless an
 * earlier row fails in another way.
 */
interface ParsedPart {
  /**
   * rows × width matrices of consecutive value positions [start, start + width), in order, tiling
   * the part's positions: one per role when the roles tile them (see roleGroupWidth, and for Arrow
   * one per slice when each role is one slice), else one of the whole width
   */
  readonly blocks: readonly Block[];
  readonly rows: number;
  readonly lines?: number;
  /** CSV: blank lines skipped */
  readonly blankLines?: number;
  readonly failure?: TaskError;
  /** CSV with key fields: their spans (parse/csv.ts, keySpans) */
  readonly keySpans?: Int32Array;
  /** no value in `blocks` is NaN (known from the parser; else counted) */
  readonly nanFree?: boolean;
}

interface Block {
  readonly start: number;
  readonly width: number;
  readonly data: Float64Array;
}

/** Blocks of one width `w`, in order (a CSV parse's groups). */
function uniformBlocks(groups: readonly Float64Array[], w: number): Block[] {
  return groups.map((data, g) => ({ start: g * w, width: w, data }));
}

/**
 * When the roles read from input `index` all have one width w and tile its value positions in
 * order, the parse can lay each role out as its own matrix (groupWidth w): no copying roles out
 * of the wide row afterwards. Otherwise the whole row width (one matrix; roles are extracted).
 */
function roleGroupWidth(plan: DecodedTask['plan'], index: number, width: number): number {
  const refs: RoleRef[] = [];
  for (const name of ROLES) {
    const ref = plan.roles[name];
    if (ref && ref.input === index) refs.push(ref);
  }
  if (refs.length === 0) return width;
  const w = refs[0]!.width;
  if (refs.some((r) => r.width !== w) || w === 0 || refs.length * w !== width) return width;
  const starts = refs.map((r) => r.start).sort((a, b) => a - b);
  return starts.every((st, k) => st === k * w) ? w : width;
}

/** Parse one input part into matrices of its value positions. */
function parsePart(task: DecodedTask, index: number): ParsedPart {
  const part = task.parts[index]!;
  const info = task.plan.inputs[index]!;
  if (part.kind === 'csv') {
    const nc = part.fields.length;
    const need = task.rows !== null ? task.rows * nc : csvValuesBound(part.bytes.length, part.fieldCount, nc);
    const groupWidth = roleGroupWidth(task.plan, index, nc);
    const r = parseCsvChunk({
      bytes: part.bytes, rows: task.rows, delimiter: part.delimiter,
      fieldCount: part.fieldCount, columns: part.fields, out: space(index, need), groupWidth,
      ...(part.keyFields ? { keyFields: part.keyFields, keyOut: keySpace(index, (Math.floor(part.bytes.length / Math.max(1, part.fieldCount)) + 1) * part.keyFields.length * 2) } : {}),
    });
    if (!r.ok) {
      const pos = r.kind === 'number' ? part.fields.indexOf(r.field) : -1;
      const col = pos >= 0 ? info.columns[pos] : null;
      return {
        blocks: uniformBlocks(r.before!, groupWidth), rows: r.row, ...(r.keySpans ? { keySpans: r.keySpans } : {}),
        failure: { message: r.message, file: info.file, ...lineAt(part, r.line), ...(col != null ? { column: col } : {}), value: r.value },
      };
    }
    return {
      blocks: uniformBlocks(r.groups, groupWidth), rows: r.rows, lines: r.lines, blankLines: r.blankLines, nanFree: r.nanFree,
      ...(r.keySpans ? { keySpans: r.keySpans } : {}),
    };
  }
  const rows = task.rows;
  if (rows === null) throw new Error('internal: an Arrow chunk without a row count');
  const width = partWidth(part);
  // Roles of one width that tile the row: each role group is its own matrix (no extract later),
  // and a float64 column without nulls that is a whole group is used as it came (no copy).
  if (width === 0) return { blocks: [{ start: 0, width: 0, data: new Float64Array(0) }], rows };
  for (const s of part.slices) if (s.rows !== rows) throw new Error(`internal: arrow slice has ${s.rows} rows, chunk ${rows}`);
  let gw = roleGroupWidth(task.plan, index, width);
  let at = 0;
  for (const s of part.slices) {
    if ((at % gw) + s.width > gw) gw = width; // a slice across two groups: one matrix
    at += s.width;
  }
  // NaN values as the conversions count them (null: some slice was not counted)
  const nan: NanTally = { count: 0 };
  // roles of different widths, each one whole slice (cross_entropy's logits list beside its class
  // column): a matrix per slice, so no role is copied out of a wide row afterwards
  if (gw === width && part.slices.length > 1 && rolesAreSlices(task.plan, index, part.slices)) {
    let start = 0;
    const blocks = part.slices.map((s, k) => {
      const b = { start, width: s.width, data: sliceMatrix(s, rows, () => sliceSpace(index, k, rows * s.width), nan) };
      start += s.width;
      return b;
    });
    return { rows, blocks, nanFree: nan.count === 0 };
  }
  // Converted into space reused from chunk to chunk (as the CSV parse space): the slices read straight
  // from a file come back for reuse too, so no dead buffers pile up on either side (fresh arrays had
  // measured less peak RSS while every chunk's slices were fresh copies).
  const groups: Float64Array[] = [];
  for (let g = 0; g < width / gw; g++) groups.push(new Float64Array(0));
  let offset = 0;
  for (const s of part.slices) {
    const g = Math.floor(offset / gw);
    if (gw === s.width) groups[g] = sliceMatrix(s, rows, () => sliceSpace(index, g, rows * gw), nan);
    else {
      if (groups[g]!.length === 0) groups[g] = sliceSpace(index, g, rows * gw);
      convertSlice(s, groups[g]!, gw, offset % gw, nan);
    }
    offset += s.width;
  }
  for (let g = 0; g < groups.length; g++) if (groups[g]!.length < rows * gw) groups[g] = new Float64Array(rows * gw);
  return { blocks: uniformBlocks(groups, gw), rows, nanFree: nan.count === 0 };
}

/** NaN values written by slice conversions, or null once one was not counted. */
interface NanTally {
  count: number | null;
}

/** Does every role read from input `index` cover exactly one of its slices? */
function rolesAreSlices(plan: DecodedTask['plan'], index: number, slices: readonly ColumnSlice[]): boolean {
  const starts: number[] = [];
  let at = 0;
  for (const s of slices) {
    starts.push(at);
    at += s.width;
  }
  for (const name of ROLES) {
    const ref = plan.roles[name];
    if (!ref || ref.input !== index) continue;
    const k = starts.indexOf(ref.start);
    if (k < 0 || slices[k]!.width !== ref.width) return false;
  }
  return true;
}

/** Space for slices converted to their own matrices, per input and slice, reused as parseSpace. */
const sliceSpaces: Float64Array[][] = [];

function sliceSpace(index: number, k: number, n: number): Float64Array {
  const spaces = (sliceSpaces[index] ??= []);
  const s = spaces[k];
  if (s !== undefined && s.length >= n) return s.subarray(0, n);
  return (spaces[k] = new Float64Array(n + (n >> 2))).subarray(0, n);
}

/**
 * A slice as its own rows × width matrix: a float64 column without nulls as it came (no copy), else
 * converted into `into()` (rows × width); its NaN values added to `nan`.
 */
function sliceMatrix(s: ColumnSlice, rows: number, into: () => Float64Array, nan: NanTally): Float64Array {
  if (s.kind === 'f64' && !s.bigEndian && s.validity === null && s.childValidity === null && s.listOffsets === null &&
      s.values.byteOffset === 0 && (s.values as Float64Array).length >= rows * s.width) {
    const m = (s.values as Float64Array).subarray(0, rows * s.width);
    if (nan.count !== null) nan.count += countNaN(m);
    return m;
  }
  const m = into();
  convertSlice(s, m, s.width, 0, nan);
  return m;
}

/** sliceToFloat64, with bad data in the slice (a list of the wrong length) as this chunk's error, in order. */
function convertSlice(s: ColumnSlice, out: Float64Array, stride: number, offset: number, nan: NanTally): void {
  try {
    const n = sliceToFloat64(s, out, stride, offset);
    nan.count = n === null || nan.count === null ? null : nan.count + n;
  } catch (e) {
    if (e instanceof DataError && e.at) throw new ChunkFailure({ message: e.detail, ...e.at });
    throw e;
  }
}

/** Space for roles copied out of a wider part, per role, reused as parseSpace (read only while the chunk runs). */
const roleSpace = new Map<RoleName, Float64Array>();

/** Value positions [start, start+width) of each row of a block: the block itself, or copied out (into the role's reused space). */
function extract(src: Float64Array, srcWidth: number, start: number, width: number, rows: number, role: RoleName): Float64Array {
  if (start === 0 && width === srcWidth) return src;
  const n = rows * width;
  let space = roleSpace.get(role);
  if (space === undefined || space.length < n) roleSpace.set(role, (space = new Float64Array(n + (n >> 2))));
  const out = space.subarray(0, n);
  for (let r = 0, o = 0, s = start; r < rows; r++, s += srcWidth) {
    for (let k = 0; k < width; k++) out[o++] = src[s + k]!;
  }
  return out;
}

/** The message location of role value (row, k): file, CSV line or Arrow row, column, value as written. */
function locate(task: DecodedTask, ref: RoleRef, row: number, k: number): Omit<TaskError, 'message'> & { value: string } {
  const part = task.parts[ref.input]!;
  const info = task.plan.inputs[ref.input]!;
  const pos = ref.start + k;
  const column = info.columns[pos];
  const col = column != null ? { column } : {};
  if (part.kind === 'csv') {
    const { start, lineOffset } = locateRow(part.bytes, row, part.fieldCount >= 2);
    const value = fieldText(part.bytes, start, part.fields[pos]!, part.delimiter);
    return { file: info.file, ...lineAt(part, lineOffset), ...col, value };
  }
  let p = pos, slice = part.slices[0]!;
  for (const s of part.slices) {
    if (p < s.width) { slice = s; break; }
    p -= s.width;
  }
  return { file: info.file, row: slice.firstRow + row, ...col, value: sliceValueText(slice, row, p) };
}

/** The location of a chunk's first row, for errors about the whole chunk. */
function rowOf(task: DecodedTask): { line?: number; row?: number; relativeLine?: true } {
  const p = task.parts[0]!;
  return p.kind === 'csv' ? lineAt(p, 0) : { row: p.slices[0]?.firstRow ?? (task.firstRow ?? 0) + 1 };
}

function quote(v: string): string {
  return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '…' : v);
}


/** Keep only rows where keep[r] is 1. */
function compact(m: Float64Array, width: number, keep: Uint8Array, kept: number): Float64Array {
  const out = new Float64Array(kept * width);
  let o = 0;
  for (let r = 0, s = 0; r < keep.length; r++, s += width) {
    if (keep[r]) {
      for (let k = 0; k < width; k++) out[o++] = m[s + k]!;
    }
  }
  return out;
}

/** The chunk buffers to hand back for reuse once the chunk has run (parts marked `recycle`). */
export function recyclable(parts: readonly InputPart[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const p of parts) {
    if (p.kind === 'csv' && p.recycle) out.push(p.bytes.buffer as ArrayBuffer);
    else if (p.kind === 'arrow' && p.recycle) for (const s of p.slices) if (!out.includes(s.values.buffer as ArrayBuffer)) out.push(s.values.buffer as ArrayBuffer);
  }
  return out;
}

export function runChunk(task: ChunkTask): TaskResult {
  try {
    return runChunkUnsafe(task);
  } catch (e) {
    if (e instanceof ChunkFailure) return { ok: false, seq: task.seq, error: e.detail };
    throw e;
  }
}

function runChunkUnsafe(raw: ChunkTask): TaskResult {
  const task = decodeParts(raw);
  const { plan } = task;
  const parts = task.parts.map((_, i) => parsePart(task, i));
  // A parse error is reported after the rows before it have been checked (NaN policy, kernels):
  // the first problem in the file wins, whatever the chunking.
  let failed: ParsedPart | null = null;
  for (const p of parts) if (p.failure && (failed === null || p.rows < failed.rows)) failed = p;
  let rows = failed !== null ? failed.rows : parts[0]!.rows;
  if (failed === null && parts.some((p) => p.rows !== rows)) {
    throw new Error(`internal: parts of ${parts.map((p) => p.rows).join('/')} rows in one chunk`);
  }
  // one CSV input: its line count, from which the caller learns where the next chunk starts
  const lines = parts.length === 1 ? parts[0]!.lines : undefined;
  const roles: Partial<Record<RoleName, Float64Array>> = {};
  const refs: Partial<Record<RoleName, RoleRef>> = {};
  for (const name of ROLES) {
    const ref = plan.roles[name];
    if (!ref) continue;
    refs[name] = ref;
    const b = parts[ref.input]!.blocks.find((k) => ref.start >= k.start && ref.start + ref.width <= k.start + k.width)!;
    roles[name] = extract(b.data.subarray(0, rows * b.width), b.width, ref.start - b.start, ref.width, rows, name);
  }

  // NaN policy: count, drop rows, or fail on the first NaN (row-major, roles in order).
  // A tight count first: the row-by-row walk runs only when there is a NaN to act on.
  let nanValues = 0;
  for (const name of ROLES) {
    const m = roles[name];
    if (m && parts[refs[name]!.input]!.nanFree !== true) nanValues += countNaN(m);
  }
  const walk = nanValues > 0 && plan.nanPolicy !== 'propagate';
  if (walk) nanValues = 0;
  let rowMap: Int32Array | null = null;
  let keep: Uint8Array | null = null;
  for (let r = 0; walk && r < rows; r++) {
    let rowHasNan = false;
    for (const name of ROLES) {
      const m = roles[name];
      if (!m) continue;
      const w = refs[name]!.width;
      for (let k = 0, s = r * w; k < w; k++) {
        const v = m[s + k]!;
        if (v !== v) {
          nanValues++;
          rowHasNan = true;
          if (plan.nanPolicy === 'raise') {
            const at = locate(task, refs[name]!, r, k);
            throw new ChunkFailure({ ...at, message: `NaN value ${quote(at.value)} (--nan-policy raise)` });
          }
        }
      }
    }
    if (rowHasNan && plan.nanPolicy === 'omit') {
      if (!keep) keep = new Uint8Array(rows).fill(1);
      keep[r] = 0;
    }
  }
  let omitted = 0;
  if (keep) {
    let kept = 0;
    for (let r = 0; r < rows; r++) kept += keep[r]!;
    omitted = rows - kept;
    rowMap = new Int32Array(kept);
    for (let r = 0, o = 0; r < rows; r++) if (keep[r]) rowMap[o++] = r;
    for (const name of ROLES) {
      if (roles[name]) roles[name] = compact(roles[name]!, refs[name]!.width, keep, kept);
    }
    rows = kept;
  }

  const mat = (name: RoleName): Matrix | undefined =>
    roles[name] ? { data: roles[name]!, width: refs[name]!.width } : undefined;
  const chunk: Chunk = {
    rows,
    preds: mat('preds')!,
    targets: mat('targets')!,
    ...(roles.weights ? { weights: mat('weights')! } : {}),
    ...(roles.vars ? { vars: mat('vars')! } : {}),
    ...(roles.preds2 ? { preds2: mat('preds2')! } : {}),
  };

  const reduce = plan.reduction !== 'none';
  for (const spec of plan.losses) {
    const def = lossDef(spec.name);
    const problem = def.checkWidths(chunk);
    if (problem) throw new ChunkFailure({ message: `${def.name}: ${problem}`, file: plan.inputs[0]!.file, ...rowOf(task) });
  }
  const groupsOf = plan.groups ? rowGroups(task, parts, chunk, rowMap) : null;
  const bootKeys = plan.bootstrap && reduce ? bootRowKeys(task, rows, rowMap) : null;
  if (groupsOf !== null && reduce) {
    const grouped = evaluateGroups(task, chunk, groupsOf, bootKeys);
    // a kernel error: the ungrouped pass below finds the file's first one
    if (grouped !== null) {
      if (failed !== null) throw new ChunkFailure(failed.failure!);
      const blank = parts.map((p) => p.blankLines ?? 0);
      return {
        ok: true as const, seq: task.seq, rows, omitted, nanValues, partials: grouped.overall, groups: grouped.groups,
        ...(lines !== undefined ? { lines } : {}), ...(blank.some((b) => b > 0) ? { blankLines: blank } : {}),
      };
    }
  }
  const partials: LossPartial[] = [];
  const outs: { data: Float64Array; width: number }[] = [];
  for (const spec of plan.losses) {
    let r: LossOutput;
    try {
      r = evaluateLoss(spec, chunk, plan.reduction);
    } catch (e) {
      if (e instanceof KernelError) {
        const ref = refs[e.role]!;
        const row = rowMap ? rowMap[e.row]! : e.row;
        const at = locate(task, ref, row, e.offset);
        throw new ChunkFailure({ ...at, message: `${e.message}: ${quote(at.value)}` });
      }
      throw e;
    }
    if (!reduce) outs.push({ data: r.terms, width: r.width });
    partials.push({ num: r.num, den: r.den, elements: r.elements, ignored: r.ignored, ...(bootKeys ? { boot: bootPartial(plan.bootstrap!.replicates, r, bootKeys, rows) } : {}) });
  }

  if (failed !== null) throw new ChunkFailure(failed.failure!);
  const blankLines = parts.map((p) => p.blankLines ?? 0);
  const base = {
    ok: true as const, seq: task.seq, rows, omitted, nanValues, partials, ...(lines !== undefined ? { lines } : {}),
    ...(blankLines.some((b) => b > 0) ? { blankLines } : {}),
  };
  if (plan.reduction !== 'none') return base;
  if (plan.rowsAsCsv) return { ...base, csv: rowsToCsv(outs, rows, groupsOf, keyCount(plan.groups)) };
  const columns: Float64Array[] = [];
  for (const o of outs) {
    for (let k = 0; k < o.width; k++) {
      const col = new Float64Array(rows);
      for (let r = 0; r < rows; r++) col[r] = o.data[r * o.width + k]!;
      columns.push(col);
    }
  }
  return { ...base, columns };
}

const encoder = new TextEncoder();

/** A key part as a CSV field: missing is empty; text with a comma, quote or line break is quoted. */
function csvKeyField(p: string): string {
  const t = partText(p) ?? '';
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * Each kept row's group key (--group-by columns, or the target class with --per-class). Rows
 * dropped by --nan-policy omit are left out (rowMap: kept row → parsed row).
 */
function rowGroups(task: DecodedTask, parsed: readonly ParsedPart[], chunk: Chunk, rowMap: Int32Array | null): RowGroups {
  const g = task.plan.groups!;
  const columns: KeyColumn[] = g.refs.map((ref) => {
    const part = task.parts[ref.input]!;
    return part.kind === 'csv'
      ? csvKeyColumn(part.bytes, parsed[ref.input]!.keySpans!, part.keyFields!.length, ref.pos, rowMap)
      : sliceKeyColumn(part.keys![ref.pos]!, rowMap);
  });
  // --per-class (with --group-by: the class is the last key part)
  if (g.perClass) columns.push(classKeyColumn(chunk.targets.data));
  const table = new KeyTable(g.max);
  const one = g.refs.length === 1 && !g.perClass && rowMap === null ? g.refs[0]! : null;
  const csv = one !== null && task.parts[one.input]!.kind === 'csv' ? task.parts[one.input] as CsvPart : null;
  const ids = csv !== null
    ? csvGroupIds(csv.bytes, parsed[one!.input]!.keySpans!, csv.keyFields!.length, one!.pos, chunk.rows, table)
    : groupIds(columns, chunk.rows, table);
  if (ids === null) {
    throw new ChunkFailure({ message: `more than ${g.max} groups (--max-groups ${g.max}); raise --max-groups or group by fewer columns`, file: g.file });
  }
  return { ids, keys: table.keys };
}

/** Each kept row's group id, and the keys of the ids. */
interface RowGroups {
  readonly ids: Int32Array;
  readonly keys: readonly string[];
}

/**
 * Every group's partials (its rows alone through evaluateLoss) and the chunk's overall partials
 * (their exact sums); null when a kernel rejects a value (the caller's ungrouped pass reports it).
 */
function evaluateGroups(
  task: DecodedTask, chunk: Chunk, grouped: RowGroups, bootKeys: Int32Array | null,
): { overall: LossPartial[]; groups: GroupPartials } | null {
  const { plan } = task;
  const { ids } = grouped;
  const start = groupStarts(ids, grouped.keys.length);
  const sortedBootKeys = bootKeys ? scatterInts(bootKeys, ids, start) : null;
  const sorted: Partial<Record<RoleName, Matrix>> = {};
  ROLES.forEach((name, slot) => {
    const m = chunk[name];
    if (m) sorted[name] = { data: scatterRows(m.data, m.width, ids, start, slot), width: m.width };
  });
  const view = (name: RoleName, a: number, b: number): Matrix | undefined => {
    const m = sorted[name];
    return m ? { data: m.data.subarray(a * m.width, b * m.width), width: m.width } : undefined;
  };
  const overall: LossPartial[] = plan.losses.map(() => ({ num: ZERO_SUM, den: ZERO_SUM, elements: 0, ignored: 0 }));
  const partials: LossPartial[][] = [];
  const rows: number[] = [];
  for (let k = 0; k < grouped.keys.length; k++) {
    const a = start[k]!, b = start[k + 1]!;
    const sub: Chunk = {
      rows: b - a, preds: view('preds', a, b)!, targets: view('targets', a, b)!,
      ...(sorted.weights ? { weights: view('weights', a, b)! } : {}),
      ...(sorted.vars ? { vars: view('vars', a, b)! } : {}),
      ...(sorted.preds2 ? { preds2: view('preds2', a, b)! } : {}),
    };
    const ps: LossPartial[] = [];
    for (let i = 0; i < plan.losses.length; i++) {
      let r: LossOutput;
      try {
        r = evaluateLoss(plan.losses[i]!, sub, plan.reduction);
      } catch (e) {
        if (e instanceof KernelError) return null;
        throw e;
      }
      const p = {
        num: r.num, den: r.den, elements: r.elements, ignored: r.ignored,
        ...(sortedBootKeys ? { boot: bootPartial(plan.bootstrap!.replicates, r, sortedBootKeys.subarray(a, b), b - a) } : {}),
      };
      ps.push(p);
      overall[i] = addPartial(overall[i]!, p);
    }
    partials.push(ps);
    rows.push(b - a);
  }
  return { overall, groups: { keys: grouped.keys, rows, partials } };
}

/** Parts of a group key: the --group-by columns, and the class with --per-class. */
export function keyCount(g: { refs: readonly unknown[]; perClass: boolean } | undefined): number {
  return g === undefined ? 0 : g.refs.length + (g.perClass ? 1 : 0);
}

/** The exact sum of two partials. */
export function addPartial(a: LossPartial, b: LossPartial): LossPartial {
  return {
    num: mergeSums(a.num, b.num), den: mergeSums(a.den, b.den), elements: a.elements + b.elements, ignored: a.ignored + b.ignored,
    ...(a.boot && b.boot ? { boot: addBoot(a.boot, b.boot) } : a.boot ? { boot: a.boot } : b.boot ? { boot: b.boot } : {}),
  };
}

export function addBoot(a: BootPartial, b: BootPartial): BootPartial {
  return { num: a.num.map((x, r) => mergeSums(x, b.num[r]!)), den: a.den.map((x, r) => mergeSums(x, b.den[r]!)) };
}

/** Each kept row's bootstrap key: its global row index (first row of the chunk + --row-offset) hashed with the seed. */
function bootRowKeys(task: DecodedTask, rows: number, rowMap: Int32Array | null): Int32Array {
  const b = task.plan.bootstrap!;
  if (task.firstRow === null) throw new Error('internal: a bootstrap chunk without its first row index');
  const base = b.rowOffset + task.firstRow;
  const out = new Int32Array(rows);
  for (let k = 0; k < rows; k++) out[k] = rowKey(b.seed, base + (rowMap ? rowMap[k]! : k));
  return out;
}

const bootAccs = new Map<number, BootAccumulator>();

/** One loss's replicate sums over `rows` rows (keys: their bootstrap keys): Σ w·term and Σ w·denominator. */
function bootPartial(R: number, r: LossOutput, keys: Int32Array, rows: number): BootPartial {
  let acc = bootAccs.get(R);
  if (acc === undefined) {
    acc = new BootAccumulator(R);
    bootAccs.set(R, acc);
  }
  const w = r.width;
  let termKeys = keys;
  if (w !== 1) {
    termKeys = new Int32Array(rows * w);
    for (let k = 0; k < rows; k++) termKeys.fill(keys[k]!, k * w, (k + 1) * w);
  }
  // one term per row: the weighted row count comes with the terms' loop
  const fused = w === 1 && r.denominator !== 'den';
  acc.addTerms(r.terms, termKeys, rows * w, fused);
  const num = acc.sums();
  let den: ExactSum[];
  if (r.denominator === 'den') {
    acc.addTerms(r.denTerms!, keys, rows);
    den = acc.sums();
  } else {
    if (!fused) acc.addCounts(keys, rows);
    const mult = r.denominator === 'elements' ? BigInt(w) : 1n;
    den = acc.takeCounts().map((c) => sumFromCount(BigInt(c) * mult));
  }
  return { num, den };
}

function rowsToCsv(
  outs: readonly { data: Float64Array; width: number }[], rows: number, groups: RowGroups | null, keyCount: number,
): Uint8Array {
  const lines: string[] = new Array(rows);
  const keyText = groups?.keys.map((k) => keyParts(k, keyCount).map(csvKeyField).join(','));
  for (let r = 0; r < rows; r++) {
    let line = keyText !== undefined ? keyText[groups!.ids[r]!]! : '';
    let first = keyText === undefined;
    for (const o of outs) {
      for (let k = 0, s = r * o.width; k < o.width; k++) {
        line += (first ? '' : ',') + formatNumber(o.data[s + k]!);
        first = false;
      }
    }
    lines[r] = line;
  }
  return encoder.encode(rows ? lines.join('\n') + '\n' : '');
}
