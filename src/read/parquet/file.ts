/**
 * Random access to a Parquet input: a file read by position, or standard input spooled to
 * a temporary file first (Parquet's footer is at the end, so a stream cannot be read as it
 * comes). The spool is unlinked as soon as it is open: its data lives as long as the
 * descriptor, and nothing is left behind on any exit (the short window between creating
 * and unlinking it is covered by cleanup.ts on SIGINT/SIGTERM).
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { trackTempFile, untrackTempFile } from '../../cleanup.js';
import type { ChunkBytes } from '../../parse/parquet/column.js';

export interface RandomAccess {
  readonly size: number;
  /** The open descriptor (workers read chunks through it: threads share the process's descriptors). */
  readonly fd: number;
  /** Exactly `len` bytes at `pos` (a new buffer); past the end is an internal error (ranges are checked first). */
  read(pos: number, len: number): Uint8Array;
  /** Bytes read so far (for progress). */
  bytesRead(): number;
  close(): void;
}

function fromFd(fd: number): RandomAccess {
  const size = fstatSync(fd).size;
  let total = 0;
  let open = true;
  return {
    size,
    fd,
    read(pos, len) {
      if (pos < 0 || len < 0 || pos + len > size) throw new Error(`internal: read of ${len} bytes at ${pos} in a ${size}-byte file`);
      const out = new Uint8Array(len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, out, got, len - got, pos + got);
        if (n === 0) throw new Error(`file shrank while being read (${pos + got} of ${size} bytes)`);
        got += n;
      }
      total += len;
      return out;
    },
    bytesRead: () => total,
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

export function openFile(path: string): RandomAccess {
  return fromFd(openSync(path, 'r'));
}

/** Spool a stream to an unlinked temporary file and read that. */
export async function spool(stream: AsyncIterable<Uint8Array>): Promise<RandomAccess> {
  const path = join(tmpdir(), `losseval-${process.pid}-${randomBytes(6).toString('hex')}.parquet`);
  trackTempFile(path);
  let fd: number;
  try {
    fd = openSync(path, 'wx+', 0o600);
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // not created
    }
    untrackTempFile(path);
  }
  try {
    let at = 0;
    for await (const b of stream) {
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off, at + off);
      at += b.length;
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fromFd(fd);
}

/** A column chunk's bytes, read in windows of up to WINDOW bytes (a page larger than that in one read). */
const WINDOW = 4 << 20;

export function chunkBytes(file: RandomAccess, start: number, length: number): ChunkBytes {
  let wStart = 0;
  let win: Uint8Array = new Uint8Array(0);
  return {
    length,
    read(pos, len) {
      if (pos < 0 || len < 0 || pos + len > length) throw new Error(`internal: read of ${len} bytes at ${pos} in a ${length}-byte column chunk`);
      if (pos >= wStart && pos + len <= wStart + win.length) return win.subarray(pos - wStart, pos - wStart + len);
      const n = Math.max(len, Math.min(WINDOW, length - pos));
      win = file.read(start + pos, n);
      wStart = pos;
      return win.subarray(0, len);
    },
  };
}
