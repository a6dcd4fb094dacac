#!/usr/bin/env node
// Micro-benchmark: naive `s += x[i]` vs ExactAccumulator.addArray (+ toSum) on 1e7 random doubles.
// Usage:  node bench/exact-sum.mjs            (imports ../dist/reduce/exact-sum.js)
//         EXACT_SUM_JS=/tmp/es-dist/reduce/exact-sum.js node bench/exact-sum.mjs
//         (build a scratch copy with: npx tsc -p tsconfig.json --outDir /tmp/es-dist)
// Options (env): BENCH_N (default 1e7), BENCH_ROUNDS (default 5), BENCH_DATA = pos | mixed | nlog (default mixed)
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const target = process.env.EXACT_SUM_JS
  ? pathToFileURL(resolve(process.env.EXACT_SUM_JS)).href
  : new URL('../dist/reduce/exact-sum.js', import.meta.url).href;
const { ExactAccumulator, roundSum, exactSumOf } = await import(target);

const N = Number(process.env.BENCH_N ?? 1e7);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DATA = process.env.BENCH_DATA ?? 'mixed';

// seeded xorshift32 so runs are reproducible
let st = 0x9e3779b9;
function rnd() {
  st ^= st << 13; st >>>= 0;
  st ^= st >>> 17;
  st ^= st << 5; st >>>= 0;
  return st / 4294967296;
}
const xs = new Float64Array(N);
for (let i = 0; i < N; i++) {
  const u = rnd();
  xs[i] = DATA === 'pos' ? u * 10 : DATA === 'nlog' ? -Math.log(1 - u) : u * 20 - 10;
}

function naive(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
const acc = new ExactAccumulator();
function exact(a) {
  acc.reset();
  acc.addArray(a);
  return acc.toSum();
}

// warm-up (JIT) on a slice, then full rounds, interleaved
for (let w = 0; w < 3; w++) { naive(xs.subarray(0, 1e6)); exact(xs.subarray(0, 1e6)); }

const tn = [];
const te = [];
let sink = 0;
let last;
for (let r = 0; r < ROUNDS; r++) {
  let t0 = process.hrtime.bigint();
  sink += naive(xs);
  tn.push(Number(process.hrtime.bigint() - t0) / N);
  t0 = process.hrtime.bigint();
  last = exact(xs);
  te.push(Number(process.hrtime.bigint() - t0) / N);
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

// flush / toSum cost on a 1e4 chunk (worker use case)
const chunk = xs.subarray(0, 1e4);
const small = new ExactAccumulator();
const fr = [];
for (let r = 0; r < 200; r++) {
  small.reset();
  const t0 = process.hrtime.bigint();
  small.addArray(chunk);
  const t1 = process.hrtime.bigint();
  small.toSum();
  const t2 = process.hrtime.bigint();
  fr.push([Number(t1 - t0) / 1e3, Number(t2 - t1) / 1e3]);
}
const addUs = med(fr.map((p) => p[0]));
const flushUs = med(fr.map((p) => p[1]));

const naiveNs = med(tn);
const exactNs = med(te);
console.log(`node ${process.version}, N=${N}, data=${DATA}, rounds=${ROUNDS} (interleaved), module=${target}`);
console.log(`naive s += x[i] : ${naiveNs.toFixed(3)} ns/element   (rounds: ${tn.map((x) => x.toFixed(2)).join(' ')})`);
console.log(`exact addArray  : ${exactNs.toFixed(3)} ns/element   (rounds: ${te.map((x) => x.toFixed(2)).join(' ')})`);
console.log(`ratio exact/naive (median): x${(exactNs / naiveNs).toFixed(2)}; paired per-round ratio median x${med(te.map((t, r) => t / tn[r])).toFixed(2)}; best-vs-best x${(Math.min(...te) / Math.min(...tn)).toFixed(2)}`);
console.log(`1e4-chunk: addArray ${addUs.toFixed(1)} us, toSum (flush) ${flushUs.toFixed(1)} us (median of 200)`);
console.log(`sums: naive ${sink / ROUNDS}, exact ${roundSum(last)} (check ${roundSum(exactSumOf(xs)) === roundSum(last)})`);
