// Single-thread kernel micro-benchmark for the "exact accumulation" target and the worker's
// per-chunk costs. Same data shape as the regression CSV (pred = m/1e8, target = m/1e9, float64),
// processed in chunks of 65536 rows as the workers see them.
//
//   naive-fused   s += |x - y|                                 (the target's baseline)
//   src-evaluate  evaluateLoss(l1) as the worker calls it: terms array + ExactAccumulator per chunk
//   split-reuse   l1Kernel into a reused terms array + addArray + toSum (no allocation)
//   fused-exact   prototype: |x - y| into a 2048-term L1-resident block, addArray per block,
//                 one toSum per chunk (what a blocked fused evaluateLoss could do)
//   fused-inline  prototype: |x - y| split straight into the superaccumulator cells (no terms array)
//   worker-arrow  runChunk() on float32 Arrow slices (convert + roles + NaN scan + kernel + exact)
//   worker-csv2   runChunk() on two CSV parts (parse + roles + NaN scan + kernel + exact)
//
// Usage: node bench/exact-kernels.mjs [rows] [rounds]   -> prints one JSON object (ns/row per variant)
import { pathToFileURL } from 'node:url';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './gen.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '..', 'dist');
const imp = (p) => import(pathToFileURL(resolve(dist, p)).href);
const { evaluateLoss } = await imp('losses/evaluate.js');
const { l1Kernel } = await imp('losses/regression.js');
const { ExactAccumulator, mergeSums, ZERO_SUM, roundQuotient, sumFromCount } = await imp('reduce/exact-sum.js');
const { runChunk } = await imp('pool/chunk.js');

const N = Number(process.argv[2] ?? 1e7);
const ROUNDS = Number(process.argv[3] ?? 5);
const CH = 65536;

const r = rng(77);
const int9 = () => Math.floor(((r() >>> 5) * 67108864 + (r() >>> 6)) / 9007199254740992 * 1e9);
const X = new Float64Array(N), Y = new Float64Array(N);
for (let i = 0; i < N; i++) {
  X[i] = (int9() * (r() & 1 ? 1 : -1)) / 1e8;
  Y[i] = int9() / 1e9;
}

// ---- variants --------------------------------------------------------------------------------------
function naiveFused() {
  let s = 0;
  for (let c = 0; c < N; c += CH) {
    const e = Math.min(N, c + CH);
    for (let i = c; i < e; i++) s += Math.abs(X[i] - Y[i]);
  }
  return s / N;
}

const spec = { name: 'l1', params: {} };
function srcEvaluate() {
  let num = ZERO_SUM, den = ZERO_SUM;
  for (let c = 0; c < N; c += CH) {
    const e = Math.min(N, c + CH);
    const chunk = { rows: e - c, preds: { data: X.subarray(c, e), width: 1 }, targets: { data: Y.subarray(c, e), width: 1 } };
    const o = evaluateLoss(spec, chunk, true);
    num = mergeSums(num, o.num);
    den = mergeSums(den, o.den);
  }
  return roundQuotient(num, den);
}

const acc = new ExactAccumulator();
const terms = new Float64Array(CH);
function splitReuse() {
  let num = ZERO_SUM;
  for (let c = 0; c < N; c += CH) {
    const e = Math.min(N, c + CH);
    const chunk = { rows: e - c, preds: { data: X.subarray(c, e), width: 1 }, targets: { data: Y.subarray(c, e), width: 1 } };
    l1Kernel(chunk, null, terms);
    acc.reset();
    acc.addArray(terms, 0, e - c);
    num = mergeSums(num, acc.toSum());
  }
  return roundQuotient(num, sumFromCount(N));
}

const BLOCK = 2048;
const block = new Float64Array(BLOCK);
function fusedExact() {
  let num = ZERO_SUM;
  for (let c = 0; c < N; c += CH) {
    const e = Math.min(N, c + CH);
    acc.reset();
    for (let b = c; b < e; b += BLOCK) {
      const be = Math.min(e, b + BLOCK);
      const k = be - b;
      for (let i = 0; i < k; i++) block[i] = Math.abs(X[b + i] - Y[b + i]);
      acc.addArray(block, 0, k);
    }
    num = mergeSums(num, acc.toSum());
  }
  return roundQuotient(num, sumFromCount(N));
}

// inline: the split-bin cells of src/reduce/exact-sum.ts (same layout: exponent e, 4 lanes x hi/lo),
// finished by adding the (exact) cell values into an ExactAccumulator.
const SIG = new Float64Array(2048);
{
  let p = 1;
  const P2 = new Float64Array(2098);
  P2[1074] = 1;
  for (let k = 1; k <= 1023; k++) P2[1074 + k] = (p *= 2);
  p = 1;
  for (let k = 1; k <= 1074; k++) P2[1074 - k] = (p *= 0.5);
  for (let e = 1; e < 2016; e++) SIG[e] = 1.5 * P2[1074 + e - 996];
  SIG[0] = SIG[1];
}
const cells = new Float64Array(2048 * 8);
const sc = new Float64Array(4);
const scw = new Uint32Array(sc.buffer);
function fusedInline() {
  let num = ZERO_SUM;
  for (let c = 0; c < N; c += CH) {
    const e = Math.min(N, c + CH);
    let i = c;
    for (; i + 4 <= e; i += 4) {
      const d0 = Math.abs(X[i] - Y[i]), d1 = Math.abs(X[i + 1] - Y[i + 1]);
      const d2 = Math.abs(X[i + 2] - Y[i + 2]), d3 = Math.abs(X[i + 3] - Y[i + 3]);
      sc[0] = d0; sc[1] = d1; sc[2] = d2; sc[3] = d3;
      const e0 = scw[1] >>> 20, e1 = scw[3] >>> 20, e2 = scw[5] >>> 20, e3 = scw[7] >>> 20; // d >= 0: no sign bit
      if ((((e0 + 32) | (e1 + 32) | (e2 + 32) | (e3 + 32)) & 0x800) !== 0) throw new Error('rare exponent: not in this data');
      const s0 = SIG[e0], s1 = SIG[e1], s2 = SIG[e2], s3 = SIG[e3];
      const h0 = d0 + s0 - s0, h1 = d1 + s1 - s1, h2 = d2 + s2 - s2, h3 = d3 + s3 - s3;
      const k0 = e0 << 3, k1 = (e1 << 3) | 2, k2 = (e2 << 3) | 4, k3 = (e3 << 3) | 6;
      cells[k0] += h0; cells[k0 + 1] += d0 - h0;
      cells[k1] += h1; cells[k1 + 1] += d1 - h1;
      cells[k2] += h2; cells[k2 + 1] += d2 - h2;
      cells[k3] += h3; cells[k3 + 1] += d3 - h3;
    }
    acc.reset();
    for (; i < e; i++) acc.add(Math.abs(X[i] - Y[i]));
    // finish: the cells are exact doubles; their exact sum is the chunk's sum
    for (let k = 0; k < cells.length; k++) if (cells[k] !== 0) { acc.add(cells[k]); cells[k] = 0; }
    num = mergeSums(num, acc.toSum());
  }
  return roundQuotient(num, sumFromCount(N));
}

// worker pipeline on prepared parts (transferred buffers are not reused, so Arrow parts are rebuilt
// per round outside the timed region)
const plan = {
  losses: [spec], reduction: 'mean', nanPolicy: 'propagate',
  inputs: [{ file: 'p', columns: ['pred'] }, { file: 't', columns: ['target'] }],
  roles: { preds: { input: 0, start: 0, width: 1 }, targets: { input: 1, start: 0, width: 1 } }, rowsAsCsv: false,
};
function arrowTasks() {
  const tasks = [];
  for (let c = 0, seq = 0; c < N; c += CH, seq++) {
    const e = Math.min(N, c + CH);
    const sl = (src, col) => ({
      kind: 'f32', rows: e - c, width: 1, values: Float32Array.from(src.subarray(c, e)), validity: null, childValidity: null,
      firstRow: c + 1, listOffsets: null, listPieces: null, widthRow: 0, file: col, column: col,
    });
    tasks.push({ seq, rows: e - c, firstRow: c, plan, parts: [{ kind: 'arrow', slices: [sl(X, 'p')] }, { kind: 'arrow', slices: [sl(Y, 't')] }] });
  }
  return tasks;
}
const enc = new TextEncoder();
function csvTasks() {
  const tasks = [];
  for (let c = 0, seq = 0; c < N; c += CH, seq++) {
    const e = Math.min(N, c + CH);
    const a = [], b = [];
    for (let i = c; i < e; i++) {
      a.push(X[i].toPrecision(9));
      b.push(Y[i].toPrecision(9));
    }
    const part = (lines) => ({ kind: 'csv', bytes: enc.encode(lines.join('\n') + '\n'), delimiter: 44, fieldCount: 1, firstLine: 2 + c, fields: [0] });
    tasks.push({ seq, rows: e - c, firstRow: c, plan, parts: [part(a), part(b)] });
  }
  return tasks;
}
const csvPrepared = csvTasks(); // (parsing leaves the bytes intact: reusable)
function workerRun(tasks) {
  let num = ZERO_SUM;
  for (const t of tasks) {
    const res = runChunk(t);
    if (!res.ok) throw new Error(res.error.message);
    num = mergeSums(num, res.partials[0].num);
  }
  return roundQuotient(num, sumFromCount(N));
}

const variants = {
  'naive-fused': naiveFused,
  'src-evaluate': srcEvaluate,
  'split-reuse': splitReuse,
  'fused-exact': fusedExact,
  'fused-inline': fusedInline,
  'worker-arrow': null,
  'worker-csv2': () => workerRun(csvPrepared),
};

const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const values = {};
for (let round = -1; round < ROUNDS; round++) {
  // round -1 is the warm-up
  for (const [name, fn] of Object.entries(variants)) {
    let f = fn;
    if (name === 'worker-arrow') {
      const tasks = arrowTasks();
      f = () => workerRun(tasks);
    }
    const t0 = performance.now();
    const v = f();
    const ms = performance.now() - t0;
    if (round >= 0) times[name].push(ms);
    values[name] = v;
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const out = { rows: N, rounds: ROUNDS, nsPerRow: {}, minMax: {}, values };
for (const [k, t] of Object.entries(times)) {
  out.nsPerRow[k] = (med(t) * 1e6) / N;
  out.minMax[k] = [(Math.min(...t) * 1e6) / N, (Math.max(...t) * 1e6) / N];
}
// exactness: every exact variant must agree bit for bit (worker-arrow sees float32 values: its own)
const exactOnes = ['src-evaluate', 'split-reuse', 'fused-exact', 'fused-inline', 'worker-csv2'];
out.exactAgree = exactOnes.every((k) => Object.is(values[k], values['src-evaluate']));
out.naiveRelErr = Math.abs(values['naive-fused'] - values['src-evaluate']) / values['src-evaluate'];
console.log(JSON.stringify(out));
