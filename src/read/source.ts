/**
 * Open an input (a path or `-` for stdin), look at its first bytes and tell
 * its format: gzip is unwrapped (by magic bytes, not by extension), then Arrow
 * IPC file / stream magic, Parquet's `PAR1` (its end magic is checked when the
 * footer is read), else CSV.
 */
import { promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { UsageError, DataError } from '../errors.js';
import { concat, readHead, replay } from './bytes.js';

export type InputFormat = 'csv' | 'arrow-file' | 'arrow-stream' | 'parquet';

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

const HEAD = 16;

export function sniffFormat(head: Uint8Array): InputFormat {
  // "ARROW1" file magic
  if (head.length >= 6 && head[0] === 0x41 && head[1] === 0x52 && head[2] === 0x52 &&
      head[3] === 0x4f && head[4] === 0x57 && head[5] === 0x31) return 'arrow-file';
  // IPC stream: continuation marker 0xFFFFFFFF followed by a metadata length
  if (head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'arrow-stream';
  // "PAR1", then binary page data; a CSV header that starts with the name PAR1 goes on with a
  // delimiter or a line end (or ends there)
  if (head.length >= 5 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31 &&
      ![0x2c, 0x09, 0x3b, 0x7c, 0x20, 0x0a, 0x0d].includes(head[4]!)) return 'parquet';
  return 'csv';
}

function isGzip(head: Uint8Array): boolean {
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
