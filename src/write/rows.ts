/**
 * Reduction none: per-row losses in input order, as CSV (stdout or a file) or
 * an Arrow IPC file. Files are written under a temporary name and renamed at
 * the end, so a failed run leaves nothing behind; stdout is spooled to a
 * temporary file and copied out only when the run succeeded (no partial
 * output on stdout either).
 */
import { createWriteStream, createReadStream, promises as fsp, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { ArrowRowWriter } from './arrow.js';
import { UsageError } from '../errors.js';

export interface RowSink {
  readonly format: 'csv' | 'arrow';
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

async function writeChunk(ws: WriteStream, bytes: Uint8Array): Promise<void> {
  if (!ws.write(bytes)) await once(ws, 'drain');
}

async function endStream(ws: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.end(() => resolve());
  });
}

export async function openRowSink(
  output: string | null,
  header: readonly string[],
  stdout: NodeJS.WritableStream,
): Promise<RowSink> {
  const isArrow = output !== null && /\.(arrow|feather|ipc)$/i.test(output);
  const temp = output === null ? join(tmpdir(), `losseval-${process.pid}-${randomBytes(4).toString('hex')}.csv`) : tempNameBeside(output);
  let done = false;
  const abort = async (): Promise<void> => {
    if (done) return;
    done = true;
    await fsp.rm(temp, { force: true });
  };
  const openError = (e: unknown): never => {
    throw new UsageError(`${output ?? temp}: cannot write (${(e as Error).message})`);
  };
  if (output !== null) {
    // fail early on an unwritable target directory
    try {
      await fsp.access(dirname(output), 2 /* W_OK */);
    } catch (e) {
      openError(e);
    }
  }
  if (isArrow) {
    let w: ArrowRowWriter;
    const { createArrowFileWriter } = await import('./arrow.js');
    try {
      w = await createArrowFileWriter(temp, [...header]);
    } catch (e) {
      return openError(e);
    }
    return {
      format: 'arrow',
      writeCsv: () => Promise.reject(new Error('internal: CSV bytes for an Arrow sink')),
      writeColumns: (cols, rows) => w.write([...cols], rows),
      async commit() {
        await w.close();
        await fsp.rename(temp, output!);
        done = true;
      },
      async abort() {
        await w.close().catch(() => undefined);
        await abort();
      },
    };
  }
  const ws = createWriteStream(temp, { flags: 'wx' });
  ws.on('error', () => undefined); // surfaced by the awaited write/end calls
  try {
    await once(ws, 'open');
  } catch (e) {
    openError(e);
  }
  await writeChunk(ws, new TextEncoder().encode(header.map(csvField).join(',') + '\n'));
  return {
    format: 'csv',
    writeCsv: (bytes) => writeChunk(ws, bytes),
    writeColumns: () => Promise.reject(new Error('internal: columns for a CSV sink')),
    async commit() {
      await endStream(ws);
      if (output !== null) {
        await fsp.rename(temp, output);
        done = true;
        return;
      }
      try {
        await pipeline(createReadStream(temp), stdout, { end: false });
      } finally {
        await abort();
      }
    },
    async abort() {
      ws.destroy();
      await abort();
    },
  };
}

/** Quote a header name when CSV needs it. */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
