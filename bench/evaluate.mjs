#!/usr/bin/env node
// evaluate() on in-memory Float64Arrays (`node bench/evaluate.mjs [--runs N] [--max-rows N]`):
// the cost of a call on 1 k, 1 M and 10 M rows (l1 and mse in one pass), workers 1 and the default,
// against a baseline of one plain `+=` loop over |p - t| in the same process. Also the in-process /
// pool cut-over: the largest input that runs in the calling thread (one chunk) and the first that
// starts the pool. Each measurement is the median of N runs (default 5), interleaved.
import { availableParallelism, cpus } from 'node:os';
import { evaluate } from '../dist/index.js';

const argv = process.argv.slice(2);
const opt = (f, d) => {
  const i = argv.indexOf(f);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const RUNS = opt('--runs', 5);
const MAX = opt('--max-rows', 1e7);

function data(n) {
  const p = new Float64Array(n), t = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    p[i] = s / 2 ** 32 * 4 - 2;
    s = (s * 1103515245 + 12345) >>> 0;
    t[i] = s / 2 ** 32;
  }
  return { p, t };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const now = () => Number(process.hrtime.bigint()) / 1e6;

function naive(p, t) {
  let a = 0;
  for (let i = 0; i < p.length; i++) a += Math.abs(p[i] - t[i]);
  return a / p.length;
}

console.log(`# evaluate() on in-memory Float64Arrays — ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}, median of ${RUNS}\n`);
console.log('| rows | baseline: one `+=` loop | evaluate, workers 1 | evaluate, workers default | ns/row (default) |');
console.log('|---:|---:|---:|---:|---:|');
for (const n of [1e3, 1e6, 1e7].filter((n) => n <= MAX)) {
  const { p, t } = data(n);
  const base = [], one = [], many = [];
  await evaluate({ loss: ['l1', 'mse'], preds: p, targets: t }); // warm-up (module loading, JIT)
  for (let r = 0; r < RUNS; r++) {
    let s = now(); naive(p, t); base.push(now() - s);
    s = now(); const a = await evaluate({ loss: ['l1', 'mse'], preds: p, targets: t, workers: 1 }); one.push(now() - s);
    s = now(); const c = await evaluate({ loss: ['l1', 'mse'], preds: p, targets: t }); many.push(now() - s);
    // a wrong answer fails the bench: workers 1 and the default agree bit for bit
    if (a.losses.some((l, i) => !Object.is(l.value, c.losses[i].value))) {
      console.error(`evaluate: workers 1 and default differ on ${n} rows`);
      process.exitCode = 1;
    }
  }
  const b = median(base), o = median(one), m = median(many);
  console.log(`| ${n.toLocaleString('en-US')} | ${b.toFixed(2)} ms | ${o.toFixed(1)} ms (${(o / b).toFixed(1)} ×) | ${m.toFixed(1)} ms (${(m / b).toFixed(1)} ×) | ${(m * 1e6 / n).toFixed(1)} |`);
}

// the cut-over: the default chunk for two one-value columns is 65536 rows
console.log('\n| rows | chunks | evaluate, workers default |');
console.log('|---:|---:|---:|');
for (const n of [65536, 65537]) {
  const { p, t } = data(n);
  const ms = [];
  for (let r = 0; r < RUNS; r++) {
    const s = now(); await evaluate({ loss: 'l1', preds: p, targets: t }); ms.push(now() - s);
  }
  console.log(`| ${n} | ${n <= 65536 ? '1 (calling thread)' : '2 (pool started)'} | ${median(ms).toFixed(1)} ms |`);
}
