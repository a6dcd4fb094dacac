// Micro-benchmarks behind the profile's speed-up suggestions: the current dist/ code against
// prototypes of the proposed changes, one thread, on the benchmark's 1 M-row data
// (node bench/gen.mjs 1000000 first; `npm run build` for dist/). Every prototype's result is
// checked against the current code's (bit for bit, or the same row/byte positions).
//
//   node bench/hotpaths.mjs [rounds]
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { resolve, dirname } from 'node:path';
import { regression } from './gen.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const imp = (p) => import(pathToFileURL(resolve(here, '..', 'dist', p)).href);
const { scanRows } = await imp('read/csv-cut.js');
const { parseCsvChunk } = await imp('parse/csv.js');
const { runChunk } = await imp('pool/chunk.js');
const { sliceToFloat64 } = await imp('parse/arrow-column.js');
const { evaluateLoss } = await imp('losses/evaluate.js');

const ROUNDS = Number(process.argv[2] ?? 5);
const d = await regression(1e6);
const both = new Uint8Array(readFileSync(d.paths.both));
const body = both.subarray(both.indexOf(10) + 1);
const ROWS = 1e6, CH = 65536;

function time(fn) {
  const t = [];
  let v;
  for (let r = -1; r < ROUNDS; r++) {
    const t0 = performance.now();
    v = fn();
    if (r >= 0) t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { ms: t[t.length >> 1], v };
}
const out = [];
const report = (group, name, ms, unit, per) => out.push({ group, name, ms, [unit]: per });

// ---- 1. main thread: cutting rows --------------------------------------------------------------------
// current: scanRows (SWAR on 4-byte words, breaks at every '\n' word) to find the end of each 64 Ki-row block
function cutCurrent() {
  const ends = [];
  const st = { inQuote: false, rows: 0, lfs: 0 };
  let i = 0;
  while (i < body.length) {
    const e = scanRows(body, i, body.length, CH, st);
    if (e < 0) break;
    ends.push(e);
    i = e;
  }
  return ends;
}
// proposal A: a block without '"' (one native indexOf per source chunk) needs no quote state:
// find the N-th '\n' with native indexOf (memchr) calls
function cutIndexOf() {
  const ends = [];
  if (body.indexOf(34) >= 0) throw new Error('data has quotes');
  let i = 0;
  for (;;) {
    let k = 0, p = i - 1;
    while (k < CH) {
      p = body.indexOf(10, p + 1);
      if (p < 0) break;
      k++;
    }
    if (p < 0) break;
    ends.push(p + 1);
    i = p + 1;
  }
  return ends;
}
// proposal B: count '\n' in 4-byte words without branching (exact zero-byte mask + popcount),
// then find the exact position only inside the word that reaches N
function popcnt(x) {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
function cutSwarCount() {
  const ends = [];
  if (body.indexOf(34) >= 0) throw new Error('data has quotes');
  const a0 = (4 - (body.byteOffset & 3)) & 3;
  const nw = (body.length - a0) >> 2;
  const w = new Uint32Array(body.buffer, body.byteOffset + a0, nw);
  let need = CH;
  for (let i = 0; i < a0; i++) if (body[i] === 10 && --need === 0) { ends.push(i + 1); need = CH; }
  for (let k = 0; k < nw; k++) {
    const y = w[k] ^ 0x0a0a0a0a;
    const z = ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y | 0x7f7f7f7f); // 0x80 in each byte that was '\n'
    if (z === 0) continue;
    const c = popcnt(z);
    if (c < need) { need -= c; continue; }
    for (let j = 0; j < 4; j++) {
      if (body[a0 + 4 * k + j] === 10 && --need === 0) { ends.push(a0 + 4 * k + j + 1); need = CH; }
    }
  }
  return ends;
}
{
  const ref = time(cutCurrent);
  const mb = body.length / 1e6;
  report('cut', 'current scanRows', ref.ms, 'MB/s', mb / (ref.ms / 1000));
  for (const [name, fn] of [['indexOf(10) per row (no-quote blocks)', cutIndexOf], ['SWAR newline popcount (no-quote blocks)', cutSwarCount]]) {
    const r = time(fn);
    if (r.v.length !== ref.v.length || r.v.some((e, i) => e !== ref.v[i])) throw new Error(`${name}: different cut positions`);
    report('cut', name, r.ms, 'MB/s', mb / (r.ms / 1000));
  }
}

// ---- 2. worker: chunk pipeline minus parsing ---------------------------------------------------------
const spec = { name: 'l1', params: {} };
const plan = {
  losses: [spec], reduction: 'mean', nanPolicy: 'propagate',
  inputs: [{ file: 'p', columns: ['pred'] }, { file: 't', columns: ['target'] }],
  roles: { preds: { input: 0, start: 0, width: 1 }, targets: { input: 1, start: 0, width: 1 } }, rowsAsCsv: false,
};
const P32 = new Float32Array(ROWS), T32 = new Float32Array(ROWS);
{
  // the Arrow data's float32 values, from the CSV text (same generator)
  let row = 0, s = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 44) { P32[row] = Number(new TextDecoder().decode(body.subarray(s, i))); s = i + 1; }
    else if (body[i] === 10) { T32[row++] = Number(new TextDecoder().decode(body.subarray(s, i))); s = i + 1; }
  }
}
const slice = (src, c, e) => ({
  kind: 'f32', rows: e - c, width: 1, values: src.slice(c, e), validity: null, childValidity: null,
  firstRow: c + 1, listOffsets: null, listPieces: null, widthRow: 0, file: 'x', column: 'x',
});
function arrowTasks() {
  const tasks = [];
  for (let c = 0, seq = 0; c < ROWS; c += CH, seq++) {
    const e = Math.min(ROWS, c + CH);
    tasks.push({ seq, rows: e - c, firstRow: c, plan, parts: [{ kind: 'arrow', slices: [slice(P32, c, e)] }, { kind: 'arrow', slices: [slice(T32, c, e)] }] });
  }
  return tasks;
}
function tightHasNaN(m) {
  for (let i = 0; i < m.length; i++) if (m[i] !== m[i]) return true;
  return false;
}
{
  const tasks = arrowTasks();
  const cur = time(() => {
    let s = 0;
    for (const t of tasks) s += runChunk(t).partials[0].num.n > 0n ? 1 : 0;
    return s;
  });
  report('worker (Arrow f32, l1)', 'current runChunk', cur.ms, 'ns/row', (cur.ms * 1e6) / ROWS);
  // the same work with the NaN scan as one tight loop per role matrix (slow path only when a NaN is seen)
  const proto = time(() => {
    let s = 0;
    for (const t of tasks) {
      const x = new Float64Array(t.rows), y = new Float64Array(t.rows);
      sliceToFloat64(t.parts[0].slices[0], x, 1, 0);
      sliceToFloat64(t.parts[1].slices[0], y, 1, 0);
      if (tightHasNaN(x) || tightHasNaN(y)) throw new Error('no NaN in this data');
      const o = evaluateLoss(spec, { rows: t.rows, preds: { data: x, width: 1 }, targets: { data: y, width: 1 } }, true);
      s += o.num.n > 0n ? 1 : 0;
    }
    return s;
  });
  report('worker (Arrow f32, l1)', 'convert + tight NaN scan + evaluateLoss', proto.ms, 'ns/row', (proto.ms * 1e6) / ROWS);
  // the row-major NaN loop of runChunkUnsafe alone (same shape as src/pool/chunk.ts)
  const ROLE_ORDER = ['preds', 'targets', 'weights'];
  const x = new Float64Array(ROWS), y = new Float64Array(ROWS);
  x.set(P32);
  y.set(T32);
  const nanLoop = time(() => {
    const roles = { preds: x, targets: y }, refs = { preds: plan.roles.preds, targets: plan.roles.targets };
    let nanValues = 0;
    for (let r = 0; r < ROWS; r++) {
      for (const name of ROLE_ORDER) {
        const m = roles[name];
        if (!m) continue;
        const w = refs[name].width;
        for (let k = 0, s = r * w; k < w; k++) {
          const v = m[s + k];
          if (v !== v) nanValues++;
        }
      }
    }
    return nanValues;
  });
  report('worker (Arrow f32, l1)', '  of which: row-major NaN loop as in runChunkUnsafe', nanLoop.ms, 'ns/row', (nanLoop.ms * 1e6) / ROWS);
  const tight = time(() => (tightHasNaN(x) ? 1 : 0) + (tightHasNaN(y) ? 1 : 0));
  report('worker (Arrow f32, l1)', '  tight per-role NaN scan', tight.ms, 'ns/row', (tight.ms * 1e6) / ROWS);
}

// ---- 3. worker: CSV number parsing -------------------------------------------------------------------
// blocks of the two-column file as the cutter makes them
const blocks = [];
{
  const ends = cutCurrent();
  let s = 0;
  for (const e of [...ends, body.length]) {
    if (e > s) {
      let rows = 0;
      for (let i = s; i < e; i++) if (body[i] === 10) rows++;
      blocks.push({ bytes: body.slice(s, e), rows });
    }
    s = e;
  }
}
// prototype number scanner: the first 9 digits in an int32 ((m*10+d)|0: short dependency chain),
// the rest (rare here) through the current code path semantics (falls back to Number()).
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
let pEnd = 0;
function protoScan(b, start, end) {
  let i = start;
  let c = i < end ? b[i] : 0;
  let neg = false;
  if (c === 45) { neg = true; c = ++i < end ? b[i] : 0; }
  else if (c === 43) c = ++i < end ? b[i] : 0;
  let m = 0, nd = 0, e10 = 0, big = false;
  let d = c - 48;
  let seen = 0; // digits seen (syntax); nd = significant digits kept (leading zeros skipped)
  while (d >>> 0 <= 9) {
    seen++;
    if (nd < 9) { m = (m * 10 + d) | 0; if (m !== 0) nd++; } else big = true;
    c = ++i < end ? b[i] : 0;
    d = c - 48;
  }
  if (c === 46) {
    c = ++i < end ? b[i] : 0;
    d = c - 48;
    while (d >>> 0 <= 9) {
      seen++;
      if (nd < 9) { m = (m * 10 + d) | 0; e10--; if (m !== 0) nd++; } else big = true;
      c = ++i < end ? b[i] : 0;
      d = c - 48;
    }
  }
  if (seen === 0 || big || c === 101 || c === 69) { pEnd = -1; return NaN; } // -> general path (not in this data)
  pEnd = i;
  if (m === 0) return neg ? -0 : 0;
  const v = e10 >= 0 ? m * POW10[e10] : m / POW10[-e10];
  return neg ? -v : v;
}
function protoParse(bytes, rows) {
  // two numeric fields per row, no quotes, '\n' line ends (the benchmark's shape)
  const out = new Float64Array(rows * 2);
  const n = bytes.length;
  let pos = 0, o = 0;
  while (pos < n) {
    let v = protoScan(bytes, pos, n);
    if (pEnd < 0 || bytes[pEnd] !== 44) throw new Error('proto: unexpected');
    out[o++] = v;
    pos = pEnd + 1;
    v = protoScan(bytes, pos, n);
    if (pEnd < 0 || (pEnd < n && bytes[pEnd] !== 10)) throw new Error('proto: unexpected');
    out[o++] = v;
    pos = pEnd + 1;
  }
  return out;
}
{
  const mb = body.length / 1e6;
  const cur = time(() => blocks.map((b) => {
    const r = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: 44, fieldCount: 2, columns: [0, 1] });
    if (!r.ok) throw new Error(r.message);
    return r.values;
  }));
  report('CSV parse (2 numeric columns)', 'current parseCsvChunk', cur.ms, 'MB/s', mb / (cur.ms / 1000));
  const pr = time(() => blocks.map((b) => protoParse(b.bytes, b.rows)));
  for (let k = 0; k < blocks.length; k++) {
    const a = cur.v[k], b = pr.v[k];
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`proto parse differs at block ${k} value ${i}: ${a[i]} vs ${b[i]}`);
  }
  report('CSV parse (2 numeric columns)', 'prototype: int32 digit accumulation, 2-field loop', pr.ms, 'MB/s', mb / (pr.ms / 1000));
}

console.log(JSON.stringify(out));
for (const r of out) {
  const unit = Object.keys(r).find((k) => k !== 'group' && k !== 'name' && k !== 'ms');
  console.error(`${r.group.padEnd(32)} ${r.name.padEnd(56)} ${r.ms.toFixed(1).padStart(8)} ms  ${r[unit].toFixed(1).padStart(8)} ${unit}`);
}

// ---- 4. cross_entropy, 1000 classes, class-index targets ----------------------------------------------
{
  const { crossEntropyKernel } = await imp('losses/classification.js');
  const { exp, log } = await imp('math/index.js');
  const C = 1000, R = 2000;
  const x = new Float64Array(R * C), y = new Float64Array(R);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < x.length; i++) x[i] = Math.round((rnd() * 20 - 10) * 1e8) / 1e8;
  for (let r = 0; r < R; r++) y[r] = Math.floor(rnd() * C);
  const chunk = { rows: R, preds: { data: x, width: C }, targets: { data: y, width: 1 } };
  const params = { weight: null, ignoreIndex: -100, labelSmoothing: 0 };
  const outA = new Float64Array(R), den = new Float64Array(R);
  const cur = time(() => { crossEntropyKernel(chunk, params, outA, den); return outA.slice(); });
  report('cross_entropy C=1000 (kernel only)', 'current crossEntropyKernel', cur.ms, 'ns/value', (cur.ms * 1e6) / (R * C));
  // prototype: class-index mode without label smoothing needs only lp[t] = x[t] - m - log(s):
  // no per-class lp array write (same operations for the value used: bit-identical)
  const proto = time(() => {
    const out = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      const off = r * C;
      let m = -Infinity, nan = false;
      for (let k = 0; k < C; k++) {
        const v = x[off + k];
        if (v > m) m = v;
        else if (v !== v) nan = true;
      }
      if (nan) m = NaN;
      let sum = 0;
      for (let k = 0; k < C; k++) sum += exp(x[off + k] - m);
      const t = y[r];
      out[r] = -(x[off + t] - m - log(sum));
    }
    return out;
  });
  for (let r = 0; r < R; r++) if (!Object.is(cur.v[r], proto.v[r])) throw new Error(`ce proto differs at row ${r}`);
  report('cross_entropy C=1000 (kernel only)', 'prototype: only lp[t] (eps = 0)', proto.ms, 'ns/value', (proto.ms * 1e6) / (R * C));
  const expOnly = time(() => {
    let a = 0;
    for (let i = 0; i < x.length; i++) a += exp(x[i] - 10);
    return a;
  });
  report('cross_entropy C=1000 (kernel only)', '  of which: losseval exp() alone', expOnly.ms, 'ns/value', (expOnly.ms * 1e6) / (R * C));
  const mexp = time(() => {
    let a = 0;
    for (let i = 0; i < x.length; i++) a += Math.exp(x[i] - 10);
    return a;
  });
  report('cross_entropy C=1000 (kernel only)', '  (Math.exp alone, for scale: not allowed in kernels)', mexp.ms, 'ns/value', (mexp.ms * 1e6) / (R * C));
}
console.log(JSON.stringify(out.slice(-4)));
for (const r of out.slice(-4)) {
  const unit = Object.keys(r).find((k) => k !== 'group' && k !== 'name' && k !== 'ms');
  console.error(`${r.group.padEnd(32)} ${r.name.padEnd(56)} ${r.ms.toFixed(1).padStart(8)} ms  ${r[unit].toFixed(1).padStart(8)} ${unit}`);
}
