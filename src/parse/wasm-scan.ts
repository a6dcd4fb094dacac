/**
 * WebAssembly SIMD scanner for quote-free CSV chunks (worker side), beside the JS parser.
 *
 * The module is asm/scan.ts, compiled by `npm run build` to dist/parse/scan.wasm. It is used only
 * where WebAssembly SIMD is available (checked with WebAssembly.validate of a tiny SIMD module)
 * and the .wasm file loads; otherwise `scanCsvWasm` always answers -1 and the JS paths parse.
 *
 * Division of work, so that results stay bit-identical to the JS parser and its error messages
 * unchanged: the scanner splits the rows, checks the field counts, and converts the plain fields
 * (`-?` digits with at most one '.', up to 16 bytes, digits below 2^53: the same Clinger fast
 * path as number.ts, one correctly rounded division). Every other selected field (exponents,
 * long digit runs, '+', spaces/tabs, nan/inf words, empty fields, invalid text) comes back as a
 * (position, start, end) triplet and goes through `parseNumberBytes`, the JS reference. A chunk
 * the scanner does not take whole (a '"' anywhere, a wrong field count, a blank line with two or
 * more fields, more rows than expected, too many fallback fields, or a fallback field that is
 * invalid) is left to the JS paths (-1), which then report exactly what they report today.
 * After a chunk with too many fallback fields (over 2048 and a quarter of its fields, e.g. 17-digit
 * data that the JS path parses as fast alone), the next 8 chunks go to the JS paths directly.
 */
import { numberInvalid, parseNumberBytes } from './number.js';
import { loadWasm, wasmSimdSupported, type WasmMemory } from '../wasm/load.js';

export { wasmSimdSupported };

interface ScanExports {
  memory: WasmMemory;
  init(): void;
  heapBase(): number;
  scan(
    inp: number, len: number, delim: number, fc: number, slot: number, stride: number, out: number, maxRows: number,
    fb: number, fbCap: number, idx: number, ctl: number,
  ): number;
  skipRows(p: number, len: number, want: number, ctl: number): number;
}

function load(): ScanExports | null {
  const ex = loadWasm<ScanExports>('parse/scan.wasm', true);
  try {
    ex?.init();
    return ex;
  } catch {
    return null;
  }
}

const wasm: ScanExports | null = load();
let enabled = wasm !== null;

/** Is the WebAssembly scanner loaded (SIMD available and dist/parse/scan.wasm found)? */
export function wasmScannerAvailable(): boolean {
  return wasm !== null;
}

/**
 * Turn the WebAssembly scanner on or off (on has no effect when it is not available); for tests
 * and benchmarks that compare it with the JS path. Returns the previous setting.
 */
export function setWasmScanner(on: boolean): boolean {
  const prev = enabled;
  skip = 0;
  enabled = on && wasm !== null;
  return prev;
}

/** Is the WebAssembly scanner in use? */
export function wasmScannerEnabled(): boolean {
  return enabled;
}

/** Counters (per thread) for tests and benchmarks: chunks taken whole, chunks left to JS, fields resolved by JS, row skips. */
export const wasmScanStats = { chunks: 0, declined: 0, fallbacks: 0, skips: 0 };

const PAD = 64;
const SEG = 16384; // asm/scan.ts
const FB_CAP = 16384; // fallback fields per chunk before the chunk is left to JS
const PAGE = 65536;
const STATUS_FALLBACKS = 4; // asm/scan.ts
/** After a chunk with too many fallback fields (e.g. 17-digit data), the next chunks go straight to JS. */
const SKIP_AFTER_FALLBACKS = 8;
let skip = 0;

/** NaN values among the fields the last successful scanCsvWasm call left to JS (the scanner itself writes no NaN). */
export let wasmScanNaNs = 0;

// memory layout above the static data: ctl | slot | idx | fb | out | input (+ pad)
let u8: Uint8Array = new Uint8Array(0);
let i32: Int32Array = new Int32Array(0);
let f64: Float64Array = new Float64Array(0);

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function ensure(ex: ScanExports, bytes: number): void {
  const have = ex.memory.buffer.byteLength;
  if (have < bytes) ex.memory.grow(Math.ceil((bytes - have) / PAGE));
  if (u8.buffer !== ex.memory.buffer) {
    // a grow detaches the old buffer: new views
    u8 = new Uint8Array(ex.memory.buffer);
    i32 = new Int32Array(ex.memory.buffer);
    f64 = new Float64Array(ex.memory.buffer);
  }
}

/**
 * Parse a quote-free chunk into `out` as csv.ts's parsePlain does (same arguments: rows is the
 * exact row count when `exact`, else the bound; slot[f] the output offset of field f or -1;
 * stride the values per row). Returns the rows parsed (every line was a row: no blank line
 * skipped), or -1 when the chunk is left to the JS paths (nothing reliable was written).
 */
export function scanCsvWasm(
  b: Uint8Array,
  rows: number,
  exact: boolean,
  delim: number,
  fieldCount: number,
  slot: Int32Array,
  stride: number,
  out: Float64Array,
): number {
  const ex = wasm;
  const n = b.length;
  if (!enabled || ex === null || n === 0 || rows < 1 || fieldCount < 1 || n >= 0x7fff0000) return -1;
  if (skip > 0) {
    skip--;
    wasmScanStats.declined++;
    return -1;
  }
  const addLf = b[n - 1] !== 10;
  const len = n + (addLf ? 1 : 0);
  // the same layout as `out` (groups of rows × stride values), up to the last value written
  let maxSlot = -1;
  for (let f = 0; f < fieldCount; f++) if (slot[f]! > maxSlot) maxSlot = slot[f]!;
  const outLen = maxSlot < 0 ? 0 : maxSlot + (rows - 1) * stride + 1;
  const ctl = align(ex.heapBase(), 16);
  const slotAt = ctl + 16;
  const idxAt = align(slotAt + fieldCount * 4, 16);
  const fbAt = align(idxAt + (SEG + fieldCount + PAD) * 4, 16);
  const outAt = align(fbAt + FB_CAP * 12, 16);
  const inAt = align(outAt + outLen * 8, 16);
  ensure(ex, inAt + len + PAD);
  u8.set(b, inAt);
  if (addLf) u8[inAt + n] = 10;
  u8.fill(0, inAt + len, inAt + len + PAD);
  i32.set(slot, slotAt >> 2);
  const status = ex.scan(inAt, len, delim, fieldCount, slotAt, stride, outAt, rows, fbAt, FB_CAP, idxAt, ctl);
  const got = i32[ctl >> 2]!;
  if (status !== 0 || (exact && got !== rows)) {
    if (status === STATUS_FALLBACKS) skip = SKIP_AFTER_FALLBACKS;
    wasmScanStats.declined++;
    return -1;
  }
  const nfb = i32[(ctl >> 2) + 1]!;
  const o8 = outAt >> 3;
  let nans = 0;
  for (let k = 0, t = fbAt >> 2; k < nfb; k++, t += 3) {
    const v = parseNumberBytes(b, i32[t + 1]!, i32[t + 2]!, delim);
    if (v !== v) {
      if (numberInvalid) {
        wasmScanStats.declined++;
        return -1;
      }
      nans++;
    }
    f64[o8 + i32[t]!] = v;
  }
  wasmScanNaNs = nans;
  wasmScanStats.chunks++;
  wasmScanStats.fallbacks += nfb;
  // copy the rows parsed of each group: group g starts at g·rows·stride
  const groupSize = rows * stride;
  const used = got * stride;
  for (let g = 0; g * groupSize < outLen && used > 0; g++) {
    const from = o8 + g * groupSize;
    out.set(f64.subarray(from, from + used), g * groupSize);
  }
  return got;
}

/** Ranges shorter than this are left to the JS word loop (the copy into WebAssembly memory does not pay). */
const SKIP_MIN_BYTES = 4096;
/** Bytes copied into WebAssembly memory per step (a skip often stops early: no need to copy the whole range). */
const SKIP_STEP = 65536;

/**
 * The row cutter's quote-free skip (read/csv-cut.ts fastForward) in WebAssembly: from b[i], whole
 * 64-byte blocks of b[i, n) holding no '"' and, all together, fewer than `want` newlines (every one
 * ends a row). Returns where the byte scan must resume, the rows skipped and the index after the
 * last of them (-1 if none); null when the scanner is off or the range is short (the JS loop then).
 */
export function skipRowsWasm(b: Uint8Array, i: number, n: number, want: number): { pos: number; rows: number; lastRowEnd: number } | null {
  const ex = wasm;
  if (!enabled || ex === null || n - i < SKIP_MIN_BYTES || want < 1) return null;
  const ctl = align(ex.heapBase(), 16);
  const inAt = ctl + 16;
  ensure(ex, inAt + SKIP_STEP);
  let rows = 0, lastRowEnd = -1, pos = i;
  wasmScanStats.skips++;
  while (n - pos >= 64) {
    const len = Math.min(SKIP_STEP, n - pos) & ~63;
    u8.set(b.subarray(pos, pos + len), inAt);
    const off = ex.skipRows(inAt, len, want - rows, ctl);
    const k = i32[ctl >> 2]!;
    if (k > 0) {
      rows += k;
      lastRowEnd = pos + i32[(ctl >> 2) + 1]!;
    }
    pos += off;
    if (off < len) break;
  }
  return { pos, rows, lastRowEnd };
}
