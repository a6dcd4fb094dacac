/**
 * README promises with a user-level test each (test-audit.md, "promises with no user-level test"):
 * the --json fields, per-row output to stdout when a late chunk fails, rows dropped by --nan-policy
 * omit, the NaN and unused-option warnings, an internal error's stack trace and exit 1,
 * `--opt=value`, merges refused for another NaN policy or column selection, the state file's
 * numerator against an independent exact sum, the library through the package's own name, and the
 * default cutting of one large CSV into 2 MiB chunks (no chunking option). Values are checked against
 * independent exact sums (test/helpers/exact.ts), never against another losseval run.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { ROOT, SAMPLES, losseval, workdir, expectFailure } from '../helpers/cli.js';
import { exactScaledSum, roundRational } from '../helpers/exact.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
});
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return name;
};
/** The numbers of a CSV column (a fresh, independent parse: Number() is correctly rounded). */
const column = (path: string, j: number): number[] =>
  readFileSync(path, 'utf8').trimEnd().split('\n').slice(1).map((l) => Number(l.split(',')[j]));
/** The correctly rounded mean of exact terms, and their sum. */
const exactMean = (terms: number[]): number => roundRational(exactScaledSum(terms), BigInt(terms.length) << 1074n);
const exactSum = (terms: number[]): number => roundRational(exactScaledSum(terms), 1n << 1074n);

const FAULT_HOOKS = ['--import', pathToFileURL(join(ROOT, 'test', 'helpers', 'fault-hooks.mjs')).href];
const PREDS = join(SAMPLES, 'preds.csv'), TARGETS = join(SAMPLES, 'targets.csv');
/** l1 terms of the samples, element by element (row-major, two columns). */
function l1Terms(): number[] {
  const terms: number[] = [];
  const p = [column(PREDS, 0), column(PREDS, 1)], t = [column(TARGETS, 0), column(TARGETS, 1)];
  for (let i = 0; i < p[0]!.length; i++) for (let j = 0; j < 2; j++) terms.push(Math.abs(p[j]![i]! - t[j]![i]!));
  return terms;
}

describe('--json', () => {
  it('every field: reduction, rows, NaN counts, columns, each loss (torch name, params under PyTorch\'s names, value, elements, ignored rows), inputs', async () => {
    const r = await losseval(['-l', 'nll,ce', '--label-smoothing', '0.25', '--json', '--pred-cols', 'logit_*', '--target-cols', 'label', join('samples', 'classes.csv')], { cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('}\n')).toBe(true);
    const j = JSON.parse(r.stdout);
    const logits = Array.from({ length: 10 }, (_, k) => `logit_${k}`);
    expect(j).toEqual({
      reduction: 'mean', rows: 500, nan_values: 0, nan_policy: 'propagate', omitted_rows: 0,
      columns: { preds: logits, targets: ['label'] },
      losses: [
        { name: 'nll', torch: 'nll_loss', params: { weight: null, ignore_index: -100 }, value: expect.any(Number), elements: 500, ignored_rows: 10 },
        { name: 'cross_entropy', torch: 'cross_entropy', params: { weight: null, ignore_index: -100, label_smoothing: 0.25 }, value: expect.any(Number), elements: 500, ignored_rows: 10 },
      ],
      inputs: [{ file: 'samples/classes.csv', format: 'csv', gzip: false, bytes: readFileSync(join(SAMPLES, 'classes.csv')).length, blank_lines: 0 }],
    });
    // nll's value from the file itself: −x[label] over the rows whose label is not ignore_index, exactly
    const lines = readFileSync(join(SAMPLES, 'classes.csv'), 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const kept = lines.filter((f) => Number(f[11]) !== -100);
    expect(kept).toHaveLength(490);
    expect(j.losses[0].value).toBe(exactMean(kept.map((f) => -Number(f[1 + Number(f[11])]))));
  });
  it('a value that is not finite is a string ("nan", "inf"), the NaN count and policy are there', async () => {
    const args = ['-l', 'l1', '--json', '--target-cols', 't', '-'];
    const inf = await losseval(args, { stdin: 'p,t\n1,2\n4,inf\n' });
    expect(JSON.parse(inf.stdout).losses[0].value).toBe('inf');
    const nan = await losseval(args, { stdin: 'p,t\n1,2\nnan,3\n' });
    const j = JSON.parse(nan.stdout);
    expect([j.losses[0].value, j.nan_values, j.nan_policy, j.rows, j.inputs]).toEqual(['nan', 1, 'propagate', 2, [{ file: '<stdin>', format: 'csv', gzip: false, bytes: null, blank_lines: 0 }]]);
  });
  it('with -r none: the summary without values after the rows written to -o', async () => {
    const r = await losseval(['-l', 'l1', '-r', 'none', '--json', '-o', 'rows.csv', '--target-cols', 't', file('j.csv', 'p,t\n1,2\n5,3\n')], { cwd: dir });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.reduction).toBe('none');
    expect(j.losses).toEqual([{ name: 'l1', torch: 'l1_loss', params: {}, elements: 2, ignored_rows: 0 }]);
    expect(readFileSync(join(dir, 'rows.csv'), 'utf8')).toBe('l1\n1\n2\n');
  });
});

describe('per-row output (-r none) when a late chunk fails', () => {
  // 1000 rows, a bad value at row 900, chunks of 10: 89 chunks of rows are done before it
  const rows = Array.from({ length: 1000 }, (_, i) => `${i},${i === 899 ? 'oops' : i / 2}`);
  const args = ['-l', 'l1', '-r', 'none', '--chunk-rows', '10', '--target-cols', 't'];
  const message = 'losseval: error: late.csv: line 901, column "t": not a number: "oops"\n';
  it('to stdout: nothing printed, exit 1, no spool left', async () => {
    file('late.csv', ['p,t', ...rows].join('\n') + '\n');
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const r = await losseval([...args, 'late.csv'], { cwd: dir, env: { TMPDIR: tmp } });
    expect([r.stdout, r.stderr, r.code]).toEqual(['', message, 1]);
    expect(readdirSync(tmp)).toEqual([]);
  });
  it('to -o: no file, no temporary file', async () => {
    const sub = mkdtempSync(join(dir, 'out-'));
    const r = await losseval([...args, '-o', join(sub, 'late-rows.csv'), 'late.csv'], { cwd: dir });
    expect([r.stdout, r.stderr, r.code]).toEqual(['', message, 1]);
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('NaN handling and warnings', () => {
  it('--nan-policy omit drops the rows holding NaN from -r none, counts them, and warns', async () => {
    const r = await losseval(['-l', 'l1', '--nan-policy', 'omit', '-r', 'none', '--target-cols', 't', '-'], { stdin: 'p,t\n1,2\nnan,3\n4,inf\n7,nan\n10,4\n' });
    expect(r.stdout).toBe('l1\n1\ninf\n6\n');
    expect(r.stderr).toBe('losseval: warning: omitted 2 rows holding 2 NaN values\n');
    expect(r.code).toBe(0);
    const m = await losseval(['-l', 'l1', '--nan-policy', 'omit', '--json', '--target-cols', 't', '-'], { stdin: 'p,t\n1,2\nnan,3\n10,4\n' });
    expect(JSON.parse(m.stdout)).toMatchObject({ rows: 2, nan_values: 1, omitted_rows: 1, losses: [{ value: 3.5, elements: 2 }] });
  });
  it('propagate: the result is nan and the warning says how many NaN values', async () => {
    const r = await losseval(['-l', 'l1', '--target-cols', 't', '-'], { stdin: 'p,t\n1,2\nnan,3\n4,nan\n' });
    expect(r.stdout).toBe('nan\n');
    expect(r.stderr).toBe('losseval: warning: 2 NaN values in the input; rows holding them give nan, as in PyTorch\n');
    expect(r.code).toBe(0);
  });
  it('an option no chosen loss uses is a warning, and the result is unchanged', async () => {
    const r = await losseval(['-l', 'l1', '--beta', '2', PREDS, TARGETS]);
    expect(r.stdout).toBe(`${exactMean(l1Terms())}\n`);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^losseval: warning: .*--beta/);
    expect(r.code).toBe(0);
  });
});

describe('the command line', () => {
  it('--opt=value is the same as --opt value', async () => {
    const both = join(SAMPLES, 'both.csv');
    const a = await losseval(['--loss=huber,l1', '--delta=0.5', '--target-cols=price,demand', both]);
    const b = await losseval(['--loss', 'huber,l1', '--delta', '0.5', '--target-cols', 'price,demand', both]);
    expect(a.code).toBe(0);
    expect(a).toEqual(b);
    expect(a.stdout).toMatch(/^huber\t[\d.e-]+\nl1\t0\.4815543995\n$/);
  });
  it('an internal error (a bug) prints its stack trace and exits 1', async () => {
    // test/helpers/fault-hooks.mjs with `bug`: the main thread's formatResult throws a TypeError
    const p = spawnSync(process.execPath, [...FAULT_HOOKS, join(ROOT, 'bin', 'losseval.js'), '-l', 'l1', PREDS, TARGETS],
      { env: { ...process.env, LOSSEVAL_FAULT: 'bug' }, encoding: 'utf8' });
    expect(p.stdout).toBe('');
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/^losseval: internal error \(please report\): TypeError: injected internal error\n\s+at formatResult \(.*fault-result\.mjs:\d+:\d+\)\n\s+at \w+ \(.*dist\/cli\/\w+\.js:\d+:\d+\)/);
  });
});

describe('sharded runs', () => {
  it('merge refuses states of another NaN policy or column selection (exit 2, naming the difference)', async () => {
    const base = ['-l', 'l1', PREDS, TARGETS];
    for (const [name, extra] of [['a', []], ['omit', ['--nan-policy', 'omit']], ['cols', ['--pred-cols', 'price', '--target-cols', 'price']]] as const) {
      const r = await losseval([...base, ...extra, '--state-out', `${name}.json`], { cwd: dir });
      expect(r.code).toBe(0);
    }
    await expectFailure(['merge', 'a.json', 'omit.json'], 2, /^losseval: error: cannot merge: nan policy differs: propagate in a\.json, omit in omit\.json$/, { cwd: dir });
    await expectFailure(['merge', 'a.json', 'cols.json'], 2, /^losseval: error: cannot merge: preds columns differ: \[price,demand\] in a\.json, \[price\] in cols\.json$/, { cwd: dir });
  });
  it('the state file\'s numerator is the exact sum of the terms × 2^1074, its denominator the element count', async () => {
    const r = await losseval(['-l', 'l1', '--state-out', 'l1.json', PREDS, TARGETS], { cwd: dir });
    const terms = l1Terms();
    expect(r.stdout).toBe(`${exactMean(terms)}\n`);
    const s = JSON.parse(readFileSync(join(dir, 'l1.json'), 'utf8'));
    const hex = (h: string): bigint => (h.startsWith('-') ? -BigInt(`0x${h.slice(1)}`) : BigInt(`0x${h}`));
    expect(hex(s.losses[0].numerator.sum)).toBe(exactScaledSum(terms));
    expect(hex(s.losses[0].denominator.sum)).toBe(BigInt(terms.length) << 1074n);
    expect([s.rows, s.losses[0].elements, s.provenance]).toEqual([1000, 2000, [{
      inputs: [
        { file: PREDS, format: 'csv', gzip: false, bytes: readFileSync(PREDS).length, blank_lines: 0 },
        { file: TARGETS, format: 'csv', gzip: false, bytes: readFileSync(TARGETS).length, blank_lines: 0 },
      ],
      rows: 1000,
    }]]);
  });
});

describe('the library, through the package\'s own name', () => {
  it("import('losseval') resolves to the package export and merges state files", async () => {
    const state = join(dir, 'lib.json');
    expect((await losseval(['-l', 'l1,mse', '--state-out', state, PREDS, TARGETS])).code).toBe(0);
    const script = `
      const m = await import('losseval');
      const s = await m.readStateFile(${JSON.stringify(state)});
      const merged = m.mergeStates([s], ['lib.json']);
      process.stdout.write(JSON.stringify({ url: import.meta.resolve('losseval'), values: m.stateValues(merged), text: m.formatResult(merged, false) }));`;
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(p.stderr).toBe('');
    const out = JSON.parse(p.stdout);
    expect(out.url).toBe(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
    const terms = l1Terms();
    expect(out.values.l1).toBe(exactMean(terms));
    expect(out.text).toBe(`l1\t${exactMean(terms)}\nmse\t${out.values.mse}\n`);
  });
});

describe('one CSV larger than a chunk, with no chunking option (2 MiB chunks by size)', () => {
  // ~4.4 MB: three chunks of 2 MiB on the default path
  const N = 200_000;
  const p = Array.from({ length: N }, (_, i) => ((i * 7919) % 100_003) / 64 - 700);
  const t = Array.from({ length: N }, (_, i) => ((i * 104_729) % 99_991) / 128);
  it('the exact mean and sum (independent reference), cut into several chunks: in-process by default (under 32 MiB), by the workers with --chunk-bytes', async () => {
    const text = 'p,t\n' + p.map((x, i) => `${x},${t[i]}`).join('\n') + '\n';
    expect(text.length).toBeGreaterThan(2 * 2 ** 21);
    file('large.csv', text);
    const l1 = p.map((x, i) => Math.abs(x - t[i]!));
    const r = await losseval(['-l', 'l1,mse', '-j', '3', '--target-cols', 't', 'large.csv'], { cwd: dir });
    expect([r.stdout, r.stderr, r.code]).toEqual([`l1\t${exactMean(l1)}\nmse\t${exactMean(p.map((x, i) => (x - t[i]!) * (x - t[i]!)))}\n`, '', 0]);
    // the same through the test worker (fault-hooks.mjs, no fault), which marks each chunk it runs
    const marks = mkdtempSync(join(dir, 'marks-'));
    const s = spawnSync(process.execPath, [...FAULT_HOOKS, join(ROOT, 'bin', 'losseval.js'), '-l', 'l1', '-r', 'sum', '-j', '1', '--chunk-bytes', String(2 ** 21), '--target-cols', 't', 'large.csv'],
      { cwd: dir, env: { ...process.env, LOSSEVAL_FAULT: '', LOSSEVAL_FAULT_DIR: marks }, encoding: 'utf8' });
    expect([s.stdout, s.stderr, s.status]).toEqual([`${exactSum(l1)}\n`, '', 0]);
    expect(readdirSync(marks).sort()).toEqual(['ran-0', 'ran-1', 'ran-2']);
  });
  it('a bad value in the last chunk is named by its line', async () => {
    const lines = ['p,t', ...p.map((x, i) => `${x},${i === N - 5 ? '1.2.3' : t[i]}`)];
    file('large-bad.csv', lines.join('\n') + '\n');
    await expectFailure(['-l', 'l1', '--target-cols', 't', 'large-bad.csv'], 1,
      new RegExp(`^losseval: error: large-bad\\.csv: line ${N - 5 + 2}, column "t": not a number: "1\\.2\\.3"$`), { cwd: dir });
  });
});
