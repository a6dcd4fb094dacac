/**
 * CSV chunk parser (worker side).
 *
 * A chunk is a run of whole rows cut by the main thread (src/read/csv-cut.ts). Only the selected
 * fields are converted (see src/parse/number.ts for the number syntax and the trimming of spaces
 * and tabs around a value, quoted or not); unselected fields may hold any text.
 *
 * Rules (RFC 4180):
 *  - a row ends at '\n'; a '\r' right before it (or at the very end of the chunk) belongs to
 *    the line terminator, any other '\r' is data;
 *  - a field starting with '"' (after optional spaces/tabs) is quoted: it runs to the next lone
 *    '"', "" is an escaped quote, and newlines and delimiters inside are data. After the closing
 *    quote only spaces/tabs may precede the delimiter / row end;
 *  - a '"' inside an unquoted field is an error (kind 'quote'): the cutter toggles its quote state
 *    on every '"', so accepting stray quotes would make cutter and parser disagree on row ends;
 *  - a blank line ('\n' or '\r\n' alone, or a '\r' alone at the end of the chunk) is no row when
 *    there are two or more fields per row: it is skipped (and counted, `blankLines`), though it
 *    counts as a line; with one field it is a row with one empty field (NaN), as pandas writes one.
 *
 * Two paths: a chunk without any '"' byte takes a fast byte loop (number scanned in place, one
 * pass; it bails out on the first '"'); otherwise a hand-written RFC 4180 state machine. Both convert through the same number
 * functions, so their values are bit-identical. Errors are reported left to right: the first
 * bad selected value or bad field count in the first bad row.
 */
import { numberInvalid, parseNumberBytes, scanEnd, scanNumber } from './number.js';
import { scanCsvWasm, wasmScanNaNs } from './wasm-scan.js';

export interface CsvChunk {
  /** whole rows: N rows, each ending in '\n' (or '\r\n'), except that the last row may lack the newline. */
  bytes: Uint8Array;
  /** N, as counted by the cutter; null: not counted (the parse counts them) */
  rows: number | null;
  /** byte value, e.g. 44 (',') or 9 (tab) */
  delimiter: number;
  /** expected number of fields in every row */
  fieldCount: number;
  /** field indices to extract, in output order (may repeat) */
  columns: readonly number[];
  /**
   * Space for the values, used when large enough (the result is then a view of it, valid
   * until the caller reuses it): rows × columns.length, or with rows null the bound
   * csvValuesBound(bytes.length, fieldCount, columns.length).
   */
  out?: Float64Array;
  /**
   * Values per row of each output matrix; divides columns.length (default: columns.length, one
   * row-major matrix). Columns [g·w, (g+1)·w) form matrix g, rows × w: roles of equal width come
   * out ready to use, without copying them out of one wide matrix.
   */
  groupWidth?: number;
  /**
   * --group-by: field indices whose text is wanted (a field may also be in `columns`). The
   * result's keySpans then holds, per row and key, the field's content as [start, end) byte
   * offsets into `bytes` (a quoted field: inside the quotes; end is stored as -(end + 1) when it
   * holds an escaped "" quote). A field's text is as written: spaces are kept, a row's '\r\n' is not.
   */
  keyFields?: readonly number[];
  /** Space for the key spans, used when large enough (as `out`): the result is then a view of it. */
  keyOut?: Int32Array;
}

/**
 * Values an uncounted chunk of `bytes` bytes can yield: every row before the last holds at
 * least fieldCount - 1 delimiters and a '\n' (a shorter row is an error, found once that row
 * has been parsed), so a chunk holds at most floor(bytes / fieldCount) + 1 rows.
 */
export function csvValuesBound(bytes: number, fieldCount: number, columns: number): number {
  return (Math.floor(bytes / Math.max(1, fieldCount)) + 1) * columns;
}

export type CsvErrorKind = 'number' | 'fields' | 'quote';

export interface CsvParseError {
  ok: false;
  /** 0-based row within the chunk */
  row: number;
  /** 0-based physical line offset within the chunk where the bad value starts */
  line: number;
  /** 0-based field index (for 'fields': the number of fields found) */
  field: number;
  /** the offending text as written (truncated to 60 characters with '…') */
  value: string;
  kind: CsvErrorKind;
  message: string;
  /** the values of the rows before `row` (laid out as `groups` on success); see parseCsvChunk */
  before?: Float64Array[];
  /** keyFields given: the key spans of the rows before `row` */
  keySpans?: Int32Array;
}

export type CsvParseResult =
  | {
      ok: true;
      /** the matrices of `groupWidth` columns each (row-major rows × groupWidth), in column order */
      groups: Float64Array[];
      /** groups[0]: with the default groupWidth, all values, row-major rows × columns.length */
      values: Float64Array;
      rows: number;
      /** '\n' bytes in the chunk (physical lines it spans, less one if the last row has no newline) */
      lines: number;
      /** blank lines skipped (two or more fields per row) */
      blankLines: number;
      /** keyFields given: rows × keyFields.length × 2 offsets (see CsvChunk.keyFields) */
      keySpans?: Int32Array;
      /** true: no value in `groups` is NaN (known without a pass: every NaN comes from a field the WebAssembly scanner left to JS); false: not known */
      nanFree: boolean;
    }
  | CsvParseError;

const LF = 10;
const CR = 13;
const QUOTE = 34;

const decoder = new TextDecoder();
const MAX_VALUE_CHARS = 60;

function shown(b: Uint8Array, s: number, e: number): string {
  // decode at most a bit more than needed, then truncate by characters
  const lim = Math.min(e, s + MAX_VALUE_CHARS * 4 + 4);
  let t = decoder.decode(b.subarray(s, lim));
  if (t.length > MAX_VALUE_CHARS || lim < e) t = t.slice(0, MAX_VALUE_CHARS) + '…';
  return t;
}

function truncate(t: string): string {
  return t.length > MAX_VALUE_CHARS ? t.slice(0, MAX_VALUE_CHARS) + '…' : t;
}

function numberError(row: number, line: number, field: number, value: string): CsvParseError {
  return { ok: false, row, line, field, value, kind: 'number', message: `not a number: "${value}"` };
}

function fieldsError(
  b: Uint8Array,
  row: number,
  line: number,
  found: number,
  expected: number,
  rowStart: number,
  rowEnd: number,
): CsvParseError {
  let e = rowEnd;
  if (e > rowStart && b[e - 1] === LF) e--;
  if (e > rowStart && b[e - 1] === CR) e--;
  return {
    ok: false,
    row,
    line,
    field: found,
    value: shown(b, rowStart, e),
    kind: 'fields',
    message: `expected ${expected} field${expected === 1 ? '' : 's'}, found ${found}`,
  };
}

function quoteError(row: number, line: number, field: number, value: string, message: string): CsvParseError {
  return { ok: false, row, line, field, value, kind: 'quote', message };
}

/** Parse a chunk of whole CSV rows into a row-major rows × columns.length Float64Array. */
export function parseCsvChunk(chunk: CsvChunk): CsvParseResult {
  const { bytes, rows, delimiter, fieldCount, columns } = chunk;
  // one byte, not a line break or quote, and not a byte the number scanner consumes
  if (
    !Number.isInteger(delimiter) ||
    delimiter < 0 ||
    delimiter > 255 ||
    delimiter === LF ||
    delimiter === CR ||
    delimiter === QUOTE ||
    (delimiter >= 48 && delimiter <= 57) ||
    delimiter === 43 ||
    delimiter === 45 ||
    delimiter === 46 ||
    delimiter === 69 ||
    delimiter === 101
  ) {
    throw new RangeError(`invalid CSV delimiter byte ${delimiter}`);
  }
  const nc = columns.length;
  const w = chunk.groupWidth ?? Math.max(nc, 1);
  if (!Number.isInteger(w) || w < 1 || nc % w !== 0) throw new RangeError(`groupWidth ${w} does not divide ${nc} columns`);
  // rows null: parse up to the bound and count (the rows are only checked against it)
  const exact = rows !== null;
  const maxRows = exact ? rows : Math.floor(bytes.length / Math.max(1, fieldCount)) + 1;
  const groupSize = maxRows * w;
  const cap = maxRows * nc;
  const space = chunk.out !== undefined && chunk.out.length >= cap ? chunk.out : new Float64Array(cap);
  // where output column j of row r goes: at(j) + r·w
  const at = (j: number): number => Math.floor(j / w) * groupSize + (j % w);
  // slot[f] = place of the first output column taking field f, or -1
  const slot = new Int32Array(Math.max(fieldCount, 0)).fill(-1);
  const dupTo: number[] = [];
  const dupFrom: number[] = [];
  for (let j = 0; j < nc; j++) {
    const f = columns[j]!;
    if (!Number.isInteger(f) || f < 0 || f >= fieldCount) {
      throw new RangeError(`column index ${f} out of range for ${fieldCount} fields`);
    }
    if (slot[f] === -1) slot[f] = at(j);
    else {
      dupTo.push(at(j));
      dupFrom.push(slot[f]!);
    }
  }
  // key fields: keySlot[f] = 2 × (the key's position), or -1
  const nk = chunk.keyFields?.length ?? 0;
  let keySlot: Int32Array | null = null;
  let spans: Int32Array = NO_SPANS;
  if (nk > 0) {
    keySlot = new Int32Array(Math.max(fieldCount, 0)).fill(-1);
    chunk.keyFields!.forEach((f, k) => {
      if (!Number.isInteger(f) || f < 0 || f >= fieldCount) throw new RangeError(`key field index ${f} out of range for ${fieldCount} fields`);
      if (keySlot![f] !== -1) throw new RangeError(`key field ${f} given twice`);
      keySlot![f] = 2 * k;
    });
    spans = chunk.keyOut !== undefined && chunk.keyOut.length >= maxRows * nk * 2 ? chunk.keyOut : new Int32Array(maxRows * nk * 2);
  }
  // The plain path gives up (returns QUOTED) as soon as it meets a '"' byte; this is cheaper
  // than a separate bytes.indexOf(34) pass over the whole chunk.
  // the WebAssembly scanner (src/parse/wasm-scan.ts) takes the chunk whole, or leaves it to the JS paths (-1);
  // it records no key spans, so chunks with key fields stay on the JS paths
  const wasmRows = nk === 0 ? scanCsvWasm(bytes, maxRows, exact, delimiter, fieldCount, slot, w, space) : -1;
  if (wasmRows >= 0) [parsedRows, parsedLines, parsedBlanks] = [wasmRows, wasmRows, 0];
  let err = wasmRows >= 0 ? null : parsePlain(bytes, maxRows, exact, delimiter, fieldCount, slot, w, space, keySlot, spans, nk * 2);
  if (err === QUOTED) err = parseQuoted(bytes, maxRows, exact, delimiter, fieldCount, slot, w, space, keySlot, spans, nk * 2);
  // on an error, the rows before it are complete: a caller can look for earlier problems there
  const n = err !== null ? err.row : parsedRows;
  if (dupTo.length > 0) {
    for (let r = 0, base = 0; r < n; r++, base += w) {
      for (let k = 0; k < dupTo.length; k++) space[base + dupTo[k]!] = space[base + dupFrom[k]!]!;
    }
  }
  const groups: Float64Array[] = [];
  for (let g = 0; g * w < Math.max(nc, 1); g++) groups.push(space.subarray(g * groupSize, g * groupSize + n * (nc === 0 ? 0 : w)));
  if (err !== null) return { ...err, before: groups, ...(nk > 0 ? { keySpans: spans.subarray(0, n * nk * 2) } : {}) };
  const lines = parsedLines - (bytes.length > 0 && bytes[bytes.length - 1] !== LF ? 1 : 0);
  return {
    ok: true, groups, values: groups[0]!, rows: n, lines, blankLines: parsedBlanks, nanFree: wasmRows >= 0 && wasmScanNaNs === 0,
    ...(nk > 0 ? { keySpans: spans.subarray(0, n * nk * 2) } : {}),
  };
}

const NO_SPANS = new Int32Array(0);

/** Set by parsePlain / parseQuoted on success: rows parsed, row ends plus newlines inside quotes, blank lines. */
let parsedRows = 0;
let parsedLines = 0;
let parsedBlanks = 0;

/** Was the row b[start, end) (past its line end) a blank line: '\n', '\r\n', or a '\r' ending the chunk? */
function isBlankLine(b: Uint8Array, start: number, end: number, n: number): boolean {
  const c = b[start];
  return (end - start === 1 && c === LF) || (end - start === 2 && c === CR && (start + 1 === n || b[start + 1] === LF));
}

/** Bytes a blank line at `pos` takes ('\n', '\r\n', or a '\r' ending the chunk), or 0 if the line is not blank. */
function blankLineAt(b: Uint8Array, pos: number, n: number): number {
  const c = b[pos]!;
  if (c === LF) return 1;
  if (c === CR && (pos + 1 === n || b[pos + 1] === LF)) return 2;
  return 0;
}

/** Sentinel: the plain path met a '"' and the chunk must be parsed by the RFC 4180 path. */
const QUOTED: CsvParseError = {
  ok: false,
  row: -1,
  line: -1,
  field: -1,
  value: '',
  kind: 'quote',
  message: 'internal: chunk has quotes',
};

function rowCountMismatch(expected: number, found: number, exact: boolean): Error {
  return new Error(exact
    ? `internal error: CSV chunk holds ${found} rows, the cutter counted ${expected}`
    : `internal error: CSV chunk holds more than the bound of ${expected} rows`);
}

/**
 * Fast path for chunks without any '"' (so no field spans lines and line === row). Every byte
 * that is not consumed by the number scanner is checked for '"'; on the first one, returns
 * QUOTED (before reporting any error) so that the caller re-parses with the RFC 4180 path.
 */
function parsePlain(
  b: Uint8Array,
  rows: number,
  exact: boolean,
  delim: number,
  fieldCount: number,
  slot: Int32Array,
  stride: number,
  out: Float64Array,
  keySlot: Int32Array | null,
  spans: Int32Array,
  keyStride: number,
): CsvParseError | null {
  const n = b.length;
  // bytes above `hi` are none of delimiter, '\n', '"' (one compare per byte for digits/letters)
  const hi = delim > QUOTE ? delim : QUOTE;
  const skipBlank = fieldCount >= 2;
  let pos = 0;
  let row = 0;
  let blanks = 0; // blank lines skipped: the line of row `row` is row + blanks
  while (pos < n) {
    if (row >= rows) {
      // only blank lines may follow the last row
      const k = skipBlank ? blankLineAt(b, pos, n) : 0;
      if (k === 0) throw rowCountMismatch(rows, row + 1, exact);
      pos += k;
      blanks++;
      continue;
    }
    const rowStart = pos;
    const base = row * stride;
    let f = 0;
    for (;;) {
      const sl = f < fieldCount ? slot[f]! : -1;
      const fieldStart = pos;
      let c: number;
      if (sl >= 0) {
        let v = 0;
        let done = false;
        c = pos < n ? b[pos]! : LF;
        if (c !== 32 && c !== 9) {
          v = scanNumber(b, pos, n);
          const e = scanEnd;
          if (e !== pos) {
            const c2 = e < n ? b[e]! : LF;
            if (c2 === delim || c2 === LF || (c2 === CR && (e + 1 >= n || b[e + 1] === LF))) {
              done = true;
              pos = e;
            }
          }
        }
        if (!done) {
          let e = pos;
          while (e < n) {
            const c3 = b[e]!;
            if (c3 <= hi) {
              if (c3 === delim || c3 === LF) break;
              if (c3 === QUOTE) return QUOTED;
            }
            e++;
          }
          let fe = e;
          if (fe > pos && b[fe - 1] === CR && (fe === n || b[fe] === LF)) fe--;
          v = parseNumberBytes(b, pos, fe, delim);
          if (v !== v && numberInvalid) return numberError(row, row + blanks, f, shown(b, pos, fe));
          pos = fe;
        }
        out[base + sl] = v;
      } else {
        while (pos < n) {
          const c3 = b[pos]!;
          if (c3 <= hi) {
            if (c3 === delim || c3 === LF) break;
            if (c3 === QUOTE) return QUOTED;
          }
          pos++;
        }
      }
      if (keySlot !== null && f < fieldCount && keySlot[f]! >= 0) {
        const k = row * keyStride + keySlot[f]!;
        spans[k] = fieldStart;
        spans[k + 1] = pos > fieldStart && b[pos - 1] === CR && (pos === n || b[pos] === LF) ? pos - 1 : pos;
      }
      c = pos < n ? b[pos]! : LF;
      f++;
      if (c === delim) {
        pos++;
        continue;
      }
      // row end: LF, CR (LF or end follows), or end of chunk
      if (c === CR) pos++;
      pos++;
      break;
    }
    if (f !== fieldCount) {
      // a blank line parses as one empty field: no row (its value slot is reused by the next row)
      if (skipBlank && f === 1 && isBlankLine(b, rowStart, pos, n)) {
        blanks++;
        continue;
      }
      return fieldsError(b, row, row + blanks, f, fieldCount, rowStart, Math.min(pos, n));
    }
    row++;
  }
  if (exact && row !== rows) throw rowCountMismatch(rows, row, exact);
  parsedRows = row;
  parsedLines = row + blanks;
  parsedBlanks = blanks;
  return null;
}

/** RFC 4180 path for chunks containing quotes. */
function parseQuoted(
  b: Uint8Array,
  rows: number,
  exact: boolean,
  delim: number,
  fieldCount: number,
  slot: Int32Array,
  stride: number,
  out: Float64Array,
  keySlot: Int32Array | null,
  spans: Int32Array,
  keyStride: number,
): CsvParseError | null {
  const n = b.length;
  const trimSp = delim !== 32;
  const trimTab = delim !== 9;
  const skipBlank = fieldCount >= 2;
  let pos = 0;
  let row = 0;
  let line = 0; // physical line of pos
  let blanks = 0;
  while (pos < n) {
    if (row >= rows) {
      // only blank lines may follow the last row
      const k = skipBlank ? blankLineAt(b, pos, n) : 0;
      if (k === 0) throw rowCountMismatch(rows, row + 1, exact);
      pos += k;
      line++;
      blanks++;
      continue;
    }
    const rowStart = pos;
    const rowLine = line;
    const base = row * stride;
    let f = 0;
    for (;;) {
      const sl = f < fieldCount ? slot[f]! : -1;
      const fieldStart = pos;
      const fieldLine = line;
      // skip spaces/tabs to see whether the field is quoted
      let p = pos;
      while (p < n) {
        const c = b[p]!;
        if ((c === 32 && trimSp) || (c === 9 && trimTab)) p++;
        else break;
      }
      if (p < n && b[p] === QUOTE) {
        const cs = p + 1;
        let k = cs;
        let escaped = false;
        let closed = false;
        while (k < n) {
          const c = b[k]!;
          if (c === QUOTE) {
            if (k + 1 < n && b[k + 1] === QUOTE) {
              escaped = true;
              k += 2;
              continue;
            }
            closed = true;
            break;
          }
          if (c === LF) line++;
          k++;
        }
        if (!closed) {
          return quoteError(row, fieldLine, f, shown(b, fieldStart, n), 'unterminated quoted field');
        }
        const ce = k;
        pos = k + 1;
        while (pos < n) {
          const c = b[pos]!;
          if ((c === 32 && trimSp) || (c === 9 && trimTab)) pos++;
          else break;
        }
        const c = pos < n ? b[pos]! : LF;
        if (!(c === delim || c === LF || (c === CR && (pos + 1 >= n || b[pos + 1] === LF)))) {
          let e = pos;
          while (e < n && b[e] !== delim && b[e] !== LF) e++;
          return quoteError(
            row,
            line,
            f,
            shown(b, fieldStart, e),
            `unexpected character after closing quote: ${JSON.stringify(String.fromCharCode(c))}`,
          );
        }
        if (sl >= 0) {
          if (escaped) {
            const text = decoder.decode(b.subarray(cs, ce)).replace(/""/g, '"');
            return numberError(row, fieldLine, f, truncate(text));
          }
          const v = parseNumberBytes(b, cs, ce, delim);
          if (v !== v && numberInvalid) return numberError(row, fieldLine, f, shown(b, cs, ce));
          out[base + sl] = v;
        }
        if (keySlot !== null && f < fieldCount && keySlot[f]! >= 0) {
          const ki = row * keyStride + keySlot[f]!;
          spans[ki] = cs;
          spans[ki + 1] = escaped ? -(ce + 1) : ce;
        }
      } else {
        let e = pos;
        while (e < n) {
          const c = b[e]!;
          if (c === delim || c === LF) break;
          if (c === QUOTE) {
            let fe = e;
            while (fe < n && b[fe] !== delim && b[fe] !== LF) fe++;
            return quoteError(row, line, f, shown(b, fieldStart, fe), 'quote inside an unquoted field');
          }
          e++;
        }
        let fe = e;
        if (fe > pos && b[fe - 1] === CR && (fe === n || b[fe] === LF)) fe--;
        if (sl >= 0) {
          const v = parseNumberBytes(b, pos, fe, delim);
          if (v !== v && numberInvalid) return numberError(row, line, f, shown(b, pos, fe));
          out[base + sl] = v;
        }
        if (keySlot !== null && f < fieldCount && keySlot[f]! >= 0) {
          const ki = row * keyStride + keySlot[f]!;
          spans[ki] = fieldStart;
          spans[ki + 1] = fe;
        }
        pos = fe;
      }
      // pos at delimiter, CR (before LF / end), LF, or end
      const c = pos < n ? b[pos]! : LF;
      f++;
      if (c === delim) {
        pos++;
        continue;
      }
      if (c === CR) pos++;
      pos++;
      line++;
      break;
    }
    if (f !== fieldCount) {
      if (skipBlank && f === 1 && isBlankLine(b, rowStart, pos, n)) {
        blanks++;
        continue;
      }
      return fieldsError(b, row, rowLine, f, fieldCount, rowStart, Math.min(pos, n));
    }
    row++;
  }
  if (exact && row !== rows) throw rowCountMismatch(rows, row, exact);
  parsedRows = row;
  parsedLines = line;
  parsedBlanks = blanks;
  return null;
}
