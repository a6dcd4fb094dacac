/**
 * evaluate(): every input form gives the CLI's answer on the same values, bit for bit; options are
 * checked with the CLI's messages; rows, state, signal and progress work as documented.
 */
import { describe, expect, it } from 'vitest';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tableFromIPC, tableFromArrays, vectorFromArray, Float64 } from 'apache-arrow';
// the built package (dist/): the worker pool runs compiled code
import { evaluate, mergeStates, readStateFile, stateValues, UsageError, DataError, type InputData } from '../../dist/index.js';
import { losseval, SAMPLES, workdir } from '../helpers/cli.js';
import { mulberry32 } from '../helpers/rng.js';

const S = (f: string): string => join(SAMPLES, f);

/** A sample CSV's columns as float64 arrays (Number() of each field: the CLI's parse is correctly rounded too). */
function csvColumns(file: string): Record<string, Float64Array> {
  const [head, ...lines] = readFileSync(S(file), 'utf8').trimEnd().split('\n');
  const names = head!.split(',');
  const cols = names.map(() => new Float64Array(lines.length));
  lines.forEach((l, r) => l.split(',').forEach((v, c) => (cols[c]![r] = Number(v))));
  return Object.fromEntries(names.map((n, c) => [n, cols[c]!]));
}

const bits = (x: number): string => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x);
  return b.getBigUint64(0).toString(16);
};

async function cliValues(args: string[]): Promise<number[]> {
  const r = await losseval(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trimEnd().split('\n').map((l) => Number(l.split('\t').at(-1)));
}

describe('evaluate(): the CLI\'s answer, whatever the input form', () => {
  const preds = csvColumns('preds.csv'), targets = csvColumns('targets.csv');
  const losses = ['l1', 'mse', 'smooth_l1', 'huber'];

  it('paths, streams, arrays, a matrix, Arrow tables and vectors', async () => {
    const want = await cliValues(['-l', losses.join(','), S('preds.csv'), S('targets.csv')]);
    const matrix = (c: Record<string, Float64Array>): Float64Array => {
      const out = new Float64Array(c.price!.length * 2);
      c.price!.forEach((v, r) => { out[2 * r] = v; out[2 * r + 1] = c.demand![r]!; });
      return out;
    };
    const forms: [string, InputData, InputData][] = [
      ['csv paths', S('preds.csv'), S('targets.csv')],
      ['arrow paths', S('preds.arrow'), S('targets.arrow')],
      ['gzip stream + Readable', createReadStream(S('preds.csv.gz')), Readable.from([readFileSync(S('targets.csv'))])],
      ['{ values, width }', { values: matrix(preds), width: 2 }, { values: matrix(targets), width: 2 }],
      ['number[][]', Array.from({ length: preds.price!.length }, (_, r) => [preds.price![r]!, preds.demand![r]!]), S('targets.arrow')],
      ['arrow Table', tableFromIPC(readFileSync(S('preds.arrow'))), tableFromArrays({ price: targets.price!, demand: targets.demand! })],
    ];
    for (const [label, p, t] of forms) {
      const r = await evaluate({ loss: losses, preds: p, targets: t });
      expect(r.losses.map((l) => bits(l.value)), label).toEqual(want.map(bits));
      expect(r.rows, label).toBe(1000);
    }
    // one column each: typed array, number[] and an Arrow Vector give the CLI's one-column answer
    const want1 = await cliValues(['-l', losses.join(','), '--pred-cols', 'price', '--target-cols', 'price', S('preds.csv'), S('targets.csv')]);
    const one: [string, InputData, InputData][] = [
      ['Float64Array', preds.price!, targets.price!],
      ['number[]', Array.from(preds.price!), Array.from(targets.price!)],
      ['Vector', vectorFromArray(Array.from(preds.price!), new Float64()), targets.price!],
    ];
    for (const [label, p, t] of one) {
      const r = await evaluate({ loss: losses, preds: p, targets: t });
      expect(r.losses.map((l) => bits(l.value)), label).toEqual(want1.map(bits));
    }
  });

  it('classification: logits as number[][] and { values, width }, labels as Int32Array, per-loss options', async () => {
    const c = csvColumns('classes.csv');
    const C = 10, N = c.label!.length;
    const values = new Float32Array(N * C);
    const rows: number[][] = [];
    for (let r = 0; r < N; r++) {
      rows.push([]);
      for (let k = 0; k < C; k++) rows[r]!.push(c[`logit_${k}`]![r]!);
      values.set(rows[r]!.map(Math.fround), r * C);
    }
    const labels = Int32Array.from(c.label!);
    const want = await cliValues(['-l', 'ce', '--label-smoothing', '0.1', '--pred-cols', 'logit_*', '--target-cols', 'label', S('classes.csv')]);
    const a = await evaluate({ loss: { name: 'cross_entropy', labelSmoothing: 0.1 }, preds: rows, targets: labels });
    expect(bits(a.losses[0]!.value)).toBe(bits(want[0]!));
    // the Arrow sample's FixedSizeList<Float64> logits, as a row-major Float64Array
    const wantArrow = await cliValues(['-l', 'ce,nll', '--pred-cols', 'logits', '--target-cols', 'label', S('classes.arrow')]);
    const b = await evaluate({ loss: ['ce', 'nll'], preds: { values: Float64Array.from(rows.flat()), width: C }, targets: labels });
    expect(b.losses.map((l) => bits(l.value))).toEqual(wantArrow.map(bits));
    // float32 values are read exactly: the same answer as their float64 twins
    const f32 = await evaluate({ loss: ['ce', 'nll'], preds: { values, width: C }, targets: labels });
    const f64 = await evaluate({ loss: ['ce', 'nll'], preds: { values: Float64Array.from(values), width: C }, targets: Array.from(labels) });
    expect(f32.losses.map((l) => bits(l.value))).toEqual(f64.losses.map((l) => bits(l.value)));
    expect(f32.losses[0]!.value).not.toBe(b.losses[0]!.value);
    // options of one loss do not reach the other
    const m = await evaluate({ loss: [{ name: 'ce', labelSmoothing: 0.1 }, 'ce'.replace('ce', 'nll')], preds: rows, targets: labels });
    expect(m.losses[0]!.params).toMatchObject({ labelSmoothing: 0.1 });
    expect(m.losses[1]!.params).not.toHaveProperty('labelSmoothing');
  });

  it('one input with targetCols, as the CLI', async () => {
    const want = await cliValues(['-l', 'mse,l1', '--target-cols', 'price,demand', S('both.csv')]);
    const r = await evaluate({ loss: ['mse', 'l1'], targetCols: ['price', 'demand'], preds: S('both.csv') });
    expect(r.losses.map((l) => bits(l.value))).toEqual(want.map(bits));
    expect(r.columns).toEqual({ preds: ['pred_price', 'pred_demand'], targets: ['price', 'demand'] });
  });
});

describe('evaluate(): reduction none, layouts, state', () => {
  it('rows are the CLI\'s per-row output, in memory', async () => {
    const cli = await losseval(['-l', 'mse,huber', '-r', 'none', S('preds.csv'), S('targets.arrow')]);
    expect(cli.code).toBe(0);
    const [head, ...lines] = cli.stdout.trimEnd().split('\n');
    expect(head).toBe('mse:price,mse:demand,huber:price,huber:demand');
    const r = await evaluate({ loss: ['mse', 'huber'], reduction: 'none', preds: S('preds.csv'), targets: S('targets.arrow') });
    const [mse, huber] = r.losses;
    expect([mse!.width, huber!.width]).toEqual([2, 2]);
    const got = lines.map((_, i) => [...mse!.rows!.subarray(2 * i, 2 * i + 2), ...huber!.rows!.subarray(2 * i, 2 * i + 2)]);
    expect(got.map((row) => row.map(bits))).toEqual(lines.map((l) => l.split(',').map((v) => bits(Number(v)))));
    expect([...mse!.columns!, ...huber!.columns!]).toEqual(head!.split(','));
    expect(r.state).toBeNull();
    // a loss with one value per row: rows has one value per row
    const ce = await evaluate({ loss: 'ce', reduction: 'none', predCols: 'logit_*', targetCols: 'label', preds: S('classes.csv') });
    const ceCli = await losseval(['-l', 'ce', '-r', 'none', '--pred-cols', 'logit_*', '--target-cols', 'label', S('classes.csv')]);
    expect(Array.from(ce.losses[0]!.rows!, bits)).toEqual(ceCli.stdout.trimEnd().split('\n').slice(1).map((v) => bits(Number(v))));
    // and its mean is the CLI's mean
    expect(bits(ce.losses[0]!.value)).toBe(bits((await cliValues(['-l', 'ce', '--pred-cols', 'logit_*', '--target-cols', 'label', S('classes.csv')]))[0]!));
  });

  it('large arrays go through the pool: the same bits for any workers and chunk size', async () => {
    const rand = mulberry32(7);
    const n = 200_003;
    const p = new Float64Array(n).map(() => rand() * 4 - 2), t = new Float64Array(n).map(() => rand());
    const base = await evaluate({ loss: ['mse', 'smooth_l1', 'bce_with_logits'], preds: p, targets: t, workers: 1 });
    for (const layout of [{ workers: 2 }, { workers: 3, chunkRows: 997 }, { workers: 2, chunkRows: 65536 }]) {
      const r = await evaluate({ loss: ['mse', 'smooth_l1', 'bce_with_logits'], preds: p, targets: t, ...layout });
      expect(r.losses.map((l) => bits(l.value))).toEqual(base.losses.map((l) => bits(l.value)));
    }
    expect(base.rows).toBe(n);
  });

  it('stateOut writes a state that merges like the CLI\'s', async () => {
    const dir = workdir();
    const a = await evaluate({ loss: 'mse', preds: S('preds.csv'), targets: S('targets.csv'), stateOut: join(dir, 'a.json') });
    const merged = mergeStates([await readStateFile(join(dir, 'a.json')), a.state!], ['a.json', 'memory']);
    expect(stateValues(merged).mse).toBe(a.losses[0]!.value);
  });

  it('a row-count mismatch is the CLI\'s data error', async () => {
    await expect(evaluate({ loss: 'l1', preds: [1, 2, 3], targets: [1, 2] }))
      .rejects.toThrow(new DataError('row counts differ: <preds> has 3 rows but <targets> has 2 rows'));
  });
});

describe('evaluate(): options are checked by the CLI\'s code, with its messages', () => {
  const cases: [Record<string, unknown>, string[]][] = [
    [{ delta: -1 }, ['--delta', '-1']],
    [{ workers: 0 }, ['--workers', '0']],
    [{ reduction: 'avg' }, ['--reduction', 'avg']],
    [{ nanPolicy: 'skip' }, ['--nan-policy', 'skip']],
  ];
  for (const [opt, flags] of cases) {
    it(`${JSON.stringify(opt)}`, async () => {
      const cli = await losseval(['-l', 'huber', ...flags, S('preds.csv'), S('targets.csv')]);
      expect(cli.code).toBe(2);
      const message = cli.stderr.trimEnd().replace(/^losseval: error: /, '');
      const e = await evaluate({ loss: 'huber', preds: S('preds.csv'), targets: S('targets.csv'), ...opt }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toBe(message);
    });
  }
  it('unknown loss, a loss spec without a name, an input of no known form', async () => {
    await expect(evaluate({ loss: 'l3', preds: [1], targets: [1] })).rejects.toThrow(UsageError);
    await expect(evaluate({ loss: 'l3', preds: [1], targets: [1] })).rejects.toThrow(/^unknown loss 'l3' \(valid: l1, /);
    await expect(evaluate({ loss: [{} as never], preds: [1], targets: [1] })).rejects.toThrow('--loss: a loss is a name or { name, ...options } (got {})');
    await expect(evaluate({ loss: 'l1', preds: {} as never, targets: [1] })).rejects.toThrow(/^preds: not an input/);
    await expect(evaluate({ loss: 'l1', preds: ['1'] as never, targets: [1] })).rejects.toThrow('preds: element 0 is not a number ("1")');
  });
  it('an option no chosen loss takes is a warning, as on the CLI', async () => {
    const r = await evaluate({ loss: 'mse', delta: 2, preds: [1, 2], targets: [0, 0] });
    expect(r.warnings).toEqual(['--delta is not used by mse']);
    expect(r.losses[0]!.value).toBe(2.5);
  });
});

describe('evaluate(): signal and progress', () => {
  it('progress ends on the final count; an abort mid-run rejects and leaves no output file', async () => {
    const n = 300_000;
    const p = new Float64Array(n).fill(1), t = new Float64Array(n);
    const seen: number[] = [];
    const r = await evaluate({ loss: 'l1', preds: p, targets: t, workers: 2, onProgress: (x) => seen.push(x.rows) });
    expect(r.losses[0]!.value).toBe(1);
    expect(seen.at(-1)).toBe(n);
    expect(seen.length).toBeGreaterThan(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    const dir = workdir();
    const ac = new AbortController();
    const out = join(dir, 'rows.csv');
    const e = await evaluate({
      loss: 'l1', reduction: 'none', output: out, preds: p, targets: t, workers: 2, chunkRows: 1000, signal: ac.signal,
      onProgress: (x) => { if (x.rows >= 5000) ac.abort(); },
    }).catch((x: unknown) => x);
    expect((e as Error).name).toBe('AbortError');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // aborted before it starts
    await expect(evaluate({ loss: 'l1', preds: p, targets: t, signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });
});

describe('evaluate(): groups and bootstrap intervals', () => {
  it('groupBy / bootstrap give the CLI --json figures; mergeStates merges grouped bootstrap shards', async () => {
    const dir = workdir();
    const n = 400;
    const r = mulberry32(77);
    const lang = Array.from({ length: n }, (_, i) => ['x', 'y', null][i % 3]!);
    const p = Float64Array.from({ length: n }, () => r() * 4);
    const y = Float64Array.from({ length: n }, () => r() * 4);
    const table = new (await import('apache-arrow')).Table({
      lang: vectorFromArray(lang), p: vectorFromArray(Array.from(p), new Float64()), y: vectorFromArray(Array.from(y), new Float64()),
    });
    const opts = { loss: ['l1', 'mse'], predCols: 'p', targetCols: 'y', groupBy: 'lang', bootstrap: 40, seed: 5, ci: 0.9 } as const;
    const res = await evaluate({ ...opts, preds: table as unknown as InputData });
    const file = join(dir, 'g.arrow');
    const { tableToIPC } = await import('apache-arrow');
    (await import('node:fs')).writeFileSync(file, tableToIPC(table, 'file'));
    const cli = JSON.parse((await losseval(['-l', 'l1,mse', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'lang',
      '--bootstrap', '40', '--seed', '5', '--ci', '0.9', '--json', file])).stdout);
    expect(res.groups!.map((g) => g.key)).toEqual(cli.groups.map((g: any) => g.key));
    expect(res.groups!.map((g) => g.losses.map((l) => [l.value, l.bootstrap!.se, l.bootstrap!.ciLow, l.bootstrap!.ciHigh])))
      .toEqual(cli.groups.map((g: any) => g.losses.map((l: any) => [l.value, l.bootstrap.se, l.bootstrap.ci_low, l.bootstrap.ci_high])));
    expect(res.losses.map((l) => l.bootstrap!.se)).toEqual(cli.losses.map((l: any) => l.bootstrap.se));
    expect(res.losses[0]!.bootstrap).toMatchObject({ ci: 0.9, replicates: 40, seed: 5 });
    // two shards with row offsets, merged in the library, equal the one run
    const a = await evaluate({ ...opts, preds: table.slice(0, 150) as unknown as InputData });
    const b = await evaluate({ ...opts, preds: table.slice(150) as unknown as InputData, rowOffset: 150 });
    const merged = mergeStates([b.state!, a.state!]);
    expect(merged.groups).toEqual(res.state!.groups);
    expect(merged.losses).toEqual(res.state!.losses);
    await expect(evaluate({ ...opts, preds: p, targets: y })).rejects.toThrow(/arrays given to evaluate\(\) have no key columns/);
  });
});
