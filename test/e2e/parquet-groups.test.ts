/**
 * --group-by key columns from Parquet inputs. The oracle: the same data as CSV and as Parquet
 * (written here by hyparquet-writer: PLAIN, dictionary, DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY text, INT32 / INT64 / nullable integers, booleans; several row groups and
 * pages, two codecs) give the same groups and losses under every worker count and chunk size —
 * Parquet integer and boolean keys are numbers and booleans where CSV's are text, so key values
 * are compared as strings. Then the refusals (DOUBLE, TIMESTAMP keys) and damaged key data.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { parquetMetadata } from 'hyparquet';
import { expectFailure, losseval, workdir } from '../helpers/cli.js';
import { mulberry32 as rng } from '../helpers/rng.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
});

const SEED = 2417;
const LANGS = ['en', 'fr', 'de, CH', 'say "hi"', 'é', 'zh-中文', '10', '9', '', ' en'];

interface Data {
  n: number;
  lang: string[];
  fold: number[];
  /** nullable integer key: null is an empty CSV field */
  nfold: (number | null)[];
  flag: boolean[];
  p: Float64Array;
  y: Float64Array;
}

function makeData(seed: number, n: number): Data {
  const r = rng(seed);
  const lang = Array.from({ length: n }, () => LANGS[Math.floor(r() * LANGS.length)]!);
  const fold = Array.from({ length: n }, () => Math.floor(r() * 4) - 1);
  const nfold = Array.from({ length: n }, () => (r() < 0.15 ? null : Math.floor(r() * 3)));
  const flag = Array.from({ length: n }, () => r() < 0.4);
  const y = Float64Array.from({ length: n }, () => (r() - 0.5) * 10 ** Math.floor(r() * 8 - 4));
  const p = Float64Array.from(y, (v) => v + (r() - 0.5));
  return { n, lang, fold, nfold, flag, p, y };
}

function csvField(t: string): string {
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

function writeCsv(name: string, d: Data): string {
  let text = 'lang,fold,nfold,flag,p,y\n';
  for (let i = 0; i < d.n; i++) {
    text += [csvField(d.lang[i]!), String(d.fold[i]), d.nfold[i] === null ? '' : String(d.nfold[i]), String(d.flag[i]), String(d.p[i]), String(d.y[i])].join(',') + '\n';
  }
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

interface Layout {
  /** the lang column's encoding, and whether it is plain BYTE_ARRAY (no STRING annotation) */
  langEncoding: 'PLAIN' | 'RLE_DICTIONARY' | 'DELTA_LENGTH_BYTE_ARRAY' | 'DELTA_BYTE_ARRAY';
  bytes?: boolean;
  int64?: boolean;
  rowGroupSize: number | number[];
  pageSize: number;
  codec: 'SNAPPY' | 'UNCOMPRESSED';
}

const LAYOUTS: Record<string, Layout> = {
  plain: { langEncoding: 'PLAIN', rowGroupSize: [50, 13, 200], pageSize: 64, codec: 'SNAPPY' },
  dict: { langEncoding: 'RLE_DICTIONARY', int64: true, rowGroupSize: 97, pageSize: 100, codec: 'UNCOMPRESSED' },
  'delta-length': { langEncoding: 'DELTA_LENGTH_BYTE_ARRAY', rowGroupSize: [1, 150], pageSize: 80, codec: 'SNAPPY' },
  'delta-bytes': { langEncoding: 'DELTA_BYTE_ARRAY', bytes: true, int64: true, rowGroupSize: 1000, pageSize: 128, codec: 'UNCOMPRESSED' },
};

function writeParquet(name: string, d: Data, l: Layout): string {
  const filename = join(dir, name);
  const enc = new TextEncoder();
  const lang = d.lang.map((t) => (t === '' ? null : l.bytes ? enc.encode(t) : t));
  const ints = (v: (number | null)[]) => (l.int64 ? v.map((x) => (x === null ? null : BigInt(x))) : v);
  parquetWriteFile({
    filename, codec: l.codec, rowGroupSize: l.rowGroupSize, pageSize: l.pageSize,
    columnData: [
      { name: 'lang', data: lang, type: l.bytes ? 'BYTE_ARRAY' : 'STRING', nullable: true, encoding: l.langEncoding },
      { name: 'fold', data: ints(d.fold), type: l.int64 ? 'INT64' : 'INT32', nullable: false, ...(l.int64 ? { encoding: 'DELTA_BINARY_PACKED' as const } : {}) },
      { name: 'nfold', data: ints(d.nfold), type: l.int64 ? 'INT64' : 'INT32', nullable: true },
      { name: 'flag', data: d.flag, type: 'BOOLEAN', nullable: false },
      { name: 'p', data: d.p, type: 'DOUBLE', nullable: false },
      { name: 'y', data: d.y, type: 'DOUBLE', nullable: false },
    ],
  });
  return filename;
}

async function json(args: string[]): Promise<Record<string, any>> {
  const r = await losseval([...args, '--json'], { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** Groups with every key value as a string (null stays null), in one order. */
function normal(groups: any[]): any[] {
  return groups
    .map((g) => ({ ...g, key: Object.fromEntries(Object.entries(g.key).map(([k, v]) => [k, v === null ? null : String(v)])) }))
    .sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1));
}

const BASE = ['-l', 'l1,mse', '--pred-cols', 'p', '--target-cols', 'y'];
const RUNS = [['-j', '1'], ['-j', '2'], ['-j', '1', '--chunk-rows', '7'], ['-j', '2', '--chunk-rows', '7']];

describe(`Parquet group keys equal their CSV twin's (seed ${SEED})`, () => {
  const d = makeData(SEED, 400);
  let csv: string;
  beforeAll(() => {
    csv = writeCsv('twin.csv', d);
  });
  for (const [name, layout] of Object.entries(LAYOUTS)) {
    it(`${name}: lang (${layout.bytes ? 'BYTE_ARRAY' : 'STRING'}, ${layout.langEncoding}), fold (${layout.int64 ? 'INT64' : 'INT32'}), nullable nfold, BOOLEAN flag`, async () => {
      const pq = writeParquet(`${name}.parquet`, d, layout);
      for (const keys of ['lang,fold', 'nfold', 'flag,lang', 'fold,nfold,flag']) {
        const ref = await json([...BASE, '--group-by', keys, csv]);
        expect(ref.groups.length).toBeGreaterThan(1);
        for (const run of RUNS) {
          const got = await json([...BASE, '--group-by', keys, ...run, pq]);
          expect(got.group_by, `${keys} ${run.join(' ')}`).toEqual(keys.split(','));
          expect(normal(got.groups), `${keys} ${run.join(' ')}`).toEqual(normal(ref.groups));
          expect(got.losses).toEqual(ref.losses);
        }
      }
    });
  }

  it('keys are typed: integers are numbers, booleans booleans, nulls missing', async () => {
    const pq = writeParquet('typed.parquet', d, LAYOUTS.plain!);
    const got = await json([...BASE, '--group-by', 'nfold,flag', pq]);
    const keys = got.groups.map((g: any) => g.key);
    expect(keys.some((k: any) => k.nfold === null)).toBe(true);
    expect(keys.every((k: any) => k.nfold === null || typeof k.nfold === 'number')).toBe(true);
    expect(keys.every((k: any) => typeof k.flag === 'boolean')).toBe(true);
    expect(got.groups.reduce((a: number, g: any) => a + g.rows, 0)).toBe(d.n);
  });

  it('-r none rows carry the Parquet key columns, as the CSV twin\'s', async () => {
    const pq = writeParquet('none.parquet', d, LAYOUTS.dict!);
    const args = ['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'lang,nfold,flag', '-r', 'none', '--chunk-rows', '7'];
    const a = await losseval([...args, csv], { cwd: dir });
    const b = await losseval([...args, pq], { cwd: dir });
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });
});

describe('Parquet group key errors', () => {
  const d = makeData(SEED + 1, 60);
  it('a DOUBLE or TIMESTAMP key column is refused (exit 2)', async () => {
    const pq = writeParquet('refuse.parquet', d, LAYOUTS.plain!);
    const r = await losseval([...BASE, '--group-by', 'lang,y', pq], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`losseval: error: --group-by: column 'y' of ${pq} has type DOUBLE; group keys are text, integers or booleans\n`);
    const ts = join(dir, 'ts.parquet');
    parquetWriteFile({
      filename: ts, columnData: [
        { name: 't', data: Array.from({ length: d.n }, (_, i) => new Date(1e12 + i * 1000)), type: 'TIMESTAMP', nullable: false },
        { name: 'p', data: d.p, type: 'DOUBLE', nullable: false },
        { name: 'y', data: d.y, type: 'DOUBLE', nullable: false },
      ],
    });
    await expectFailure([...BASE, '--group-by', 't', ts], 2, /--group-by: column 't' of .*ts\.parquet has type INT64 \(TIMESTAMP_MILLIS\); group keys are text, integers or booleans/, { cwd: dir });
  });

  it('damaged key data is a data error naming the file, the column and the row group', async () => {
    const pq = join(dir, 'damaged.parquet');
    parquetWriteFile({
      filename: pq, codec: 'UNCOMPRESSED', rowGroupSize: [30, 30], columnData: [
        { name: 'lang', data: d.lang.map((t) => t || 'x'), type: 'STRING', nullable: false, encoding: 'PLAIN' },
        { name: 'p', data: d.p, type: 'DOUBLE', nullable: false },
        { name: 'y', data: d.y, type: 'DOUBLE', nullable: false },
      ],
    });
    const buf = readFileSync(pq);
    const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const chunk = meta.row_groups[1]!.columns[0]!.meta_data!;
    const start = Number(chunk.data_page_offset);
    const end = start + Number(chunk.total_compressed_size);
    // the first value's 4-byte length, just before its text: make it huge
    const text = Buffer.from(d.lang[30] || 'x');
    const at = buf.indexOf(text, start);
    expect(at > start && at < end).toBe(true);
    buf.writeUInt32LE(0x7ffffff0, at - 4);
    writeFileSync(pq, buf);
    await expectFailure([...BASE, '--group-by', 'lang', pq], 1, /damaged\.parquet.*lang.*row group 2 of 2: BYTE_ARRAY value 1 of 30 needs/, { cwd: dir });
    await expectFailure([...BASE, '--group-by', 'lang', '-j', '2', '--chunk-rows', '7', pq], 1, /row group 2 of 2: BYTE_ARRAY value 1 of/, { cwd: dir });
  });
});
