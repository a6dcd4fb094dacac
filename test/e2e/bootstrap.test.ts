/**
 * --bootstrap as a user runs it: the same bytes for any workers, chunking, format, stdin, and
 * for shards run with --row-offset and merged; merging overlapping shards needs
 * --independent-shards; bad options are one-line usage errors.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { losseval, workdir, expectFailure } from '../helpers/cli.js';
import { mulberry32 as rng } from '../helpers/rng.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
});

const N = 900;
const r = rng(4242);
const cols = {
  p: Float64Array.from({ length: N }, () => (r() - 0.5) * 4),
  y: Float64Array.from({ length: N }, () => (r() - 0.5) * 4),
  w: Float64Array.from({ length: N }, () => r() * 2),
  label: Float64Array.from({ length: N }, () => Math.floor(r() * 3)),
  l0: Float64Array.from({ length: N }, () => r() * 3),
  l1: Float64Array.from({ length: N }, () => r() * 3),
  l2: Float64Array.from({ length: N }, () => r() * 3),
};
const lang = Array.from({ length: N }, (_, i) => ['a', 'b', 'c', 'd'][(i * 7) % 4]!);

function csv(name: string, from = 0, to = N): string {
  const names = Object.keys(cols) as (keyof typeof cols)[];
  let text = ['lang', ...names].join(',') + '\n';
  for (let i = from; i < to; i++) text += [lang[i], ...names.map((c) => String(cols[c][i]))].join(',') + '\n';
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function out(args: string[], opts: { stdin?: string } = {}): Promise<string> {
  const res = await losseval(args, { cwd: dir, ...opts });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return res.stdout;
}

const CASES = [
  ['-l', 'l1,mse', '--pred-cols', 'p', '--target-cols', 'y', '--bootstrap', '50', '--seed', '11'],
  ['-l', 'ce,nll', '--pred-cols', 'l0,l1,l2', '--target-cols', 'label', '--weight', '1,2,3', '--bootstrap', '7', '--seed', '3', '--ci', '0.8'],
  ['-l', 'mse', '--pred-cols', 'p', '--target-cols', 'y', '--bootstrap', '20', '--group-by', 'lang', '--nan-policy', 'omit'],
];

describe('bootstrap: every layout prints the same bytes', () => {
  for (const args of CASES) {
    it(args.join(' '), async () => {
      const file = csv('all.csv');
      const ref = await out([...args, '-j', '1', file]);
      expect(ref).toMatch(/se\tci_low\tci_high|_se\t/);
      for (const extra of [['-j', '3', '--chunk-rows', '7'], ['-j', '2']]) {
        expect(await out([...args, ...extra, file]), extra.join(' ')).toBe(ref);
      }
      expect(await out([...args, '-'], { stdin: readFileSync(file, 'utf8') })).toBe(ref);
      if (!args.includes('--group-by')) {
        const arrow = join(dir, 'all.arrow');
        writeFileSync(arrow, tableToIPC(tableFromArrays(cols), 'file'));
        expect(await out([...args, '-j', '2', '--chunk-rows', '13', arrow])).toBe(ref);
      }
      // shards with their row offsets, merged in another order, print the single run's bytes
      const cuts = [0, 100, 101, 640, N];
      const states: string[] = [];
      for (let s = 0; s + 1 < cuts.length; s++) {
        const st = join(dir, `b${s}.json`);
        await out([...args, '--row-offset', String(cuts[s]), '--state-out', st, csv(`b${s}.csv`, cuts[s], cuts[s + 1])]);
        states.push(st);
      }
      expect(await out(['merge', states[3]!, states[1]!, states[0]!, states[2]!])).toBe(ref);
      const j1 = JSON.parse(await out(['merge', '--json', ...states]));
      const j2 = JSON.parse(await out([...args, '--json', file]));
      expect(j1.losses).toEqual(j2.losses);
      // without offsets the shards overlap: refused unless the user says they are independent
      const a = join(dir, 'o1.json'), b = join(dir, 'o2.json');
      await out([...args, '--state-out', a, csv('o1.csv', 0, 300)]);
      await out([...args, '--state-out', b, csv('o2.csv', 300, 600)]);
      await expectFailure(['merge', a, b], 2, /cannot merge: bootstrap rows 0–299 of .*o[12]\.json overlap rows 0–299 of .*--row-offset.*--independent-shards/, { cwd: dir });
      expect(await out(['merge', '--independent-shards', a, b])).toMatch(/\t/);
    });
  }

  it('the interval is printed at --ci; merge --ci reprints at another level', async () => {
    const file = csv('ci.csv');
    const args = ['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--bootstrap', '100', '--json'];
    const a = JSON.parse(await out([...args, '--ci', '0.5', file]));
    const b = JSON.parse(await out([...args, '--ci', '0.99', file]));
    const la = a.losses[0].bootstrap, lb = b.losses[0].bootstrap;
    expect(la.se).toBe(lb.se);
    expect(lb.ci_low).toBeLessThan(la.ci_low);
    expect(lb.ci_high).toBeGreaterThan(la.ci_high);
    expect(la.ci_low).toBeLessThan(a.losses[0].value);
    const st = join(dir, 'ci.json');
    await out([...args.slice(0, -1), '--ci', '0.5', '--state-out', st, file]);
    expect(JSON.parse(await out(['merge', '--json', '--ci', '0.99', st])).losses[0].bootstrap).toEqual(lb);
  });
});

describe('bootstrap errors', () => {
  it('bad options and merges are one-line errors naming the option or the files', async () => {
    const file = csv('e.csv');
    const base = ['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y'];
    await expectFailure([...base, '--bootstrap', '0', file], 2, /--bootstrap must be a positive integer \(got '0'\)/);
    await expectFailure([...base, '--bootstrap', '1.5', file], 2, /--bootstrap must be a positive integer \(got '1.5'\)/);
    await expectFailure([...base, '--bootstrap', '10001', file], 2, /--bootstrap must be at most 10000/);
    await expectFailure([...base, '--bootstrap', '10', '--ci', '1', file], 2, /--ci must be a level in \(0, 1\)/);
    await expectFailure([...base, '--bootstrap', '10', '--ci', '0', file], 2, /--ci must be a level in \(0, 1\)/);
    await expectFailure([...base, '--row-offset', '5', file], 2, /--row-offset needs --bootstrap/);
    await expectFailure([...base, '--seed', '5', file], 2, /--seed needs --bootstrap/);
    await expectFailure([...base, '--bootstrap', '10', '--seed', '-1', file], 2, /--seed must be an integer in \[0, 4294967295\]/);
    await expectFailure([...base, '--bootstrap', '10', '-r', 'none', file], 2, /--bootstrap needs --reduction mean or sum/);
    const s = (name: string, extra: string[]): Promise<string> => out([...base, ...extra, '--state-out', join(dir, name), file]).then(() => join(dir, name));
    const a = await s('s7.json', ['--bootstrap', '10', '--seed', '7']);
    const b = await s('s8.json', ['--bootstrap', '10', '--seed', '8', '--row-offset', String(N)]);
    const c = await s('r20.json', ['--bootstrap', '20', '--seed', '7', '--row-offset', String(N)]);
    const d = await s('plain.json', []);
    await expectFailure(['merge', a, b], 2, /cannot merge: bootstrap differs: --bootstrap 10 --seed 7 .* in .*s7\.json, --bootstrap 10 --seed 8 .* in .*s8\.json/);
    await expectFailure(['merge', a, c], 2, /cannot merge: bootstrap differs: --bootstrap 10 .*--bootstrap 20/);
    await expectFailure(['merge', a, d], 2, /cannot merge: bootstrap differs: .* in .*s7\.json, no --bootstrap in .*plain\.json/);
    await expectFailure(['merge', '--ci', '0.9', d], 2, /merge --ci: the states hold no bootstrap replicates/);
  });
});
