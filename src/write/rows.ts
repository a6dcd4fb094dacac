/**
 * Reduction none: per-row losses in input order, as CSV (stdout or a file), an
 * Arrow IPC file or a Parquet file. Files are written under a temporary name and renamed at
 * the end, so a failed run leaves nothing behind; stdout is spooled to a
 * temporary file and copied out only when the run succeeded (no partial
 * output on stdout either).
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { ArrowRowWriter } from './arrow.js';
import { DataError, UsageError } from '../errors.js';
import { trackTempFile, untrackTempFile } from '../cleanup.js';

/** The format of per-row output to `path` (by its extension; null: stdout, as CSV). */
export function rowOutputFormat(path: string | null): 'csv' | 'arrow' | 'parquet' {
  if (path !== null && /\.(arrow|feather|ipc)$/i.test(path)) return 'arrow';
  if (path !== null && /\.parquet$/i.test(path)) return 'parquet';
  return 'csv';
}

export interface RowSink {
  readonly format: 'csv' | 'arrow' | 'parquet';
  writeCsv(bytes: Uint8Array): Promise<void>;
  writeColumns(columns: readonly Float64Array[], rows: number): Promise<void>;
  /** Make the output visible: rename into place, or copy the spool to stdout. */
  commit(): Promise<void>;
  /** Remove the temporary file. Safe to call after commit or twice. */
  abort(): Promise<void>;
}

function tempNameBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * A file write stream whose first error is kept and rethrown by the next write
 * or by end(): a failed write (a full disk) must fail the run, never be lost.
 */
class Output {
  private failed: Error | null = null;

  constructor(readonly ws: WriteStream) {
    ws.on('error', (e) => {
      this.failed ??= e;
    });
  }

  private check(): void {
    if (this.failed) throw this.failed;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.check();
    if (!this.ws.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.ws.off('drain', done);
          this.ws.off('error', done);
          this.ws.off('close', done);
          resolve();
        };
        this.ws.on('drain', done);
        this.ws.on('error', done);
        this.ws.on('close', done);
      });
    }
    this.check();
  }

  async end(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => {
      if (this.ws.destroyed) resolve();
      else this.ws.end(() => resolve());
      this.ws.once('error', () => resolve());
    });
    this.check();
  }
}

/** An I/O failure while writing output (a full disk, say) as a data error naming the file. */
function writeFailure(file: string, e: unknown): DataError {
  const err = e as NodeJS.ErrnoException;
  return new DataError(`cannot write (${err.code ? `${err.code}: ` : ''}${err.message.replace(/^\w+: /, '')})`, { file });
}

/** Run `f`, turning I/O errors into writeFailure(file). */
async function io<T>(file: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof DataError || e instanceof UsageError) throw e;
    throw writeFailure(file, e);
  }
}

export async function openRowSink(
  output: string | null,
  header: readonly string[],
  stdout: NodeJS.WritableStream,
): Promise<RowSink> {
  const format = rowOutputFormat(output);
  const temp = output === null ? join(tmpdir(), `losseval-${process.pid}-${randomBytes(4).toString('hex')}.csv`) : tempNameBeside(output);
  let done = false;
  trackTempFile(temp);
  const abort = async (): Promise<void> => {
    if (done) return;
    done = true;
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    untrackTempFile(temp);
  };
  const openError = (e: unknown): never => {
    throw new UsageError(`${output ?? temp}: cannot write (${(e as Error).message})`);
  };
  if (output !== null) await checkWritableDir(output);
  if (format !== 'csv') {
    let w: ArrowRowWriter;
    // each writer's library is loaded only for its own output
    const create = format === 'arrow'
      ? (await import('./arrow.js')).createArrowFileWriter
      : (await import('./parquet.js')).createParquetFileWriter;
    try {
      w = await create(temp, [...header]);
    } catch (e) {
      return openError(e);
    }
    return {
      format,
      writeCsv: () => Promise.reject(new Error('internal: CSV bytes for an Arrow sink')),
      writeColumns: (cols, rows) => io(output!, () => w.write([...cols], rows)),
      async commit() {
        await io(output!, async () => {
          await w.close();
          await fsp.rename(temp, output!);
        });
        done = true;
        untrackTempFile(temp);
      },
      async abort() {
        await w.close().catch(() => undefined);
        await abort();
      },
    };
  }
  const ws = createWriteStream(temp, { flags: 'wx' });
  const out = new Output(ws);
  try {
    await once(ws, 'open');
  } catch (e) {
    openError(e);
  }
  const target = output ?? `${temp} (spool of standard output)`;
  await io(target, () => out.write(new TextEncoder().encode(header.map(csvField).join(',') + '\n')));
  return {
    format: 'csv',
    writeCsv: (bytes) => io(target, () => out.write(bytes)),
    writeColumns: () => Promise.reject(new Error('internal: columns for a CSV sink')),
    async commit() {
      await io(target, () => out.end());
      if (output !== null) {
        await io(output, () => fsp.rename(temp, output));
        done = true;
        untrackTempFile(temp);
        return;
      }
      // the spool is removed once open, before the copy starts: a copy cut short (a closed
      // stdout ends the process at once, src/cli/main.ts) leaves nothing behind
      const fh = await io(target, () => fsp.open(temp, 'r'));
      await abort();
      await pipeline(fh.createReadStream(), stdout, { end: false });
    },
    async abort() {
      ws.destroy();
      await abort();
    },
  };
}

/** Fail early (before reading any row) when the directory of `path` cannot take a new file. */
export async function checkWritableDir(path: string): Promise<void> {
  try {
    await fsp.access(dirname(path), 2 /* W_OK */);
    const st = await fsp.stat(dirname(path));
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: cannot write (${code === 'ENOENT' ? 'no such directory' : code ?? (e as Error).message})`);
  }
}

/** Quote a header name when CSV needs it. */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
