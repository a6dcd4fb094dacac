/**
 * NumPy `.npy` input (`np.save`): format versions 1.0, 2.0 and 3.0, little- and
 * big-endian float16/32/64, int8–64, uint8–64 and bool, in C order. A 1-D array
 * is one column (one value per row), a 2-D array one column of a vector per row
 * (logits, K targets), like an Arrow FixedSizeList column. The column has no
 * name: it is column `0`, as in a CSV without a header.
 *
 * The main thread parses the header and copies byte ranges, one chunk of rows at
 * a time, into fresh buffers (positional reads from a file; from a stream, what
 * it delivers): no per-value work here, and memory stays flat for any file size.
 * Each chunk is an Arrow-like ColumnSlice, converted in the workers by
 * sliceToFloat64 (big-endian values are decoded there: `bigEndian`), so the
 * answer is the same as for the same values in CSV or Arrow.
 *
 * Fortran order is read where it is the same layout as C order (1-D, or one row
 * or one column); a column-major 2-D array is refused with how to fix it.
 */
import { promises as fsp } from 'node:fs';
import type { ColumnSlice, NumericKind } from '../types.js';
import type { ByteSource } from './source.js';
import { MAX_VALUES_PER_ROW, type Table, type TableSource } from './table.js';
import { DataError } from '../errors.js';
import { numericArray } from '../parse/arrow-column.js';

/** The longest header read: numpy itself stops at 10 000 bytes unless told otherwise. */
export const MAX_NPY_HEADER_BYTES = 1 << 20;

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY

const SUPPORTED = 'float16/32/64, int8/16/32/64, uint8/16/32/64 and bool';

export interface NpyHeader {
  /** `1.0`, `2.0` or `3.0` */
  readonly version: string;
  /** Bytes before the data: magic, version, header length and header. */
  readonly dataOffset: number;
  /** The dtype as written, e.g. `<f8`. */
  readonly descr: string;
  readonly kind: NumericKind;
  readonly itemSize: number;
  readonly bigEndian: boolean;
  readonly shape: readonly number[];
  readonly rows: number;
  /** Values per row: 1 for a 1-D array, shape[1] for 2-D. */
  readonly width: number;
  /** Bytes of data the shape calls for. */
  readonly dataBytes: number;
}

/** Where the bytes come from: positional reads from a file, or a stream read in order. */
interface NpyBytes {
  /** Fill `out` from the current position; fewer bytes than asked only at the end. */
  read(out: Uint8Array): Promise<number>;
  /** Bytes consumed so far (raw, before gunzip when the source is gzipped), for progress. */
  consumed(): number;
  close(): Promise<void>;
}

/** `close` once, however often it is called. */
function once(close: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | null = null;
  return () => (p ??= close());
}

function fileBytes(fh: fsp.FileHandle): NpyBytes {
  let pos = 0;
  return {
    async read(out) {
      let o = 0;
      while (o < out.length) {
        const { bytesRead } = await fh.read(out, o, out.length - o, pos);
        if (bytesRead === 0) break;
        o += bytesRead;
        pos += bytesRead;
      }
      return o;
    },
    consumed: () => pos,
    close: once(() => fh.close()),
  };
}

function streamBytes(source: ByteSource): NpyBytes {
  const it = source.stream[Symbol.asyncIterator]();
  let left: Uint8Array = new Uint8Array(0);
  let ended = false;
  return {
    async read(out) {
      let o = 0;
      while (o < out.length) {
        if (left.length === 0) {
          if (ended) break;
          const r = await it.next();
          if (r.done) { ended = true; break; }
          left = r.value;
          continue;
        }
        const take = Math.min(left.length, out.length - o);
        out.set(left.subarray(0, take), o);
        left = left.subarray(take);
        o += take;
      }
      return o;
    },
    consumed: () => source.bytesRead(),
    close: once(async () => {
      source.close();
      await it.return?.();
    }),
  };
}

/** Bytes from the current position to the end (drains a stream, 1 MiB at a time). */
async function countToEnd(bytes: NpyBytes): Promise<number> {
  const buf = new Uint8Array(1 << 20);
  let n = 0;
  for (;;) {
    const got = await bytes.read(buf);
    n += got;
    if (got < buf.length) return n;
  }
}

const kinds: Record<string, { kind: NumericKind; size: number }> = {
  f2: { kind: 'f16', size: 2 }, f4: { kind: 'f32', size: 4 }, f8: { kind: 'f64', size: 8 },
  i1: { kind: 'i8', size: 1 }, i2: { kind: 'i16', size: 2 }, i4: { kind: 'i32', size: 4 }, i8: { kind: 'i64', size: 8 },
  u1: { kind: 'u8', size: 1 }, u2: { kind: 'u16', size: 2 }, u4: { kind: 'u32', size: 4 }, u8: { kind: 'u64', size: 8 },
  // numpy writes bools as bytes 0 and 1: read as uint8, so they are 0 and 1
  b1: { kind: 'u8', size: 1 },
};

type PyValue = string | boolean | bigint[] | { list: true };

/**
 * The header dict as numpy writes it (`{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }`):
 * string keys; string, True/False or tuple-of-integers values. A list value (a structured dtype's
 * descr) is returned as `{ list: true }`. Throws a string saying what is wrong.
 */
function parseDict(text: string): Map<string, PyValue> {
  let i = 0;
  const ws = (): void => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const fail = (what: string): never => {
    throw `${what} at character ${i + 1} of the header`;
  };
  const expect = (c: string): void => {
    ws();
    if (text[i] !== c) fail(`expected '${c}'`);
    i++;
  };
  const str = (): string => {
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a quoted string');
    const end = text.indexOf(q!, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) fail('escapes in strings are not supported');
    i = end + 1;
    return s;
  };
  const int = (): bigint => {
    // a Python 2 numpy wrote `(3L,)`; Python 3 refuses leading zeros (`010`), so does this
    const m = /^(0|[1-9]\d{0,99})[lL]?(?![\dxXoObB_.eE])/.exec(text.slice(i, i + 103));
    if (!m) fail('expected a non-negative integer');
    i += m![0].length;
    return BigInt(m![1]!);
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return str();
    if (text.startsWith('True', i)) { i += 4; return true; }
    if (text.startsWith('False', i)) { i += 5; return false; }
    if (c === '[') return { list: true };
    if (c === '(') {
      i++;
      const dims: bigint[] = [];
      for (;;) {
        ws();
        if (text[i] === ')') { i++; return dims; }
        dims.push(int());
        ws();
        if (text[i] === ',') { i++; continue; }
        // `(3)` is the number 3 in Python, not a tuple: numpy refuses it as a shape
        if (text[i] === ')' && dims.length > 1) { i++; return dims; }
        fail(dims.length === 1 ? "expected ',' after a tuple's only element" : "expected ',' or ')' in the shape");
      }
    }
    return fail('expected a string, True, False or a tuple');
  };
  const out = new Map<string, PyValue>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') { i++; break; }
    const key = str();
    expect(':');
    const v = value();
    if (typeof v === 'object' && 'list' in v) { out.set(key, v); return out; }
    if (out.has(key)) fail(`key '${key}' given twice`);
    out.set(key, v);
    ws();
    if (text[i] === ',') { i++; continue; }
    if (text[i] === '}') { i++; break; }
    fail("expected ',' or '}'");
  }
  ws();
  if (i < text.length) fail('unexpected text after the dict');
  return out;
}

function shapeText(shape: readonly (number | bigint)[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Read and check the header; the position is then at the first data byte. `total`: the file's
 * size when known (the data length is then checked here, before any row is read).
 */
async function readHeader(bytes: NpyBytes, file: string, total: number | null): Promise<NpyHeader> {
  const bad = (msg: string): DataError => new DataError(msg, { file });
  const pre = new Uint8Array(8);
  if (await bytes.read(pre) < 8) throw bad('truncated .npy file: it ends inside the magic and version');
  const major = pre[6]!, minor = pre[7]!;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw bad(`.npy format version ${major}.${minor} is not supported (losseval reads 1.0, 2.0 and 3.0)`);
  }
  const lenBytes = new Uint8Array(major === 1 ? 2 : 4);
  if (await bytes.read(lenBytes) < lenBytes.length) throw bad('truncated .npy file: it ends inside the header length');
  const dv = new DataView(lenBytes.buffer);
  const headerLen = major === 1 ? dv.getUint16(0, true) : dv.getUint32(0, true);
  const dataOffset = 8 + lenBytes.length + headerLen;
  if (headerLen > MAX_NPY_HEADER_BYTES) {
    throw bad(`.npy header length ${headerLen} is past the ${MAX_NPY_HEADER_BYTES} bytes losseval reads (a corrupt file?)`);
  }
  const headerBuf = new Uint8Array(headerLen);
  const got = await bytes.read(headerBuf);
  if (got < headerLen) {
    const size = total ?? 8 + lenBytes.length + got;
    throw bad(`.npy header length ${headerLen} runs past the end of the file (${size} bytes)`);
  }
  // 1.0 and 2.0 headers are latin-1, 3.0 UTF-8; the keys and values read here are ASCII either way
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBuf);
  let dict: Map<string, PyValue>;
  try {
    dict = parseDict(text);
  } catch (e) {
    if (typeof e !== 'string') throw e;
    throw bad(`not a valid .npy header (${e}): ${JSON.stringify(text.trim().slice(0, 80))}`);
  }
  const descr = dict.get('descr');
  if (typeof descr === 'object' && !Array.isArray(descr)) {
    throw bad(`.npy structured dtype (a record of fields) is not supported: save each field as its own .npy (losseval reads ${SUPPORTED})`);
  }
  const keys = [...dict.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    throw bad(`not a valid .npy header: its keys are ${keys || 'none'}, not descr, fortran_order, shape`);
  }
  const fortran = dict.get('fortran_order'), shape = dict.get('shape');
  if (typeof descr !== 'string') throw bad('not a valid .npy header: descr is not a string');
  if (typeof fortran !== 'boolean') throw bad('not a valid .npy header: fortran_order is not True or False');
  if (!Array.isArray(shape)) throw bad('not a valid .npy header: shape is not a tuple');
  const m = /^([<>|])([a-z]\d+)$/.exec(descr);
  const t = m ? kinds[m[2]!] : undefined;
  if (!m || !t || (m[1] === '|' && t.size !== 1)) {
    throw bad(`.npy dtype ${JSON.stringify(descr)} is not supported (losseval reads ${SUPPORTED}, either byte order)`);
  }
  if (shape.length > 2) {
    throw bad(`.npy shape ${shapeText(shape)} has ${shape.length} dimensions; losseval reads 1-D (one value per row) and 2-D (one vector per row) arrays: reshape it, e.g. a.reshape(len(a), -1)`);
  }
  const dataBytes = shape.reduce((a, b) => a * b, 1n) * BigInt(t.size);
  if (dataBytes > BigInt(Number.MAX_SAFE_INTEGER) || shape.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) {
    throw bad(`.npy shape ${shapeText(shape)} is too large: more than 2^53 bytes of data`);
  }
  const rows = shape.length === 0 ? 1 : Number(shape[0]!);
  const width = shape.length === 2 ? Number(shape[1]!) : 1;
  if (width === 0) throw bad(`.npy shape ${shapeText(shape)} has rows of 0 values`);
  if (width > MAX_VALUES_PER_ROW) {
    throw bad(`.npy shape ${shapeText(shape)} has ${width} values per row; at most ${MAX_VALUES_PER_ROW} are supported`);
  }
  if (fortran && rows > 1 && width > 1) {
    throw bad(`.npy array ${shapeText(shape)} is in Fortran (column-major) order; losseval reads C order: save it with np.save(path, np.ascontiguousarray(a))`);
  }
  const header: NpyHeader = {
    version: `${major}.0`, dataOffset, descr, kind: t.kind, itemSize: t.size, bigEndian: m[1] === '>' && t.size > 1,
    shape: shape.map(Number), rows, width, dataBytes: Number(dataBytes),
  };
  if (total !== null) checkLength(header, file, total - dataOffset, true);
  return header;
}

/** The data after the header must be exactly what the shape says. */
function checkLength(h: NpyHeader, file: string, have: number, isFile: boolean): void {
  if (have === h.dataBytes) return;
  const what = `shape ${shapeText(h.shape)} of ${h.descr}`;
  if (have < h.dataBytes) {
    throw new DataError(`truncated .npy data: ${what} needs ${h.dataBytes} bytes after the ${h.dataOffset}-byte header, ${isFile ? 'the file has' : 'the data ends after'} ${have}`, { file });
  }
  throw new DataError(`.npy file has ${have - h.dataBytes} bytes after the data of ${what} (losseval reads one array per .npy file)`, { file });
}


/** An `.npy` input as a Table of one column (`0`); `source` has been sniffed as `npy`. */
export async function openNpyTable(source: ByteSource): Promise<Table> {
  const file = source.name;
  let bytes: NpyBytes;
  let total: number | null = null;
  if (!source.gzip && source.path !== null && source.size !== null) {
    // a plain file: positional reads into each chunk's buffer, and the length checked up front
    source.close();
    bytes = fileBytes(await fsp.open(source.path, 'r'));
    total = source.size;
  } else {
    bytes = streamBytes(source);
  }
  let h: NpyHeader;
  try {
    h = await readHeader(bytes, file, total);
  } catch (e) {
    await bytes.close().catch(() => undefined);
    throw e;
  }
  const rowBytes = h.width * h.itemSize;
  let next = 0; // rows read
  let checked = total !== null;
  const tableSource: TableSource = {
    name: file, gzip: source.gzip, size: source.size,
    bytesRead: () => bytes.consumed(),
    close: () => void bytes.close().catch(() => undefined),
    finish: () => source.finish(),
  };
  /** After the last row of a stream: nothing may follow. */
  const checkEnd = async (): Promise<void> => {
    if (checked) return;
    checked = true;
    checkLength(h, file, h.dataBytes + await countToEnd(bytes), false);
  };
  return {
    source: tableSource, name: file, format: 'npy',
    columns: [{ name: null, width: h.width }],
    widths: (selected) => Promise.resolve(selected.map(() => h.width)),
    close: () => bytes.close().catch(() => undefined),
    async *chunks(selected, rowsPerChunk) {
      while (next < h.rows) {
        const start = next, n = Math.min(rowsPerChunk, h.rows - start);
        const buf = new ArrayBuffer(n * rowBytes);
        const got = await bytes.read(new Uint8Array(buf));
        if (got < buf.byteLength) checkLength(h, file, start * rowBytes + got, total !== null);
        next += n;
        if (next === h.rows) await checkEnd();
        const slices: ColumnSlice[] = selected.map((_, j) => ({
          kind: h.kind, rows: n, width: h.width,
          // a column selected twice gets its own copy: one buffer cannot be transferred twice
          values: numericArray(h.kind, j === 0 ? buf : buf.slice(0)),
          validity: null, childValidity: null, firstRow: start + 1,
          listOffsets: null, listPieces: null, widthRow: 0, file, column: '0',
          ...(h.bigEndian ? { bigEndian: true as const } : {}),
        }));
        yield { rows: n, transfer: slices.map((s) => s.values.buffer as ArrayBuffer), part: { kind: 'arrow', slices } };
      }
      await checkEnd();
    },
    countRest() {
      const left = h.rows - next;
      next = h.rows;
      return Promise.resolve(left);
    },
  };
}
