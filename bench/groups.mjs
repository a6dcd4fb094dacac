#!/usr/bin/env node
// Per-group and bootstrap cost (`npm run bench`; alone: `node bench/groups.mjs [--rows N] [--runs N]`).
// 10 M rows of bench/gen.mjs's regression data (pred,target) with a text key column of 10, 1,000 or
// 100,000 distinct values (uniform, seeded), l1: time and peak RSS of --group-by key against the
// same run without it on the same file; and --bootstrap 200 against the plain run on the two-column
// CSV, and --group-by with --bootstrap 200 (10 groups) against the grouped run. Every case runs round-robin with its baseline, median of --runs (default 5). Checks that the
// grouped run's overall row equals the ungrouped value and that bootstrap runs print the plain value.
import { createReadStream, createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regression, rng, DIR } from './gen.mjs';
import { runNode, med, haveTime } from './proc.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'bin', 'losseval.js');
const argv = process.argv.slice(2);
const opt = (f, d) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : d; };
const N = Number(opt('--rows', 1e7));
const RUNS = Number(opt('--runs', 5));
const GROUPS = (opt('--groups', '10,1000,100000')).split(',').map(Number);
const label = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : String(n));

async function keyed(both, G) {
  const out = join(DIR, `keyed-${label(N)}-${G}.csv`);
  if (existsSync(out)) return out;
  const r = rng(0xc0ffee ^ G);
  const ws = createWriteStream(out + '.tmp');
  const rl = createInterface({ input: createReadStream(both), crlfDelay: Infinity });
  let first = true, buf = [];
  for await (const line of rl) {
    buf.push(first ? `key,${line}` : `k${r() % G},${line}`);
    first = false;
    if (buf.length === 65536) { if (!ws.write(buf.join('\n') + '\n')) await once(ws, 'drain'); buf = []; }
  }
  ws.end(buf.length ? buf.join('\n') + '\n' : '');
  await once(ws, 'finish');
  renameSync(out + '.tmp', out);
  return out;
}

const failures = [];
async function pair(title, base, other, check) {
  const rec = [[], []], rss = [[], []], outs = [null, null];
  for (let k = 0; k < RUNS; k++) {
    for (const [i, args] of [[0, base], [1, other]]) {
      const res = await runNode([CLI, ...args]);
      if (res.status !== 0) throw new Error(`${title}: exit ${res.status}: ${res.stderr}`);
      rec[i].push(res.wallMs);
      rss[i].push(res.rssMB);
      outs[i] = res.stdout;
    }
  }
  const problem = check(outs[0], outs[1]);
  if (problem) { failures.push(`${title}: ${problem}`); process.stderr.write(`MISMATCH: ${title}: ${problem}\n`); }
  const row = { title, baseMs: med(rec[0]), ms: med(rec[1]), ratio: med(rec[1]) / med(rec[0]), baseRssMB: Math.max(...rss[0]), rssMB: Math.max(...rss[1]) };
  console.log(`${title.padEnd(44)} ${(row.baseMs / 1000).toFixed(2)} s → ${(row.ms / 1000).toFixed(2)} s  ×${row.ratio.toFixed(2)}   RSS ${row.baseRssMB.toFixed(0)} → ${row.rssMB.toFixed(0)} MB`);
  return row;
}

console.log(`groups/bootstrap bench: ${label(N)} rows, median of ${RUNS}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, RSS by ${haveTime ? '/usr/bin/time' : '/proc VmHWM'}`);
const data = await regression(N, { arrow: false });
const both = data.paths.both;
const rows = [];
const overall = (tsv) => tsv.trimEnd().split('\n').at(-1).split('\t')[2];
for (const G of GROUPS) {
  const f = await keyed(both, G);
  const base = ['-l', 'l1', '--pred-cols', 'pred', '--target-cols', 'target', f];
  rows.push(await pair(`--group-by key, ${G} groups (${(statSync(f).size / 2 ** 20).toFixed(0)} MB)`, base, ['--group-by', 'key', '--max-groups', String(Math.max(G, 100000)), ...base],
    (a, b) => (overall(b) !== a.trim() ? `overall ${overall(b)} ≠ ungrouped ${a.trim()}` : (b.trimEnd().split('\n').length - 2 > G || b.trimEnd().split('\n').length - 2 < 0.9 * G ? `${b.trimEnd().split('\n').length - 2} groups printed, of ${G} keys` : null))));
}
rows.push(await pair('--bootstrap 200, l1 (two-column CSV)', ['-l', 'l1', '--target-cols', 'target', both], ['-l', 'l1', '--target-cols', 'target', '--bootstrap', '200', both],
  (a, b) => (b.split('\n')[1]?.split('\t')[1] !== a.trim() ? `bootstrap point value ${b.split('\n')[1]} ≠ ${a.trim()}` : null)));
if (GROUPS.includes(10)) {
  const f = await keyed(both, 10);
  const base = ['-l', 'l1', '--pred-cols', 'pred', '--target-cols', 'target', '--group-by', 'key', f];
  rows.push(await pair('--group-by key --bootstrap 200, 10 groups', base, ['--bootstrap', '200', ...base],
    (a, b) => (overall(b) !== overall(a) ? `overall ${overall(b)} ≠ ${overall(a)}` : null)));
}
const at1000 = rows.find((r) => r.title.includes(' 1000 groups'));
if (at1000) console.log(`target: 1,000 groups ≤ 1.5 × ungrouped: ×${at1000.ratio.toFixed(2)} ${at1000.ratio <= 1.5 ? 'met' : 'MISSED'}`);
const boot = rows.find((r) => r.title.startsWith('--bootstrap 200, l1'));
console.log(`target: --bootstrap 200 ≤ 4 × plain: ×${boot.ratio.toFixed(2)} ${boot.ratio <= 4 ? 'met' : 'MISSED'}`);
process.exitCode = failures.length ? 1 : 0;
