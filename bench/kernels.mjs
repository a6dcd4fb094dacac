#!/usr/bin/env node
// ns per element of the exp/log-heavy kernels with losseval's correctly
// rounded log/log1p/exp (as shipped) against the same loops written with
// Math.* (the platform's fdlibm, which differs between CPUs and Node versions).
// Usage: npm run build && node bench/kernels.mjs
import { crossEntropyKernel } from '../dist/losses/classification.js';
import { bceWithLogitsKernel } from '../dist/losses/binary.js';
import { log, log1p, exp } from '../dist/math/index.js';

function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = rng(1);
const N = 200_000, C = 10;
const logits = Float64Array.from({ length: N * C }, () => (r() - 0.5) * 8);
const classes = Float64Array.from({ length: N }, () => Math.floor(r() * C));
const x = Float64Array.from({ length: N * C }, () => (r() - 0.5) * 12);
const y = Float64Array.from({ length: N * C }, () => (r() < 0.5 ? 0 : 1));
const ceChunk = { rows: N, preds: { data: logits, width: C }, targets: { data: classes, width: 1 } };
const bceChunk = { rows: N, preds: { data: x, width: C }, targets: { data: y, width: C } };
const out = new Float64Array(N * C);

// the same loops with Math.*, for the comparison only
function ceMath(c, o) {
  const lp = new Float64Array(C);
  for (let r = 0; r < c.rows; r++) {
    const off = r * C;
    let m = -Infinity;
    for (let k = 0; k < C; k++) if (logits[off + k] > m) m = logits[off + k];
    let s = 0;
    for (let k = 0; k < C; k++) s += Math.exp(logits[off + k] - m);
    const ls = Math.log(s);
    for (let k = 0; k < C; k++) lp[k] = logits[off + k] - m - ls;
    o[r] = -lp[classes[r]];
  }
}
function bceMath(c, o) {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i], yi = y[i];
    o[i] = (1 - yi) * xi - ((xi < 0 ? xi : 0) - Math.log1p(Math.exp(-Math.abs(xi))));
  }
}

const cases = [
  ['cross_entropy, 10 classes (per row)', N, () => crossEntropyKernel(ceChunk, { weight: null, ignoreIndex: -100, labelSmoothing: 0 }, out, new Float64Array(N)), () => ceMath(ceChunk, out)],
  ['bce_with_logits (per element)', N * C, () => bceWithLogitsKernel(bceChunk, { weight: null, posWeight: null }, out), () => bceMath(bceChunk, out)],
  ['log alone (per call)', N * C, () => { for (let i = 0; i < x.length; i++) out[i] = log(y[i] + 0.5 + x[i] * x[i]); }, () => { for (let i = 0; i < x.length; i++) out[i] = Math.log(y[i] + 0.5 + x[i] * x[i]); }],
  ['log1p(exp(-|x|)) (per call)', N * C, () => { for (let i = 0; i < x.length; i++) out[i] = log1p(exp(-Math.abs(x[i]))); }, () => { for (let i = 0; i < x.length; i++) out[i] = Math.log1p(Math.exp(-Math.abs(x[i]))); }],
];

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`node ${process.version}, ${process.arch}; median of 9 interleaved rounds`);
console.log('| kernel | losseval (CR) ns | Math.* ns | ratio |');
console.log('|---|---|---|---|');
for (const [name, n, ours, theirs] of cases) {
  const a = [], b = [];
  for (let round = 0; round < 9; round++) {
    let t = process.hrtime.bigint(); ours(); a.push(Number(process.hrtime.bigint() - t) / n);
    t = process.hrtime.bigint(); theirs(); b.push(Number(process.hrtime.bigint() - t) / n);
  }
  console.log(`| ${name} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)} |`);
}
