#!/usr/bin/env node
// CPU profiles of losseval on the benchmark data, main thread and workers, summarised by self time.
//
//   node bench/profile.mjs [--quick] [--rows N] [--ce-rows N] [--top K] [--only csv2,arrow,ce-csv,ce-arrow,csv1]
//   node bench/profile.mjs --summarise DIR      (summarise existing .cpuprofile files)
//
// `node --cpu-prof --cpu-prof-dir=DIR bin/losseval.js …` profiles the main thread AND every worker
// thread: piscina's workers inherit the parent's execArgv, and Node writes one file per thread,
// CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile (threadId 0 = main thread).
// (NODE_OPTIONS="--cpu-prof …" is refused by Node 20: "--cpu-prof is not allowed in NODE_OPTIONS".)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regression, crossEntropy, DIR } from './gen.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, '..', 'bin', 'losseval.js');
const argv = process.argv.slice(2);
const opt = (f, d) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : d;
};
const QUICK = argv.includes('--quick');
const N = Number(opt('--rows', QUICK ? 1e6 : 1e7));
const CE_ROWS = Number(opt('--ce-rows', QUICK ? 5000 : 20000));
const TOP = Number(opt('--top', 14));
const ONLY = opt('--only', null)?.split(',') ?? null;

/** Self time (ms) per function over one profile; plus the sampled total and the idle share. */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? 0) / 1000; // the delta after a sample is the time spent in it
    const n = byId.get(samples[i]);
    const cf = n.callFrame;
    const file = cf.url ? basename(cf.url.replace(/^file:\/\//, '')) : '';
    const key = `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return { self, total };
}

export function summarise(dir, top = TOP) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const groups = { main: [], workers: [] };
  for (const f of files) {
    const tid = Number(f.split('.')[4]);
    groups[tid === 0 ? 'main' : 'workers'].push(JSON.parse(readFileSync(join(dir, f), 'utf8')));
  }
  const out = {};
  for (const [g, profs] of Object.entries(groups)) {
    const self = new Map();
    let total = 0;
    for (const p of profs) {
      const s = selfTimes(p);
      total += s.total;
      for (const [k, v] of s.self) self.set(k, (self.get(k) ?? 0) + v);
    }
    // a piscina worker waiting for a task sits in Atomics.wait (atomicsWaitLoop): idle too
    const idle = (self.get('(idle)') ?? 0) + [...self.entries()].filter(([k]) => k.startsWith('atomicsWaitLoop')).reduce((a, [, v]) => a + v, 0);
    const busy = total - idle;
    const rows = [...self.entries()].filter(([k]) => k !== '(idle)' && !k.startsWith('atomicsWaitLoop')).sort((a, b) => b[1] - a[1]).slice(0, top);
    out[g] = { threads: profs.length, totalMs: total, idleMs: idle, busyMs: busy, top: rows.map(([k, v]) => ({ fn: k, ms: v, pctBusy: (100 * v) / busy })) };
  }
  return out;
}

function print(title, s) {
  console.log(`\n### ${title}\n`);
  for (const [g, r] of Object.entries(s)) {
    console.log(`**${g}** (${r.threads} thread${r.threads === 1 ? '' : 's'}): sampled ${(r.totalMs / 1000).toFixed(2)} s, busy ${(r.busyMs / 1000).toFixed(2)} s, idle ${(r.idleMs / 1000).toFixed(2)} s\n`);
    console.log('| self ms | % of busy | function |');
    console.log('|---:|---:|---|');
    for (const t of r.top) console.log(`| ${t.ms.toFixed(0)} | ${t.pctBusy.toFixed(1)} | \`${t.fn}\` |`);
    console.log();
  }
}

if (argv[0] === '--summarise') {
  print(argv[1], summarise(argv[1]));
} else {
  const root = join(DIR, 'prof');
  const cases = [];
  const want = (id) => ONLY === null || ONLY.includes(id);
  if (want('csv2') || want('arrow') || want('csv1')) {
    const d = await regression(N);
    if (want('csv1')) cases.push({ id: 'csv1', title: `l1, one CSV, ${N} rows`, args: ['-l', 'l1', '--target-cols', 'target', d.paths.both] });
    if (want('csv2')) cases.push({ id: 'csv2', title: `l1, two CSV files, ${N} rows`, args: ['-l', 'l1', d.paths.preds, d.paths.targets] });
    if (want('arrow')) cases.push({ id: 'arrow', title: `l1, two Arrow files, ${N} rows`, args: ['-l', 'l1', d.paths.predsArrow, d.paths.targetsArrow] });
  }
  if (want('ce-csv') || want('ce-arrow')) {
    const d = await crossEntropy(CE_ROWS, 1000);
    if (want('ce-csv')) cases.push({ id: 'ce-csv', title: `cross_entropy, 1000 CSV columns, ${CE_ROWS} rows`, args: ['-l', 'cross_entropy', '--target-cols', 'y', d.paths.csv] });
    if (want('ce-arrow')) cases.push({ id: 'ce-arrow', title: `cross_entropy, Arrow FixedSizeList[1000], ${CE_ROWS} rows`, args: ['-l', 'cross_entropy', '--target-cols', 'y', d.paths.arrow] });
  }
  for (const c of cases) {
    const dir = join(root, c.id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, CLI, ...c.args], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) {
      console.error(`${c.title}: exit ${r.status}: ${r.stderr}`);
      process.exitCode = 1;
      continue;
    }
    print(`${c.title} — wall ${(ms / 1000).toFixed(2)} s (profiled), value ${r.stdout.trim()}; profiles in ${dir}`, summarise(dir));
  }
}
