#!/usr/bin/env node
// Fuzz losseval against the slow reference (test/helpers/reference.ts).
//
//   npm run fuzz -- --seed S --count N [--time-limit SEC] [--parallel P] [--spawn-every K]
//                   [--start I] [--out DIR] [--keep-going]
//
// Every input must end with exit 0 and exactly the reference's output, or exit 1/2 (the class the
// reference expects) with one `losseval: error:` line naming the reference's first-error line and
// nothing on stdout: never a stack trace, a hang (20 s), a crash or a peak RSS over 512 MB. An input
// the reference reads may be refused only by one of the documented checks in STRICTER (core.mjs),
// which are counted. Failing inputs are copied to DIR (default /tmp/losseval-fuzz-failures) with a
// case.json holding the reproduction command. Exit status 1 on any crash/hang/mismatch/over-memory.
// Needs `npm run build` first (the lead's `npm run fuzz` does it).
//
// Then the grouped / bootstrap fuzzer (test/fuzz/groups.mjs): `--groups N` cases (default 200, 0 to
// skip) of seed `--groups-seed S` (default "groups"), hostile keys (quotes, NUL, invalid UTF-8, 1 MB
// keys, more keys than --max-groups) checked against the ungrouped run per group, across layouts,
// shard merges (plain and --bootstrap) and --max-groups refusals. Failing cases stay under DIR.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fuzz, summaryLine } from '../test/fuzz/core.mjs';
import { fuzzGroups } from '../test/fuzz/groups.mjs';

function parseArgs(argv) {
  const o = { seed: 'losseval', count: 1000, timeLimit: Infinity, parallel: 2, spawnEvery: 10, start: 0, out: join(tmpdir(), 'losseval-fuzz-failures'), groups: 200, groupsSeed: 'groups' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (k) {
      case '--seed': o.seed = val(); break;
      case '--count': o.count = Number(val()); break;
      case '--time-limit': o.timeLimit = Number(val()); break;
      case '--parallel': o.parallel = Number(val()); break;
      case '--spawn-every': o.spawnEvery = Number(val()); break;
      case '--start': o.start = Number(val()); break;
      case '--out': o.out = val(); break;
      case '--groups': o.groups = Number(val()); break;
      case '--groups-seed': o.groupsSeed = val(); break;
      case '-h': case '--help':
        process.stdout.write('usage: node scripts/fuzz.mjs --seed S --count N [--time-limit SEC] [--parallel P] [--spawn-every K] [--start I] [--out DIR] [--groups N] [--groups-seed S]\n');
        process.exit(0);
      default:
        process.stderr.write(`fuzz: unknown argument ${a}\n`);
        process.exit(2);
    }
  }
  if (!Number.isInteger(o.count) || o.count < 0) { process.stderr.write('fuzz: --count must be a non-negative integer\n'); process.exit(2); }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const workDir = join(tmpdir(), `losseval-fuzz-work-${process.pid}`);
process.stderr.write(`fuzz: seed ${opts.seed}, ${opts.count} inputs from ${opts.start}, ${opts.parallel} in parallel, every ${opts.spawnEvery}th through the CLI\n`);
const r = await fuzz({
  seed: opts.seed, count: opts.count, start: opts.start, parallel: opts.parallel, spawnEvery: opts.spawnEvery,
  timeLimitSec: opts.timeLimit, workDir, failDir: opts.out, log: (s) => process.stderr.write(s + '\n'),
});
rmSync(workDir, { recursive: true, force: true });
for (const [key, cases] of Object.entries(r.stricter)) {
  process.stderr.write(`accepted refusal (${cases.length}×, STRICTER in test/fuzz/core.mjs): ${key}; cases ${cases.slice(0, 20).join(', ')}${cases.length > 20 ? ', …' : ''}\n`);
}
for (const f of r.failures) process.stderr.write(`failure: case ${f.index} ${f.outcome}: ${f.why}${f.dir ? `\n  saved in ${f.dir}` : ''}\n`);
process.stdout.write(`${summaryLine(r)} (${r.seconds.toFixed(0)} s, ${r.spawned} through the CLI, peak RSS ${(r.maxRSS / 2 ** 20).toFixed(0)} MB` +
  `${r.timedOut ? `, stopped by --time-limit after ${r.ran} of ${opts.count}` : ''})\n`);
const bad = r.counts.crash + r.counts.hang + r.counts.mismatch + r.counts.overmemory + r.counts.refbug;
let gbad = 0;
if (opts.groups > 0) {
  process.stderr.write(`fuzz: grouped, seed ${opts.groupsSeed}, ${opts.groups} cases\n`);
  const t = Date.now();
  const g = await fuzzGroups({ seed: opts.groupsSeed, count: opts.groups, workDir: join(opts.out, 'groups'), log: (s) => process.stderr.write(s + '\n') });
  gbad = g.failures.length;
  process.stdout.write(`grouped: ${g.ran} cases, ${g.ok} ran to the checks, ${gbad} failed (${((Date.now() - t) / 1000).toFixed(0)} s)\n`);
}
process.exitCode = bad + gbad > 0 ? 1 : 0;
