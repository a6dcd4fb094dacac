/**
 * kl_div, poisson_nll, gaussian_nll, soft_margin, multilabel_soft_margin,
 * hinge_embedding, multi_margin, margin_ranking and cosine_embedding end to
 * end: bit-identical across workers, chunk sizes, CSV/Arrow and stdin, in
 * several-loss runs, per-row output and state files; and their errors.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { losseval, workdir, expectFailure } from '../helpers/cli.js';
import { mulberry32 as rng } from '../helpers/rng.js';

let dir: string;
const N = 157;


beforeAll(() => {
  dir = workdir();
  const r = rng(11);
  const cols: Record<string, Float64Array> = {};
  const col = (name: string, f: (i: number) => number): void => {
    cols[name] = Float64Array.from({ length: N }, (_, i) => f(i));
  };
  col('q1', () => Math.log(0.05 + r()));
  col('q2', () => Math.log(0.05 + r()));
  col('p1', () => (r() < 0.1 ? 0 : r()));
  col('p2', () => r());
  col('s1', () => (r() < 0.5 ? -1 : 1));
  col('s2', () => (r() < 0.5 ? -1 : 1));
  col('v', () => (r() < 0.05 ? 0 : r() * 2));
  col('v2', () => r() * 3);
  for (const k of ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'l0', 'l1', 'l2', 'l3']) col(k, () => (r() - 0.5) * 6);
  col('cls', () => Math.floor(r() * 4));
  col('y', () => (r() < 0.1 ? 0 : r() < 0.5 ? -1 : 1));
  const names = Object.keys(cols);
  let text = names.join(',') + '\n';
  for (let i = 0; i < N; i++) text += names.map((n) => String(cols[n]![i])).join(',') + '\n';
  writeFileSync(join(dir, 'data.csv'), text);
  writeFileSync(join(dir, 'data.arrow'), tableToIPC(tableFromArrays(cols), 'file'));
});

const GROUPS: [string, string[]][] = [
  ['kl_div, poisson_nll, soft_margin, hinge_embedding', ['-l', 'kl_div,poisson_nll,soft_margin,hinge_embedding', '--pred-cols', 'q1,q2', '--target-cols', 'p1,p2', '--margin', '0.7']],
  ['kl_div --log-target batchmean', ['-l', 'kl_div', '--log-target', '-r', 'batchmean', '--pred-cols', 'q1,q2', '--target-cols', 'a1,a2']],
  ['poisson_nll --no-log-input --full', ['-l', 'poisson_nll', '--no-log-input', '--full', '--pred-cols', 'v,v2', '--target-cols', 'p1,v2']],
  ['gaussian_nll per row, --full', ['-l', 'gaussian_nll', '--full', '--pred-cols', 'a1,a2', '--var-cols', 'v', '--target-cols', 'b1,b2']],
  ['gaussian_nll per element', ['-l', 'gaussian_nll', '--eps', '1e-3', '--pred-cols', 'a1,a2', '--var-cols', 'v,v2', '--target-cols', 'b1,b2']],
  ['multilabel_soft_margin with weights', ['-l', 'multilabel_soft_margin', '--weight', '1,2', '--pred-cols', 'a1,a2', '--target-cols', 'p1,p2']],
  ['multi_margin p=2 with weights', ['-l', 'multi_margin', '--p', '2', '--margin', '0.5', '--weight', '1,2,3,4', '--pred-cols', 'l0,l1,l2,l3', '--target-cols', 'cls']],
  ['margin_ranking and cosine_embedding', ['-l', 'margin_ranking', '--pred-cols', 'a1', '--pred2-cols', 'b1', '--target-cols', 'y', '--margin', '0.2']],
  ['cosine_embedding', ['-l', 'cosine_embedding', '--pred-cols', 'a1,a2,a3', '--pred2-cols', 'b1,b2,b3', '--target-cols', 'y', '--margin', '-0.1']],
];

async function ok(args: string[], stdin?: Buffer): Promise<string> {
  const r = await losseval(args, { cwd: dir, ...(stdin ? { stdin } : {}) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe.each(GROUPS)('%s', (_label, args) => {
  let base: string;
  beforeAll(async () => {
    base = await ok([...args, '-j', '1', 'data.csv']);
    expect(base).toMatch(/^(\S+\t)?-?[\d.e+-]+\n/);
  });
  it('is identical with -j 3 --chunk-rows 7, from Arrow, and on stdin', async () => {
    expect(await ok([...args, '-j', '3', '--chunk-rows', '7', 'data.csv'])).toBe(base);
    expect(await ok([...args, '-j', '2', '--chunk-rows', '1', 'data.arrow'])).toBe(base);
    expect(await ok([...args, '-'], readFileSync(join(dir, 'data.arrow')))).toBe(base);
  });
  it('per-row output is identical across layouts, and a state file merges back to the same result', async () => {
    const perRow = args.includes('batchmean') ? args.map((a) => (a === 'batchmean' ? 'none' : a)) : [...args, '-r', 'none'];
    expect(await ok([...perRow, '-j', '3', '--chunk-rows', '5', 'data.arrow'])).toBe(await ok([...perRow, '-j', '1', 'data.csv']));
    const state = join(dir, `state-${Math.random().toString(36).slice(2)}.json`);
    await ok([...args, '--state-out', state, 'data.csv']);
    expect(await ok(['merge', state])).toBe(base);
  });
});

describe('errors of the other losses', () => {
  const fails = (args: string[], code: 1 | 2, message: RegExp, file = 'data.csv'): Promise<void> =>
    expectFailure([...args, file], code, message, { cwd: dir });
  it('gaussian_nll without --var-cols', () => fails(['-l', 'gaussian_nll', '--pred-cols', 'a1', '--target-cols', 'b1'], 2, /gaussian_nll needs --var-cols/));
  it('a negative variance names file, line, column and value', async () => {
    writeFileSync(join(dir, 'negvar.csv'), 'mu,var,y\n1,0.5,1\n2,-0.25,1\n');
    await fails(['-l', 'gaussian_nll', '--pred-cols', 'mu', '--var-cols', 'var', '--target-cols', 'y'], 1, /negvar\.csv: line 3, column "var": .*negative.*: "-0\.25"/, 'negvar.csv');
  });
  it('variances of the wrong width', () =>
    fails(['-l', 'gaussian_nll', '--pred-cols', 'a1,a2,a3', '--var-cols', 'v,v2', '--target-cols', 'b1,b2,b3'], 1, /variances need 1 value per row or 3.*got 2/));
  it('margin_ranking without --pred2-cols', () => fails(['-l', 'margin_ranking', '--pred-cols', 'a1', '--target-cols', 'y'], 2, /margin_ranking needs --pred2-cols/));
  it('--pred2-cols for a loss that does not read it', () =>
    fails(['-l', 'mse', '--pred-cols', 'a1', '--pred2-cols', 'b1', '--target-cols', 'y'], 2, /--pred2-cols is read by margin_ranking, cosine_embedding only/));
  it('cosine_embedding with blocks of different widths', () =>
    fails(['-l', 'cosine_embedding', '--pred-cols', 'a1,a2', '--pred2-cols', 'b1', '--target-cols', 'y'], 1, /x1 has 2 values per row but x2 has 1/));
  it('multi_margin: p other than 1 or 2, and a weight of the wrong length', async () => {
    await fails(['-l', 'multi_margin', '--p', '3', '--pred-cols', 'l*', '--target-cols', 'cls'], 2, /^losseval: error: --p must be 1 or 2 \(got '3'\)$/);
    await fails(['-l', 'multi_margin', '--weight', '1,2', '--pred-cols', 'l*', '--target-cols', 'cls'], 2, /--weight has 2 values but there are 4 classes/);
  });
  it('batchmean with another loss', () =>
    fails(['-l', 'kl_div,mse', '-r', 'batchmean', '--pred-cols', 'q1', '--target-cols', 'p1'], 2, /--reduction batchmean is kl_div's; not for mse/));
});
