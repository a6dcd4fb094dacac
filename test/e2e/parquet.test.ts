/**
 * Parquet input: the same values as CSV give bit-identical results, whatever the writer
 * (DuckDB and hyparquet-writer fixtures from scripts/make-parquet.mjs; files written here),
 * row groups, pages, encodings, codecs, worker count and chunk size; lists and struct leaves;
 * `-o rows.parquet`; and the error contract for unsupported types and damaged files.
 * Runs the CLI in-process (test/helpers/cli.ts), and spawns it once for a real pipe on stdin.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { createReadStream, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetWriteFile } from 'hyparquet-writer';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { ROOT, expectFailure, losseval, workdir } from '../helpers/cli.js';
import { exactMean, exactSum } from '../helpers/exact.js';
import { mulberry32 as rng } from '../helpers/rng.js';
import { evaluate } from '../../dist/index.js';

const FIX = join(ROOT, 'test', 'fixtures', 'parquet');
const fix = (f: string): string => join(FIX, f);

async function ok(args: string[], stdin?: Buffer): Promise<string> {
  const r = await losseval(args, stdin ? { stdin } : {});
  expect(r.stderr.replace(/^losseval: warning: .*\n/gm, '')).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('fixtures from two writers read exactly the values of their CSV twin', () => {
  // the columns each fixture holds (hyparquet-writer's files hold a subset)
  const duck = ['p', 'pf', 'pn', 'i32', 'i64', 'i8', 'u32', 'b', 'd', 'dict', 'd18', 'd38', 'u64'];
  const files: [string, string[]][] = [
    ...['snappy', 'zstd-v2', 'gzip', 'brotli', 'lz4', 'uncompressed'].map((c): [string, string[]] => [`reg-duckdb-${c}.parquet`, duck]),
    ['reg-hyparquet-plain.parquet', ['p', 'pf', 'pn', 'i32', 'i64', 'dict']],
    ['reg-hyparquet-uncompressed.parquet', ['p', 'pn', 'dict']],
  ];
  // one run per file: its columns against the twin's (l1 is 0 exactly when the values are equal),
  // nan exactly where the twin's field is empty (a null)
  const twinRows = readFileSync(fix('reg.csv'), 'utf8').trimEnd().split('\n');
  const twinHeader = twinRows[0]!.split(',');
  for (const [file, cols] of files) {
    it(`${file}: ${cols.join(' ')} row by row`, async () => {
      const list = cols.join(',');
      // chunks of 29 rows: most start inside a row group (and a page), found by the page scan
      const got = await ok(['-l', 'l1', '-r', 'none', '-j', '2', '--chunk-rows', '29', '--pred-cols', list, '--target-cols', list, fix(file), fix('reg.csv')]);
      const want = [cols.map((c) => `l1:${c}`).join(',')];
      for (const row of twinRows.slice(1)) {
        const f = row.split(',');
        want.push(cols.map((c) => (f[twinHeader.indexOf(c)] === '' ? 'nan' : '0')).join(','));
      }
      expect(got).toBe(want.join('\n') + '\n');
    });
  }
  it('every fixture has its place above (a new one must be listed)', () => {
    const listed = new Set([...files.map(([f]) => f), 'cls-duckdb.parquet', 'cls-duckdb-v2.parquet', 'unsupported-duckdb.parquet']);
    expect(readdirSync(FIX).filter((f) => f.endsWith('.parquet') && !listed.has(f))).toEqual([]);
  });
  for (const file of ['cls-duckdb.parquet', 'cls-duckdb-v2.parquet']) {
    it(`${file}: list<float> and FLOAT[3] logits, struct leaves by dotted name`, async () => {
      const ce = await ok(['-l', 'ce', '-r', 'none', '--pred-cols', 'l0,l1,l2', '--target-cols', 'label', fix('cls.csv')]);
      expect(await ok(['-l', 'ce', '-r', 'none', '--pred-cols', 'l', '--target-cols', 'label', fix(file)])).toBe(ce.replace(/^.*\n/, 'cross_entropy\n'));
      for (const [j, chunk] of [['1', '1'], ['2', '7']]) {
        const want = await ok(['-l', 'ce', '--pred-cols', 'l0,l1,l2', '--target-cols', 'label', fix('cls.csv')]);
        expect(await ok(['-l', 'ce', '-j', j!, '--chunk-rows', chunk!, '--pred-cols', 'fl', '--target-cols', 'label', fix(file)])).toBe(want);
      }
      const mse = await ok(['-l', 'mse', '-r', 'none', '--pred-cols', 'sp', '--target-cols', 'st', fix('cls.csv')]);
      expect(await ok(['-l', 'mse', '-r', 'none', '--pred-cols', 's.p', '--target-cols', 's.t', fix(file)])).toBe(mse);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Files written here: random values over 17 decades, row groups and pages of many sizes.

const N = 301;
const preds = { a: new Float64Array(N), b: new Float64Array(N) };
const targets = { a: new Float64Array(N), b: new Float64Array(N) };
let dir: string;

const csv = (cols: Record<string, ArrayLike<number | null>>): string => {
  const names = Object.keys(cols);
  let s = names.join(',') + '\n';
  for (let i = 0; i < N; i++) s += names.map((n) => { const v = cols[n]![i]; return v === null ? '' : String(v); }).join(',') + '\n';
  return s;
};

function writeParquet(path: string, cols: Record<string, Float64Array | (number | null)[]>, opts: { rowGroupSize: number | number[]; pageSize: number; encoding?: string; codec?: string }): void {
  parquetWriteFile({
    filename: path,
    columnData: Object.entries(cols).map(([name, data]) => ({
      name, data, type: 'DOUBLE' as const, nullable: Array.isArray(data), ...(opts.encoding ? { encoding: opts.encoding as 'PLAIN' } : {}),
    })),
    rowGroupSize: opts.rowGroupSize, pageSize: opts.pageSize, codec: (opts.codec ?? 'SNAPPY') as 'SNAPPY',
  });
}

const terms: Record<string, (x: number, y: number) => number> = {
  l1: (x, y) => Math.abs(x - y),
  mse: (x, y) => (x - y) * (x - y),
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
  const seed = 13;
  const r = rng(seed);
  for (let i = 0; i < N; i++) {
    const scale = 10 ** Math.floor(r() * 17 - 8);
    targets.a[i] = (r() - 0.5) * scale;
    preds.a[i] = targets.a[i]! + (r() - 0.5) * scale;
    targets.b[i] = [0.5, 1.25, -3][Math.floor(r() * 3)]!; // few distinct values: dictionary pages
    preds.b[i] = targets.b[i]! + 0.1 * (r() - 0.5);
  }
  for (const [name, cols] of [['preds', preds], ['targets', targets]] as const) {
    writeFileSync(join(dir, `${name}.csv`), csv(cols));
    writeFileSync(join(dir, `${name}.arrow`), tableToIPC(tableFromArrays(cols), 'file'));
    writeParquet(join(dir, `${name}.parquet`), cols, { rowGroupSize: N, pageSize: 1 << 20 });
    writeParquet(join(dir, `${name}-rg7.parquet`), cols, { rowGroupSize: 7, pageSize: 64, encoding: 'BYTE_STREAM_SPLIT' });
    writeParquet(join(dir, `${name}-rg50.parquet`), cols, { rowGroupSize: [50, 13], pageSize: 100, codec: 'UNCOMPRESSED' });
  }
  writeParquet(join(dir, 'both.parquet'), { pa: preds.a, pb: preds.b, a: targets.a, b: targets.b }, { rowGroupSize: [1, 100], pageSize: 512 });
});

describe('generated Parquet: mean and sum bit-identical to the exact reference across the layout matrix', () => {
  const layouts: [string, string[], string?][] = [
    ['parquet, one row group', ['preds.parquet', 'targets.parquet']],
    ['row groups of 7, 64-byte pages, BYTE_STREAM_SPLIT', ['preds-rg7.parquet', 'targets-rg7.parquet']],
    ['row groups of 50 and 13 against 7', ['preds-rg50.parquet', 'targets-rg7.parquet']],
    ['parquet and csv', ['preds-rg7.parquet', 'targets.csv']],
    ['arrow and parquet', ['preds.arrow', 'targets-rg50.parquet']],
    ['one file', ['--pred-cols', 'pa,pb', '--target-cols', 'a,b', 'both.parquet']],
    ['stdin (spooled)', ['-', 'targets.csv'], 'preds-rg50.parquet'],
  ];
  for (const [label, files, stdin] of layouts) {
    it(label, async () => {
      for (const reduction of ['mean', 'sum'] as const) {
        for (const [workers, chunk] of [['1', null], ['2', label.startsWith('row groups of 7') ? '1' : '7']] as const) {
          const args = ['-l', 'l1,mse', '-r', reduction, '-j', workers, ...(chunk ? ['--chunk-rows', chunk] : []), ...files.map((f) => (f.includes('.') ? join(dir, f) : f))];
          const out = await ok(args, stdin ? readFileSync(join(dir, stdin)) : undefined);
          expect(out, `${reduction} -j ${workers} --chunk-rows ${chunk}`).toBe(reference(reduction));
        }
      }
    });
  }
  it('nulls are NaN under --nan-policy, as the empty CSV field', async () => {
    const pn = Array.from(preds.a, (v, i) => (i % 9 === 4 ? null : v));
    writeParquet(join(dir, 'nulls.parquet'), { pn, a: targets.a }, { rowGroupSize: [10, 64], pageSize: 200, encoding: 'BYTE_STREAM_SPLIT' });
    writeFileSync(join(dir, 'nulls.csv'), csv({ pn, a: targets.a }));
    for (const policy of ['omit', 'propagate']) {
      const args = ['-l', 'l1', '--nan-policy', policy, '--pred-cols', 'pn', '--target-cols', 'a'];
      const want = await losseval([...args, join(dir, 'nulls.csv')]);
      expect(await losseval([...args, '-j', '2', '--chunk-rows', '5', join(dir, 'nulls.parquet')])).toEqual(want);
    }
    const raise = await losseval(['-l', 'l1', '--nan-policy', 'raise', '--pred-cols', 'pn', '--target-cols', 'a', join(dir, 'nulls.parquet')]);
    expect(raise.code).toBe(1);
    expect(raise.stderr).toMatch(/nulls\.parquet: row 5, column "pn": /);
  });
  it('different row counts are the usual error', async () => {
    writeParquet(join(dir, 'short.parquet'), { a: targets.a.subarray(0, 100), b: targets.b.subarray(0, 100) }, { rowGroupSize: 30, pageSize: 1000 });
    const r = await losseval(['-l', 'l1', join(dir, 'preds.csv'), join(dir, 'short.parquet')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`losseval: error: row counts differ: ${join(dir, 'preds.csv')} has ${N} rows but ${join(dir, 'short.parquet')} has 100 rows\n`);
  });
});

describe('evaluate() reads Parquet paths and byte streams (spooled)', () => {
  it('as the CLI does', async () => {
    const opts = { loss: ['l1', 'mse'], predCols: 'pa,pb', targetCols: 'a,b' } as const;
    const fromPath = await evaluate({ ...opts, preds: join(dir, 'both.parquet') });
    const fromStream = await evaluate({ ...opts, preds: createReadStream(join(dir, 'both.parquet')) });
    const want = reference('mean').trimEnd().split('\n').map((l) => Number(l.split('\t')[1]));
    expect(fromPath.losses.map((l) => l.value)).toEqual(want);
    expect(fromStream.losses.map((l) => l.value)).toEqual(want);
    expect(fromPath.inputs[0]!.format).toBe('parquet');
  });
});

describe('-o rows.parquet', () => {
  it('holds the per-row losses of -o rows.csv, written atomically', async () => {
    const files = [join(dir, 'preds-rg7.parquet'), join(dir, 'targets.csv')];
    const outCsv = join(dir, 'rows.csv'), outPq = join(dir, 'rows.parquet');
    await ok(['-l', 'l1,mse', '-r', 'none', '-j', '2', '--chunk-rows', '13', '-o', outCsv, ...files]);
    await ok(['-l', 'l1,mse', '-r', 'none', '-j', '2', '--chunk-rows', '13', '-o', outPq, ...files]);
    expect(readdirSync(dir).filter((f) => f.startsWith('.rows'))).toEqual([]);
    // read back through losseval itself: every column, row by row, against the CSV
    for (const c of ['l1:a', 'l1:b', 'mse:a', 'mse:b']) {
      const args = ['-l', 'l1', '-r', 'none', '--pred-cols', c, '--target-cols', 'l1:a'];
      expect(await ok([...args, outPq])).toBe(await ok([...args, outCsv]));
    }
    const b = readFileSync(outPq);
    const meta = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
    expect(Number(meta.num_rows)).toBe(N);
    expect(meta.schema.slice(1).map((s) => `${s.name}:${s.type}:${s.repetition_type}`)).toEqual(
      ['l1:a:DOUBLE:REQUIRED', 'l1:b:DOUBLE:REQUIRED', 'mse:a:DOUBLE:REQUIRED', 'mse:b:DOUBLE:REQUIRED']);
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI contract: usage errors and damaged files.

describe('Parquet errors (CLI)', () => {
  const U = fix('unsupported-duckdb.parquet');
  it('an unsupported column type is a usage error naming the column and its type', async () => {
    await expectFailure(['-l', 'mse', '--pred-cols', 'p', '--target-cols', 's', U], 2,
      new RegExp(`^losseval: error: ${U}: column 's' has type BYTE_ARRAY \\(UTF8\\), not numbers$`));
    await expectFailure(['-l', 'mse', '--pred-cols', 'ts', '--target-cols', 'p', U], 2,
      new RegExp(`^losseval: error: ${U}: column 'ts' has type INT64 \\(TIMESTAMP\\), not numbers$`));
    await expectFailure(['-l', 'mse', '--pred-cols', 'p', '--target-cols', 'm.key_value.value', U], 2,
      /column 'm\.key_value\.value' has type map<…, INT32 \(DECIMAL\)>, not numbers$/);
  });
  it('gzip around a Parquet file is refused, saying why', async () => {
    const gz = join(dir, 'p.parquet.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(dir, 'preds.parquet'))));
    await expectFailure(['-l', 'l1', gz, join(dir, 'targets.csv')], 2,
      new RegExp(`^losseval: error: ${gz}: a gzip-compressed Parquet file is not read: Parquet compresses its own pages`));
  });
  it('standard input is spooled: the CLI reads a piped Parquet file', async () => {
    const r = await losseval(['-l', 'l1,mse', '-', join(dir, 'targets-rg7.parquet')], { stdin: readFileSync(join(dir, 'preds-rg7.parquet')), spawn: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(reference('mean'));
  });

  // damaged copies of one file: one snappy DOUBLE column, one row group, one dictionary-encoded page
  let good: Buffer;
  let chunkStart: number;
  const damaged = (name: string, b: Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, b);
    return p;
  };
  const args = (p: string): string[] => ['-l', 'l1', '--pred-cols', 'x', '--target-cols', 'x', p];
  beforeAll(() => {
    const x = Float64Array.from({ length: 200 }, (_, i) => [1.5, 2.5, 4][i % 3]!);
    const p = join(dir, 'dict.parquet');
    parquetWriteFile({ filename: p, columnData: [{ name: 'x', data: x, type: 'DOUBLE', nullable: false, encoding: 'RLE_DICTIONARY' }], codec: 'UNCOMPRESSED' });
    good = readFileSync(p);
    const meta = parquetMetadata(good.buffer.slice(good.byteOffset, good.byteOffset + good.length) as ArrayBuffer);
    const md = meta.row_groups[0]!.columns[0]!.meta_data!;
    chunkStart = Number(md.dictionary_page_offset ?? md.data_page_offset);
  });
  const header = (b: Buffer, at: number) => {
    const reader = { view: new DataView(b.buffer, b.byteOffset, b.byteLength), offset: at };
    const h = parquetHeader(reader);
    return { h, end: reader.offset };
  };
  it('a truncated file', async () => {
    const p = damaged('truncated.parquet', good.subarray(0, good.length - 100));
    await expectFailure(args(p), 1, new RegExp(`^losseval: error: ${p}: not a valid Parquet file: no PAR1 magic at the end \\(truncated file\\?\\)$`));
  });
  it('a footer length past the file', async () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(b.length, b.length - 8);
    const p = damaged('footer-len.parquet', b);
    await expectFailure(args(p), 1, new RegExp(`^losseval: error: ${p}: not a valid Parquet file: footer length ${b.length} does not fit the ${b.length}-byte file \\(truncated file\\?\\)$`));
  });
  it('corrupt Thrift in the footer', async () => {
    const b = Buffer.from(good);
    const len = b.readUInt32LE(b.length - 8);
    b.fill(0xfd, b.length - 8 - len, b.length - 8 - len + 4);
    const p = damaged('thrift.parquet', b);
    await expectFailure(args(p), 1, new RegExp(`^losseval: error: ${p}: not a valid Parquet file: corrupt footer \\(.+\\)$`));
  });
  it('a page size that lies (past its column chunk)', async () => {
    const b = Buffer.from(good);
    const dict = header(b, chunkStart);
    // the data page, the chunk's last: 0x15 <type: one byte> 0x15 <uncompressed size> 0x15 <compressed size>
    const dataAt = dict.end + dict.h.compressed_page_size;
    const { h } = header(b, dataAt);
    const size = h.compressed_page_size;
    const zig = (v: number): number[] => { const out: number[] = []; let z = v * 2; while (z >= 0x80) { out.push((z & 0x7f) | 0x80); z = Math.floor(z / 128); } out.push(z); return out; };
    const at = dataAt + 3 + zig(h.uncompressed_page_size).length;
    expect([...b.subarray(at, at + 1 + zig(size).length)]).toEqual([0x15, ...zig(size)]);
    const bigger = zig(size).length === 1 ? 63 : 8191;
    Buffer.from([0x15, ...zig(bigger)]).copy(b, at);
    const p = damaged('page-size.parquet', b);
    await expectFailure(args(p), 1, new RegExp(`^losseval: error: ${p}: column "x": row group 1 of 1: page of ${bigger} bytes at byte ${dataAt - chunkStart} runs past the column chunk \\(\\d+ bytes\\)$`));
  });
  it('a dictionary index out of range', async () => {
    const b = Buffer.from(good);
    // the dictionary page header says 3 values (field 7, a struct: 0x4c, then 0x15 <zigzag 3 = 6>): make it 2
    const at = b.indexOf(Buffer.from([0x4c, 0x15, 0x06]), chunkStart);
    expect(at).toBeGreaterThan(chunkStart);
    expect(at).toBeLessThan(chunkStart + 16);
    b[at + 2] = 0x04;
    const p = damaged('dict-index.parquet', b);
    await expectFailure(args(p), 1, new RegExp(`^losseval: error: ${p}: column "x": row group 1 of 1: dictionary index 2 out of range \\(the dictionary has 2 values\\)$`));
  });
  it('a decompression bomb: a page claiming more than 512 MiB uncompressed', async () => {
    const { h } = header(good, chunkStart);
    // uncompressed_page_size (field 2) rewritten as a 5-byte varint of 2^31 - 1
    const at = chunkStart + 2; // 0x15 <type: one byte> 0x15 <size>
    expect(good[at]).toBe(0x15);
    let end = at + 1;
    while (good[end]! & 0x80) end++;
    const huge = Buffer.from([0x15, 0xfe, 0xff, 0xff, 0xff, 0x0f]);
    const b = Buffer.concat([good.subarray(0, at), huge, good.subarray(end + 1)]);
    expect(h.uncompressed_page_size).toBeLessThan(1 << 20);
    const p = damaged('bomb.parquet', b);
    await expectFailure(args(p), 1, new RegExp(`^losseval: error: ${p}: column "x": row group 1 of 1: page claims 2147483647 uncompressed bytes; at most 536870912 are supported$`));
  });
  it('only the selected columns are read: a damaged unselected column chunk does not matter', async () => {
    const p = join(dir, 'two-cols.parquet');
    const x = Float64Array.from({ length: 50 }, (_, i) => i / 4);
    parquetWriteFile({ filename: p, codec: 'UNCOMPRESSED', columnData: [
      { name: 'x', data: x, type: 'DOUBLE', nullable: false, encoding: 'PLAIN' },
      { name: 'y', data: x, type: 'DOUBLE', nullable: false, encoding: 'PLAIN' },
    ] });
    const b = readFileSync(p);
    const meta = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
    const y = meta.row_groups[0]!.columns[1]!.meta_data!;
    b.fill(0xee, Number(y.data_page_offset), Number(y.data_page_offset) + Number(y.total_compressed_size));
    writeFileSync(p, b);
    expect(await ok(['-l', 'mse', '-r', 'sum', '--pred-cols', 'x', '--target-cols', 'x', p])).toBe('0\n');
    const r = await losseval(['-l', 'mse', '--pred-cols', 'x', '--target-cols', 'y', p]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^losseval: error: ${p}: column "y": row group 1 of 1: corrupt page header at byte 0 of the column chunk`));
  });
  it('no temporary spool is left behind after a damaged file on stdin', async () => {
    const before = readdirSync('/tmp').filter((f) => f.endsWith('.parquet') && f.startsWith('losseval-')).length;
    const r = await losseval(['-l', 'l1', '--pred-cols', 'x', '--target-cols', 'x', '-'], { stdin: good.subarray(0, good.length - 3) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('losseval: error: <stdin>: not a valid Parquet file: no PAR1 magic at the end (truncated file?)\n');
    expect(readdirSync('/tmp').filter((f) => f.endsWith('.parquet') && f.startsWith('losseval-')).length).toBe(before);
    expect(existsSync(dir)).toBe(true);
  });
});
