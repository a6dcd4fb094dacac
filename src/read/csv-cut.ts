/**
 * CSV row cutter (main-thread side): splits a byte stream into blocks of exactly
 * `rowsPerBlock` rows (the last block may be shorter) without parsing any value.
 *
 * Shape: `cutCsv(source, opts)` returns `{ header, blocks }`.
 *  - `header` is a promise, started eagerly (reading of the source begins at the call), that
 *    resolves once the first row has been read. It can be awaited before, during or without
 *    iterating `blocks` (a rejection is also marked handled, so ignoring `header` is safe).
 *  - `blocks` may be iterated once. If the header failed, iterating rethrows that error.
 *
 * Rows end at '\n' outside quotes. The quote state toggles on every '"' byte: for valid
 * RFC 4180 that is exact ("" toggles twice), and parseCsvChunk rejects every '"' that is not at
 * the start/end of a quoted field, so cutter and parser always agree on row ends.
 * The newline at the end of the file makes no row; bytes after the last newline form a final
 * row; an unterminated quote at EOF is passed through as the (last) row of the last block, where
 * parseCsvChunk reports it as kind 'quote'.
 *
 * Blank lines ('\n' or '\r\n' alone, and a lone '\r' at the end) in a file of two or more fields
 * per row are no rows: they are not counted as rows (they are counted as lines), a block's N rows
 * are N non-blank ones, and blank lines after the last row join the last block (so no block of
 * rows holds none, unless the data holds no row at all). parseCsvChunk skips them by the same
 * rule. In a one-field file a blank line is a row (an empty field: NaN). With header:false the
 * field count is that of the first non-blank line.
 *
 * A UTF-8 BOM at the start of the file is dropped. Each block's `bytes` is a fresh Uint8Array at
 * offset 0 of its own ArrayBuffer (safe to transfer; the buffer may have slack beyond `byteLength`:
 * up to ~25% when cut by rows; when cut by size, one source chunk, or more in a reused buffer —
 * read/spare.ts). Memory stays bounded by about one block plus one source chunk: source chunks
 * are copied, never retained, and a block spanning many chunks grows geometrically.
 */

import { spareBuffer } from './spare.js';
import { skipRowsWasm } from '../parse/wasm-scan.js';

export interface RowBlock {
  bytes: Uint8Array;
  /** rows in the block; null when cut by bytes without counting (the parser counts them) */
  rows: number | null;
  /**
   * 1-based physical line number of the block's first row (the header being line 1 when
   * present); null when an earlier block's line count is unknown (it follows that block).
   */
  firstLine: number | null;
  /** physical line breaks ('\n') inside the block; null when not counted */
  lines: number | null;
}

export interface CutOptions {
  /** read when the iteration of `blocks` starts (so it may be set after the header is known) */
  rowsPerBlock: number;
  /**
   * Read when the iteration starts: when set, blocks are cut by size instead (see cutByBytes):
   * at least this many bytes, ending at a row end, rows not counted on this thread.
   */
  bytesPerBlock?: number | null;
  header: boolean;
  /** delimiter byte, e.g. 44 or 9 */
  delimiter: number;
  /**
   * Largest single row (and header) accepted, in bytes; default 256 MiB. Guards memory against
   * an unterminated quote, which makes the rest of the file one row: CsvCutError kind 'size'.
   */
  maxRowBytes?: number;
}

export interface CsvHeader {
  /** column names (null with header:false) */
  names: string[] | null;
  /** fields per row: from the header, or from the first data row when header:false (0 if the file is empty) */
  fieldCount: number;
}

/**
 * A cutting error: a malformed header row (header:true only), or a row larger than
 * `maxRowBytes` (almost always an unterminated quoted field). `line` is 1-based in the file.
 */
export class CsvCutError extends Error {
  readonly line: number;
  readonly kind: 'quote' | 'size';
  /**
   * Blocks cut by bytes: `line` counts from the first line after the blocks yielded so far
   * (1 = that line), whose number only their parsed line counts tell; the message then says
   * "line +1" and the caller, knowing those counts, restates it (see withLine).
   */
  readonly relative: boolean;
  constructor(message: string, line: number, kind: 'quote' | 'size', relative = false) {
    super(message);
    this.name = 'CsvCutError';
    this.line = line;
    this.kind = kind;
    this.relative = relative;
  }

  /** The same error at absolute line `line`. */
  withLine(line: number): CsvCutError {
    return new CsvCutError(this.message.replace(/^row at line \S+/, `row at line ${line}`), line, this.kind);
  }
}

/** Delimiters the cutter and parser accept: one byte, not '\n', '\r', '"', nor a number character. */
export function checkDelimiter(delimiter: number): void {
  const ok =
    Number.isInteger(delimiter) &&
    delimiter >= 0 &&
    delimiter <= 255 &&
    delimiter !== 10 &&
    delimiter !== 13 &&
    delimiter !== 34 &&
    !(delimiter >= 48 && delimiter <= 57) &&
    delimiter !== 43 && // +
    delimiter !== 45 && // -
    delimiter !== 46 && // .
    delimiter !== 69 && // E
    delimiter !== 101; // e
  if (!ok) throw new RangeError(`invalid CSV delimiter byte ${delimiter}`);
}

const LF = 10;
const QUOTE = 34;

/** Mutable scan state carried across source chunks. */
export interface CutScanState {
  inQuote: boolean;
  /** rows completed by the last scan call */
  rows: number;
  /** '\n' bytes seen by the last scan call */
  lfs: number;
  /** value of `lfs` at the last row end seen by the last scan call (-1: no row end) */
  lastRowLfs?: number;
  /** index just after the last row end seen by the last scan call (-1: no row end) */
  lastRowEnd?: number;
  /**
   * Skip blank lines (files of two or more fields, see the module doc): they end no row and do
   * not count toward `want`; they are counted in `lfs` and `blanks`, and a blank line's end is a
   * row end for `lastRowEnd` / `lastRowLfs` (the next row starts after it).
   */
  skipBlank?: boolean;
  /** skipBlank: blank lines seen by the last scan call */
  blanks?: number;
  /** skipBlank: what the open line holds so far, carried across calls: 0 nothing, 1 a '\r', 2 more */
  open?: 0 | 1 | 2;
  /** skipBlank: the last look for a blank line (buffer, range, where found), to look only once per range */
  blankBuf?: Uint8Array;
  blankFrom?: number;
  blankEnd?: number;
  blankAt?: number;
}

/**
 * The cutter's inner loop: scan b[i, n) for row ends ('\n' outside quotes). Stops right after
 * the `want`-th row end and returns that index, or returns -1 when the range is exhausted.
 * On return, st.rows / st.lfs hold the rows and newlines seen in this call; st.inQuote is updated.
 *
 * Outside quotes, quote-free text is first skipped by counting its newlines a word at a time
 * (fastForward); the byte-level scan (scanRowsBytes) takes over at the first quote or near
 * the wanted row.
 */
export function scanRows(b: Uint8Array, i: number, n: number, want: number, st: CutScanState): number {
  if (st.skipBlank === true) return scanRowsSkippingBlanks(b, i, n, want, st);
  return scanRowsPlain(b, i, n, want, st);
}

function scanRowsPlain(b: Uint8Array, i: number, n: number, want: number, st: CutScanState): number {
  if (st.inQuote || want < 8) return scanRowsBytes(b, i, n, want, st);
  const ff = skipRowsWasm(b, i, n, want) ?? fastForward(b, i, n, want);
  const r = scanRowsBytes(b, ff.pos, n, want - ff.rows, st);
  if (ff.rows > 0) {
    const lastLfs = st.lastRowLfs ?? -1;
    st.lastRowLfs = lastLfs >= 0 ? ff.rows + lastLfs : ff.rows;
    if ((st.lastRowEnd ?? -1) < 0) st.lastRowEnd = ff.lastRowEnd;
    st.rows += ff.rows;
    st.lfs += ff.rows;
  }
  return r;
}

const CR = 13;
const LF_LF = Buffer.from([LF, LF]);
const LF_CR_LF = Buffer.from([LF, CR, LF]);

/**
 * Where the next blank line in b[i, n) may start: just after the first "\n\n" or "\n\r\n" (quotes
 * not considered), or n. Found by native search; a range is searched once (st caches the answer).
 */
function nextBlankLine(b: Uint8Array, i: number, n: number, st: CutScanState): number {
  if (st.blankBuf === b && st.blankEnd === n && st.blankFrom! <= i && st.blankAt! > i) return st.blankAt!;
  const view = Buffer.from(b.buffer, b.byteOffset, n);
  const a = view.indexOf(LF_LF, i);
  const c = view.indexOf(LF_CR_LF, i);
  let at = n;
  if (a >= 0) at = a + 1;
  if (c >= 0 && c + 1 < at) at = c + 1;
  st.blankBuf = b;
  st.blankFrom = i;
  st.blankEnd = n;
  st.blankAt = at;
  return at;
}

/**
 * scanRows for files of two or more fields: blank lines are no rows. Quote-free text between
 * blank lines goes through the fast scan; a blank line is only looked for where the native
 * search found "\n\n" or "\n\r\n" (and at the start of the range, from the carried `open`).
 */
function scanRowsSkippingBlanks(b: Uint8Array, i: number, n: number, want: number, st: CutScanState): number {
  let rows = 0, lfs = 0, blanks = 0, lastRowLfs = -1, lastRowEnd = -1;
  let open = st.open ?? 0;
  const sub: CutScanState = { inQuote: st.inQuote, rows: 0, lfs: 0 };
  const done = (ret: number): number => {
    st.rows = rows;
    st.lfs = lfs;
    st.blanks = blanks;
    st.lastRowLfs = lastRowLfs;
    st.lastRowEnd = lastRowEnd;
    st.open = open;
    return ret;
  };
  while (i < n) {
    if (!st.inQuote && open !== 2) {
      const c = b[i]!;
      if (c === LF || (c === CR && open === 0 && i + 1 < n && b[i + 1] === LF)) {
        // a blank line ends here
        i += c === LF ? 1 : 2;
        lfs++;
        blanks++;
        lastRowLfs = lfs;
        lastRowEnd = i;
        open = 0;
        continue;
      }
      if (c === CR && open === 0 && i + 1 === n) {
        // a '\r' at the end of the range: the line may be "\r\n", blank; the next range tells
        open = 1;
        return done(-1);
      }
      open = 2;
    }
    // up to where the next blank line may start, the lines are not blank
    const stop = nextBlankLine(b, i, n, st);
    sub.inQuote = st.inQuote;
    const end = scanRowsPlain(b, i, stop, want - rows, sub);
    st.inQuote = sub.inQuote;
    if (sub.lastRowLfs! >= 0) {
      lastRowLfs = lfs + sub.lastRowLfs!;
      lastRowEnd = sub.lastRowEnd!;
    }
    rows += sub.rows;
    lfs += sub.lfs;
    if (end >= 0) {
      open = 0;
      return done(end);
    }
    // the open line at `stop`: empty after a row end, else it holds bytes (a '\r' at most, when the
    // range ends in "\n\r")
    const last = b[stop - 1]!;
    if (st.inQuote) open = 2;
    else if (last === LF) open = 0;
    else if (last === CR && stop - 2 >= i && b[stop - 2] === LF) open = 1;
    else open = 2;
    i = stop;
  }
  return done(-1);
}

/** Bytes whose value is b in each lane of a little-endian 32-bit word: a 0x80 bit per matching byte. */
function lanesEqual(x: number, pattern: number): number {
  const y = x ^ pattern;
  return ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080;
}

/**
 * Outside quotes: skip whole words of quote-free text holding fewer than `want` newlines
 * in all (every newline there ends a row). Returns where the byte scan must resume, the rows
 * skipped and the index after the last of them (-1 if none).
 */
function fastForward(b: Uint8Array, i: number, n: number, want: number): { pos: number; rows: number; lastRowEnd: number } {
  const off = b.byteOffset;
  const p = i + ((4 - ((off + i) & 3)) & 3);
  const nw = p < n ? (n - p) >> 2 : 0;
  if (nw < 16) return { pos: i, rows: 0, lastRowEnd: -1 };
  // the unaligned head is left to the byte scan unless it is plain
  for (let j = i; j < p; j++) if (b[j] === QUOTE || b[j] === LF) return { pos: i, rows: 0, lastRowEnd: -1 };
  const w = new Uint32Array(b.buffer, off + p, nw);
  let rows = 0, last = -1, k = 0;
  for (; k < nw; k++) {
    const x = w[k]!;
    if (lanesEqual(x, 0x22222222) !== 0) break;
    const lf = lanesEqual(x, 0x0a0a0a0a);
    if (lf !== 0) {
      const c = Math.imul(lf >>> 7, 0x01010101) >>> 24;
      if (rows + c >= want) break;
      rows += c;
      last = k;
    }
  }
  let lastRowEnd = -1;
  if (last >= 0) {
    const base = p + (last << 2);
    for (let j = 3; j >= 0; j--) {
      if (b[base + j] === LF) {
        lastRowEnd = base + j + 1;
        break;
      }
    }
  }
  return { pos: p + (k << 2), rows, lastRowEnd };
}

/** The byte-level scan behind scanRows (same contract). */
function scanRowsBytes(b: Uint8Array, i: number, n: number, want: number, st: CutScanState): number {
  let q = st.inQuote;
  let rows = 0;
  let lfs = 0;
  let lastRowLfs = -1;
  let lastRowEnd = -1;
  // bytes [i, lim) are walked one by one; aligned words w[k..] are tested 4 bytes at a time
  const off = b.byteOffset;
  const a0 = Math.min(n, i + ((4 - ((off + i) & 3)) & 3));
  const nw = (n - a0) >> 2;
  const w = nw > 0 ? new Uint32Array(b.buffer, off + a0, nw) : null;
  let lim = a0;
  let k = 0;
  for (;;) {
    for (; i < lim; i++) {
      const c = b[i]!;
      if (c < 35) {
        if (c === LF) {
          lfs++;
          if (!q) {
            lastRowLfs = lfs;
            lastRowEnd = i + 1;
            if (++rows === want) {
              st.inQuote = q;
              st.rows = rows;
              st.lfs = lfs;
              st.lastRowLfs = lastRowLfs;
              st.lastRowEnd = lastRowEnd;
              return i + 1;
            }
          }
        } else if (c === QUOTE) {
          q = !q;
        }
      }
    }
    if (i >= n) break;
    if (w !== null && k < nw) {
      for (; k < nw; k++) {
        const x = w[k]!;
        const y = x ^ 0x0a0a0a0a;
        const z = x ^ 0x22222222;
        if (((((y - 0x01010101) & ~y) | ((z - 0x01010101) & ~z)) & 0x80808080) !== 0) break;
      }
      i = a0 + (k << 2);
      if (k < nw) {
        lim = i + 4;
        k++;
      } else {
        lim = n;
      }
    } else {
      lim = n;
    }
  }
  st.inQuote = q;
  st.rows = rows;
  st.lfs = lfs;
  st.lastRowLfs = lastRowLfs;
  st.lastRowEnd = lastRowEnd;
  return -1;
}

/**
 * Count the rows of a whole in-memory CSV body (no header handling): final unterminated row counts;
 * with `skipBlank` (two or more fields) blank lines do not.
 */
export function countRows(b: Uint8Array, skipBlank = false): number {
  const st: CutScanState = { inQuote: false, rows: 0, lfs: 0, skipBlank };
  scanRows(b, 0, b.length, Infinity, st);
  const n = b.length;
  return st.rows + (n > 0 && openRow(st, b[n - 1]!) ? 1 : 0);
}

/** After a scan up to the end of the data: is there an unterminated row (last byte `last`)? */
function openRow(st: CutScanState, last: number): boolean {
  return st.skipBlank === true ? st.inQuote || st.open === 2 : st.inQuote || last !== LF;
}

/**
 * Skip blank lines from a line start i in b[i, n): the index of the first non-blank line (or n),
 * the '\n' bytes skipped, and whether b ends in a '\r' left open (it may begin "\r\n").
 */
function skipBlankLines(b: Uint8Array, i: number, n: number): { at: number; lfs: number; cr: boolean } {
  let lfs = 0;
  while (i < n) {
    const c = b[i]!;
    if (c === LF) {
      lfs++;
      i++;
    } else if (c === CR && i + 1 < n && b[i + 1] === LF) {
      lfs++;
      i += 2;
    } else if (c === CR && i + 1 === n) {
      return { at: n, lfs, cr: true };
    } else {
      return { at: i, lfs, cr: false };
    }
  }
  return { at: n, lfs, cr: false };
}

/**
 * Where a block of b[0, len) cut by size ends: just after the first row end at index >= target - 1
 * (-1: none yet), with its rows and lines when they had to be counted (the block holds a quote).
 */
function findCut(b: Uint8Array, len: number, target: number, skipBlank: boolean): { cut: number; rows: number | null; lines: number | null; inQuote: boolean } {
  const from = Math.min(target, len) - 1;
  const view = Buffer.from(b.buffer, b.byteOffset, len);
  const lf = view.indexOf(LF, from);
  const q = view.indexOf(QUOTE);
  if (q < 0 || (lf >= 0 && q > lf)) return { cut: lf < 0 ? -1 : lf + 1, rows: null, lines: null, inQuote: false };
  // quotes: the state at `from`, then the first row end from there
  const st: CutScanState = { inQuote: false, rows: 0, lfs: 0, skipBlank };
  scanRows(b, 0, from, Infinity, st);
  const rows = st.rows, lfs = st.lfs;
  const end = scanRows(b, from, len, 1, st);
  return end < 0
    ? { cut: -1, rows: null, lines: null, inQuote: st.inQuote }
    : { cut: end, rows: rows + 1, lines: lfs + st.lfs, inQuote: false };
}

/** Like findCut, for the last row end in b[0, len). */
function findLastCut(b: Uint8Array, len: number, skipBlank: boolean): { cut: number; rows: number | null; lines: number | null; inQuote: boolean } {
  const view = Buffer.from(b.buffer, b.byteOffset, len);
  const lf = view.lastIndexOf(LF);
  const q = view.indexOf(QUOTE);
  if (q < 0 || q > lf) return { cut: lf < 0 ? -1 : lf + 1, rows: null, lines: null, inQuote: q >= 0 };
  const st: CutScanState = { inQuote: false, rows: 0, lfs: 0, skipBlank };
  scanRows(b, 0, len, Infinity, st);
  const end = st.lastRowEnd ?? -1;
  return end < 0 ? { cut: -1, rows: null, lines: null, inQuote: st.inQuote } : { cut: end, rows: st.rows, lines: st.lastRowLfs!, inQuote: false };
}

/** A buffer of at least `cap` bytes: a spare one if any is large enough (contents undefined). */
function newBlockBuffer(cap: number): Uint8Array {
  return new Uint8Array(spareBuffer(cap));
}

/** Growable byte accumulator whose buffer is handed out as a block. */
class Acc {
  buf: Uint8Array = new Uint8Array(0);
  len = 0;
  hint = 64 * 1024;
  /** take new buffers from the spares (blocks cut by size, whose buffers the workers hand back) */
  reuse = false;

  private alloc(cap: number): Uint8Array {
    return this.reuse ? newBlockBuffer(cap) : new Uint8Array(cap);
  }

  append(src: Uint8Array, s: number, e: number): void {
    const k = e - s;
    if (k <= 0) return;
    const need = this.len + k;
    if (need > this.buf.length) {
      let cap = Math.max(this.hint, this.buf.length * 2, 1024);
      while (cap < need) cap *= 2;
      const nb = this.alloc(cap);
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.buf.set(src.subarray(s, e), this.len);
    this.len = need;
  }

  /** Hand out bytes [0, cut) (a view: the buffer goes with it); keep [cut, len), copied to a fresh buffer. */
  split(cut: number): Uint8Array {
    const len = this.len;
    const rest = len - cut;
    const old = this.buf;
    this.buf = this.alloc(Math.max(this.hint, rest * 2));
    this.buf.set(old.subarray(cut, len));
    this.len = rest;
    return old.subarray(0, cut);
  }

  /** Hand out the contents (plus src[s, e)) as an independent buffer and reset. */
  take(src: Uint8Array, s: number, e: number): Uint8Array {
    let out: Uint8Array;
    if (this.len === 0) {
      out = this.alloc(e - s).subarray(0, e - s);
      out.set(src.subarray(s, e));
    } else {
      this.append(src, s, e);
      const len = this.len;
      if (this.buf.length > len + (len >> 2)) {
        out = this.alloc(len).subarray(0, len);
        out.set(this.buf.subarray(0, len));
      } else out = this.buf.subarray(0, len);
      this.hint = len + (len >> 4) + 64 * 1024;
      this.buf = new Uint8Array(0);
      this.len = 0;
    }
    return out;
  }
}

/** Split one record (no trailing newline; a trailing '\r' is dropped) into string fields. */
export function splitRecord(
  b: Uint8Array,
  delimiter: number,
): { fields: string[]; error: string | null } {
  const dec = new TextDecoder();
  let n = b.length;
  if (n > 0 && b[n - 1] === 13) n--;
  const fields: string[] = [];
  const trim = (c: number) => (c === 32 && delimiter !== 32) || (c === 9 && delimiter !== 9);
  let pos = 0;
  for (;;) {
    let p = pos;
    while (p < n && trim(b[p]!)) p++;
    if (p < n && b[p] === QUOTE) {
      let k = p + 1;
      const parts: string[] = [];
      let segStart = k;
      let closed = false;
      while (k < n) {
        if (b[k] === QUOTE) {
          if (k + 1 < n && b[k + 1] === QUOTE) {
            parts.push(dec.decode(b.subarray(segStart, k + 1)));
            k += 2;
            segStart = k;
            continue;
          }
          closed = true;
          break;
        }
        k++;
      }
      if (!closed) {
        parts.push(dec.decode(b.subarray(segStart, n)));
        fields.push(parts.join(''));
        return { fields, error: 'unterminated quoted field' };
      }
      parts.push(dec.decode(b.subarray(segStart, k)));
      fields.push(parts.join(''));
      pos = k + 1;
      while (pos < n && trim(b[pos]!)) pos++;
      if (pos < n && b[pos] !== delimiter) {
        // skip to the next delimiter and carry on, reporting the error
        let e = pos;
        while (e < n && b[e] !== delimiter) e++;
        const err = `unexpected character after closing quote in field ${fields.length}`;
        if (e >= n) return { fields, error: err };
        const rest = splitRecord(b.subarray(e + 1, n), delimiter);
        return { fields: fields.concat(rest.fields), error: err };
      }
    } else {
      let e = pos;
      let stray = false;
      while (e < n && b[e] !== delimiter) {
        if (b[e] === QUOTE) stray = true;
        e++;
      }
      fields.push(dec.decode(b.subarray(pos, e)));
      if (stray) {
        const err = `quote inside an unquoted field (field ${fields.length})`;
        if (e >= n) return { fields, error: err };
        const rest = splitRecord(b.subarray(e + 1, n), delimiter);
        return { fields: fields.concat(rest.fields), error: err };
      }
      pos = e;
    }
    if (pos >= n) return { fields, error: null };
    pos++; // delimiter
  }
}

export function cutCsv(
  source: AsyncIterable<Uint8Array>,
  opts: CutOptions,
): { header: Promise<CsvHeader>; blocks: AsyncIterable<RowBlock> } {
  const delim = opts.delimiter;
  checkDelimiter(delim);
  const maxRow = opts.maxRowBytes ?? 256 * 1024 * 1024; // DEFAULT_MAX_ROW_BYTES of read/table.ts
  const it = source[Symbol.asyncIterator]();

  // ---- header phase: read until the first row end (quote-aware) or EOF ----
  let leftover: Uint8Array = new Uint8Array(0); // bytes already read that belong to the data
  let dataFirstLine = 1;
  let eofAfterHeader = false;
  const headerPromise = (async (): Promise<CsvHeader> => {
    const acc = new Acc();
    const st: CutScanState = { inQuote: false, rows: 0, lfs: 0 };
    let scanned = 0;
    let rowEnd = -1;
    let eof = false;
    let headerLfs = 0;
    // header:false: the field count is the first non-blank line's, so blank lines before it are skipped
    let rowStart = 0;
    const bomLen = (): number => (acc.len >= 3 && acc.buf[0] === 0xef && acc.buf[1] === 0xbb && acc.buf[2] === 0xbf ? 3 : 0);
    while (rowEnd < 0) {
      const r = await it.next();
      if (r.done) {
        eof = true;
        break;
      }
      const chunk = r.value;
      acc.append(chunk, 0, chunk.length);
      let end = scanRows(acc.buf, scanned, acc.len, 1, st);
      headerLfs += st.lfs;
      while (!opts.header && end >= 0) {
        const from = Math.max(rowStart, bomLen());
        const blank = end - from === 1 || (end - from === 2 && acc.buf[from] === 13);
        if (!blank) break;
        rowStart = end;
        end = scanRows(acc.buf, end, acc.len, 1, st);
        headerLfs += st.lfs;
      }
      if (end >= 0) rowEnd = end;
      else if (acc.len > maxRow + 3) {
        throw new CsvCutError(
          `the first row is longer than ${maxRow} bytes` + (st.inQuote ? ' (unterminated quoted field?)' : ''),
          1,
          st.inQuote ? 'quote' : 'size',
        );
      } else scanned = acc.len;
    }
    const all = acc.buf.subarray(0, acc.len);
    const bom = all.length >= 3 && all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? 3 : 0;
    if (all.length - bom === 0) {
      eofAfterHeader = true;
      return { names: opts.header ? [] : null, fieldCount: 0 };
    }
    const firstEnd = rowEnd >= 0 ? rowEnd : all.length; // end of the first row incl. its '\n'
    let recEnd = firstEnd;
    if (rowEnd >= 0) recEnd--; // drop '\n'
    const rec = splitRecord(all.subarray(Math.max(bom, opts.header ? 0 : rowStart), recEnd), delim);
    if (opts.header) {
      if (rec.error !== null) throw new CsvCutError(`header: ${rec.error}`, 1, 'quote');
      leftover = all.subarray(firstEnd);
      dataFirstLine = 1 + headerLfs;
      eofAfterHeader = eof && leftover.length === 0;
      return { names: rec.fields, fieldCount: rec.fields.length };
    }
    leftover = all.subarray(bom);
    dataFirstLine = 1;
    eofAfterHeader = false;
    return { names: null, fieldCount: rec.fields.length };
  })();
  headerPromise.catch(() => {});

  let started = false;
  /** blank lines are no rows: the data has two or more fields per row */
  let skipBlank = false;
  async function* blocks(): AsyncGenerator<RowBlock> {
    if (started) throw new Error('cutCsv blocks can be iterated only once');
    started = true;
    skipBlank = (await headerPromise).fieldCount >= 2;
    const bytesPerBlock = opts.bytesPerBlock ?? null;
    const N = opts.rowsPerBlock;
    if (bytesPerBlock !== null) {
      if (!Number.isInteger(bytesPerBlock) || bytesPerBlock < 1) {
        throw new RangeError(`bytesPerBlock must be a positive integer, got ${bytesPerBlock}`);
      }
    } else if (!Number.isInteger(N) || N < 1) {
      throw new RangeError(`rowsPerBlock must be a positive integer, got ${N}`);
    }
    if (eofAfterHeader) return;
    try {
      if (bytesPerBlock !== null) yield* cutByBytes(bytesPerBlock);
      else yield* cutByRows(N);
    } finally {
      // close the source when the consumer stops early or an error is thrown
      await it.return?.();
    }
  }

  /** The data's bytes as they come: what the header phase read past the first row, then the rest. */
  async function* dataChunks(): AsyncGenerator<Uint8Array> {
    const first = leftover;
    leftover = new Uint8Array(0);
    if (first.length > 0) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }

  /**
   * Blocks of exactly N rows (the last may be shorter), rows and lines counted. Skipping blank
   * lines, a full block is held while only blank lines follow it (they join it when the data
   * ends there), so the last block is never one of blank lines only.
   */
  async function* cutByRows(N: number): AsyncGenerator<RowBlock> {
    const acc = new Acc();
    acc.reuse = true; // the workers hand the block buffers back (read/spare.ts) as for blocks cut by size
    const st: CutScanState = { inQuote: false, rows: 0, lfs: 0, skipBlank };
    let rows = 0; // rows completed in the current block
    let lfs = 0; // '\n' in the current block so far
    let line = dataFirstLine; // line of the current block's first row
    let lastByte = -1;
    let rowStartLfs = 0; // '\n' in the current block before the start of the open row
    let rowStartAcc = 0; // offset in acc of the open row (valid while the block is in acc)
    // skipBlank: the block in acc is full, and only blank lines followed it so far (cr: and a '\r')
    let held = false, heldCr = false;
    for await (const chunk of dataChunks()) {
      const n = chunk.length;
      if (n > 0) {
        lastByte = chunk[n - 1]!;
        let seg = 0;
        if (held) {
          let from = 0;
          if (heldCr) {
            heldCr = false;
            if (chunk[0] !== LF) {
              // the '\r' begins a row: the held block ends before it
              const bytes = acc.split(acc.len - 1);
              yield { bytes, rows, firstLine: line, lines: lfs };
              line += lfs;
              rows = 0;
              lfs = 0;
              held = false;
              st.open = 1;
            } else {
              lfs++;
              from = 1;
            }
          }
          if (held) {
            const k = skipBlankLines(chunk, from, n);
            lfs += k.lfs;
            if (k.at === n) {
              acc.append(chunk, 0, n);
              heldCr = k.cr;
              continue;
            }
            const bytes = acc.take(chunk, 0, k.at);
            yield { bytes, rows, firstLine: line, lines: lfs };
            line += lfs;
            rows = 0;
            lfs = 0;
            held = false;
            st.open = 0;
            seg = k.at;
          }
          rowStartLfs = 0;
          rowStartAcc = 0;
        }
        for (;;) {
          const end = scanRows(chunk, seg, n, N - rows, st);
          if (st.lastRowLfs! >= 0) {
            rowStartLfs = lfs + st.lastRowLfs!;
            rowStartAcc = acc.len + (st.lastRowEnd! - seg);
          }
          rows += st.rows;
          lfs += st.lfs;
          if (end < 0) {
            acc.append(chunk, seg, n);
            if (acc.len - rowStartAcc > maxRow) {
              throw new CsvCutError(
                `row at line ${line + rowStartLfs} is longer than ${maxRow} bytes` +
                  (st.inQuote ? ' (unterminated quoted field?)' : ''),
                line + rowStartLfs,
                st.inQuote ? 'quote' : 'size',
              );
            }
            break;
          }
          if (skipBlank) {
            const k = skipBlankLines(chunk, end, n);
            if (k.at === n) {
              // only blank lines after the block so far: hold it
              acc.append(chunk, seg, n);
              lfs += k.lfs;
              held = true;
              heldCr = k.cr;
              break;
            }
          }
          const bytes = acc.take(chunk, seg, end);
          yield { bytes, rows, firstLine: line, lines: lfs };
          line += lfs;
          rows = 0;
          lfs = 0;
          rowStartLfs = 0;
          rowStartAcc = 0;
          seg = end;
        }
      }
    }
    if (acc.len > 0) {
      const open = !held && openRow(st, lastByte) ? 1 : 0;
      const bytes = acc.take(new Uint8Array(0), 0, 0);
      yield { bytes, rows: rows + open, firstLine: line, lines: lfs };
    }
  }

  /**
   * Blocks cut by size: each ends at the first row end at least `target` bytes in (the last
   * block takes what is left), found without walking the bytes in JS where possible: when the
   * block holds no '"', at the first '\n' from there (native indexOf); only a block holding a
   * quote is scanned (scanRows) for a row end outside quotes. Every block starts outside quotes,
   * so each is judged on its own. Rows and lines are counted only for scanned blocks; the first
   * block's firstLine is known, and later ones only while every block before was counted.
   */
  async function* cutByBytes(target: number): AsyncGenerator<RowBlock> {
    const acc = new Acc();
    // room for a block and one more source chunk (1 MiB from files): no growing and copying
    acc.hint = target + (1 << 20) + 64 * 1024;
    acc.reuse = true;
    let firstLine: number | null = dataFirstLine;
    let need = target; // look for a cut once this many bytes are held (grows while a row is longer)
    for await (const chunk of dataChunks()) {
      acc.append(chunk, 0, chunk.length);
      while (acc.len >= need) {
        let c = findCut(acc.buf, acc.len, target, skipBlank);
        if (c.cut < 0 && acc.len > maxRow) {
          // a long row: first hand out the rows before it, so that it starts the next block
          c = findLastCut(acc.buf, acc.len, skipBlank);
        }
        if (c.cut < 0) {
          // no row end: the open row starts on the first line of the next block
          if (acc.len > maxRow) {
            throw new CsvCutError(
              `row at line ${firstLine ?? '+1'} is longer than ${maxRow} bytes` + (c.inQuote ? ' (unterminated quoted field?)' : ''),
              firstLine ?? 1,
              c.inQuote ? 'quote' : 'size',
              firstLine === null,
            );
          }
          // look again with the next source chunk, or for a long row once the held bytes double
          // (no quadratic rescans), and before the row can pass the limit unseen
          need = acc.len < 2 * target ? acc.len + 1 : Math.min(2 * acc.len, maxRow + 1);
          break;
        }
        need = target;
        yield { bytes: acc.split(c.cut), rows: c.rows, firstLine, lines: c.lines };
        firstLine = firstLine !== null && c.lines !== null ? firstLine + c.lines : null;
      }
    }
    if (acc.len > 0) yield { bytes: acc.split(acc.len), rows: null, firstLine, lines: null };
  }

  return { header: headerPromise, blocks: { [Symbol.asyncIterator]: blocks } };
}
