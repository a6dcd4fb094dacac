/**
 * --group-by key columns from Parquet inputs. The oracle: the same data as CSV and as Parquet
 * (written here by hyparquet-writer: PLAIN, dictionary, DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY text, INT32 / INT64 / nullable integers, booleans; several row groups and
 * pages, two codecs) give the same groups and losses under every worker count and chunk size —
 * Parquet integer and boolean keys are numbers and booleans where CSV's are text, so key values
 * are compared as strings. The DuckDB fixtures (pages v1 and v2, every codec) against reg.csv;
 * a key from the second input; then the refusals (DOUBLE, TIMESTAMP keys), damaged key data, and
 * the worker's text decoders on their own.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { parquetMetadata } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { deltaBinaryPack, deltaByteArray, deltaLengthByteArray } from 'hyparquet-writer/src/delta.js';
import { readDeltaLengthText, readDeltaText, readPlainText } from '../../dist/parse/parquet/values.js';
import { ROOT, expectFailure, losseval, workdir } from '../helpers/cli.js';
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

describe('DuckDB fixtures (data pages v1 and v2, every codec): integer and boolean keys equal reg.csv\'s', () => {
  const fix = (f: string): string => join(ROOT, 'test', 'fixtures', 'parquet', f);
  // the CSV twin writes BOOLEAN b as 1 / 0
  const asCsv = (groups: any[]): any[] => normal(groups.map((g) => ({ ...g, key: { ...g.key, b: g.key.b === null ? null : g.key.b ? 1 : 0 } })));
  for (const codec of ['snappy', 'zstd-v2', 'gzip', 'brotli', 'lz4', 'uncompressed']) {
    it(`reg-duckdb-${codec}.parquet: INT(8) and BOOLEAN keys; UINT_32, UINT_64 and INT64 keys`, async () => {
      for (const keys of ['i8,b', 'u32,u64,i64']) {
        const args = ['-l', 'l1,mse', '--pred-cols', 'p', '--target-cols', 't', '--group-by', keys];
        const ref = await json([...args, fix('reg.csv')]);
        for (const run of [['-j', '1'], ['-j', '2', '--chunk-rows', '29']]) {
          const got = await json([...args, ...run, fix(`reg-duckdb-${codec}.parquet`)]);
          expect(keys === 'i8,b' ? asCsv(got.groups) : normal(got.groups), `${keys} ${run.join(' ')}`).toEqual(normal(ref.groups));
          expect(got.losses).toEqual(ref.losses);
        }
      }
    });
  }
  it('a DuckDB VARCHAR is a text key; its TIMESTAMP is refused', async () => {
    const f = fix('unsupported-duckdb.parquet');
    const got = await json(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'p', '--group-by', 's', f]);
    expect(got.groups.map((g: any) => [g.key.s, g.rows])).toEqual([['x', 1]]);
    await expectFailure(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'p', '--group-by', 'ts', f], 2,
      /^losseval: error: --group-by: column 'ts' of .*unsupported-duckdb\.parquet has type INT64 \(TIMESTAMP\); group keys are text, integers or booleans$/);
  });
});

describe('Parquet keys in a two-input run and past 2^53', () => {
  it('a key from the targets Parquet (predictions CSV) equals the CSV twin; INT64 keys stay exact', async () => {
    const n = 50;
    const lang = Array.from({ length: n }, (_, i) => ['a', 'b', null][i % 3]!);
    const y = Float64Array.from({ length: n }, (_, i) => i * 0.5);
    const big = -(2n ** 62n) - 5n;
    const tp = join(dir, 'two-t.parquet');
    parquetWriteFile({
      filename: tp, rowGroupSize: 17, pageSize: 40, columnData: [
        { name: 'lang', data: lang, type: 'STRING', nullable: true },
        { name: 'u', data: Array.from({ length: n }, (_, i) => (i % 2 ? big : 7n)), type: 'INT64', nullable: false },
        { name: 'y', data: y, type: 'DOUBLE', nullable: false },
      ],
    });
    const pc = join(dir, 'two-p.csv'), tc = join(dir, 'two-t.csv');
    writeFileSync(pc, 'p\n' + Array.from({ length: n }, (_, i) => String(i * 0.25)).join('\n') + '\n');
    writeFileSync(tc, 'lang,u,y\n' + lang.map((l, i) => `${l ?? ''},${i % 2 ? big : 7n},${y[i]}`).join('\n') + '\n');
    const args = ['-l', 'l1,mse', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'u,lang'];
    const ref = await json([...args, pc, tc]);
    for (const run of RUNS) {
      const got = await json([...args, ...run, pc, tp]);
      expect(normal(got.groups)).toEqual(normal(ref.groups));
      expect(got.losses).toEqual(ref.losses);
    }
    const got = await json([...args, pc, tp]);
    expect(got.groups.map((g: any) => g.key.u)).toContain(String(big));
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

describe('text value decoders (the worker\'s, from dist)', () => {
  const enc = new TextEncoder(), dec = new TextDecoder();
  const words = ['', 'apple', 'applesauce', 'apply', 'b', 'zh-中文', 'zh-中', ''];
  const texts = (t: { data: Uint8Array; start: Int32Array; end: Int32Array }): string[] =>
    Array.from(t.start, (s, i) => dec.decode(t.data.subarray(s, t.end[i]!)));
  const encode = (f: (w: ByteWriter, v: Uint8Array[]) => void): Uint8Array => {
    const w = new ByteWriter();
    f(w, words.map((x) => enc.encode(x)));
    return new Uint8Array(w.getBuffer());
  };

  it('PLAIN, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY give the written strings', () => {
    const plain: number[] = [];
    for (const x of words) {
      const b = enc.encode(x);
      plain.push(b.length & 255, (b.length >> 8) & 255, 0, 0, ...b);
    }
    const pb = Uint8Array.from(plain);
    expect(texts(readPlainText(pb, 0, pb.length, words.length))).toEqual(words);
    const dl = encode(deltaLengthByteArray);
    expect(texts(readDeltaLengthText(dl, 0, dl.length, words.length))).toEqual(words);
    const db = encode(deltaByteArray);
    expect(texts(readDeltaText(db, 0, db.length, words.length))).toEqual(words);
  });

  it('truncated or inconsistent data is a ParquetFormatError, never a read past the page', () => {
    const dl = encode(deltaLengthByteArray);
    expect(() => readDeltaLengthText(dl, 0, dl.length - 1, words.length)).toThrow(/DELTA_LENGTH_BYTE_ARRAY value \d+ of 8 needs \d+ bytes/);
    const db = encode(deltaByteArray);
    expect(() => readDeltaText(db, 0, db.length - 1, words.length)).toThrow(/DELTA_BYTE_ARRAY value \d+ of 8 needs \d+ bytes/);
    expect(() => readDeltaText(db, 0, 3, words.length)).toThrow(/DELTA_BINARY_PACKED/);
    const pb = Uint8Array.of(5, 0, 0, 0, 97, 98);
    expect(() => readPlainText(pb, 0, pb.length, 1)).toThrow(/BYTE_ARRAY value 1 of 1 needs 5 bytes, the page has 2/);
    // a prefix longer than the value before it, a negative length
    const w = new ByteWriter();
    deltaBinaryPack(w, Int32Array.of(0, 5), 'INT32');
    deltaBinaryPack(w, Int32Array.of(2, 1), 'INT32');
    w.appendBytes(enc.encode('abc'));
    const bad = new Uint8Array(w.getBuffer());
    expect(() => readDeltaText(bad, 0, bad.length, 2)).toThrow(/DELTA_BYTE_ARRAY value 2 of 2 has prefix 5 \(the value before has 2 bytes\)/);
    const wn = new ByteWriter();
    deltaBinaryPack(wn, Int32Array.of(1, -3), 'INT32');
    wn.appendBytes(enc.encode('abc'));
    const neg = new Uint8Array(wn.getBuffer());
    expect(() => readDeltaLengthText(neg, 0, neg.length, 2)).toThrow(/DELTA_LENGTH_BYTE_ARRAY value 2 of 2 has length -3/);
    const w2 = new ByteWriter();
    deltaLengthByteArray(w2, [enc.encode('ab')]);
    const one = new Uint8Array(w2.getBuffer());
    expect(() => readDeltaText(one, 0, one.length, 2)).toThrow(/DELTA/);
  });
});
