#!/usr/bin/env node
// Writes the small deterministic sample inputs in samples/ (CSV, gzip and
// Arrow, all holding the same float64 values): `node scripts/make-samples.mjs`.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tableFromArrays, tableToIPC, Table, vectorFromArray, FixedSizeList, Field, Float64, Int32 } from 'apache-arrow';

function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20261126);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
// values rounded to 6 decimals so the CSV text is short and exactly the Arrow float64s
const r6 = (x) => Number(x.toFixed(6));

const N = 1000;
const targets = { price: new Float64Array(N), demand: new Float64Array(N) };
const preds = { price: new Float64Array(N), demand: new Float64Array(N) };
for (let i = 0; i < N; i++) {
  const t1 = r6(3 * Math.sin(i / 50) + gauss());
  const t2 = r6(10 + 2 * gauss());
  targets.price[i] = t1;
  targets.demand[i] = t2;
  // mostly small errors, some outliers: where smooth_l1 and mse differ
  preds.price[i] = r6(t1 + 0.3 * gauss() + (rand() < 0.03 ? 5 * gauss() : 0));
  preds.demand[i] = r6(t2 + 0.8 * gauss());
}

function csv(cols) {
  const names = Object.keys(cols);
  const lines = [names.join(',')];
  for (let i = 0; i < N; i++) lines.push(names.map((n) => String(cols[n][i])).join(','));
  return lines.join('\n') + '\n';
}

for (const [name, cols] of [['preds', preds], ['targets', targets]]) {
  const text = csv(cols);
  writeFileSync(`samples/${name}.csv`, text);
  writeFileSync(`samples/${name}.csv.gz`, gzipSync(text, { level: 9 }));
  writeFileSync(`samples/${name}.arrow`, tableToIPC(tableFromArrays(cols), 'file'));
  writeFileSync(`samples/${name}.arrows`, tableToIPC(tableFromArrays(cols), 'stream'));
}
// one-file layout: predictions and targets side by side
const both = { pred_price: preds.price, pred_demand: preds.demand, price: targets.price, demand: targets.demand };
writeFileSync('samples/both.csv', csv(both));

// 10-class classification: logits as CSV columns and as one Arrow FixedSizeList column
const K = 10, NC = 500;
const logits = [], labels = [];
for (let i = 0; i < NC; i++) {
  const label = Math.floor(rand() * K);
  const row = [];
  for (let k = 0; k < K; k++) row.push(r6(gauss() + (k === label ? 2.5 : 0)));
  logits.push(row);
  labels.push(rand() < 0.02 ? -100 : label); // a few rows marked ignore_index
}
{
  const lines = [['id', ...Array.from({ length: K }, (_, k) => `logit_${k}`), 'label'].join(',')];
  logits.forEach((row, i) => lines.push([`img${String(i).padStart(4, '0')}`, ...row, labels[i]].join(',')));
  writeFileSync('samples/classes.csv', lines.join('\n') + '\n');
  const table = new Table({
    logits: vectorFromArray(logits, new FixedSizeList(K, new Field('item', new Float64(), false))),
    label: vectorFromArray(labels, new Int32()),
  });
  writeFileSync('samples/classes.arrow', tableToIPC(table, 'file'));
}

// multi-label: 5 sigmoid probabilities per row against 0/1 labels
const L = 5, NL = 400;
{
  const pl = [['p_0', 'p_1', 'p_2', 'p_3', 'p_4'].join(',')], yl = [['y_0', 'y_1', 'y_2', 'y_3', 'y_4'].join(',')];
  for (let i = 0; i < NL; i++) {
    const p = [], y = [];
    for (let k = 0; k < L; k++) {
      const on = rand() < 0.3 ? 1 : 0;
      const z = gauss() + (on ? 1.5 : -1.5);
      p.push(r6(1 / (1 + Math.exp(-z))));
      y.push(on);
    }
    pl.push(p.join(','));
    yl.push(y.join(','));
  }
  writeFileSync('samples/multilabel-probs.csv', pl.join('\n') + '\n');
  writeFileSync('samples/multilabel-targets.csv', yl.join('\n') + '\n');
}
// the README's error example: the predictions with one value that is not a number (line 3)
{
  const lines = csv(preds).split('\n');
  lines[2] = `${lines[2].split(',')[0]},abc`;
  writeFileSync('samples/bad.csv', lines.join('\n'));
}
console.log('wrote samples/');

// slices.csv: evaluation rows with group keys (README "Slices and uncertainty"): lang (some
// missing), source, 3 logits and a class label, a regression prediction and target.
{
  const r = mulberry32(20261207);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const LANGS = ['en', 'en', 'en', 'fr', 'de', 'pt-BR', ''];
  const lines = ['lang,source,logit_0,logit_1,logit_2,label,pred,y'];
  for (let i = 0; i < 400; i++) {
    const lang = LANGS[Math.floor(r() * LANGS.length)];
    const source = r() < 0.6 ? 'web' : 'books';
    const label = Math.floor(r() * 3);
    // French rows are harder: noisier logits and predictions
    const noise = lang === 'fr' ? 2 : 1;
    const logits = [0, 1, 2].map((c) => r6((c === label ? 1.5 : 0) + noise * g()));
    const y = r6(2 * g());
    lines.push([lang, source, ...logits, label, r6(y + 0.5 * noise * g()), y].join(','));
  }
  writeFileSync('samples/slices.csv', lines.join('\n') + '\n');
}
