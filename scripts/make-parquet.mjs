#!/usr/bin/env node
// Make the Parquet test fixtures in test/fixtures/parquet/ (committed; small) from seeded values:
// one CSV twin per data set (the exact same values, written by JS's shortest round-trip
// formatting; nulls are empty fields), and the same rows as Parquet from two writers:
//   - DuckDB (@duckdb/node-api: `npm i --no-save @duckdb/node-api`): data pages v1 and v2,
//     PLAIN / dictionary / BYTE_STREAM_SPLIT / DELTA_BINARY_PACKED, every codec it writes,
//     several row groups, nulls, DECIMAL, unsigned and small ints, BOOLEAN, lists, structs;
//   - hyparquet-writer (a devDependency): data pages v2 with small pages, PLAIN,
//     BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED and RLE_DICTIONARY, snappy and uncompressed.
//
//   node scripts/make-parquet.mjs [--skip-duckdb]
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'test', 'fixtures', 'parquet');
mkdirSync(out, { recursive: true });

// xorshift32, seeded: the same files every run
let seed = 0x13572468;
const rnd = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
const N = 300;
const f32 = (x) => Math.fround(x);

// data set "reg": regression columns of every flat type, with nulls in the nullable ones
const reg = [];
for (let i = 0; i < N; i++) {
  reg.push({
    p: (rnd() - 0.5) * 10,
    t: (rnd() - 0.5) * 10,
    pf: f32((rnd() - 0.5) * 4),
    pn: rnd() < 0.1 ? null : (rnd() - 0.5) * 3, // nullable double
    i32: Math.floor((rnd() - 0.5) * 2000),
    i64: Math.floor((rnd() - 0.5) * 2 ** 40),
    i8: Math.floor((rnd() - 0.5) * 200),
    u32: Math.floor(rnd() * 4e9),
    b: rnd() < 0.5 ? 1 : 0,
    d: Math.floor((rnd() - 0.5) * 2e6), // DECIMAL(9,3) unscaled
    dict: [0.25, -1.5, 3.125, 7][Math.floor(rnd() * 4)], // low cardinality: dictionary pages
    // DECIMAL(18,6) (INT64) and DECIMAL(38,20) (FIXED_LEN_BYTE_ARRAY) unscaled, as decimal text
    d18: BigInt(Math.floor((rnd() - 0.5) * 2 ** 52)) * 97n + BigInt(Math.floor(rnd() * 97)),
    d38: BigInt(Math.floor((rnd() - 0.5) * 2 ** 52)) * 10n ** 20n + BigInt(Math.floor(rnd() * 2 ** 52)) * 12345n,
    u64: 2n ** 63n + BigInt(Math.floor(rnd() * 2 ** 52)) * 1001n, // UBIGINT above 2^63
  });
}
const decimalText = (u, s) => {
  const neg = u < 0;
  const a = String(neg ? -u : u).padStart(s + 1, '0');
  return `${neg ? '-' : ''}${a.slice(0, a.length - s)}.${a.slice(a.length - s)}`;
};
const num = (v) => (v === null ? '' : String(v));
const regCols = ['p', 't', 'pf', 'pn', 'i32', 'i64', 'i8', 'u32', 'b', 'd', 'dict', 'd18', 'd38', 'u64'];
const cell = (r, c) => (c === 'd' ? decimalText(r.d, 3) : c === 'd18' ? decimalText(r.d18, 6) : c === 'd38' ? decimalText(r.d38, 20) : num(r[c]));
writeFileSync(join(out, 'reg.csv'), [regCols.join(','), ...reg.map((r) => regCols.map((c) => cell(r, c)).join(','))].join('\n') + '\n');

// data set "cls": 3-class logits as list<float>, a FixedSizeList-like FLOAT[3], a label, a struct
const cls = [];
for (let i = 0; i < N; i++) {
  const l = [f32((rnd() - 0.5) * 6), f32((rnd() - 0.5) * 6), f32((rnd() - 0.5) * 6)];
  cls.push({ l, label: Math.floor(rnd() * 3), sp: (rnd() - 0.5) * 2, st: (rnd() - 0.5) * 2 });
}
writeFileSync(join(out, 'cls.csv'), ['l0,l1,l2,label,sp,st', ...cls.map((r) => [...r.l, r.label, r.sp, r.st].map(String).join(','))].join('\n') + '\n');

// ---------------------------------------------------------------- DuckDB
if (!process.argv.includes('--skip-duckdb')) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const q = (sql) => con.run(sql);
  const csv = (f) => join(out, f).replace(/'/g, "''");
  await q(`CREATE TABLE reg AS SELECT p::DOUBLE p, t::DOUBLE t, pf::FLOAT pf, pn::DOUBLE pn, i32::INTEGER i32, i64::BIGINT i64,
    i8::TINYINT i8, u32::UINTEGER u32, (b = 1)::BOOLEAN b, d::DECIMAL(9,3) d, dict::DOUBLE dict,
    d18::DECIMAL(18,6) d18, d38::DECIMAL(38,20) d38, u64::UBIGINT u64
    FROM read_csv('${csv('reg.csv')}', header = true, all_varchar = true)`);
  // keep the CSV's row order: read_csv is in file order in one thread
  await q('SET threads = 1');
  const dd = (name, opts) => q(`COPY (SELECT * FROM reg) TO '${csv(name)}' (FORMAT parquet, ${opts})`);
  await dd('reg-duckdb-snappy.parquet', "COMPRESSION snappy, ROW_GROUP_SIZE 64");
  await dd('reg-duckdb-zstd-v2.parquet', "COMPRESSION zstd, ROW_GROUP_SIZE 100, PARQUET_VERSION V2");
  await dd('reg-duckdb-gzip.parquet', "COMPRESSION gzip");
  await dd('reg-duckdb-brotli.parquet', "COMPRESSION brotli, ROW_GROUP_SIZE 128");
  await dd('reg-duckdb-lz4.parquet', "COMPRESSION lz4, ROW_GROUP_SIZE 77, PARQUET_VERSION V2");
  await dd('reg-duckdb-uncompressed.parquet', "COMPRESSION uncompressed");
  await q(`CREATE TABLE cls AS SELECT [l0::FLOAT, l1::FLOAT, l2::FLOAT] l, [l0::FLOAT, l1::FLOAT, l2::FLOAT]::FLOAT[3] fl,
    label::INTEGER "label", {'p': sp::DOUBLE, 't': st::DOUBLE} s
    FROM read_csv('${csv('cls.csv')}', header = true, all_varchar = true)`);
  await q(`COPY (SELECT * FROM cls) TO '${csv('cls-duckdb.parquet')}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 50)`);
  await q(`COPY (SELECT * FROM cls) TO '${csv('cls-duckdb-v2.parquet')}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 128, PARQUET_VERSION V2)`);
  // unsupported types, for the usage errors
  await q(`COPY (SELECT 1.5::DOUBLE p, 'x' s, TIMESTAMP '2020-01-01' ts, MAP {'a': 1.0} m, [[1.0]] ll) TO '${csv('unsupported-duckdb.parquet')}' (FORMAT parquet)`);
  con.closeSync?.();
}

// ---------------------------------------------------------------- hyparquet-writer
const { parquetWriteFile } = await import('hyparquet-writer');
const col = (name, data, type, extra = {}) => ({ name, data, type, ...extra });
const F64 = (k) => Float64Array.from(reg, (r) => r[k]);
const hw = (name, columnData, opts) => parquetWriteFile({ filename: join(out, name), columnData, ...opts });
hw('reg-hyparquet-plain.parquet', [
  col('p', F64('p'), 'DOUBLE', { nullable: false, encoding: 'PLAIN' }),
  col('t', F64('t'), 'DOUBLE', { nullable: false, encoding: 'BYTE_STREAM_SPLIT' }),
  col('pf', Float32Array.from(reg, (r) => r.pf), 'FLOAT', { encoding: 'BYTE_STREAM_SPLIT' }),
  col('pn', reg.map((r) => r.pn), 'DOUBLE', { nullable: true }),
  col('i32', Int32Array.from(reg, (r) => r.i32), 'INT32', { encoding: 'DELTA_BINARY_PACKED' }),
  col('i64', BigInt64Array.from(reg, (r) => BigInt(r.i64)), 'INT64', { encoding: 'DELTA_BINARY_PACKED' }),
  col('dict', F64('dict'), 'DOUBLE', { nullable: false }),
], { rowGroupSize: 128, pageSize: 256, codec: 'SNAPPY' });
hw('reg-hyparquet-uncompressed.parquet', [
  col('p', F64('p'), 'DOUBLE', { nullable: true }),
  col('t', F64('t'), 'DOUBLE', { nullable: true }),
  col('pn', reg.map((r) => r.pn), 'DOUBLE', { nullable: true, encoding: 'BYTE_STREAM_SPLIT' }),
  col('dict', F64('dict'), 'DOUBLE', { nullable: true, encoding: 'RLE_DICTIONARY' }),
], { rowGroupSize: [50, 250], pageSize: 100, codec: 'UNCOMPRESSED' });
rmSync(join(out, '.tmp'), { force: true, recursive: true });
process.stdout.write(`fixtures in ${out}\n`);
