// Floor for the two-Arrow-file case: read both IPC files fully (readFileSync + arrow-js
// tableFromIPC, zero-copy views of the record batches) and sum |p - t| naively (float64 `+=`)
// on one thread. Prints the mean. Usage: node bench/floor-arrow.mjs preds.arrow targets.arrow
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';

function runs(path) {
  const t = tableFromIPC(readFileSync(path));
  const col = t.getChildAt(0);
  return col.data.map((d) => d.values.subarray(0, d.length));
}
const P = runs(process.argv[2]);
const T = runs(process.argv[3]);
let s = 0, n = 0;
// walk both lists of record-batch value arrays in step (their batch sizes may differ)
let pi = 0, ti = 0, po = 0, to = 0;
while (pi < P.length && ti < T.length) {
  const p = P[pi], t = T[ti];
  const k = Math.min(p.length - po, t.length - to);
  for (let i = 0; i < k; i++) s += Math.abs(p[po + i] - t[to + i]);
  n += k;
  po += k;
  to += k;
  if (po === p.length) { pi++; po = 0; }
  if (to === t.length) { ti++; to = 0; }
}
console.log(s / n);
