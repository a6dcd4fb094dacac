/**
 * The work on one chunk, independent of the pool: parse the raw parts into
 * float64 role matrices, apply the NaN policy, run every loss kernel and
 * return exact partial sums (or the per-row losses for reduction none).
 * Runs in a worker; also callable in-process.
 */
import { parseCsvChunk } from '../parse/csv.js';
import { locateRow, fieldText } from '../parse/csv-locate.js';
import { sliceToFloat64 } from '../parse/arrow-column.js';
import { lossDef } from '../losses/registry.js';
import { KernelError } from '../losses/kernel-error.js';
import { evaluateLoss, type LossOutput } from '../losses/evaluate.js';
import { ROLES, type Chunk, type Matrix, type RoleName } from '../losses/kernel.js';
import type { ChunkTask, InputPart, LossPartial, RoleRef, TaskError, TaskResult } from './task.js';
import { formatNumber } from '../write/format.js';


class ChunkFailure extends Error {
  constructor(readonly detail: TaskError) {
    super(detail.message);
  }
}

function partWidth(part: InputPart): number {
  if (part.kind === 'csv') return part.fields.length;
  let w = 0;
  for (const s of part.slices) w += s.width;
  return w;
}

/** Parse one input part into a rows × width matrix. */
function parsePart(task: ChunkTask, index: number): Float64Array {
  const part = task.parts[index]!;
  const info = task.plan.inputs[index]!;
  if (part.kind === 'csv') {
    const r = parseCsvChunk({
      bytes: part.bytes, rows: task.rows, delimiter: part.delimiter,
      fieldCount: part.fieldCount, columns: part.fields,
    });
    if (!r.ok) {
      const pos = r.kind === 'number' ? part.fields.indexOf(r.field) : -1;
      const col = pos >= 0 ? info.columns[pos] : null;
      throw new ChunkFailure({
        message: r.message, file: info.file, line: part.firstLine + r.line,
        ...(col != null ? { column: col } : {}),
      });
    }
    return r.values;
  }
  const width = partWidth(part);
  const out = new Float64Array(task.rows * width);
  let offset = 0;
  for (const s of part.slices) {
    if (s.rows !== task.rows) throw new Error(`internal: arrow slice has ${s.rows} rows, chunk ${task.rows}`);
    sliceToFloat64(s, out, width, offset);
    offset += s.width;
  }
  return out;
}

/** Copy value positions [start, start+width) of each row out of a parsed part. */
function extract(src: Float64Array, srcWidth: number, ref: RoleRef, rows: number): Float64Array {
  if (ref.start === 0 && ref.width === srcWidth) return src;
  const out = new Float64Array(rows * ref.width);
  for (let r = 0, o = 0, s = ref.start; r < rows; r++, s += srcWidth) {
    for (let k = 0; k < ref.width; k++) out[o++] = src[s + k]!;
  }
  return out;
}

/** The message location of role value (row, k): file, CSV line or Arrow row, column, value as written. */
function locate(task: ChunkTask, ref: RoleRef, row: number, k: number): Omit<TaskError, 'message'> & { value: string } {
  const part = task.parts[ref.input]!;
  const info = task.plan.inputs[ref.input]!;
  const pos = ref.start + k;
  const column = info.columns[pos];
  const col = column != null ? { column } : {};
  if (part.kind === 'csv') {
    const { start, lineOffset } = locateRow(part.bytes, row);
    const value = fieldText(part.bytes, start, part.fields[pos]!, part.delimiter);
    return { file: info.file, line: part.firstLine + lineOffset, ...col, value };
  }
  let p = pos, slice = part.slices[0]!;
  for (const s of part.slices) {
    if (p < s.width) { slice = s; break; }
    p -= s.width;
  }
  const isNull = slice.validity !== null && ((slice.validity[row >> 3]! >> (row & 7)) & 1) === 0;
  return { file: info.file, row: slice.firstRow + row, ...col, value: isNull ? 'null' : '' };
}

/** The location of a chunk's first row, for errors about the whole chunk. */
function rowOf(task: ChunkTask): { line?: number; row?: number } {
  const p = task.parts[0]!;
  return p.kind === 'csv' ? { line: p.firstLine } : { row: p.slices[0]?.firstRow ?? task.firstRow + 1 };
}

function quote(v: string): string {
  return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '…' : v);
}

function countNaN(a: Float64Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v !== v) n++;
  }
  return n;
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

export function runChunk(task: ChunkTask): TaskResult {
  try {
    return runChunkUnsafe(task);
  } catch (e) {
    if (e instanceof ChunkFailure) return { ok: false, seq: task.seq, error: e.detail };
    throw e;
  }
}

function runChunkUnsafe(task: ChunkTask): TaskResult {
  const { plan } = task;
  const parsed = task.parts.map((_, i) => parsePart(task, i));
  const widths = task.parts.map(partWidth);
  let rows = task.rows;
  const roles: Partial<Record<RoleName, Float64Array>> = {};
  const refs: Partial<Record<RoleName, RoleRef>> = {};
  for (const name of ROLES) {
    const ref = plan.roles[name];
    if (!ref) continue;
    refs[name] = ref;
    roles[name] = extract(parsed[ref.input]!, widths[ref.input]!, ref, rows);
  }

  // NaN policy: count, drop rows, or fail on the first NaN (row-major, roles in order).
  // A tight count first: the row-by-row walk runs only when there is a NaN to act on.
  let nanValues = 0;
  for (const name of ROLES) {
    const m = roles[name];
    if (m) nanValues += countNaN(m);
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
            const { value, ...loc } = at;
            throw new ChunkFailure({ ...loc, message: `NaN value ${quote(value)} (--nan-policy raise)` });
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

  const partials: LossPartial[] = [];
  const outs: { data: Float64Array; width: number }[] = [];
  const reduce = plan.reduction !== 'none';
  for (const spec of plan.losses) {
    const def = lossDef(spec.name);
    const problem = def.checkWidths(chunk);
    if (problem) throw new ChunkFailure({ message: `${def.name}: ${problem}`, file: plan.inputs[0]!.file, ...rowOf(task) });
    let r: LossOutput;
    try {
      r = evaluateLoss(spec, chunk, plan.reduction);
    } catch (e) {
      if (e instanceof KernelError) {
        const ref = refs[e.role]!;
        const row = rowMap ? rowMap[e.row]! : e.row;
        const { value, ...loc } = locate(task, ref, row, e.offset);
        throw new ChunkFailure({ ...loc, message: `${e.message}: ${quote(value)}` });
      }
      throw e;
    }
    if (!reduce) outs.push({ data: r.terms, width: r.width });
    partials.push({ num: r.num, den: r.den, elements: r.elements, ignored: r.ignored });
  }

  const base = { ok: true as const, seq: task.seq, rows, omitted, nanValues, partials };
  if (plan.reduction !== 'none') return base;
  if (plan.rowsAsCsv) return { ...base, csv: rowsToCsv(outs, rows) };
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

function rowsToCsv(outs: readonly { data: Float64Array; width: number }[], rows: number): Uint8Array {
  const lines: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    let line = '';
    let first = true;
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
