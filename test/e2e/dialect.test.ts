/** CSV dialects a user meets: no header with 0-based indices, other delimiters, CRLF, BOM, quotes, tokens. */
import { describe, expect, it, beforeAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { losseval, workdir, expectFailure } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
  writeFileSync(join(dir, 'plain.csv'), 'p,y\n1.5,1\n-2,1\n3.25,3\n0,-0.5\n');
});

async function value(args: string[]): Promise<string> {
  const r = await losseval(args, { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('the same four rows in every dialect give l1 mean 1.0625 (losses.md §5)', () => {
  const cases: [string, string, string[]][] = [
    ['header', 'p,y\n1.5,1\n-2,1\n3.25,3\n0,-0.5\n', ['--target-cols', 'y']],
    ['no header, indices', '1.5,1\n-2,1\n3.25,3\n0,-0.5\n', ['--no-header', '--target-cols', '1', '--pred-cols', '0']],
    ['semicolons', 'p;y\n1.5;1\n-2;1\n3.25;3\n0;-0.5\n', ['--delimiter', ';', '--target-cols', 'y']],
    ['tabs via \\t', 'p\ty\n1.5\t1\n-2\t1\n3.25\t3\n0\t-0.5\n', ['--delimiter', '\\t', '--target-cols', 'y']],
    ['CRLF and a BOM, no final newline', '\ufeffp,y\r\n1.5,1\r\n-2,1\r\n3.25,3\r\n0,-0.5', ['--target-cols', 'y']],
    ['quoted fields and header', '"p","y"\n"1.5",1\n-2,"1"\n3.25,3\n"0",-0.5\n', ['--target-cols', 'y']],
    ['spaces, signs, exponents, .5 and 5.', 'p, y\n +1.5 ,1.\n-2e0, 1\n325e-2,3\n-0,-.5\n', ['--target-cols', 'y']],
    ['an unselected text column', 'id,p,y\n"a, b",1.5,1\nc,-2,1\nd,3.25,3\n"e\nf",0,-0.5\n', ['--pred-cols', 'p', '--target-cols', 'y']],
    ['a blank line at the end (echo >>)', 'p,y\n1.5,1\n-2,1\n3.25,3\n0,-0.5\n\n', ['--target-cols', 'y']],
    ['blank lines anywhere, CRLF ones too', 'p,y\n\n1.5,1\r\n\r\n-2,1\n\n\n3.25,3\n0,-0.5\n\r\n', ['--target-cols', 'y']],
    ['no header, blank first lines', '\n\n1.5,1\n-2,1\n\n3.25,3\n0,-0.5\n', ['--no-header', '--target-cols', '1', '--pred-cols', '0']],
  ];
  for (const [label, text, args] of cases) {
    it(label, async () => {
      const f = join(dir, `${label.replace(/\W+/g, '_')}.csv`);
      writeFileSync(f, text);
      expect(await value(['-l', 'l1', ...args, f])).toBe('1.0625\n');
    });
  }
  it('a .tsv file is tab-separated by default', async () => {
    writeFileSync(join(dir, 'x.tsv'), 'p\ty\n1.5\t1\n-2\t1\n3.25\t3\n0\t-0.5\n');
    expect(await value(['-l', 'l1', '--target-cols', 'y', 'x.tsv'])).toBe('1.0625\n');
  });
});

describe('tokens', () => {
  it('nan, NaN, NAN and empty are NaN; inf spellings are infinities', async () => {
    writeFileSync(join(dir, 'tok.csv'), 'p,y\nnan,1\nNaN,1\nNAN,1\n,1\n');
    expect(await losseval(['-l', 'l1', '--nan-policy', 'omit', '--target-cols', 'y', 'tok.csv'], { cwd: dir }))
      .toMatchObject({ stdout: 'nan\n', code: 0 });
    writeFileSync(join(dir, 'inf.csv'), 'p,y\ninf,1\n+Infinity,2\nINF,3\n-inf,-inf\n');
    expect(await value(['-l', 'l1', '-r', 'none', '--target-cols', 'y', 'inf.csv'])).toBe('l1\ninf\ninf\ninf\nnan\n');
  });
  it('with --nan-policy omit every row gone: mean nan, sum 0, a warning', async () => {
    const r = await losseval(['-l', 'l1', '-r', 'sum', '--nan-policy', 'omit', '--target-cols', 'y', 'tok.csv'], { cwd: dir });
    expect(r).toMatchObject({ stdout: '0\n', code: 0 });
    expect(r.stderr).toBe('losseval: warning: omitted 4 rows holding 4 NaN values\n');
  });
  it('an empty file and a header-only file: mean nan, sum 0', async () => {
    writeFileSync(join(dir, 'empty.csv'), '');
    writeFileSync(join(dir, 'head.csv'), 'p,y\n');
    expect(await value(['-l', 'l1', '--target-cols', 'y', 'head.csv'])).toBe('nan\n');
    expect(await value(['-l', 'l1', '-r', 'sum', '--target-cols', 'y', 'head.csv'])).toBe('0\n');
    await expectFailure(['-l', 'l1', '--target-cols', 'y', 'empty.csv'], 1, /empty\.csv: empty file: no header row/, { cwd: dir });
  });
  it('a bad delimiter is a usage error', () =>
    expectFailure(['-l', 'l1', '--delimiter', '::', 'plain.csv', 'plain.csv'], 2, /^losseval: error: --delimiter must be one ASCII character other than a quote, a newline, a digit, '\+', '-', '\.', 'e' or 'E' \(or \\t\) \(got '::'\)$/, { cwd: dir }));
});

describe('blank lines', () => {
  const text = 'p,y\n\n1.5,1\n-2,1\n\n\n3.25,3\n\r\n0,-0.5\n\n';
  const run = (args: string[], stdin?: string | Buffer) => losseval(args, { cwd: dir, ...(stdin !== undefined ? { stdin } : {}) });
  it('two or more columns: skipped in every cutting mode, file, gzip and stdin; --json counts them per input', async () => {
    writeFileSync(join(dir, 'blank.csv'), text);
    writeFileSync(join(dir, 'blank.csv.gz'), gzipSync(text));
    for (const [input, stdin] of [['blank.csv'], ['blank.csv.gz'], ['-', text], ['-', gzipSync(text)]] as const) {
      for (const cut of [[], ['--chunk-rows', '1'], ['--chunk-rows', '3']]) {
        const r = await run(['-l', 'l1', '--json', ...cut, '--target-cols', 'y', input], stdin);
        expect(r.code).toBe(0);
        const j = JSON.parse(r.stdout) as { rows: number; losses: { value: number }[]; inputs: { blank_lines: number }[] };
        expect([j.rows, j.losses[0]!.value, j.inputs[0]!.blank_lines]).toEqual([4, 1.0625, 5]);
      }
    }
  });
  it('two files, each with its own blank lines, pair row for row', async () => {
    writeFileSync(join(dir, 'bp.csv'), 'p\n1.5\n-2\n3.25\n0\n');
    writeFileSync(join(dir, 'by.csv'), 'a,y\n0,1\n\n0,1\n0,3\n\n0,-0.5\n\n\n');
    for (const cut of [[], ['--chunk-rows', '1'], ['--chunk-rows', '2']]) {
      const r = await run(['-l', 'l1', '--json', ...cut, '--target-cols', 'y', 'bp.csv', 'by.csv']);
      const j = JSON.parse(r.stdout) as { rows: number; losses: { value: number }[]; inputs: { blank_lines: number }[] };
      expect([r.code, j.rows, j.losses[0]!.value, j.inputs.map((i) => i.blank_lines)]).toEqual([0, 4, 1.0625, [0, 4]]);
    }
  });
  it('a file of blank lines only pairs with an empty file: 0 rows', async () => {
    writeFileSync(join(dir, 'blanks-only.csv'), 'a,b\n\n\r\n');
    writeFileSync(join(dir, 'empty-t.csv'), 'y\n');
    for (const files of [['blanks-only.csv', 'empty-t.csv'], ['empty-t.csv', 'blanks-only.csv']]) {
      const r = await run(['-l', 'l1', '-r', 'sum', '--pred-cols', files[0] === 'empty-t.csv' ? 'y' : 'a', '--target-cols', files[0] === 'empty-t.csv' ? 'a' : 'y', ...files]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '0\n', '']);
    }
  });
  it('one column: an empty line is a missing value (NaN), as pandas writes one', async () => {
    writeFileSync(join(dir, 'one.csv'), 'p\n1\n\n3\n');
    writeFileSync(join(dir, 'one-t.csv'), 'y\n0\n0\n0\n');
    const r = await run(['-l', 'l1', '-r', 'none', 'one.csv', 'one-t.csv']);
    expect([r.code, r.stdout]).toEqual([0, 'l1\n1\nnan\n3\n']);
  });
  it('errors after blank lines name the physical line, in every cutting mode', async () => {
    writeFileSync(join(dir, 'blank-bad.csv'), 'p,y\n\n1,2\n\n\r\n3,x\n');
    for (const cut of [[], ['--chunk-rows', '1']]) {
      await expectFailure(['-l', 'l1', ...cut, '--target-cols', 'y', 'blank-bad.csv'], 1,
        /^losseval: error: blank-bad\.csv: line 6, column "y": not a number: "x"$/, { cwd: dir });
    }
  });
});
