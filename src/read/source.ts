/**
 * Open an input (a path or `-` for stdin), look at its first bytes and tell
 * its format: gzip is unwrapped (by magic bytes, not by extension), then Arrow
 * IPC file / stream magic, Parquet's `PAR1` (its end magic is checked when the
 * footer is read), NumPy `.npy` magic, else CSV. Files losseval does not read
 * (zip / `.npz`, JSON, other compressions) are recognised too, to be refused with
 * a message saying what they are (refusal()), not parsed as CSV.
 */
import { promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { UsageError, DataError } from '../errors.js';
import { concat, readHead, replay } from './bytes.js';

export type InputFormat = 'csv' | 'arrow-file' | 'arrow-stream' | 'npy' | 'parquet' | RefusedFormat;

/** Formats recognised only to be refused with a message (see refusal()). */
export type RefusedFormat = 'npz' | 'zip' | 'json' | 'xz' | 'zstd' | 'bzip2';

export interface ByteSource {
  /** Name used in messages: the path as given, or `<stdin>`. */
  readonly name: string;
  readonly path: string | null;
  readonly format: InputFormat;
  readonly gzip: boolean;
  /** Size of the file on disk (compressed size for gzip), when known. */
  readonly size: number | null;
  /** The (decompressed) bytes, starting at byte 0. */
  readonly stream: AsyncIterable<Uint8Array>;
  /** Raw bytes consumed from the file or stdin so far (before decompression), for progress. */
  bytesRead(): number;
  /** Stop reading and release the file (used when a reader opens the path itself). */
  close(): void;
  /** After a successful read: make sure a gzip stream was whole (a reader may stop at an Arrow end marker). */
  finish(): Promise<void>;
}

/** Bytes looked at: enough for a zip's first member name (at byte 30) and some leading space before JSON. */
const HEAD = 64;

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

export function sniffFormat(head: Uint8Array): InputFormat {
  if (startsWith(head, ascii('ARROW1'))) return 'arrow-file';
  // IPC stream: continuation marker 0xFFFFFFFF then a metadata length (shorter: a truncated stream, not a CSV)
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff])) return 'arrow-stream';
  if (startsWith(head, [0x93, ...ascii('NUMPY')])) return 'npy';
  // "PAR1", then binary page data; a CSV header that starts with the name PAR1 goes on with a
  // delimiter or a line end (or ends there)
  if (head.length >= 5 && startsWith(head, ascii('PAR1')) &&
      ![0x2c, 0x09, 0x3b, 0x7c, 0x20, 0x0a, 0x0d].includes(head[4]!)) return 'parquet';
  // zip: a local file header, or the end record of an empty archive
  if (startsWith(head, ascii('PK\x03\x04'))) {
    // np.savez: the first member is `<name>.npy`
    const nameLen = head.length >= 28 ? head[26]! | (head[27]! << 8) : 0;
    const name = new TextDecoder('latin1').decode(head.subarray(30, 30 + nameLen));
    return nameLen > 0 && name.length === nameLen && name.endsWith('.npy') ? 'npz' : 'zip';
  }
  if (startsWith(head, ascii('PK\x05\x06'))) return 'zip';
  if (startsWith(head, [0xfd, ...ascii('7zXZ'), 0x00])) return 'xz';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  if (startsWith(head, [...ascii('BZh')]) && head[3]! >= 0x31 && head[3]! <= 0x39 && startsWith(head.subarray(4), [0x31, 0x41, 0x59, 0x26, 0x53, 0x59])) return 'bzip2';
  if (looksLikeJson(head)) return 'json';
  return 'csv';
}

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * JSON (or JSON Lines): the first non-space byte is `{` followed by `"` or `}`, or `[` followed by
 * what can start a JSON value or `]`. No CSV losseval reads starts so: a number cannot, and a header
 * would need a name beginning with `{"` or, say, `[1`.
 */
function looksLikeJson(head: Uint8Array): boolean {
  let i = 0;
  if (startsWith(head, [0xef, 0xbb, 0xbf])) i = 3; // a UTF-8 BOM
  while (i < head.length && isSpace(head[i])) i++;
  const c = head[i];
  if (c !== 0x7b && c !== 0x5b) return false;
  i++;
  while (i < head.length && isSpace(head[i])) i++;
  if (i >= head.length) return true;
  const d = String.fromCharCode(head[i]!);
  return c === 0x7b ? d === '"' || d === '}' : /[[{"\]\-0-9tfn]/.test(d);
}

/** What losseval reads, for the refusals. */
export const READS = 'losseval reads CSV, TSV, Arrow IPC (file or stream), NumPy .npy (plain or gzipped) and Parquet';

/** The error for an input in a format losseval recognises but does not read. */
export function refusal(format: RefusedFormat, name: string, gzip: boolean): UsageError {
  const gz = gzip ? 'gzipped ' : '';
  const file = name === '<stdin>' ? 'FILE' : name;
  switch (format) {
    case 'npz':
      return new UsageError(`${name}: a ${gz}NumPy .npz archive (a zip of .npy files): extract it first (unzip ${file} gives one .npy per array) and pass the .npy files`);
    case 'zip':
      return new UsageError(`${name}: a ${gz}zip archive: extract it first (unzip ${file}) (${READS})`);
    case 'json':
      return new UsageError(`${name}: ${gzip ? 'gzipped ' : ''}JSON, not CSV: convert it to CSV or Arrow first (${READS})`);
    case 'xz': case 'zstd': case 'bzip2': {
      const tool = { xz: 'xz', zstd: 'zstd', bzip2: 'bzip2' }[format];
      return new UsageError(`${name}: compressed with ${format}: losseval decompresses gzip only; decompress it first (${tool} -d ${file}), or pipe it in: ${tool} -dc ${file} | losseval … -`);
    }
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export async function openSource(path: string, stdin: NodeJS.ReadableStream): Promise<ByteSource> {
  let raw: AsyncIterable<Uint8Array> & { destroy?: () => void };
  let size: number | null = null;
  if (path === '-') {
    raw = stdin as Readable;
  } else {
    try {
      const st = await fsp.stat(path);
      if (st.isDirectory()) throw new UsageError(`${path}: is a directory`);
      size = st.isFile() ? st.size : null;
      const fh = await fsp.open(path, 'r');
      // the stream owns the FileHandle and closes it (never close the fd twice)
      raw = fh.createReadStream({ highWaterMark: 1 << 20 });
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UsageError(`${path}: no such file`);
      if (code === 'EACCES') throw new UsageError(`${path}: permission denied`);
      throw new UsageError(`${path}: cannot open (${(e as Error).message})`);
    }
  }
  return openStream(raw, path === '-' ? '<stdin>' : path, path === '-' ? null : path, size);
}

/**
 * A source over a byte stream: stdin, an opened file (`path`, `size`), or bytes a library caller
 * hands over (named `name` in messages). The stream is destroyed on close unless it is stdin.
 */
export async function openStream(
  raw: AsyncIterable<Uint8Array> & { destroy?: () => void }, name: string, path: string | null = null, size: number | null = null,
): Promise<ByteSource> {
  let consumed = 0;
  const counted = (async function* () {
    for await (const b of raw) {
      const u = b as Uint8Array;
      consumed += u.length;
      yield u;
    }
  })();
  const it = counted[Symbol.asyncIterator]();
  let parts: Uint8Array[] = [];
  let first = await readHead(it, parts, 0, HEAD);
  let head = concat(parts, HEAD);
  let stream: AsyncIterable<Uint8Array> = replay(parts, 0, it, first.done);
  const gzip = isGzip(head);
  // gzip: the decompressed stream, kept open if a reader stops early, so finish() can still
  // read to its end and catch a truncated or corrupt file
  let finish = (): Promise<void> => Promise.resolve();
  let gunzip: ReturnType<typeof createGunzip> | null = null;
  if (gzip) {
    const gz = createGunzip();
    gunzip = gz;
    const input = Readable.from(stream, { objectMode: false });
    input.on('error', (e) => gz.destroy(e));
    input.pipe(gz);
    const inner = gz[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    let ended = false;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      try {
        const r = await inner.next();
        if (r.done) ended = true;
        return r;
      } catch (e) {
        throw new DataError(`not a valid gzip stream (${(e as Error).message})`, { file: name });
      }
    };
    // no for-await here: leaving the loop would destroy the gunzip stream before finish()
    const decoded = (async function* () {
      for (;;) {
        const r = await next();
        if (r.done) return;
        yield r.value;
      }
    })();
    finish = async () => {
      while (!ended) await next();
    };
    const git = decoded[Symbol.asyncIterator]();
    parts = [];
    first = await readHead(git, parts, 0, HEAD);
    head = concat(parts, HEAD);
    stream = replay(parts, 0, git, first.done);
  }
  const format = sniffFormat(head);
  if (gzip && format === 'parquet') {
    gunzip?.destroy();
    if (name !== '<stdin>') raw.destroy?.();
    throw new UsageError(`${name}: a gzip-compressed Parquet file is not read: Parquet compresses its own pages ` +
      '(snappy, gzip, zstd… inside the file), so a whole-file gzip around it is not a Parquet input; gunzip it first');
  }
  const close = (): void => {
    gunzip?.destroy();
    if (name !== '<stdin>') raw.destroy?.();
  };
  return { name, path, format, gzip, size, stream, bytesRead: () => consumed, close, finish };
}
