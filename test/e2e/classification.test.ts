/**
 * Classification losses end to end: the shipped 10-class and multi-label
 * samples through CSV columns, an Arrow FixedSizeList column and stdin, across
 * workers and chunk sizes (bit-identical), plus every error a user is likely
 * to meet.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { losseval, workdir, SAMPLES, expectFailure } from '../helpers/cli.js';

const S = (f: string): string => join(SAMPLES, f);
let dir: string;

beforeAll(() => {
  dir = workdir();
});

async function ok(args: string[], stdin?: Buffer): Promise<string> {
  const r = await losseval(args, stdin ? { stdin } : {});
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('cross_entropy and nll: CSV logit columns = Arrow FixedSizeList = stdin, any layout', () => {
  const opts = ['-l', 'cross_entropy,nll', '--weight', '1,1,1,1,1,2,2,2,2,2', '--label-smoothing', '0.1'];
  const csv = [...opts, '--pred-cols', 'logit_*', '--target-cols', 'label'];
  const arrow = [...opts, '--pred-cols', 'logits', '--target-cols', 'label'];
  let expected: string;
  beforeAll(async () => {
    expected = await ok([...csv, '-j', '1', S('classes.csv')]);
    expect(expected).toMatch(/^cross_entropy\t1\.13367563217589\d*\nnll\t-2\.46883439261285\d*\n$/);
  });
  for (const [label, args, stdin] of [
    ['csv -j 3 --chunk-rows 7', [...csv, '-j', '3', '--chunk-rows', '7', S('classes.csv')]],
    ['csv -j 2 --chunk-rows 1', [...csv, '-j', '2', '--chunk-rows', '1', S('classes.csv')]],
    ['arrow -j 1', [...arrow, '-j', '1', S('classes.arrow')]],
    ['arrow -j 3 --chunk-rows 7', [...arrow, '-j', '3', '--chunk-rows', '7', S('classes.arrow')]],
    ['arrow on stdin', [...arrow, '-'], 'classes.arrow'],
    ['csv on stdin', [...csv, '--chunk-rows', '13', '-'], 'classes.csv'],
  ] as const) {
    it(label, async () => {
      const out = await ok([...args], stdin ? readFileSync(S(stdin)) : undefined);
      expect(out).toBe(expected);
    });
  }
  it('sum and per-row output agree across layouts', async () => {
    const a = await ok([...csv, '-r', 'none', '-j', '1', S('classes.csv')]);
    const b = await ok([...arrow, '-r', 'none', '-j', '3', '--chunk-rows', '7', S('classes.arrow')]);
    expect(a).toBe(b);
    const lines = a.trimEnd().split('\n');
    expect(lines[0]).toBe('cross_entropy,nll');
    expect(lines).toHaveLength(501);
    // ignored rows (label -100) give 0, as PyTorch
    const labels = readFileSync(S('classes.csv'), 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(',').at(-1));
    labels.forEach((y, i) => {
      if (y === '-100') expect(lines[i + 1]).toBe('0,0');
    });
  });
});

describe('cross_entropy: a List<Float32> logits column beside its class column, each its own matrix', () => {
  // each role is one Arrow slice of its own width: the worker converts each into its own matrix
  // (no copy out of a wide row); the same numbers as a CSV, nulls as empty fields (NaN)
  const rows = 23, C = 3;
  const logits: (number | null)[][] = [], labels: number[] = [];
  for (let r = 0; r < rows; r++) {
    logits.push(Array.from({ length: C }, (_, k) => (r === 5 && k === 1 ? null : Math.fround(Math.sin(r * 7 + k) * 4))));
    labels.push(r === 9 ? -100 : r % C);
  }
  const csvText = ['l0,l1,l2,y', ...logits.map((l, r) => `${l.map((v) => (v === null ? '' : String(v))).join(',')},${labels[r]}`)].join('\n') + '\n';
  const write = async (name: string, ls: (number | null)[][]): Promise<string> => {
    const { Field, Float32, Int32, List, Table, vectorFromArray, tableToIPC } = await import('apache-arrow');
    const t = new Table({
      logits: vectorFromArray(ls, new List(new Field('item', new Float32(), true))),
      y: vectorFromArray(labels, new Int32()),
    });
    const f = join(dir, name);
    writeFileSync(f, tableToIPC(t, 'file'));
    return f;
  };
  it('gives the CSV\'s bits across workers and chunk sizes (--nan-policy omit drops the row with a null)', async () => {
    const arrow = await write('list-logits.arrow', logits);
    writeFileSync(join(dir, 'list-logits.csv'), csvText);
    const base = ['-l', 'cross_entropy,nll', '--nan-policy', 'omit', '--label-smoothing', '0.05'];
    const run = async (args: string[]): Promise<string> => {
      const r = await losseval(args);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^losseval: warning: omitted 1 rows holding 1 NaN value/);
      return r.stdout;
    };
    const want = await run([...base, '--pred-cols', 'l*', '--target-cols', 'y', join(dir, 'list-logits.csv')]);
    expect(want).toMatch(/^cross_entropy\t\d\.\d+\nnll\t-?\d\.\d+\n$/);
    for (const extra of [['-j', '1'], ['-j', '2', '--chunk-rows', '4'], ['-j', '3', '--chunk-rows', '1']]) {
      expect(await run([...base, ...extra, '--pred-cols', 'logits', '--target-cols', 'y', arrow])).toBe(want);
    }
  });
  it('a list of the wrong length names the file, row and column', async () => {
    const bad = logits.map((l, r) => (r === 17 ? l.slice(0, 2) : l));
    const arrow = await write('list-short.arrow', bad);
    for (const extra of [['-j', '1'], ['-j', '2', '--chunk-rows', '4']]) {
      await expectFailure(['-l', 'cross_entropy', ...extra, '--pred-cols', 'logits', '--target-cols', 'y', arrow], 1,
        /list-short\.arrow: row 18, column "logits": list has 2 values, expected 3 \(row 1 has 3\): every row of a List column must have the same length$/);
    }
  });
});

describe('bce family: weights per column, per row and element-wise', () => {
  const files = [S('multilabel-probs.csv'), S('multilabel-targets.csv')];
  it('per-column --weight = element-wise weight columns holding the same values', async () => {
    const w = [1, 2, 1, 1, 3];
    const n = readFileSync(files[0]!, 'utf8').trimEnd().split('\n').length - 1;
    const lines = ['w_0,w_1,w_2,w_3,w_4', ...Array.from({ length: n }, () => w.join(','))];
    writeFileSync(join(dir, 'w5.csv'), lines.join('\n') + '\n');
    const byList = await ok(['-l', 'bce,bce_with_logits', '--weight', w.join(','), ...files]);
    const byFile = await ok(['-l', 'bce,bce_with_logits', '--weight-file', join(dir, 'w5.csv'), '-j', '3', '--chunk-rows', '7', ...files]);
    expect(byFile).toBe(byList);
  });
  it('per-row weights: --weight-file with one column = --weight-cols in a one-file layout', async () => {
    const probs = readFileSync(files[0]!, 'utf8').trimEnd().split('\n');
    const ys = readFileSync(files[1]!, 'utf8').trimEnd().split('\n');
    const rowW = probs.slice(1).map((_, i) => (i % 3) + 0.5);
    writeFileSync(join(dir, 'wrow.csv'), ['w', ...rowW].join('\n') + '\n');
    writeFileSync(join(dir, 'one.csv'), [probs[0] + ',' + ys[0] + ',w', ...probs.slice(1).map((p, i) => `${p},${ys[i + 1]},${rowW[i]}`)].join('\n') + '\n');
    const a = await ok(['-l', 'bce', '--weight-file', join(dir, 'wrow.csv'), ...files]);
    const b = await ok(['-l', 'bce', '--pred-cols', 'p_*', '--target-cols', 'y_*', '--weight-cols', 'w', '-j', '2', '--chunk-rows', '5', join(dir, 'one.csv')]);
    expect(b).toBe(a);
    const c = await ok(['-l', 'bce', ...files]);
    expect(c).not.toBe(a);
  });
});

describe('classification errors', () => {
  const fails = (args: string[], code: 1 | 2, message: RegExp): Promise<void> => expectFailure(args, code, message, { cwd: dir });
  beforeAll(() => {
    writeFileSync(join(dir, 'cls.csv'), 'a,b,c,y\n1,2,3,0\n1,2,3,3\n');
    writeFileSync(join(dir, 'cls-frac.csv'), 'a,b,c,y\n1,2,3,0\n1,2,3,1.5\n');
    writeFileSync(join(dir, 'p.csv'), 'p,q\n0.5,0.2\n1.5,0.1\n');
    writeFileSync(join(dir, 't.csv'), 'p,q\n1,0\n0,1\n');
    writeFileSync(join(dir, 't3.csv'), 'p,q,r\n1,0,1\n0,1,1\n');
  });
  it('class index out of range names file, line, column and value', () =>
    fails(['-l', 'ce', '--target-cols', 'y', 'cls.csv'], 1, /cls\.csv: line 3, column "y": class index out of range \[0, 3\): "3"/));
  it('non-integer class index', () =>
    fails(['-l', 'nll', '--target-cols', 'y', 'cls-frac.csv'], 1, /cls-frac\.csv: line 3, column "y": class index is not an integer: "1\.5"/));
  it('bce input outside [0, 1]', () =>
    fails(['-l', 'bce', 'p.csv', 't.csv'], 1, /p\.csv: line 3, column "p": input \(a probability\) should be between 0 and 1: "1\.5"/));
  it('--weight of the wrong length is a usage error naming both numbers', () =>
    fails(['-l', 'ce', '--weight', '1,2', '--target-cols', 'y', 'cls.csv'], 2, /--weight has 2 values but there are 3 classes/));
  it('--pos-weight of the wrong length', () =>
    fails(['-l', 'bce_with_logits', '--pos-weight', '1,2,3', 't.csv', 't.csv'], 2, /--pos-weight has 3 values but there are 2 prediction columns/));
  it('wrong column count for element-wise targets', () =>
    fails(['-l', 'bce', 't.csv', 't3.csv'], 1, /binary_cross_entropy: 2 prediction values per row but 3 target values/));
  it('wrong column count for class targets', () =>
    fails(['-l', 'nll', 't.csv', 't3.csv'], 1, /nll: 2 prediction values per row need one class index as target, got 3/));
  it('label smoothing out of range', () =>
    fails(['-l', 'ce', '--label-smoothing', '1.5', '--target-cols', 'y', 'cls.csv'], 2, /--label-smoothing must be between 0\.0 and 1\.0 \(got '1\.5'\)$/));
  it('--weight-cols with a loss that does not read weight columns', () =>
    fails(['-l', 'ce', '--target-cols', 'y', '--weight-cols', 'a', 'cls.csv'], 2, /--weight-cols \/ --weight-file are read by binary_cross_entropy, binary_cross_entropy_with_logits, multilabel_soft_margin only/));
  it('--weight with --weight-cols', () =>
    fails(['-l', 'bce', '--weight', '1,1', '--weight-cols', 'p', 't.csv', 't.csv'], 2, /--weight cannot be combined with --weight-cols/));
  it('--weight @file that does not exist', () =>
    fails(['-l', 'ce', '--weight', '@nope.txt', '--target-cols', 'y', 'cls.csv'], 2, /cannot read nope\.txt/));
});
