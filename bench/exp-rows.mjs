#!/usr/bin/env node
// Log-softmax row shifts (max, Σ exp(x − max)): the WebAssembly path (asm/exp.ts) against the JS
// reference (src/math/exp.ts), one thread, interleaved in one process, results compared bit for bit.
// Build first (npm run build), then:  node bench/exp-rows.mjs [rows] [C] [runs]
import { rowShifts, setExpRowsWasm, expRowsWasmAvailable } from '../dist/math/exp-rows.js';

const rows = Number(process.argv[2] ?? 4000), C = Number(process.argv[3] ?? 1000), runs = Number(process.argv[4] ?? 7);
if (!expRowsWasmAvailable()) throw new Error('dist/math/exp.wasm not built or WebAssembly SIMD missing');
let seed = 1;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const x = new Float64Array(rows * C);
for (let i = 0; i < x.length; i++) x[i] = (rnd() - 0.5) * 20; // logits in [-10, 10)
const out = [0, 1].map(() => ({ m: new Float64Array(rows), s: new Float64Array(rows) }));
const times = [[], []];
for (let rep = 0; rep < runs; rep++) {
  for (const w of [0, 1]) {
    setExpRowsWasm(w === 1);
    const t = performance.now();
    rowShifts(x, rows, C, out[w].m, out[w].s);
    times[w].push(((performance.now() - t) * 1e6) / (rows * C));
  }
}
const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
let diff = 0;
for (let r = 0; r < rows; r++) if (!Object.is(out[0].s[r], out[1].s[r]) || !Object.is(out[0].m[r], out[1].m[r])) diff++;
console.log(`${rows} rows x ${C}, median of ${runs}: JS ${med(times[0]).toFixed(2)} ns/value, WebAssembly ${med(times[1]).toFixed(2)} ns/value (x${(med(times[0]) / med(times[1])).toFixed(2)}); rows differing: ${diff}`);
if (diff > 0) process.exit(1);
