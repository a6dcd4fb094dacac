/**
 * NumPy .npy input, as a user meets it: files numpy wrote (test/fixtures/npy, by scripts/make-npy.py)
 * evaluate bit for bit like their CSV twins — every dtype, both byte orders, header versions 1–3,
 * 1-D and 2-D, from a file, stdin or gzip, in one chunk or many over workers; hostile headers are
 * data errors with exact messages; files losseval does not read (Parquet, zip / .npz, JSON, other
 * compressions) are recognised by their first bytes and refused, saying what they are.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expectFailure, losseval, workdir, ROOT } from '../helpers/cli.js';

const FIX = join(ROOT, 'test', 'fixtures', 'npy');
let dir: string;
beforeAll(() => {
  dir = workdir();
});

async function ok(args: string[], stdin?: Buffer): Promise<string> {
  const r = await losseval(args, { cwd: FIX, ...(stdin ? { stdin } : {}) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

const fixture = (name: string): Buffer => readFileSync(join(FIX, name));

describe('a .npy evaluates bit for bit like its CSV twin', () => {
  const preds = readdirSync(FIX).filter((f) => /^p-.*\.npy$/.test(f)).sort();
  it('every dtype numpy writes has a fixture', () => {
    // 9 multi-byte types in two byte orders, i1, u1 and bool
    expect(preds).toHaveLength(21);
  });
  for (const f of preds) {
    it(f, async () => {
      const twin = await ok(['-l', 'mse,l1,smooth_l1', f.replace(/\.npy$/, '.csv'), 'targets.csv']);
      expect(twin).toMatch(/^mse\t\S+\nl1\t\S+\nsmooth_l1\t\S+\n$/);
      expect(await ok(['-l', 'mse,l1,smooth_l1', f, 'targets.npy'])).toBe(twin);
      expect(await ok(['-l', 'mse,l1,smooth_l1', '-', 'targets.npy'], fixture(f))).toBe(twin);
      // in chunks of 7 rows over two workers, where big-endian values are decoded (a pool costs time: those only)
      if (f.includes('-be')) {
        expect(await ok(['-l', 'mse,l1,smooth_l1', '-j', '2', '--chunk-rows', '7', f, 'targets.npy'])).toBe(twin);
      }
    });
  }
  it('header versions 1.0, 2.0 and 3.0, and a one-column array in Fortran order', async () => {
    const twin = await ok(['-l', 'huber', 'p-f8-le.csv', 'targets.csv']);
    for (const [f, major] of [['v1.npy', 1], ['v2.npy', 2], ['v3.npy', 3], ['column-f.npy', 1]] as const) {
      expect([...fixture(f).subarray(6, 8)]).toEqual([major, 0]);
      expect(await ok(['-l', 'huber', f, 'targets.npy'])).toBe(twin);
    }
  });
  it('gzipped, per row (-r none), across chunk sizes', async () => {
    const gz = join(dir, 'p.npy.gz');
    writeFileSync(gz, gzipSync(fixture('p-f4-be.npy')));
    const twin = await ok(['-l', 'mse', '-r', 'none', 'p-f4-be.csv', 'targets.csv']);
    expect(twin.split('\n')).toHaveLength(42);
    expect(await ok(['-l', 'mse', '-r', 'none', gz, 'targets.npy'])).toBe(twin);
    expect(await ok(['-l', 'mse', '-r', 'none', '--chunk-rows', '1', '-j', '2', gz, 'targets.npy'])).toBe(twin);
  });
  it('2-D logits are one vector per row: cross_entropy like the K-column CSV', async () => {
    const f4 = await ok(['-l', 'cross_entropy', 'logits.csv', 'labels.csv']);
    const f8 = await ok(['-l', 'cross_entropy', 'logits-f8.csv', 'labels.csv']);
    expect(f4).not.toBe(f8); // float32 logits are other numbers
    expect(await ok(['-l', 'cross_entropy', 'logits-f4-le.npy', 'labels-i8-le.npy'])).toBe(f4);
    expect(await ok(['-l', 'cross_entropy', '-j', '2', '--chunk-rows', '3', 'logits-f8-be.npy', 'labels-i8-le.npy'])).toBe(f8);
    expect(await ok(['-l', 'cross_entropy', '--chunk-rows', '5', '-', 'labels.csv'], fixture('logits-f8-be.npy'))).toBe(f8);
  });
  it('the column is 0, as in a CSV without a header; --json says format npy', async () => {
    const r = JSON.parse(await ok(['-l', 'l1', '--json', '--pred-cols', '0', '--target-cols', '0', 'p-f8-le.npy', 'targets.npy'])) as {
      columns: Record<string, string[]>; inputs: { file: string; format: string; gzip: boolean; bytes: number }[];
    };
    expect(r.columns).toEqual({ preds: ['0'], targets: ['0'] });
    expect(r.inputs).toEqual([
      { file: 'p-f8-le.npy', format: 'npy', gzip: false, bytes: 448 },
      { file: 'targets.npy', format: 'npy', gzip: false, bytes: 448 },
    ]);
    await expectFailure(['-l', 'l1', '--pred-cols', 'p', 'p-f8-le.npy', 'targets.npy'], 2,
      /^losseval: error: --pred-cols: 'p' is not a column index \(p-f8-le\.npy has no header: use 0-based indices\)$/, { cwd: FIX });
  });
  it('evaluate() reads a .npy path and a .npy byte stream', async () => {
    const { evaluate } = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href) as typeof import('../../src/index.js');
    const twin = Number(await ok(['-l', 'mse', 'p-u8-be.csv', 'targets.csv']));
    const r = await evaluate({ loss: 'mse', preds: Readable.from([fixture('p-u8-be.npy')]), targets: join(FIX, 'targets.npy') });
    expect(r.losses[0]!.value).toBe(twin);
  });
});

/** An .npy file: magic, version, little-endian header length (2 bytes for 1.0, else 4), header, data. */
function npy(header: string, data: Uint8Array | number, opts: { major?: number; minor?: number; length?: number } = {}): Buffer {
  const major = opts.major ?? 1;
  const text = Buffer.from(header, 'latin1');
  const len = Buffer.alloc(major === 1 ? 2 : 4);
  if (major === 1) len.writeUInt16LE(opts.length ?? text.length);
  else len.writeUInt32LE(opts.length ?? text.length);
  const body = typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data);
  return Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), major, opts.minor ?? 0]), len, text, body]);
}
const dict = (descr: string, shape: string, fortran = 'False'): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;
const exact = (message: string): RegExp => new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

describe('hostile .npy headers are data errors naming the file (exit 1)', () => {
  const h10 = dict('<f8', '(10,)'); // 59 characters: data starts at byte 69
  const cases: [string, Buffer, string][] = [
    ['format version 4.0', npy(h10, 80, { major: 4 }), '.npy format version 4.0 is not supported (losseval reads 1.0, 2.0 and 3.0)'],
    ['format version 1.1', npy(h10, 80, { minor: 1 }), '.npy format version 1.1 is not supported (losseval reads 1.0, 2.0 and 3.0)'],
    ['a file that ends inside the magic', Buffer.from([0x93, ...Buffer.from('NUMPY'), 1]), 'truncated .npy file: it ends inside the magic and version'],
    ['a file that ends inside the header length', npy('', 0, { major: 2 }).subarray(0, 10), 'truncated .npy file: it ends inside the header length'],
    ['header length past the file', npy(h10, 0, { length: 60000 }), '.npy header length 60000 runs past the end of the file (69 bytes)'],
    ['a 4 GiB header', npy(h10, 0, { major: 2, length: 0xffffffff }), '.npy header length 4294967295 is past the 1048576 bytes losseval reads (a corrupt file?)'],
    ['shape past 2^53 values', npy(dict('<f8', '(99999999999999999999,)'), 0), '.npy shape (99999999999999999999,) is too large: more than 2^53 bytes of data'],
    ['shape whose product overflows', npy(dict('<f8', '(4294967296, 4294967296)'), 0), '.npy shape (4294967296, 4294967296) is too large: more than 2^53 bytes of data'],
    ['3-D shape', npy(dict('<f8', '(2, 3, 4)'), 192), '.npy shape (2, 3, 4) has 3 dimensions; losseval reads 1-D (one value per row) and 2-D (one vector per row) arrays: reshape it, e.g. a.reshape(len(a), -1)'],
    ['rows of no values', npy(dict('<f8', '(3, 0)'), 0), '.npy shape (3, 0) has rows of 0 values'],
    ['too many values per row', npy(dict('|u1', '(1, 2000000)'), 2000000), '.npy shape (1, 2000000) has 2000000 values per row; at most 1048576 are supported'],
    ['complex dtype', npy(dict('<c16', '(1,)'), 16), '.npy dtype "<c16" is not supported (losseval reads float16/32/64, int8/16/32/64, uint8/16/32/64 and bool, either byte order)'],
    ['object dtype (pickles)', npy(dict('|O', '(1,)'), 8), '.npy dtype "|O" is not supported (losseval reads float16/32/64, int8/16/32/64, uint8/16/32/64 and bool, either byte order)'],
    ['a multi-byte type without byte order', npy(dict('|f8', '(1,)'), 8), '.npy dtype "|f8" is not supported (losseval reads float16/32/64, int8/16/32/64, uint8/16/32/64 and bool, either byte order)'],
    ['structured dtype', npy(`{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }\n`, 8), '.npy structured dtype (a record of fields) is not supported: save each field as its own .npy (losseval reads float16/32/64, int8/16/32/64, uint8/16/32/64 and bool)'],
    ['a missing key', npy(`{'descr': '<f8', 'shape': (1,)}`, 8), 'not a valid .npy header: its keys are descr, shape, not descr, fortran_order, shape'],
    ['not a dict', npy('hello', 8), 'not a valid .npy header (expected \'{\' at character 1 of the header): "hello"'],
    ['text after the dict', npy(`${dict('<f8', '(1,)').trim()} x`, 8), 'not a valid .npy header (unexpected text after the dict at character 59 of the header): "{\'descr\': \'<f8\', \'fortran_order\': False, \'shape\': (1,), } x"'],
    ['a negative dimension', npy(dict('<f8', '(-1,)'), 8), 'not a valid .npy header (expected a non-negative integer at character 52 of the header): "{\'descr\': \'<f8\', \'fortran_order\': False, \'shape\': (-1,), }"'],
    ['a shape that is not a tuple', npy(dict('<f8', '(1)'), 8), 'not a valid .npy header (expected \',\' after a tuple\'s only element at character 53 of the header): "{\'descr\': \'<f8\', \'fortran_order\': False, \'shape\': (1), }"'],
    ['a dimension with a leading zero', npy(dict('<f8', '(01,)'), 8), 'not a valid .npy header (expected a non-negative integer at character 52 of the header): "{\'descr\': \'<f8\', \'fortran_order\': False, \'shape\': (01,), }"'],
    ['truncated data', npy(h10, 79), 'truncated .npy data: shape (10,) of <f8 needs 80 bytes after the 69-byte header, the file has 79'],
    ['bytes after the data', npy(h10, 88), '.npy file has 8 bytes after the data of shape (10,) of <f8 (losseval reads one array per .npy file)'],
  ];
  for (const [label, bytes, message] of cases) {
    it(label, async () => {
      const f = join(dir, `${label.replace(/\W+/g, '_')}.npy`);
      writeFileSync(f, bytes);
      await expectFailure(['-l', 'mse', f, join(FIX, 'targets.npy')], 1, exact(`losseval: error: ${f}: ${message}`));
    });
  }
  it('from stdin, where the length is known only at the end', async () => {
    const t = join(FIX, 'targets.npy');
    await expectFailure(['-l', 'mse', '--chunk-rows', '3', '-', t], 1,
      exact('losseval: error: <stdin>: truncated .npy data: shape (10,) of <f8 needs 80 bytes after the 69-byte header, the data ends after 79'),
      { stdin: npy(h10, 79) });
    await expectFailure(['-l', 'mse', '-', t], 1,
      exact('losseval: error: <stdin>: .npy file has 3 bytes after the data of shape (10,) of <f8 (losseval reads one array per .npy file)'),
      { stdin: npy(h10, 83) });
    await expectFailure(['-l', 'mse', '-', t], 1,
      exact('losseval: error: <stdin>: .npy header length 60000 runs past the end of the file (69 bytes)'),
      { stdin: npy(h10, 0, { length: 60000 }) });
  });
  it('a 2-D array in Fortran order is refused with how to save it in C order', async () => {
    await expectFailure(['-l', 'cross_entropy', 'fortran.npy', 'labels.csv'], 1,
      exact('losseval: error: fortran.npy: .npy array (40, 5) is in Fortran (column-major) order; losseval reads C order: save it with np.save(path, np.ascontiguousarray(a))'),
      { cwd: FIX });
  });
  it('row counts that differ are named as for any input', async () => {
    const f = join(dir, 'short.npy');
    writeFileSync(f, npy(dict('<f8', '(39,)'), 39 * 8));
    await expectFailure(['-l', 'mse', '--chunk-rows', '16', f, join(FIX, 'targets.npy')], 1,
      exact(`losseval: error: row counts differ: ${f} has 39 rows but ${join(FIX, 'targets.npy')} has 40 rows`));
  });
});

describe('files losseval does not read are recognised by their first bytes (exit 2)', () => {
  const READS = 'losseval reads CSV, TSV, Arrow IPC (file or stream), NumPy .npy (plain or gzipped) and Parquet';
  const zipOf = (name: string): Buffer => {
    const h = Buffer.alloc(30);
    h.write('PK\x03\x04', 'latin1');
    h.writeUInt16LE(name.length, 26);
    return Buffer.concat([h, Buffer.from(name), Buffer.alloc(20)]);
  };
  const cases: [string, string, Buffer, (f: string) => string][] = [
    ['.npz', 'arrays.npz', fixture('arrays.npz'), (f) => `${f}: a NumPy .npz archive (a zip of .npy files): extract it first (unzip ${f} gives one .npy per array) and pass the .npy files`],
    ['zip', 'data.zip', zipOf('data.csv'), (f) => `${f}: a zip archive: extract it first (unzip ${f}) (${READS})`],
    ['empty zip', 'empty.zip', Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'latin1'), (f) => `${f}: a zip archive: extract it first (unzip ${f}) (${READS})`],
    ['JSON object', 'x.json', Buffer.from('  {"preds": [1, 2]}\n'), (f) => `${f}: JSON, not CSV: convert it to CSV or Arrow first (${READS})`],
    ['JSON array', 'y.json', Buffer.from('[\n  [1.5, 2]\n]\n'), (f) => `${f}: JSON, not CSV: convert it to CSV or Arrow first (${READS})`],
    ['JSON Lines', 'z.jsonl', Buffer.from('{"p": 1}\n{"p": 2}\n'), (f) => `${f}: JSON, not CSV: convert it to CSV or Arrow first (${READS})`],
    ['xz', 'x.csv.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]), (f) => `${f}: compressed with xz: losseval decompresses gzip only; decompress it first (xz -d ${f}), or pipe it in: xz -dc ${f} | losseval … -`],
    ['zstd', 'x.csv.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]), (f) => `${f}: compressed with zstd: losseval decompresses gzip only; decompress it first (zstd -d ${f}), or pipe it in: zstd -dc ${f} | losseval … -`],
    ['bzip2', 'x.csv.bz2', Buffer.from('BZh91AY&SY\0\0', 'latin1'), (f) => `${f}: compressed with bzip2: losseval decompresses gzip only; decompress it first (bzip2 -d ${f}), or pipe it in: bzip2 -dc ${f} | losseval … -`],
  ];
  for (const [label, name, bytes, message] of cases) {
    it(label, async () => {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      await expectFailure(['-l', 'mse', f, join(FIX, 'targets.csv')], 2, exact(`losseval: error: ${message(f)}`));
    });
  }
  it('on stdin, the message says FILE where a command needs a name', async () => {
    await expectFailure(['-l', 'mse', '-', join(FIX, 'targets.csv')], 2,
      exact(`losseval: error: <stdin>: a zip archive: extract it first (unzip FILE) (${READS})`),
      { stdin: zipOf('data.csv') });
  });
  it('a CSV whose header starts with [ or { is still a CSV', async () => {
    writeFileSync(join(dir, 'brackets.csv'), '[p],{y}\n1,2\n4,2\n');
    expect(await ok(['-l', 'l1', '--target-cols', '{y}', join(dir, 'brackets.csv')])).toBe('1.5\n');
  });
});
