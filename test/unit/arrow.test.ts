import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  Table, RecordBatch, Schema, Field, Struct, makeData, vectorFromArray, makeVector, tableToIPC, tableFromIPC,
  RecordBatchFileWriter, RecordBatchStreamWriter,
  Float16, Float32, Float64, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Utf8,
  FixedSizeList, List, type DataType, type Data,
} from 'apache-arrow';
import { openArrow, isArrowMagic, copyBits, type ArrowSource, type ColumnSlice } from '../../src/read/arrow.js';
import { sliceToFloat64, halfToFloat64 } from '../../src/parse/arrow-column.js';
import { createArrowFileWriter } from '../../src/write/arrow.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'arrow-test-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

// ---------------------------------------------------------------------------------------------
// Test data: one generator per column, row i → the value(s) as stored, and the expected float64s.

type Cell = number | bigint | null | (number | null)[];
interface ColSpec {
  name: string;
  type: DataType;
  width: number;
  cell(i: number): Cell;
  /** Expected float64s of row i (width of them). */
  expect(i: number): number[];
}

const F16_VALUES = [0, -0, 0.5, -2, 65504, 2 ** -24, 1.5, -1025, 2 ** -14, Infinity, -Infinity, 0.333251953125];
const I64_VALUES = [0n, -1n, 2n ** 53n + 1n, 2n ** 53n + 3n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 1n, 123456789012345678n];
const U64_VALUES = [0n, 1n, 2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 63n + 1025n, 18446744073709549568n + 1024n];
const F64_VALUES = [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.1];

function nullEvery(k: number, i: number) { return i % k === k - 1; }

function plain(name: string, type: DataType, gen: (i: number) => number | bigint, nulls = 0): ColSpec {
  return {
    name, type, width: 1,
    cell: (i) => (nulls && nullEvery(nulls, i) ? null : gen(i)),
    expect: (i) => [nulls && nullEvery(nulls, i) ? NaN : Number(gen(i))],
  };
}

function specs(): ColSpec[] {
  const fsl: ColSpec = {
    name: 'fsl', type: new FixedSizeList(3, new Field('item', new Float32(), true)), width: 3,
    cell: (i) => (nullEvery(11, i) ? null : [i + 0.5, i % 5 === 0 ? null : -i, i * 0.25]),
    expect: (i) => (nullEvery(11, i) ? [NaN, NaN, NaN] : [i + 0.5, i % 5 === 0 ? NaN : -i, i * 0.25]),
  };
  const list: ColSpec = {
    name: 'lst', type: new List(new Field('item', new Float64(), true)), width: 2,
    cell: (i) => (nullEvery(13, i) ? null : [i / 7, i % 3 === 0 ? null : -i / 3]),
    expect: (i) => (nullEvery(13, i) ? [NaN, NaN] : [i / 7, i % 3 === 0 ? NaN : -i / 3]),
  };
  const listInt: ColSpec = {
    name: 'lsti', type: new List(new Field('item', new Int16(), false)), width: 4,
    cell: (i) => [i, -i, i % 100, 7],
    expect: (i) => [i, 0 - i + 0, i % 100, 7],
  };
  return [
    plain('f64', new Float64(), (i) => F64_VALUES[i % F64_VALUES.length]! * (i + 1)),
    plain('f64n', new Float64(), (i) => i * 1.25, 3),
    plain('f32', new Float32(), (i) => Math.fround(i / 3), 4),
    plain('f16', new Float16(), (i) => F16_VALUES[i % F16_VALUES.length]!, 5),
    plain('i8', new Int8(), (i) => (i % 256) - 128),
    plain('i16', new Int16(), (i) => (i * 97) % 32768 - 16384, 6),
    plain('i32', new Int32(), (i) => (i % 2 ? -2147483648 : 2147483647) + (i % 2 ? i : -i)),
    plain('i64', new Int64(), (i) => I64_VALUES[i % I64_VALUES.length]!, 7),
    plain('u8', new Uint8(), (i) => i % 256),
    plain('u16', new Uint16(), (i) => 65535 - (i % 65536), 2),
    plain('u32', new Uint32(), (i) => 4294967295 - i),
    plain('u64', new Uint64(), (i) => U64_VALUES[i % U64_VALUES.length]!),
    fsl, list, listInt,
    { name: 'txt', type: new Utf8(), width: 1, cell: (i) => `r${i}` as unknown as number, expect: () => [NaN] },
  ];
}

function schemaOf(cols: ColSpec[]): Schema {
  return new Schema(cols.map((c) => new Field(c.name, c.type, true)));
}

function batchOf(schema: Schema, cols: ColSpec[], from: number, n: number): RecordBatch {
  const children: Data[] = cols.map((c) => {
    const vals: Cell[] = [];
    for (let i = from; i < from + n; i++) vals.push(c.cell(i));
    const v = vectorFromArray(vals as never, c.type);
    expect(v.data.length).toBe(1);
    return v.data[0] as Data;
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, children }));
}

function batchesOf(cols: ColSpec[], sizes: number[]): RecordBatch[] {
  const schema = schemaOf(cols);
  const out: RecordBatch[] = [];
  let from = 0;
  for (const n of sizes) { out.push(batchOf(schema, cols, from, n)); from += n; }
  return out;
}

function fileBytes(batches: RecordBatch[]): Uint8Array {
  return RecordBatchFileWriter.writeAll(batches).toUint8Array(true);
}
function streamBytes(batches: RecordBatch[]): Uint8Array {
  return RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

/** Heap limit of the worker in which hostile inputs are read, and the bound on the bytes it may allocate. */
const BOUND_HEAP_MB = 64;
const BOUND_BYTES = 16 * 2 ** 20;

/** Read `bytes` (from `path`, or as a stream of 4 KiB pieces) in a worker thread with a small heap. */
function boundedRead(bytes: Uint8Array, path: string | null): Promise<{ name: string; message: string; allocated: number }> {
  const w = new Worker(new URL('../helpers/arrow-refusal-worker.mjs', import.meta.url), {
    workerData: { arrowUrl: new URL('../../dist/read/arrow.js', import.meta.url).href, bytes, path, chunkBytes: 4096, columns: [0, 1] },
    resourceLimits: { maxOldGenerationSizeMb: BOUND_HEAP_MB, maxYoungGenerationSizeMb: 8 },
  });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    // ERR_WORKER_OUT_OF_MEMORY: the reader built more than the heap holds
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the reader's worker exited (${code}) without an answer`)));
  });
}

/** Read the selected columns through chunks() + sliceToFloat64; per column, all values in row order. */
async function readAll(src: ArrowSource, columns: number[], rowsPerChunk: number) {
  const widths = await src.widths(columns);
  const stride = widths.reduce((a, b) => a + b, 0);
  const per: number[][] = columns.map(() => []);
  const sizes: number[] = [];
  let nextRow = 1;
  for await (const slices of src.chunks(columns, rowsPerChunk)) {
    const rows = slices[0]!.rows;
    sizes.push(rows);
    expect(slices.map((s) => s.width)).toEqual(widths);
    // Transferable, own buffers.
    for (const s of slices) {
      expect(s.rows).toBe(rows);
      expect(s.firstRow).toBe(nextRow);
      expect(s.values.byteOffset).toBe(0);
      expect(s.values.buffer.byteLength).toBe(s.values.byteLength);
    }
    const moved = structuredClone(slices, { transfer: transferList(slices) }) as ColumnSlice[];
    const out = new Float64Array(rows * stride);
    let off = 0;
    moved.forEach((s, j) => { sliceToFloat64(s, out, stride, off); off += widths[j]!; });
    off = 0;
    for (let j = 0; j < columns.length; j++) {
      for (let r = 0; r < rows; r++) for (let k = 0; k < widths[j]!; k++) per[j]!.push(out[r * stride + off + k]!);
      off += widths[j]!;
    }
    nextRow += rows;
  }
  return { per, sizes, widths };
}

function transferList(slices: ColumnSlice[]): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const s of slices) {
    for (const b of [s.values, s.validity, s.childValidity, s.listOffsets, s.listPieces]) if (b) set.add(b.buffer as ArrayBuffer);
  }
  return [...set];
}

function expected(cols: ColSpec[], names: string[], total: number): number[][] {
  return names.map((n) => {
    const c = cols.find((x) => x.name === n)!;
    const out: number[] = [];
    for (let i = 0; i < total; i++) out.push(...c.expect(i));
    return out;
  });
}

function expectSame(actual: number[], want: number[], label: string) {
  expect(actual.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(actual[i], want[i])) throw new Error(`${label}[${i}]: got ${actual[i]}, want ${want[i]}`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('sniffing', () => {
  it('recognises file and stream magic', () => {
    const cols = specs().slice(0, 2);
    const b = batchesOf(cols, [3]);
    expect(isArrowMagic(fileBytes(b))).toBe('file');
    expect(isArrowMagic(streamBytes(b))).toBe('stream');
    expect(isArrowMagic(streamBytes(b).subarray(0, 8))).toBe('stream');
    expect(isArrowMagic(new TextEncoder().encode('a,b\n1,2\n'))).toBe(null);
    expect(isArrowMagic(new Uint8Array([0xff, 0xff]))).toBe(null);
    // A continuation marker followed by a record batch instead of a schema is not a stream start.
    const s = streamBytes(b);
    const schemaLen = 8 + new DataView(s.buffer, s.byteOffset + 4).getInt32(0, true);
    expect(isArrowMagic(s.subarray(schemaLen))).toBe(null);
  });

  it('copyBits re-aligns bitmaps', () => {
    const src = new Uint8Array(40);
    for (let i = 0; i < src.length; i++) src[i] = (i * 73 + 11) & 0xff;
    for (const [so, dof, n] of [[0, 0, 320], [3, 0, 200], [5, 11, 170], [9, 7, 1], [1, 3, 0], [7, 0, 64]] as const) {
      const dst = new Uint8Array(50);
      copyBits(src, so, dst, dof, n);
      for (let i = 0; i < 400; i++) {
        const want = i >= dof && i < dof + n ? (src[(so + i - dof) >> 3]! >> ((so + i - dof) & 7)) & 1 : 0;
        expect((dst[i >> 3]! >> (i & 7)) & 1).toBe(want);
      }
    }
  });

  it('decodes float16 exactly and converts 64-bit ints like Number(bigint)', () => {
    expect(halfToFloat64(0x3c00)).toBe(1);
    expect(halfToFloat64(0x0001)).toBe(2 ** -24);
    expect(halfToFloat64(0x7bff)).toBe(65504);
    expect(Object.is(halfToFloat64(0x8000), -0)).toBe(true);
    expect(halfToFloat64(0x7c01)).toBeNaN();
    const big = new BigInt64Array(2000);
    for (let i = 0; i < big.length; i++) big[i] = BigInt.asIntN(64, (BigInt(i) * 0x9e3779b97f4a7c15n) ^ (BigInt(i) << 40n));
    const out = new Float64Array(big.length);
    sliceToFloat64({
      kind: 'i64', rows: big.length, width: 1, values: big, validity: null, childValidity: null, firstRow: 1,
      listOffsets: null, listPieces: null, widthRow: 0, file: 'x', column: 'c',
    }, out, 1, 0);
    for (let i = 0; i < big.length; i++) expect(out[i]).toBe(Number(big[i]!));
    const ubig = new BigUint64Array(big.buffer);
    sliceToFloat64({
      kind: 'u64', rows: big.length, width: 1, values: ubig, validity: null, childValidity: null, firstRow: 1,
      listOffsets: null, listPieces: null, widthRow: 0, file: 'x', column: 'c',
    }, out, 1, 0);
    for (let i = 0; i < big.length; i++) expect(out[i]).toBe(Number(ubig[i]!));
  });
});

describe('reading every numeric type, nulls and lists across odd record batches', () => {
  const SIZES = [1, 7, 1000, 3, 64];
  const TOTAL = SIZES.reduce((a, b) => a + b, 0);
  const cols = specs();
  const numeric = cols.filter((c) => c.name !== 'txt');
  const names = numeric.map((c) => c.name);
  const want = expected(cols, names, TOTAL);
  let filePath: string, streamPath: string, fileBuf: Uint8Array, streamBuf: Uint8Array;

  beforeAll(() => {
    const b = batchesOf(cols, SIZES);
    fileBuf = fileBytes(b);
    streamBuf = streamBytes(b);
    filePath = join(dir, 'all.arrow');
    streamPath = join(dir, 'all.arrows');
    writeFileSync(filePath, fileBuf);
    writeFileSync(streamPath, streamBuf);
  });

  const sources: [string, () => Promise<ArrowSource>, 'file' | 'stream'][] = [
    ['file path', () => openArrow({ path: filePath }), 'file'],
    ['stream path', () => openArrow({ path: streamPath }), 'stream'],
    ['stream bytes in 13-byte pieces', () => openArrow({ stream: pieces(streamBuf, 13), name: '<stdin>' }), 'stream'],
    ['stream bytes in one piece', () => openArrow({ stream: pieces(streamBuf, 1 << 30), name: '<stdin>' }), 'stream'],
    ['file bytes on a stream (spooled)', () => openArrow({ stream: pieces(fileBuf, 4096), name: '<stdin>' }), 'file'],
    ['file bytes on a stream, embedded schema', () => {
      // As Arrow C++ / pyarrow write files: magic, padding, a full stream (schema … EOS), footer, magic.
      const tail = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]);
      const bytes = new Uint8Array(8 + streamBuf.length + tail.length);
      bytes.set([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31, 0, 0]);
      bytes.set(streamBuf, 8);
      bytes.set(tail, 8 + streamBuf.length);
      return openArrow({ stream: pieces(bytes, 100), name: '<stdin>' });
    }, 'file'],
  ];

  for (const [label, open, format] of sources) {
    for (const rpc of [1, 7, 65536]) {
      it(`${label}, rowsPerChunk ${rpc}`, async () => {
        const before = readdirSync(tmpdir()).filter((f) => f.startsWith(`losseval-${process.pid}-`)).length;
        const src = await open();
        expect(src.format).toBe(format);
        const columns = names.map((n) => src.fields.findIndex((f) => f.name === n));
        const { per, sizes, widths } = await readAll(src, columns, rpc);
        expect(widths).toEqual(numeric.map((c) => c.width));
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(TOTAL);
        sizes.slice(0, -1).forEach((s) => expect(s).toBe(rpc));
        expect(sizes.at(-1)!).toBeLessThanOrEqual(rpc);
        names.forEach((n, j) => expectSame(per[j]!, want[j]!, n));
        expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`losseval-${process.pid}-`)).length).toBe(before);
      });
    }
  }

  it('lists field kinds and types', async () => {
    const src = await openArrow({ path: filePath });
    const byName = Object.fromEntries(src.fields.map((f) => [f.name, f]));
    expect(byName.f16).toMatchObject({ kind: 'f16', listSize: null, isList: false });
    expect(byName.u64).toMatchObject({ kind: 'u64' });
    expect(byName.fsl).toMatchObject({ kind: 'f32', listSize: 3, isList: false });
    expect(byName.lst).toMatchObject({ kind: 'f64', listSize: null, isList: true });
    expect(byName.txt).toMatchObject({ kind: null, type: 'Utf8' });
    await src.close();
  });

  it('a subset of columns, in any order, and the same column twice', async () => {
    const src = await openArrow({ path: filePath });
    const idx = (n: string) => src.fields.findIndex((f) => f.name === n);
    const { per } = await readAll(src, [idx('lst'), idx('u8'), idx('lst')], 100);
    expectSame(per[0]!, want[names.indexOf('lst')]!, 'lst');
    expectSame(per[1]!, want[names.indexOf('u8')]!, 'u8');
    expectSame(per[2]!, want[names.indexOf('lst')]!, 'lst');
  });

  it('selecting a non-numeric column is a data error naming column and type', async () => {
    const src = await openArrow({ path: filePath });
    const t = src.fields.findIndex((f) => f.name === 'txt');
    expect(() => src.chunks([0, t], 10)).toThrow(/column "?txt"?.*Utf8/);
    await expect(src.widths([t])).rejects.toThrow(/txt.*Utf8/);
    await src.close();
  });

  it('stopping early releases the source', async () => {
    const src = await openArrow({ path: filePath });
    for await (const s of src.chunks([0], 5)) { expect(s[0]!.rows).toBe(5); break; }
    await src.close();
  });
});

describe('plain columns of an IPC file on disk are read straight from the file', () => {
  // no record batch decoded on the main thread: each chunk's values are read from where they lie
  // into a transferable (recyclable) buffer; chunks say so (`recycle`)
  const SIZES = [1, 7, 1000, 3, 64];
  const TOTAL = SIZES.reduce((a, b) => a + b, 0);
  const all = specs().filter((c) => c.type.typeId !== new List(new Field('x', new Float64())).typeId && c.name !== 'txt' && c.name !== 'fsl');
  // the same kinds without nulls
  const cols = all.map((c) => plain(`${c.name}_`, c.type, (i) => {
    const v = c.cell(i);
    return v === null ? (typeof c.cell(0) === 'bigint' ? 0n : 0) : (v as number | bigint);
  }));
  const names = cols.map((c) => c.name);
  const want = expected(cols, names, TOTAL);
  let path: string;
  beforeAll(() => {
    path = join(dir, 'plain.arrow');
    writeFileSync(path, fileBytes(batchesOf(cols, SIZES)));
  });

  for (const rpc of [1, 7, 65536]) {
    it(`every fixed-width kind, across odd record batches, rowsPerChunk ${rpc}`, async () => {
      const src = await openArrow({ path });
      const columns = names.map((n) => src.fields.findIndex((f) => f.name === n));
      const flags: (true | undefined)[] = [];
      const probe = src.chunks.bind(src);
      src.chunks = (c, r, k) => ({
        async *[Symbol.asyncIterator]() {
          for await (const s of probe(c, r, k)) { flags.push((s as { recycle?: true }).recycle); yield s; }
        },
      });
      const { per, sizes } = await readAll(src, columns, rpc);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(TOTAL);
      names.forEach((n, j) => expectSame(per[j]!, want[j]!, n));
      expect(new Set(flags)).toEqual(new Set([true]));
    });
  }

  it('a column with a null in one batch, a list column, or a stream go through apache-arrow (same values)', async () => {
    const withNull = cols.map((c, j) => (j === 1 ? plain(c.name, c.type, (i) => Number(c.expect(i)[0]), 1000) : c));
    const p2 = join(dir, 'plain-null.arrow');
    writeFileSync(p2, fileBytes(batchesOf(withNull, SIZES)));
    const p3 = join(dir, 'plain.arrows');
    writeFileSync(p3, streamBytes(batchesOf(cols, SIZES)));
    for (const [file, wantFlag, expect2] of [
      [p2, undefined, expected(withNull, names, TOTAL)],
      [p3, undefined, want],
    ] as const) {
      const src = await openArrow({ path: file });
      const columns = names.map((n) => src.fields.findIndex((f) => f.name === n));
      let flag: true | undefined | 'none' = 'none';
      const values: number[][] = columns.map(() => []);
      for await (const slices of src.chunks(columns, 100)) {
        if (flag === 'none') flag = (slices as { recycle?: true }).recycle;
        slices.forEach((s, j) => {
          const out = new Float64Array(s.rows);
          sliceToFloat64(s, out, 1, 0);
          values[j]!.push(...out);
        });
      }
      expect(flag, file).toBe(wantFlag);
      names.forEach((n, j) => expectSame(values[j]!, expect2[j]!, `${file} ${n}`));
    }
  });

  it('a file cut short after it was opened is a data error naming the file, column and batch', async () => {
    const p4 = join(dir, 'plain-cut.arrow');
    const bytes = fileBytes(batchesOf(cols, SIZES));
    writeFileSync(p4, bytes);
    const src = await openArrow({ path: p4 });
    const it = src.chunks([0, 1], 4)[Symbol.asyncIterator]();
    await it.next(); // the plan is made: every batch's place in the file is known
    writeFileSync(p4, bytes.subarray(0, 2000));
    let error: unknown = null;
    try {
      for (;;) if ((await it.next()).done) break;
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/plain-cut\.arrow.*column "f64_": the file ended inside record batch \d+ \(did it change while being read\?\)/);
    await src.close();
  });
});

describe('List columns', () => {
  const listType = () => new List(new Field('item', new Float64(), true));

  async function writeList(rows: (number | null)[][] | (number[] | null)[], sizes: number[], name = 'l.arrow') {
    const cols: ColSpec[] = [{ name: 'p', type: listType(), width: 0, cell: (i) => rows[i] as Cell, expect: () => [] }];
    const p = join(dir, name);
    writeFileSync(p, fileBytes(batchesOf(cols, sizes)));
    return p;
  }

  it('rows of unequal length: a data error naming the row', async () => {
    const rows: number[][] = [];
    for (let i = 0; i < 300; i++) rows.push(i === 236 ? [1, 2] : [1, 2, 3]);
    const p = await writeList(rows, [7, 200, 93]);
    for (const rpc of [1, 50, 1000]) {
      const src = await openArrow({ path: p });
      await expect(readAll(src, [0], rpc)).rejects.toThrow(/row 237, column "?p"?: list has 2 values, expected 3 \(row 1 has 3\)/);
    }
  });

  it('width comes from the first non-null row, read ahead across batches', async () => {
    const rows: (number[] | null)[] = [null, null, null, [1, 2, 3, 4], null, [5, 6, 7, 8]];
    const p = await writeList(rows, [2, 1, 3], 'l2.arrow');
    const src = await openArrow({ path: p });
    const { per, widths } = await readAll(src, [0], 4);
    expect(widths).toEqual([4]);
    expectSame(per[0]!, [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, 1, 2, 3, 4, NaN, NaN, NaN, NaN, 5, 6, 7, 8], 'p');
  });

  it('an all-null List column is a data error', async () => {
    const p = await writeList([null, null], [2], 'l3.arrow');
    const src = await openArrow({ path: p });
    await expect(src.widths([0])).rejects.toThrow(/column "?p"?.*every row/);
    await src.close();
  });
});

describe('edge cases', () => {
  it('zero-row tables (file and stream)', async () => {
    const cols = specs().filter((c) => ['f64', 'lst', 'fsl'].includes(c.name));
    const schema = schemaOf(cols);
    const empty = batchOf(schema, cols, 0, 0);
    for (const [bytes, fmt] of [[fileBytes([empty]), 'file'], [streamBytes([empty]), 'stream'],
      [tableToIPC(new Table(schema), 'file'), 'file'], [tableToIPC(new Table(schema), 'stream'), 'stream']] as const) {
      const p = join(dir, `empty.${fmt}`);
      writeFileSync(p, bytes);
      for (const src of [await openArrow({ path: p }), await openArrow({ stream: pieces(bytes, 7), name: '-' })]) {
        expect(src.format).toBe(fmt);
        expect(src.fields.map((f) => f.name)).toEqual(['f64', 'fsl', 'lst']);
        const { sizes, widths } = await readAll(src, [0, 1, 2], 10);
        expect(sizes).toEqual([]);
        expect(widths).toEqual([1, 3, 0]);
      }
    }
  });

  it('not Arrow, truncated and hostile inputs are data errors', async () => {
    const p = join(dir, 'bad.arrow');
    writeFileSync(p, 'a,b\n1,2\n');
    await expect(openArrow({ path: p })).rejects.toThrow(/not a valid Arrow/);
    await expect(openArrow({ stream: pieces(new TextEncoder().encode('x,y\n'), 2), name: '-' })).rejects.toThrow(/not a valid Arrow/);

    const cols = specs().slice(0, 1);
    const good = fileBytes(batchesOf(cols, [10, 10]));
    writeFileSync(p, good.subarray(0, good.length - 30));
    await expect(openArrow({ path: p })).rejects.toThrow(/ARROW1 magic at the end/);
    // Footer length that does not fit the file.
    const bad = good.slice();
    new DataView(bad.buffer).setInt32(bad.length - 10, 0x7fffffff, true);
    writeFileSync(p, bad);
    await expect(openArrow({ path: p })).rejects.toThrow(/footer length/);

    // A batch claiming 1e6 rows over 10 values: an error, not a huge allocation.
    const schema = new Schema([new Field('x', new Float64(), true)]);
    const liar = makeData({ type: new Float64(), length: 1_000_000, nullCount: 0, data: new Float64Array(10) });
    const rb = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 1_000_000, children: [liar] }));
    for (const bytes of [fileBytes([rb]), streamBytes([rb])]) {
      writeFileSync(p, bytes);
      // caught by the metadata checks, before apache-arrow builds the batch (a stream may fail at open)
      await expect(openArrow({ path: p }).then((src) => readAll(src, [0], 1000))).rejects.toThrow(/record batch 1 \(rows 1–1000000\): column "x": 1000000 values of 8 bytes need 8000000 bytes, its buffer has 80/);
    }

    // Truncated stream: the error names the file.
    const sb = streamBytes(batchesOf(cols, [100]));
    const src = await openArrow({ stream: pieces(sb.subarray(0, sb.length - 200), 64), name: '<stdin>' });
    await expect(readAll(src, [0], 10)).rejects.toThrow(/<stdin>/);
  });

  it('makeVector-built columns without nulls', async () => {
    const t = new Table({ a: makeVector(new Float64Array([1, 2, 3])), b: makeVector(new Int32Array([4, 5, 6])) });
    const bytes = tableToIPC(t, 'stream');
    const src = await openArrow({ stream: pieces(bytes, 5), name: '-' });
    const { per } = await readAll(src, [1, 0], 2);
    expectSame(per[0]!, [4, 5, 6], 'b');
    expectSame(per[1]!, [1, 2, 3], 'a');
  });
});

describe('Arrow file writer', () => {
  it('round trips several batches through tableFromIPC', async () => {
    const p = join(dir, 'out.arrow');
    // batches of 250 rows, whatever the writes' sizes
    const w = await createArrowFileWriter(p, ['mse', 'l1'], 250);
    const a: number[] = [], b: number[] = [];
    const buf1 = new Float64Array(1000), buf2 = new Float64Array(1000);
    for (const rows of [3, 1000, 1, 17]) {
      for (let i = 0; i < rows; i++) { buf1[i] = a.length * 0.5 + i; buf2[i] = i % 7 === 0 ? NaN : -i; }
      await w.write([buf1, buf2], rows);
      for (let i = 0; i < rows; i++) { a.push(buf1[i]!); b.push(buf2[i]!); }
      buf1.fill(-1); buf2.fill(-1); // the writer must be done with the arrays
    }
    await w.close();
    const t = tableFromIPC(readFileSync(p));
    expect(t.numRows).toBe(a.length);
    expect(t.batches.map((x) => x.numRows)).toEqual([250, 250, 250, 250, 21]);
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['mse:Float64', 'l1:Float64']);
    expectSame(Array.from(t.getChild('mse')!.toArray() as Float64Array), a, 'mse');
    expectSame(Array.from(t.getChild('l1')!.toArray() as Float64Array), b, 'l1');
    // And our own reader, by path and through the (spooled) stream path.
    const src = await openArrow({ path: p });
    expectSame((await readAll(src, [0, 1], 100)).per[1]!, b, 'l1');
  });

  it('an output with no rows is still a valid file', async () => {
    const p = join(dir, 'empty-out.arrow');
    const w = await createArrowFileWriter(p, ['loss']);
    await w.close();
    const t = tableFromIPC(readFileSync(p));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['loss']);
  });
});

// ---------------------------------------------------------------------------------------------
// Metadata checked before apache-arrow decodes it (hostile counts, offsets and lengths).

describe('metadata checks', () => {
  const ROWS = 12345; // unique in the metadata: the batch length (and node length)
  const i64 = (v: bigint) => new Uint8Array(new BigInt64Array([v]).buffer);
  function indexesOf(b: Uint8Array, pat: Uint8Array): number[] {
    const out: number[] = [];
    outer: for (let i = 0; i + pat.length <= b.length; i++) {
      for (let k = 0; k < pat.length; k++) if (b[i + k] !== pat[k]) continue outer;
      out.push(i);
    }
    return out;
  }
  function good(kind: 'file' | 'stream'): Uint8Array {
    const t = new Table({ p: makeVector(new Float64Array(ROWS).map((_, i) => i / 8)), t: makeVector(new Float64Array(ROWS)) });
    return kind === 'file' ? fileBytes(t.batches) : streamBytes(t.batches);
  }
  /** Every int64 `from` in the bytes becomes `to`. */
  function patchAll(b: Uint8Array, from: bigint, to: bigint): Uint8Array {
    const out = b.slice();
    const hits = indexesOf(out, i64(from));
    expect(hits.length).toBeGreaterThan(0);
    for (const i of hits) out.set(i64(to), i);
    return out;
  }
  /**
   * Reads through a path and through a byte stream; both must be a DataError matching `re`. Then
   * the same reads in a worker thread with a 64 MB heap (the built reader, dist/read/arrow.js):
   * refusing hostile metadata must not build large structures (the worker would die out of
   * memory) nor allocate large buffers (counted in the worker). No clock is involved.
   */
  async function refused(bytes: Uint8Array, re: RegExp, kind: string): Promise<void> {
    const p = join(dir, `hostile.${kind === 'file' ? 'arrow' : 'arrows'}`);
    writeFileSync(p, bytes);
    for (const open of [() => openArrow({ path: p }), () => openArrow({ stream: pieces(bytes, 4096), name: '<stdin>' })]) {
      let err: unknown = null;
      try {
        const src = await open();
        await readAll(src, [0, 1], 1000);
      } catch (e) { err = e; }
      expect((err as Error)?.name).toBe('DataError');
      expect((err as Error).message).toMatch(re);
    }
    for (const path of [p, null]) {
      const r = await boundedRead(bytes, path);
      expect(r.name, r.message).toBe('DataError');
      expect(r.message).toMatch(re);
      expect(r.allocated).toBeLessThan(BOUND_BYTES);
    }
  }

  for (const kind of ['file', 'stream'] as const) {
    it(`${kind}: the bounded reader reads the intact input (the bound is not what refuses)`, async () => {
      const p = join(dir, `intact.${kind === 'file' ? 'arrow' : 'arrows'}`);
      writeFileSync(p, good(kind));
      for (const path of [p, null]) {
        const r = await boundedRead(good(kind), path);
        expect(r).toMatchObject({ name: 'read', message: `${ROWS} rows` });
        // the values read are counted: the count sees the reader's buffers
        expect(r.allocated).toBeGreaterThanOrEqual(2 * ROWS * 8);
        expect(r.allocated).toBeLessThan(BOUND_BYTES);
      }
    });
    it(`${kind}: a record batch claiming -1 rows is a data error (not 0 rows)`, async () => {
      await refused(patchAll(good(kind), BigInt(ROWS), -1n), /record batch 1 \(from row 1\): it claims -1 rows/, kind);
    });
    it(`${kind}: 2^40 or 2^62 rows, checked against the buffer sizes`, async () => {
      await refused(patchAll(good(kind), BigInt(ROWS), 2n ** 40n), /record batch 1 \(rows 1–1099511627776\): column "p": .*its buffer has 98760/, kind);
      await refused(patchAll(good(kind), BigInt(ROWS), 2n ** 62n), /record batch 1 \(from row 1\): it claims 4611686018427387904 rows/, kind);
    });
    it(`${kind}: a buffer at offset 2^40 or of 2^40 bytes lies outside the body`, async () => {
      const b = good(kind);
      const at = indexesOf(b, i64(BigInt(ROWS * 8)))[0]!; // the data buffer's length; its offset is before it
      const off = b.slice();
      off.set(i64(2n ** 40n), at - 8);
      await refused(off, /record batch 1 \(rows 1–12345\): buffer 2 \(offset 1099511627776, length 98760\) lies outside the \d+-byte message body/, kind);
      // buffer lengths (and, for the file, the footer block's body length) of 2^40
      await refused(patchAll(b, BigInt(ROWS * 8), 2n ** 40n), /(footer: record batch block 1|record batch 1 \(rows 1–12345\): buffer \d+) .*lies outside/, kind);
    });
    it(`${kind}: a field-node count of 2^24 is refused before anything is built`, async () => {
      const b = good(kind).slice();
      // the nodes vector: u32 count 2, then {length 12345, nulls 0} twice
      const hits = indexesOf(b, new Uint8Array([2, 0, 0, 0, ...i64(BigInt(ROWS)), ...i64(0n), ...i64(BigInt(ROWS))]));
      expect(hits.length).toBe(1);
      new DataView(b.buffer).setUint32(hits[0]!, 1 << 24, true);
      await refused(b, /record batch 1 \(rows 1–12345\): field nodes claims 16777216 entries, more than its \d+-byte metadata can hold/, kind);
    });
    it(`${kind}: a message body longer than the rest of the input`, async () => {
      const b = good(kind);
      const trunc = b.subarray(0, kind === 'file' ? b.length : b.length - 8 - 1000);
      if (kind === 'stream') {
        await refused(trunc, /record batch 1 \(rows 1–12345\): the message body claims \d+ bytes but (only \d+ remain|the stream ends after \d+)/, kind);
      } else {
        // the file's body length as the Message says it (not the footer block): 2^40
        const m = b.slice();
        const hits = indexesOf(m, i64(BigInt(2 * ROWS * 8)));
        expect(hits.length).toBeGreaterThan(0);
        m.set(i64(2n ** 40n), hits[0]!);
        await refused(m, /record batch 1 .*: (the message body claims 1099511627776 bytes|buffer)/, kind);
      }
    });
  }

  it('file: a footer with 2^24 record batch blocks or a schema field count bomb', async () => {
    const b = good('file');
    const footerLen = new DataView(b.buffer, b.byteOffset).getInt32(b.length - 10, true);
    const footerAt = b.length - 10 - footerLen;
    // the record batch blocks vector: count 1 then {offset, metaDataLength, pad, bodyLength}
    const f = b.slice();
    const dv = new DataView(f.buffer);
    let patched = 0;
    for (let i = footerAt; i + 28 <= f.length - 10; i += 4) {
      if (dv.getUint32(i, true) === 1 && dv.getBigInt64(i + 4, true) === 8n) { dv.setUint32(i, 1 << 24, true); patched++; break; }
    }
    expect(patched).toBe(1);
    await refused(f, /footer: record batch claims 16777216 entries, more than its \d+-byte metadata can hold/, 'file');
    // the schema's fields vector (count 2 in the footer) claims 2^30 fields
    const g = b.slice();
    const gv = new DataView(g.buffer);
    const text = new TextDecoder('latin1').decode(g.subarray(footerAt));
    expect(text.includes('p')).toBe(true);
    let done = false;
    for (let i = footerAt; i + 4 <= g.length - 10 && !done; i += 4) {
      if (gv.getUint32(i, true) !== 2) continue;
      // a vector of 2 offsets to tables (fields): both point inside the footer
      const a = i + 4 + gv.getUint32(i + 4, true), c = i + 8 + gv.getUint32(i + 8, true);
      if (a < g.length - 10 && c < g.length - 10 && a > i && c > i) { gv.setUint32(i, 1 << 30, true); done = true; }
    }
    expect(done).toBe(true);
    await refused(g, /footer: .*(claims 1073741824 entries|outside)/, 'file');
  });

  it('a zero-row stream whose message vtable claims more entries than it has still reads as 0 rows', async () => {
    // as fuzz case mismatch-10k-8626: the schema message's vtable size byte is 0xfe instead of 0x0a
    const schema = new Schema([new Field('t0', new Float64(), true), new Field('p0', new Float64(), true)]);
    const b = RecordBatchStreamWriter.writeAll([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, children: [
      makeData({ type: new Float64(), length: 0, data: new Float64Array(0) }), makeData({ type: new Float64(), length: 0, data: new Float64Array(0) }),
    ] }))]).toUint8Array(true).slice();
    const dv = new DataView(b.buffer);
    const table = 8 + dv.getUint32(8, true);
    const vtable = table - dv.getInt32(table, true);
    expect(dv.getUint16(vtable, true)).toBe(10);
    b[vtable] = 0xfe;
    expect(isArrowMagic(b)).toBe('stream');
    for (const input of [{ stream: pieces(b, 7), name: '<stdin>' }, (writeFileSync(join(dir, 'z.arrows'), b), { path: join(dir, 'z.arrows') })]) {
      const src = await openArrow(input);
      expect(src.fields.map((f) => f.name)).toEqual(['t0', 'p0']);
      const r = await readAll(src, [0, 1], 10);
      expect(r.sizes).toEqual([]);
    }
  });

  it('valid files with dictionary, string, struct and list columns still pass the checks', async () => {
    const t = new Table({
      s: vectorFromArray(['a', 'b', null, 'a']),
      u: vectorFromArray(['x', 'yy', 'zzz', ''], new Utf8()),
      st: vectorFromArray([{ a: 1, b: 2 }, { a: 3, b: 4 }, null, { a: 5, b: 6 }],
        new Struct([new Field('a', new Int32(), true), new Field('b', new Float32(), true)])),
      l: vectorFromArray([[1, 2], [3, 4], [5, 6], [7, 8]], new List(new Field('item', new Float64(), true))),
      x: makeVector(new Float64Array([1, 2, 3, 4])),
    });
    for (const bytes of [fileBytes(t.batches), streamBytes(t.batches)]) {
      const p = join(dir, 'mixed.arrow');
      writeFileSync(p, bytes);
      for (const input of [{ path: p }, { stream: pieces(bytes, 5), name: '<stdin>' }]) {
        const src = await openArrow(input);
        const r = await readAll(src, [4, 3], 3);
        expect(r.per[0]).toEqual([1, 2, 3, 4]);
        expect(r.per[1]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      }
    }
  });
});
