/**
 * The shared part of log-softmax for many rows at once: for each row of a rows × C matrix, its max
 * m (NaN when a value is NaN) and s = Σ_k exp(x_k − m), summed left to right with the correctly
 * rounded exp of ./exp.ts.
 *
 * Wide rows go through asm/exp.ts (dist/math/exp.wasm), which evaluates exp's fast path with the
 * same double operations in the same order, so s has the same bits; a row where that path cannot
 * give a term (|x_k − m| ≥ 708, NaN, an undecided rounding) is summed again here. Without the
 * module (not built, no WebAssembly) every row is summed here. test/unit/exp-rows.test.ts
 * compares both on hard cases and random rows, bit for bit.
 */
import { exp } from './exp.js';
import { EXP_TAB } from './tables.js';
import { loadWasm, type WasmMemory } from '../wasm/load.js';

interface ExpExports {
  memory: WasmMemory;
  tab(): number;
  heapBase(): number;
  rowShifts(x: number, rows: number, C: number, outM: number, outS: number): void;
  expTerms(x: number, n: number, out: number): void;
}

function load(): ExpExports | null {
  const ex = loadWasm<ExpExports>('math/exp.wasm', true);
  if (ex === null) return null;
  new Float64Array(ex.memory.buffer, ex.tab(), EXP_TAB.length).set(EXP_TAB);
  return ex;
}

const wasm = load();
let enabled = wasm !== null;

/** Rows narrower than this are summed in JS (measured, bench/exp-rows.mjs: 2 values per row 0.84x, 3 1.24x, 4+ ~2x). */
const MIN_WASM_WIDTH = 3;
/** Values copied into WebAssembly memory per call (bounds its memory: 512 KiB). */
const WASM_BLOCK_VALUES = 1 << 16;
const PAGE = 65536;

/** Is the WebAssembly row-shift module loaded? */
export function expRowsWasmAvailable(): boolean {
  return wasm !== null;
}

/** Turn the WebAssembly path on or off (for tests and benchmarks); returns the previous setting. */
export function setExpRowsWasm(on: boolean): boolean {
  const prev = enabled;
  enabled = on && wasm !== null;
  return prev;
}

/** The start of the module's heap (16-byte aligned), with room for `values` float64 values. */
function heap(ex: ExpExports, values: number): number {
  const at = Math.ceil(ex.heapBase() / 16) * 16;
  const need = at + values * 8;
  const have = ex.memory.buffer.byteLength;
  if (have < need) ex.memory.grow(Math.ceil((need - have) / PAGE));
  return at;
}

/**
 * The WebAssembly path's term e^x for each value (NaN where it gives none: |x| ≥ 708, NaN, an
 * undecided rounding), pairs of values in its two SIMD lanes and an odd last one alone; null
 * without the module. For verification against ./exp.ts.
 */
export function expTermsWasm(x: Float64Array): Float64Array | null {
  const ex = wasm;
  if (ex === null) return null;
  const xAt = heap(ex, 2 * x.length);
  const outAt = xAt + x.length * 8;
  new Float64Array(ex.memory.buffer, xAt, x.length).set(x);
  ex.expTerms(xAt, x.length, outAt);
  return new Float64Array(ex.memory.buffer, outAt, x.length).slice();
}

/** The max of x[off, off + C) with NaN propagated (the reference). */
function rowMax(x: Float64Array, off: number, C: number): number {
  let m = -Infinity;
  let nan = false;
  for (let k = 0; k < C; k++) {
    const v = x[off + k]!;
    if (v > m) m = v;
    else if (v !== v) nan = true;
  }
  return nan ? NaN : m;
}

/** Σ_k exp(x[off + k] − m), left to right (the reference; also a row the WebAssembly path gave back). */
function sumExp(x: Float64Array, off: number, C: number, m: number): number {
  let s = 0;
  for (let k = 0; k < C; k++) s += exp(x[off + k]! - m);
  return s;
}

/**
 * For rows [0, rows) of the row-major matrix x (C values per row) — or only the rows listed in
 * `only`, in any order — ms[r] = max of the row (NaN if it holds a NaN), ss[r] = Σ_k exp(x[r·C + k] − ms[r]).
 * Rows not listed are left as they were.
 */
export function rowShifts(x: Float64Array, rows: number, C: number, ms: Float64Array, ss: Float64Array, only?: Int32Array): void {
  const count = only ? only.length : rows;
  const at = (j: number): number => (only ? only[j]! : j);
  const ex = wasm;
  if (!enabled || ex === null || C < MIN_WASM_WIDTH) {
    for (let j = 0; j < count; j++) {
      const r = at(j);
      ms[r] = rowMax(x, r * C, C);
      ss[r] = sumExp(x, r * C, C, ms[r]!);
    }
    return;
  }
  const per = Math.max(1, Math.floor(WASM_BLOCK_VALUES / C));
  for (let j0 = 0; j0 < count; j0 += per) {
    const n = Math.min(per, count - j0);
    // the rows, then m and s
    const xAt = heap(ex, n * C + 2 * n);
    const mAt = xAt + n * C * 8;
    const sAt = mAt + n * 8;
    const buf = ex.memory.buffer;
    const into = new Float64Array(buf, xAt, n * C);
    if (only) for (let j = 0; j < n; j++) into.set(x.subarray(at(j0 + j) * C, (at(j0 + j) + 1) * C), j * C);
    else into.set(x.subarray(j0 * C, (j0 + n) * C));
    ex.rowShifts(xAt, n, C, mAt, sAt);
    const m = new Float64Array(buf, mAt, n);
    const s = new Float64Array(buf, sAt, n);
    for (let j = 0; j < n; j++) {
      const r = at(j0 + j);
      ms[r] = m[j]!;
      const v = s[j]!;
      ss[r] = v === v ? v : sumExp(x, r * C, C, m[j]!);
    }
  }
}
