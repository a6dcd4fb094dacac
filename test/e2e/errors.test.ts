/**
 * Errors are part of the contract: one `losseval: error:` line naming the
 * file, line, column and value; exit 1 for data, 2 for usage; nothing on stdout.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { expectFailure, losseval, workdir, SAMPLES, ROOT } from '../helpers/cli.js';
import { reference } from '../helpers/reference.js';

let dir: string;
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = workdir();
});

function expectError(args: string[], code: 1 | 2, message: RegExp, stdin?: string): Promise<void> {
  return expectFailure(args, code, message, { cwd: dir, ...(stdin !== undefined ? { stdin } : {}) });
}

describe('usage errors exit 2', () => {
  it('unknown loss lists the valid names', async () => {
    file('p.csv', 'p\n1\n');
    await expectError(['-l', 'smoothl2', 'p.csv', 'p.csv'], 2, /unknown loss 'smoothl2' \(valid: l1, mse, smooth_l1, huber/);
  });
  it('missing --loss', async () => {
    await expectError(['p.csv', 'p.csv'], 2, /missing required option --loss/);
  });
  it('unknown option', async () => {
    await expectError(['-l', 'l1', '--betta', '1', 'p.csv', 'p.csv'], 2, /unknown option '--betta'/);
  });
  it('bad option values', async () => {
    await expectError(['-l', 'smooth_l1', '--beta', '-1', 'p.csv', 'p.csv'], 2, /^losseval: error: --beta must be a number >= 0 \(inf allowed\) \(got '-1'\)$/);
    await expectError(['-l', 'huber', '--delta', '0', 'p.csv', 'p.csv'], 2, /^losseval: error: --delta must be a number > 0 \(inf allowed\) \(got '0'\)$/);
    await expectError(['-l', 'huber', '--delta', 'abc', 'p.csv', 'p.csv'], 2, /^losseval: error: --delta must be a number \(inf, -inf and nan allowed\) \(got 'abc'\)$/);
    await expectError(['-l', 'l1', '-r', 'avg', 'p.csv', 'p.csv'], 2, /^losseval: error: --reduction must be one of mean, sum, none, batchmean \(got 'avg'\)$/);
    await expectError(['-l', 'l1', '-j', '0', 'p.csv', 'p.csv'], 2, /^losseval: error: --workers must be a positive integer \(got '0'\)$/);
  });
  it('missing file', async () => {
    await expectError(['-l', 'l1', 'nope.csv', 'p.csv'], 2, /nope\.csv: no such file/);
  });
  it('unknown column names the file and lists its columns', async () => {
    file('two.csv', 'a,b\n1,2\n');
    await expectError(['-l', 'l1', '--target-cols', 'c', 'two.csv'], 2, /--target-cols: unknown column 'c' in two\.csv \(columns: a, b\)/);
    await expectError(['-l', 'l1', '--target-cols', 'x*', 'two.csv'], 2, /no column of two\.csv matches 'x\*'/);
  });
  it('one file without --target-cols', async () => {
    await expectError(['-l', 'l1', 'two.csv'], 2, /--target-cols/);
  });
  it('two inputs on stdin', async () => {
    await expectError(['-l', 'l1', '-', '-'], 2, /only one input can be standard input/);
  });
  it('--output without reduction none', async () => {
    await expectError(['-l', 'l1', '-o', 'x.csv', 'p.csv', 'p.csv'], 2, /--output is for per-row losses/);
  });
});

describe('data errors exit 1 and name file, line, column and value', () => {
  it('a value that is not a number', async () => {
    file('bad.csv', 'p,q\n1,2\n3,abc\n');
    file('t2.csv', 'p,q\n1,2\n3,4\n');
    await expectError(['-l', 'l1', 'bad.csv', 't2.csv'], 1, /bad\.csv: line 3, column "q": not a number: "abc"/);
  });
  for (const bad of ['0x10', '1_000', '1e', 'nan1', '--1', '1.2.3']) {
    it(`rejects ${bad}`, async () => {
      file('b.csv', `p\n1\n${bad}\n`);
      file('t.csv', 'p\n1\n2\n');
      await expectError(['-l', 'l1', 'b.csv', 't.csv'], 1, new RegExp(`b\\.csv: line 3, column "p": not a number: "${bad.replace('.', '\\.')}"`));
    });
  }
  it('line numbers count physical lines (quoted newlines)', async () => {
    file('q.csv', 'name,p\n"multi\nline",1\nx,zz\n');
    file('qt.csv', 'p\n1\n2\n');
    await expectError(['-l', 'l1', '--pred-cols', 'p', 'q.csv', 'qt.csv'], 1, /q\.csv: line 4, column "p": not a number: "zz"/);
  });
  it('row counts differ: names both counts', async () => {
    file('p3.csv', 'p\n1\n2\n3\n');
    file('t2b.csv', 't\n1\n2\n');
    await expectError(['-l', 'l1', 'p3.csv', 't2b.csv'], 1, /row counts differ: p3\.csv has 3 rows but t2b\.csv has 2 rows/);
    await expectError(['-l', 'l1', '--chunk-rows', '1', 't2b.csv', 'p3.csv'], 1, /t2b\.csv has 2 rows but p3\.csv has 3 rows/);
  });
  it('column counts differ between preds and targets', async () => {
    file('w2.csv', 'a,b\n1,2\n');
    file('w1.csv', 'a\n1\n');
    await expectError(['-l', 'mse', 'w2.csv', 'w1.csv'], 1, /mse: 2 prediction values per row but 1 target values/);
  });
  it('a ragged row', async () => {
    file('r.csv', 'a,b\n1,2\n3\n');
    file('r2.csv', 'a,b\n1,2\n3,4\n');
    await expectError(['-l', 'l1', 'r.csv', 'r2.csv'], 1, /r\.csv: line 3.*expected 2 fields, found 1/);
  });
  it('--nan-policy raise names the first NaN', async () => {
    file('n.csv', 'p,t\n1,2\n3,nan\n5,\n');
    await expectError(['-l', 'l1', '--target-cols', 't', '--nan-policy', 'raise', 'n.csv'], 1, /n\.csv: line 3, column "t": NaN value "nan"/);
  });
  it('a failed per-row run leaves no output file', async () => {
    await expectError(['-l', 'l1', '-r', 'none', '-o', 'out.csv', 'bad.csv', 't2.csv'], 1, /not a number/);
    expect(readdirSync(dir).filter((f) => f.includes('out.csv'))).toEqual([]);
  });
  it('a gzip whose trailer is cut off, around a complete Arrow stream (found by the fuzzer)', async () => {
    const gz = gzipSync(readFileSync(join(SAMPLES, 'preds.arrows')));
    writeFileSync(join(dir, 'cut.arrows.gz'), gz.subarray(0, gz.length - 6));
    await expectError(['-l', 'l1', 'cut.arrows.gz', join(SAMPLES, 'targets.arrow')], 1, /cut\.arrows\.gz: not a valid gzip stream \(unexpected end of file\)/);
  });
  it('a corrupt gzip stream', async () => {
    writeFileSync(join(dir, 'z.csv.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4]));
    await expectError(['-l', 'l1', 'z.csv.gz', 'p.csv'], 1, /z\.csv\.gz/);
  });
});

describe('messages stay on one line', () => {
  it('a column name holding a newline is shown escaped (found by the fuzzer)', async () => {
    writeFileSync(join(dir, 'nl.csv'), '"a\nb",c\n1,2\n');
    await expectError(['-l', 'l1', '--target-cols', 'zz', 'nl.csv'], 2, /unknown column 'zz' in nl\.csv \(columns: a\\nb, c\)/);
  });
});

describe('hostile Arrow metadata', () => {
  it('bytes after an Arrow stream\'s end marker are refused, not read as a short stream (found by the fuzzer)', async () => {
    const stream = readFileSync(join(SAMPLES, 'preds.arrows'));
    writeFileSync(join(dir, 'tail.arrows'), Buffer.concat([stream, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 1, 2, 3])]));
    await expectError(['-l', 'l1', 'tail.arrows', join(SAMPLES, 'targets.csv')], 1, /tail\.arrows: not a valid Arrow IPC file or stream: data after the end-of-stream marker/);
    await expectFailure(['-l', 'l1', '-', join(SAMPLES, 'targets.csv')], 1, /<stdin>: not a valid Arrow IPC file or stream: data after the end-of-stream marker/,
      { cwd: dir, stdin: readFileSync(join(dir, 'tail.arrows')) });
  });
  const fx = (f: string): string => join(ROOT, 'test', 'fixtures', 'hostile', f);
  it('a FixedSizeList claiming 539 million values per row fails at once (found by the fuzzer: it used to exhaust the heap)', async () => {
    // the fuzzer's schema and its old-style 4-byte end marker, without the mutated bytes after it
    // (fixed-size-list-539M.arrows), which are now refused earlier: this reaches the per-row guard
    // of src/read/table.ts, whose message is its own
    await expectError(['-l', 'smooth_l1', '-r', 'sum', fx('fixed-size-list-539M-schema.arrows'), fx('one-row-targets.csv.gz')], 1,
      /^losseval: error: .*fixed-size-list-539M-schema\.arrows: column "p" \(FixedSizeList\[539164355\]<Float64>\) has 539164355 values per row; at most 1048576 are supported$/);
  });
  it('the fuzzer\'s original bytes: refused for the data after the end-of-stream marker', async () => {
    await expectError(['-l', 'smooth_l1', '-r', 'sum', fx('fixed-size-list-539M.arrows'), fx('one-row-targets.csv.gz')], 1,
      /fixed-size-list-539M\.arrows: not a valid Arrow IPC file or stream: data after the end-of-stream marker \(after 0 record batches, 0 rows\): truncated or corrupt\?$/);
  });
});

describe('one CSV cut by size: lines are exact though the main thread never counts them', () => {
  // 3000 rows; every 7th holds a quoted two-line note, so physical lines run ahead of rows
  const rows: string[] = ['p,t,note'];
  let badLine = 0, nanLine = 0, line = 2;
  for (let i = 0; i < 3000; i++) {
    const note = i % 7 === 0 ? '"a\nb"' : 'x';
    const t = i === 2500 ? 'bad' : i === 1800 ? 'nan' : String((i * 37) % 101 / 7);
    if (i === 2500) badLine = line;
    if (i === 1800) nanLine = line;
    rows.push(`${i / 3},${t},${note}`);
    line += i % 7 === 0 ? 2 : 1;
  }
  const text = rows.join('\n') + '\n';
  for (const bytes of ['1', '50', '3000', '']) {
    for (const workers of ['1', '2']) {
      it(`chunks of ${bytes || 'default'} bytes, -j ${workers}: a bad value, a NaN under raise`, async () => {
        file('lines.csv', text);
        const args = ['-l', 'l1', '-j', workers, ...(bytes ? ['--chunk-bytes', bytes] : []), '--pred-cols', 'p', '--target-cols', 't', 'lines.csv'];
        await expectFailure(args, 1, new RegExp(`^losseval: error: lines\\.csv: line ${badLine}, column "t": not a number: "bad"$`), { cwd: dir });
        await expectFailure(['--nan-policy', 'raise', ...args], 1, new RegExp(`lines\\.csv: line ${nanLine}, column "t": NaN value "nan"`), { cwd: dir });
      });
    }
  }
  it('a row longer than the limit after many uncounted chunks is named by its line', async () => {
    // longer than any source chunk, so that no row end is in sight when the limit is passed
    const long = rows.slice(0, 2000).join('\n') + '\n1,' + '2'.repeat(3_000_000) + ',x\n' + rows.slice(2000).join('\n') + '\n';
    const at = rows.slice(0, 2000).join('\n').split('\n').length + 1;
    for (const workers of ['1', '2']) {
      await expectFailure(['-l', 'l1', '-j', workers, '--chunk-bytes', '64', '--max-row-bytes', '1000', '--pred-cols', 'p', '--target-cols', 't', '-'], 1,
        new RegExp(`^losseval: error: <stdin>: row at line ${at} is longer than 1000 bytes$`),
        { cwd: dir, stdin: long });
    }
  });
});

describe('the first problem in the file is reported, whatever the chunking', () => {
  it('a kernel error (class index out of range) before a bad number in the same chunk', async () => {
    file('logits.csv', 'a,b,c\n' + '1,2,3\n'.repeat(6));
    file('labels.csv', 'y\n0\n1\n7\n2\nbad\n0\n');
    for (const chunk of [[], ['--chunk-rows', '1'], ['--chunk-rows', '4']]) {
      await expectError(['-l', 'nll', ...chunk, 'logits.csv', 'labels.csv'], 1, /labels\.csv: line 4, column "y": .*"7"/);
    }
  });
  it('a NaN under --nan-policy raise in one file before a ragged row in the other', async () => {
    file('pn.csv', 'p\n1\n2\nnan\n4\n5\n');
    file('tr.csv', 't\n1\n2\n3\n4,4\n5\n');
    for (const chunk of [[], ['--chunk-rows', '1'], ['--chunk-rows', '2']]) {
      await expectError(['-l', 'l1', '--nan-policy', 'raise', ...chunk, 'pn.csv', 'tr.csv'], 1, /pn\.csv: line 4, column "p": NaN value "nan"/);
    }
  });
});

describe('nullability', () => {
  const fx = (f: string): string => join(ROOT, 'test', 'fixtures', 'hostile', f);
  it('a non-nullable column whose batch carries an all-valid validity buffer is read, as the reference reads it (found by the fuzzer)', async () => {
    const args = ['-l', 'huber', '-r', 'sum', fx('nulls-preds.arrow'), fx('non-nullable-with-validity.arrows.gz')];
    const ref = reference({
      inputs: [
        { name: 'nulls-preds.arrow', bytes: readFileSync(fx('nulls-preds.arrow')) },
        { name: 'non-nullable-with-validity.arrows.gz', bytes: readFileSync(fx('non-nullable-with-validity.arrows.gz')) },
      ],
      losses: ['huber'], reduction: 'sum', nanPolicy: 'propagate', predCols: null, targetCols: null, header: true, delimiter: null,
    } as never);
    expect(ref.status).toBe('ok');
    const r = await losseval(args, { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe((ref as { stdout: string }).stdout);
  });
  it('nulls in a column the schema declares non-nullable are corrupt data', async () => {
    const { Field, Float64, Schema, RecordBatch, makeData, Struct, RecordBatchStreamWriter } = await import('apache-arrow');
    const field = new Field('p', new Float64(), false);
    const values = new Float64Array([1, 2, 3, 4]);
    const col = makeData({ type: new Float64(), length: 4, nullCount: 1, nullBitmap: new Uint8Array([0b1011]), data: values });
    const schema = new Schema([field]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct([field]), length: 4, nullCount: 0, children: [col] }));
    const w = new RecordBatchStreamWriter();
    w.write(batch);
    w.finish();
    file('nn.arrows', '');
    writeFileSync(join(dir, 'nn.arrows'), w.toUint8Array(true));
    file('nn-t.csv', 't\n1\n2\n3\n4\n');
    await expectError(['-l', 'l1', 'nn.arrows', 'nn-t.csv'], 1, /nn\.arrows: column "p": corrupt Arrow data: the record batch starting at row 1 has 4 rows but 1 nulls in a column the schema declares non-nullable/);
  });
});

describe('--json: stderr carries JSON objects, one per line; exit codes unchanged', () => {
  const jsonStderr = async (args: string[], code: number): Promise<unknown[]> => {
    const r = await losseval(args, { cwd: dir });
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    return r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
  };
  it('a data error: kind, message, file, line, column, value', async () => {
    file('bad.csv', 'p,q\n1,2\n3,abc\n');
    expect(await jsonStderr(['-l', 'l1', '--json', '--target-cols', 'q', 'bad.csv'], 1)).toEqual([{
      error: { kind: 'data', message: 'bad.csv: line 3, column "q": not a number: "abc"', file: 'bad.csv', line: 3, column: 'q', value: 'abc' },
    }]);
  });
  it('a usage error, also one commander finds, and from merge: fields not known are left out', async () => {
    expect(await jsonStderr(['-l', 'l1', '--json', '-j', '0', 'bad.csv'], 2)).toEqual([
      { error: { kind: 'usage', message: "--workers must be a positive integer (got '0')" } },
    ]);
    expect(await jsonStderr(['--json', '-l', 'l1', '--bogus', 'bad.csv'], 2)).toEqual([
      { error: { kind: 'usage', message: "unknown option '--bogus'" } },
    ]);
    expect(await jsonStderr(['merge', '--json', 'nope.json'], 2)).toMatchObject([{ error: { kind: 'usage' } }]);
  });
  it('warnings before the error are JSON objects too', async () => {
    expect(await jsonStderr(['-l', 'l1', '--json', '--delta', '1', '--target-cols', 'q', 'bad.csv'], 1)).toEqual([
      { warning: { message: '--delta is not used by l1' } },
      { error: { kind: 'data', message: 'bad.csv: line 3, column "q": not a number: "abc"', file: 'bad.csv', line: 3, column: 'q', value: 'abc' } },
    ]);
  });
  it('an Arrow error names the row, and a NaN under raise its value', async () => {
    const { tableFromArrays, tableToIPC } = await import('apache-arrow');
    writeFileSync(join(dir, 'n.arrow'), tableToIPC(tableFromArrays({ p: new Float64Array([1, NaN, 3]), t: new Float64Array([1, 2, 3]) }), 'file'));
    expect(await jsonStderr(['-l', 'l1', '--json', '--nan-policy', 'raise', '--target-cols', 't', 'n.arrow'], 1)).toEqual([{
      error: { kind: 'data', message: 'n.arrow: row 2, column "p": NaN value "nan" (--nan-policy raise)', file: 'n.arrow', row: 2, column: 'p', value: 'nan' },
    }]);
  });
});

describe('an out-of-range class index is reported with its value in every format', () => {
  it('Arrow float64 and int64 class columns, and the same rows in CSV', async () => {
    const { tableFromArrays, tableToIPC } = await import('apache-arrow');
    const logits = { a: new Float64Array([1, 2, 3]), b: new Float64Array([0, 1, 0]) };
    writeFileSync(join(dir, 'cf.arrow'), tableToIPC(tableFromArrays({ ...logits, y: new Float64Array([0, 1, 7]) }), 'file'));
    writeFileSync(join(dir, 'ci.arrow'), tableToIPC(tableFromArrays({ ...logits, y: new BigInt64Array([0n, -1n, 1n]) }), 'file'));
    file('cf.csv', 'a,b,y\n1,0,0\n2,1,1\n3,0,7\n');
    await expectError(['-l', 'ce', '--target-cols', 'y', 'cf.arrow'], 1, /^losseval: error: cf\.arrow: row 3, column "y": class index out of range \[0, 2\): "7"$/);
    await expectError(['-l', 'ce', '--target-cols', 'y', 'cf.csv'], 1, /^losseval: error: cf\.csv: line 4, column "y": class index out of range \[0, 2\): "7"$/);
    await expectError(['-l', 'nll', '--target-cols', 'y', 'ci.arrow'], 1, /^losseval: error: ci\.arrow: row 2, column "y": class index out of range \[0, 2\): "-1"$/);
  });
});

describe('NaN tokens', () => {
  it('nan in any case, optionally signed, is NaN; NA, NULL, N/A, #N/A, None are not numbers', async () => {
    file('nans.csv', 'p,t\n1,nAn\n2,-NaN\n3,+nan\n4,4\n');
    const r = await losseval(['-l', 'l1', '-r', 'sum', '--nan-policy', 'omit', '--target-cols', 't', 'nans.csv'], { cwd: dir });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '0\n', 'losseval: warning: omitted 3 rows holding 3 NaN values\n']);
    for (const word of ['NA', 'NULL', 'null', 'N/A', '#N/A', 'None']) {
      file('na.csv', `p,t\n1,1\n2,${word}\n`);
      await expectError(['-l', 'l1', '--target-cols', 't', 'na.csv'], 1,
        new RegExp(`^losseval: error: na\\.csv: line 3, column "t": not a number: "${word.replace('/', '\\/')}"$`));
    }
  });
});
