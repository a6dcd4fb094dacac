/**
 * Sharded evaluation: random data split into 1–8 random shards, each shard run
 * with its own --workers, --chunk-rows and format, the states merged by
 * `losseval merge` in random orders and trees — stdout must equal the single
 * run over all rows, byte for byte.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { losseval, workdir, expectFailure } from '../helpers/cli.js';
import { mulberry32 as rng } from '../helpers/rng.js';


let dir: string;
beforeAll(() => {
  dir = workdir();
});

type Cols = Record<string, Float64Array>;

function writeAs(name: string, cols: Cols, from: number, to: number, format: 'csv' | 'gz' | 'arrow'): string {
  const names = Object.keys(cols);
  const sliced: Cols = {};
  for (const n of names) sliced[n] = cols[n]!.slice(from, to);
  if (format === 'arrow') {
    const p = join(dir, `${name}.arrow`);
    writeFileSync(p, tableToIPC(tableFromArrays(sliced), 'file'));
    return p;
  }
  let text = names.join(',') + '\n';
  for (let i = 0; i < to - from; i++) text += names.map((n) => String(sliced[n]![i])).join(',') + '\n';
  const p = join(dir, `${name}.csv${format === 'gz' ? '.gz' : ''}`);
  writeFileSync(p, format === 'gz' ? gzipSync(text) : text);
  return p;
}

async function ok(args: string[]): Promise<string> {
  const r = await losseval(args, { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

const FAMILIES: { name: string; args: string[]; make: (r: () => number, n: number) => Cols }[] = [
  {
    name: 'regression',
    args: ['-l', 'l1,mse,smooth_l1,huber', '--beta', '0.5', '--delta', '2', '--target-cols', 'y1,y2'],
    make: (r, n) => {
      const c: Cols = { p1: new Float64Array(n), p2: new Float64Array(n), y1: new Float64Array(n), y2: new Float64Array(n) };
      for (let i = 0; i < n; i++) {
        c.y1![i] = (r() - 0.5) * 10 ** Math.floor(r() * 12 - 6);
        c.p1![i] = c.y1![i]! + (r() - 0.5);
        c.y2![i] = r() * 5;
        c.p2![i] = r() * 5;
      }
      return c;
    },
  },
  {
    name: 'classification',
    args: ['-l', 'cross_entropy,nll', '--weight', '0.5,1,2,1', '--label-smoothing', '0.05', '--pred-cols', 'l*', '--target-cols', 'y'],
    make: (r, n) => {
      const c: Cols = { l0: new Float64Array(n), l1: new Float64Array(n), l2: new Float64Array(n), l3: new Float64Array(n), y: new Float64Array(n) };
      for (let i = 0; i < n; i++) {
        for (const k of ['l0', 'l1', 'l2', 'l3']) c[k]![i] = Math.round((r() - 0.5) * 8e4) / 1e4;
        c.y![i] = r() < 0.05 ? -100 : Math.floor(r() * 4);
      }
      return c;
    },
  },
  {
    name: 'binary',
    args: ['-l', 'bce,bce_with_logits', '--pred-cols', 'p*', '--target-cols', 't*', '--weight-cols', 'w'],
    make: (r, n) => {
      const c: Cols = { pa: new Float64Array(n), pb: new Float64Array(n), ta: new Float64Array(n), tb: new Float64Array(n), w: new Float64Array(n) };
      for (let i = 0; i < n; i++) {
        c.pa![i] = r();
        c.pb![i] = r();
        c.ta![i] = r() < 0.5 ? 0 : 1;
        c.tb![i] = r();
        c.w![i] = 0.5 + r();
      }
      return c;
    },
  },
];

describe('merged shards print exactly what one run prints', () => {
  let trial = 0;
  for (const fam of FAMILIES) {
    for (const seed of [1, 2]) {
      for (const reduction of ['mean', 'sum']) {
        const id = trial++;
        it(`${fam.name} ${reduction} seed ${seed}`, async () => {
          const r = rng(seed * 1000 + id);
          const n = 200 + Math.floor(r() * 300);
          const cols = fam.make(r, n);
          const whole = writeAs(`whole-${id}`, cols, 0, n, 'csv');
          const single = await ok([...fam.args, '-r', reduction, whole]);
          const singleJson = JSON.parse(await ok([...fam.args, '-r', reduction, '--json', whole]));
          // 1–8 shards at random cut points; one may be empty
          const k = 1 + Math.floor(r() * 8);
          const cuts = [0, ...Array.from({ length: k - 1 }, () => Math.floor(r() * n)).sort((a, b) => a - b), n];
          const states: string[] = [];
          for (let s = 0; s < k; s++) {
            const format = (['csv', 'gz', 'arrow'] as const)[Math.floor(r() * 3)]!;
            const file = writeAs(`shard-${id}-${s}`, cols, cuts[s]!, cuts[s + 1]!, format);
            const state = join(dir, `state-${id}-${s}.json`);
            const workers = String(1 + Math.floor(r() * 3));
            const chunk = r() < 0.5 ? ['--chunk-rows', String(1 + Math.floor(r() * 50))] : [];
            await ok([...fam.args, '-r', reduction, '-j', workers, ...chunk, '--state-out', state, file]);
            states.push(state);
          }
          // flat merge in a random order
          const order = [...states].sort(() => r() - 0.5);
          expect(await ok(['merge', ...order])).toBe(single);
          // a tree: merge the first half, then that with the rest
          const half = Math.ceil(states.length / 2);
          const partial = join(dir, `partial-${id}.json`);
          await ok(['merge', '--state-out', partial, ...order.slice(0, half)]);
          const rest = order.slice(half);
          expect(await ok(['merge', ...rest, partial])).toBe(single);
          // JSON agrees on values and counts
          const mj = JSON.parse(await ok(['merge', '--json', ...order]));
          expect(mj.losses).toEqual(singleJson.losses);
          expect(mj.rows).toBe(n);
          expect(mj.columns).toEqual(singleJson.columns);
        });
      }
    }
  }
});

describe('merge refuses what cannot be merged', () => {
  let a: string, b: string, c: string;
  beforeAll(async () => {
    writeFileSync(join(dir, 'm.csv'), 'p,y\n1,2\n3,5\n');
    writeFileSync(join(dir, 'empty.csv'), 'p,y\n');
    a = join(dir, 'a.json');
    b = join(dir, 'b.json');
    c = join(dir, 'c.json');
    await ok(['-l', 'smooth_l1', '--target-cols', 'y', '--state-out', a, 'm.csv']);
    await ok(['-l', 'smooth_l1', '--beta', '0.5', '--target-cols', 'y', '--state-out', b, 'm.csv']);
    await ok(['-l', 'smooth_l1', '--target-cols', 'y', '--state-out', c, 'empty.csv']);
  });
  const fails = (args: string[], code: 1 | 2, message: RegExp): Promise<void> => expectFailure(args, code, message, { cwd: dir });
  it('a zero-row shard merges as nothing', async () => {
    expect(await ok(['merge', a, c])).toBe(await ok(['-l', 'smooth_l1', '--target-cols', 'y', 'm.csv']));
    expect(await ok(['merge', c])).toBe('nan\n');
  });
  it('different options: exit 2 naming the difference', () =>
    fails(['merge', a, b], 2, /cannot merge: smooth_l1 option beta differs: 1 in .*a\.json, 0\.5 in .*b\.json/));
  it('different losses', async () => {
    const d = join(dir, 'd.json');
    await ok(['-l', 'mse', '--target-cols', 'y', '--state-out', d, 'm.csv']);
    await fails(['merge', a, d], 2, /cannot merge: losses differ: smooth_l1 in .*a\.json, mse in .*d\.json/);
  });
  it('different reduction', async () => {
    const e = join(dir, 'e.json');
    await ok(['-l', 'smooth_l1', '-r', 'sum', '--target-cols', 'y', '--state-out', e, 'm.csv']);
    await fails(['merge', a, e], 2, /reduction differs: mean in .*, sum in /);
  });
  it('truncated state: exit 1 naming the file', async () => {
    const t = join(dir, 'trunc.json');
    writeFileSync(t, readFileSync(a, 'utf8').slice(0, 200));
    await fails(['merge', a, t], 1, /trunc\.json: corrupt state file: not valid JSON/);
  });
  it('tampered numbers: exit 1', async () => {
    const t = join(dir, 'bad.json');
    writeFileSync(t, readFileSync(a, 'utf8').replace(/"sum": "[0-9a-f]+"/, '"sum": "xyz"'));
    await fails(['merge', t], 1, /bad\.json: corrupt state file: losses\[0\]/);
  });
  it('a future format version: exit 1', async () => {
    const t = join(dir, 'future.json');
    writeFileSync(t, readFileSync(a, 'utf8').replace('"version": 1', '"version": 3'));
    await fails(['merge', t], 1, /future\.json: corrupt state file: written by a newer losseval \(state format version 3; this one reads 2/);
  });
  it('not a state file', async () => {
    await fails(['merge', join(dir, 'm.csv')], 1, /m\.csv: corrupt state file: not valid JSON/);
    await fails(['merge', 'missing.json'], 2, /missing\.json: no such file/);
  });
  it('the same shard twice warns', async () => {
    const r = await losseval(['merge', a, a], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^losseval: warning: the same shard \(m\.csv, 2 rows\) is merged more than once\n$/);
  });
  it('--state-out with reduction none is a usage error', () =>
    fails(['-l', 'l1', '-r', 'none', '--target-cols', 'y', '--state-out', 'x.json', 'm.csv'], 2, /--state-out needs --reduction mean or sum/));
  it('states stay small', () => {
    expect(readFileSync(a).length).toBeLessThan(10_000);
  });
});
