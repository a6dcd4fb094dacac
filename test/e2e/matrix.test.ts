/**
 * The layout matrix: the same rows through every reader, worker count and
 * chunk size must give bit-identical results, equal to an exact BigInt
 * reference of the per-element terms.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { losseval, workdir } from '../helpers/cli.js';
import { exactMean, exactSum } from '../helpers/exact.js';
import { mulberry32 as rng } from '../helpers/rng.js';

const N = 301;
let dir: string;
const preds = { a: new Float64Array(N), b: new Float64Array(N) };
const targets = { a: new Float64Array(N), b: new Float64Array(N) };


const csv = (cols: Record<string, Float64Array>): string => {
  const names = Object.keys(cols);
  let s = names.join(',') + '\n';
  for (let i = 0; i < N; i++) s += names.map((n) => String(cols[n]![i])).join(',') + '\n';
  return s;
};

// per-element formulas as in losses.md §2.1–2.4, for the reference
const terms: Record<string, (x: number, y: number) => number> = {
  l1: (x, y) => Math.abs(x - y),
  mse: (x, y) => (x - y) * (x - y),
  smooth_l1: (x, y) => {
    const z = Math.abs(x - y);
    return z < 1 ? (0.5 * z * z) / 1 : z - 0.5;
  },
  huber: (x, y) => {
    const z = Math.abs(x - y);
    return z < 1 ? 0.5 * z * z : 1 * (z - 0.5);
  },
};

function reference(reduction: 'mean' | 'sum'): string {
  return Object.entries(terms).map(([name, f]) => {
    const t: number[] = [];
    for (let i = 0; i < N; i++) for (const c of ['a', 'b'] as const) t.push(f(preds[c][i]!, targets[c][i]!));
    return `${name}\t${reduction === 'mean' ? exactMean(t) : exactSum(t)}\n`;
  }).join('');
}

beforeAll(() => {
  dir = workdir();
  const r = rng(7);
  for (let i = 0; i < N; i++) {
    // magnitudes from 1e-8 to 1e8 so rounding order would matter for a naive sum
    const scale = 10 ** Math.floor(r() * 17 - 8);
    targets.a[i] = (r() - 0.5) * scale;
    preds.a[i] = targets.a[i]! + (r() - 0.5) * scale;
    targets.b[i] = r() * 3;
    preds.b[i] = r() < 0.1 ? targets.b[i]! + 50 * r() : targets.b[i]! + 0.1 * (r() - 0.5);
  }
  for (const [name, cols] of [['preds', preds], ['targets', targets]] as const) {
    writeFileSync(join(dir, `${name}.csv`), csv(cols));
    writeFileSync(join(dir, `${name}.tsv`), csv(cols).replace(/,/g, '\t'));
    writeFileSync(join(dir, `${name}.csv.gz`), gzipSync(csv(cols)));
    writeFileSync(join(dir, `${name}.arrow`), tableToIPC(tableFromArrays(cols), 'file'));
    writeFileSync(join(dir, `${name}.arrows`), tableToIPC(tableFromArrays(cols), 'stream'));
  }
  const both = csv({ pa: preds.a, pb: preds.b, a: targets.a, b: targets.b });
  writeFileSync(join(dir, 'both.csv'), both);
  writeFileSync(join(dir, 'both.csv.gz'), gzipSync(both));
  // the same rows with CRLF, every third value quoted and a quoted multi-line note column
  const lines = both.trimEnd().split('\n').map((l, i) =>
    (i === 0 ? l + ',note' : l.split(',').map((v, k) => ((i + k) % 3 === 0 ? `"${v}"` : v)).join(',') + (i % 5 === 0 ? ',"a\r\nb, c"' : ',x')));
  writeFileSync(join(dir, 'both-quoted.csv'), lines.join('\r\n') + '\r\n');
});

const LOSSES = ['-l', 'l1,mse,smooth_l1,huber'];

describe('mean and sum are bit-identical across the layout matrix', () => {
  const layouts: [string, string[], string?][] = [
    ['csv', ['preds.csv', 'targets.csv']],
    ['tsv', ['preds.tsv', 'targets.tsv']],
    ['gzip', ['preds.csv.gz', 'targets.csv.gz']],
    ['arrow file', ['preds.arrow', 'targets.arrow']],
    ['arrow stream', ['preds.arrows', 'targets.arrows']],
    ['mixed', ['preds.arrow', 'targets.csv.gz']],
    ['stdin csv', ['-', 'targets.csv'], 'preds.csv'],
    ['stdin arrow', ['preds.csv', '-'], 'targets.arrow'],
    ['stdin gzip', ['-', 'targets.arrows'], 'preds.csv.gz'],
    ['one file', ['--target-cols', 'a,b', 'both.csv']],
  ];
  for (const reduction of ['mean', 'sum'] as const) {
    for (const [label, files, stdin] of layouts) {
      for (const [workers, chunk] of [['1', null], ['3', '7'], ['2', '1']] as const) {
        it(`${reduction} ${label} -j ${workers} --chunk-rows ${chunk ?? 'default'}`, async () => {
          const args = [...LOSSES, '-r', reduction, '-j', workers, ...(chunk ? ['--chunk-rows', chunk] : []), ...files];
          const r = await losseval(args, { cwd: dir, ...(stdin ? { stdin: readFileSync(join(dir, stdin)) } : {}) });
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout).toBe(reference(reduction));
        });
      }
    }
  }
});

describe('reduction none is identical across the matrix and in input order', () => {
  let expected: string;
  beforeAll(() => {
    const lines = ['l1:a,l1:b,mse:a,mse:b'];
    for (let i = 0; i < N; i++) {
      const v = [terms.l1!(preds.a[i]!, targets.a[i]!), terms.l1!(preds.b[i]!, targets.b[i]!),
        terms.mse!(preds.a[i]!, targets.a[i]!), terms.mse!(preds.b[i]!, targets.b[i]!)];
      lines.push(v.map(String).join(','));
    }
    expected = lines.join('\n') + '\n';
  });
  for (const [workers, chunk, files] of [
    ['1', null, ['preds.csv', 'targets.csv']],
    ['3', '1', ['preds.arrow', 'targets.csv']],
    ['2', '7', ['preds.csv.gz', 'targets.arrows']],
  ] as const) {
    it(`-j ${workers} --chunk-rows ${chunk ?? 'default'} ${files.join(' ')}`, async () => {
      const r = await losseval(['-l', 'l1,mse', '-r', 'none', '-j', workers, ...(chunk ? ['--chunk-rows', chunk] : []), ...files], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(expected);
    });
    it(`-o out.csv and -o out.arrow, -j ${workers}`, async () => {
      const out = join(dir, `out-${workers}.csv`);
      const r = await losseval(['-l', 'l1,mse', '-r', 'none', '-j', workers, '-o', out, ...(chunk ? ['--chunk-rows', chunk] : []), ...files], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(readFileSync(out, 'utf8')).toBe(expected);
      const outArrow = join(dir, `out-${workers}.arrow`);
      const ra = await losseval(['-l', 'l1,mse', '-r', 'none', '-j', workers, '-o', outArrow, ...files], { cwd: dir });
      expect(ra.code).toBe(0);
      const { tableFromIPC } = await import('apache-arrow');
      const t = tableFromIPC(readFileSync(outArrow));
      expect(t.schema.fields.map((f) => f.name)).toEqual(['l1:a', 'l1:b', 'mse:a', 'mse:b']);
      const got = [...Array(N).keys()].map((i) => t.schema.fields.map((f) => String(t.getChild(f.name)!.get(i))).join(','));
      expect(['l1:a,l1:b,mse:a,mse:b', ...got].join('\n') + '\n').toBe(expected);
    });
  }
});

describe('one CSV input cut by size (no --chunk-rows): bit-identical for any chunk size and worker count', () => {
  const inputs: [string, string[], string?][] = [
    ['file', ['both.csv']],
    ['quoted, CRLF', ['--pred-cols', 'pa,pb', 'both-quoted.csv']],
    ['gzip', ['both.csv.gz']],
    ['stdin', ['-'], 'both.csv'],
    ['stdin gzip, quoted', ['--pred-cols', 'pa,pb', '-'], 'both-quoted.csv'],
  ];
  for (const [label, files, stdin] of inputs) {
    for (const [workers, bytes] of [['1', '1'], ['2', '97'], ['3', '4096'], ['2', '']] as const) {
      it(`${label} -j ${workers}, chunks of ${bytes || 'default'} bytes`, async () => {
        for (const reduction of ['mean', 'sum'] as const) {
          const args = [...LOSSES, '-r', reduction, '-j', workers, ...(bytes ? ['--chunk-bytes', bytes] : []), '--target-cols', 'a,b', ...files];
          const input = stdin ? readFileSync(join(dir, stdin)) : undefined;
          const r = await losseval(args, { cwd: dir, ...(input ? { stdin: label.includes('gzip') ? gzipSync(input) : input } : {}) });
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout).toBe(reference(reduction));
        }
      });
    }
  }
  it('reduction none, in input order, chunks of 50 bytes on 3 workers', async () => {
    const r = await losseval(['-l', 'l1', '-r', 'none', '-j', '3', '--chunk-bytes', '50', '--target-cols', 'a,b', '--pred-cols', 'pa,pb', 'both-quoted.csv'],
      { cwd: dir });
    expect(r.code).toBe(0);
    const want = ['l1:pa,l1:pb'];
    for (let i = 0; i < N; i++) want.push(`${terms.l1!(preds.a[i]!, targets.a[i]!)},${terms.l1!(preds.b[i]!, targets.b[i]!)}`);
    expect(r.stdout).toBe(want.join('\n') + '\n');
  });
});
