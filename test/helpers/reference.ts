/**
 * A trusted, deliberately SLOW reference for the fuzz harness (test/fuzz, scripts/fuzz.mjs).
 *
 * It shares no code with src/: CSV is split by a small byte-level RFC 4180 parser written from the
 * contract (/work/shared/spec/cli.md and the README), cross-checked against csv-parse/sync on every
 * input where the two dialects coincide; numbers are validated by a regular expression and converted
 * by `Number()`; Arrow is read whole by apache-arrow (`readArrowTable`: `tableFromIPC`, nearly); .npy by a
 * DataView after its header was turned into JSON (`loadNpy`); each loss term is the plain
 * formula; sums and means are exact (BigInt, test/helpers/exact.ts) and rounded once.
 *
 * It decides whether an input is valid: { status: 'ok', stdout } is exactly what losseval must print,
 * { status: 'error', kind } means losseval must exit 1 (data) or 2 (usage) with one error line.
 */
import { gunzipSync } from 'node:zlib';
import { parse as csvParse } from 'csv-parse/sync';
import { RecordBatch, RecordBatchReader, Table, DataType, Type } from 'apache-arrow';
import { exactScaledSum, roundRational } from './exact.js';

export type RefLoss = 'l1' | 'mse' | 'smooth_l1' | 'huber';

export interface RefInput {
  /** Name used on the command line (for messages only). */
  readonly name: string;
  /** The raw bytes of the file, as losseval will read them (maybe gzipped). */
  readonly bytes: Uint8Array;
}

export interface RefCase {
  /** preds, then targets (absent in one-file mode). */
  readonly inputs: readonly RefInput[];
  readonly losses: readonly RefLoss[];
  readonly beta?: number;
  readonly delta?: number;
  readonly reduction: 'mean' | 'sum';
  readonly nanPolicy: 'propagate' | 'omit' | 'raise';
  readonly predCols: string | null;
  readonly targetCols: string | null;
  readonly header: boolean;
  /** Delimiter byte; null: tab for names ending in .tsv / .tsv.gz, else comma. */
  readonly delimiter: number | null;
}

export type RefResult =
  | { status: 'ok'; stdout: string; rows: number }
  | {
      status: 'error';
      kind: 'data' | 'usage';
      reason: string;
      /** For a CSV data error: input index and 1-based physical line of the first bad value/row. */
      input?: number;
      line?: number;
    };

class RefError extends Error {
  constructor(readonly kind: 'data' | 'usage', message: string, readonly input?: number, readonly line?: number) {
    super(message);
  }
}

/** Raised when the reference's own two CSV parsers disagree: a bug in the reference, not in losseval. */
export class ReferenceBug extends Error {}

// ---------------------------------------------------------------------------------------------
// Numbers (the contract's syntax, written independently of src/parse/number.ts)

const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INF = /^[+-]?(?:inf|infinity)$/i;
/** nan in any case, optionally signed (as Python's float() reads it), and the empty field */
const NAN = /^(?:[+-]?nan)?$/i;

/** The value of one field's text, or undefined when it is not a number or token. */
export function refNumber(text: string, delimiter: number): number | undefined {
  const ws = (c: string): boolean => (c === ' ' && delimiter !== 32) || (c === '\t' && delimiter !== 9);
  let s = 0, e = text.length;
  while (s < e && ws(text[s]!)) s++;
  while (e > s && ws(text[e - 1]!)) e--;
  const t = text.slice(s, e);
  if (NAN.test(t)) return NaN;
  if (INF.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (DECIMAL.test(t)) return Number(t);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// CSV

interface CsvRecord {
  fields: string[];
  /** 1-based physical line where the record starts */
  line: number;
  /** 1-based physical line of each field's start */
  fieldLines: number[];
  /** structural error in this record (quote misuse), with the field it occurs in */
  error: { field: number; line: number; message: string } | null;
  /** the line is blank: nothing before its '\n' but an optional '\r' (or a lone '\r' at the end) */
  blank: boolean;
}

const dec = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Split a whole CSV text into records: '\n' outside quotes ends a record, the final newline makes no
 * record, a '\r' before the record end is part of the terminator; fields may be quoted (after
 * spaces/tabs that are not the delimiter), "" escapes a quote, only spaces/tabs may follow a closing
 * quote; a quote in an unquoted field is an error.
 */
function splitCsv(b: Uint8Array, delimiter: number): { records: CsvRecord[]; unterminated: { line: number } | null } {
  const records: CsvRecord[] = [];
  const isWs = (c: number): boolean => (c === 32 && delimiter !== 32) || (c === 9 && delimiter !== 9);
  let i = 0;
  let line = 1;
  const n = b.length;
  while (i < n) {
    const blank = b[i] === 10 || (b[i] === 13 && (i + 1 >= n || b[i + 1] === 10));
    const rec: CsvRecord = { fields: [], line, fieldLines: [], error: null, blank };
    // one record
    for (;;) {
      const fieldLine = line;
      let p = i;
      while (p < n && isWs(b[p]!)) p++;
      if (p < n && b[p] === 34) {
        // quoted
        let k = p + 1;
        const parts: Uint8Array[] = [];
        let seg = k;
        let closed = false;
        while (k < n) {
          if (b[k] === 34) {
            if (k + 1 < n && b[k + 1] === 34) {
              parts.push(b.subarray(seg, k + 1));
              k += 2;
              seg = k;
              continue;
            }
            closed = true;
            break;
          }
          if (b[k] === 10) line++;
          k++;
        }
        if (!closed) return { records, unterminated: { line: fieldLine } };
        parts.push(b.subarray(seg, k));
        rec.fields.push(parts.map((x) => dec.decode(x)).join(''));
        rec.fieldLines.push(fieldLine);
        i = k + 1;
        while (i < n && isWs(b[i]!)) i++;
        const atEnd = i >= n || b[i] === 10 || b[i] === delimiter || (b[i] === 13 && (i + 1 >= n || b[i + 1] === 10));
        if (!atEnd) {
          // invalid whatever follows: stop splitting here
          rec.error = { field: rec.fields.length - 1, line, message: 'character after closing quote' };
          records.push(rec);
          return { records, unterminated: null };
        }
      } else {
        let k = i;
        let stray = false;
        while (k < n && b[k] !== delimiter && b[k] !== 10) {
          if (b[k] === 34) stray = true;
          k++;
        }
        let e = k;
        if (e > i && b[e - 1] === 13 && (e >= n || b[e] === 10)) e--;
        rec.fields.push(dec.decode(b.subarray(i, e)));
        rec.fieldLines.push(fieldLine);
        if (stray && rec.error === null) rec.error = { field: rec.fields.length - 1, line, message: 'quote inside an unquoted field' };
        i = k;
        if (stray) {
          // the rest of the file no longer splits reliably (losseval's cutter toggles on every quote):
          // the input is invalid whatever follows, so stop here.
          records.push(rec);
          return { records, unterminated: null };
        }
      }
      if (i < n && b[i] === 13 && (i + 1 >= n || b[i + 1] === 10)) i++;
      if (i >= n) {
        records.push(rec);
        return { records, unterminated: null };
      }
      if (b[i] === delimiter) {
        i++;
        if (i >= n) {
          rec.fields.push('');
          rec.fieldLines.push(line);
          records.push(rec);
          return { records, unterminated: null };
        }
        continue;
      }
      // '\n'
      i++;
      line++;
      records.push(rec);
      break;
    }
  }
  return { records, unterminated: null };
}

/** Second opinion from csv-parse on the record structure, where its dialect is the contract's. */
function crossCheck(b: Uint8Array, delimiter: number, records: CsvRecord[]): void {
  // csv-parse trims differently (it would need ltrim/rtrim, which also strip \r, \n and \f), knows
  // no lone-'\r'-is-data rule and does not stop at a stray quote: compare only on inputs where none of
  // that can matter.
  for (let k = 0; k < b.length; k++) {
    const c = b[k]!;
    if (c === 13) return;
    if (c === 34) {
      const prev = k > 0 ? b[k - 1]! : 10;
      const next = k + 1 < b.length ? b[k + 1]! : 10;
      if (prev === 32 || prev === 9 || next === 32 || next === 9) return;
    }
  }
  if (records.some((r) => r.error !== null)) return;
  let parsed: string[][];
  try {
    parsed = csvParse(Buffer.from(b), {
      delimiter: String.fromCharCode(delimiter),
      quote: '"',
      escape: '"',
      record_delimiter: ['\n'],
      relax_column_count: true,
      skip_empty_lines: false,
      bom: false,
    }) as string[][];
  } catch (e) {
    throw new ReferenceBug(`csv-parse rejects what the reference accepts: ${(e as Error).message}`);
  }
  if (parsed.length !== records.length) {
    throw new ReferenceBug(`csv-parse finds ${parsed.length} records, the reference ${records.length}`);
  }
  for (let r = 0; r < parsed.length; r++) {
    const a = parsed[r]!, want = records[r]!.fields;
    // csv-parse turns an empty line into [''] too
    if (a.length !== want.length || a.some((v, j) => v !== want[j])) {
      throw new ReferenceBug(`csv-parse and the reference differ on record ${r + 1}: ${JSON.stringify(a).slice(0, 200)} vs ${JSON.stringify(want).slice(0, 200)}`);
    }
  }
}

interface Loaded {
  name: string;
  names: string[] | null;
  /** selected values per row, filled by `values()` */
  width: number;
  rows: number;
  /** values(cols) -> row-major rows × sum(widths) */
  widths(cols: number[]): number[];
  values(cols: number[], input: number): Float64Array[];
  isArrow: boolean;
}

function loadCsv(name: string, b: Uint8Array, header: boolean, delimiter: number): Loaded {
  let body = b;
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  const { records, unterminated } = splitCsv(body, delimiter);
  if (unterminated === null) crossCheck(body, delimiter, records);
  let names: string[] | null = null;
  let data = records;
  let fieldCount: number;
  if (header) {
    // no header row at all (an empty file, or only a BOM): a data error, whatever the options select
    if (records.length === 0 && unterminated === null) throw new RefError('data', 'empty file: no header row');
    {
      if (records.length === 0 || records[0]!.error) throw new RefError('data', 'bad header');
      names = records[0]!.fields;
      fieldCount = names.length;
      data = records.slice(1);
    }
  } else {
    // the field count is the first non-blank line's
    const first = records.find((r) => !r.blank) ?? records[0];
    // as for a bad header: a first row that does not split gives no column count to select from
    if (first?.error) throw new RefError('data', 'bad first row');
    fieldCount = first !== undefined ? first.fields.length : 0;
    if (records.length === 0 && unterminated) fieldCount = -1; // unknown: the only row is broken
  }
  // two or more fields: a blank line is no row (one field: an empty value, NaN)
  if (fieldCount >= 2) data = data.filter((r) => !r.blank);
  return {
    name, names, width: fieldCount, rows: data.length, isArrow: false,
    widths: (cols) => cols.map(() => 1),
    values(cols, input) {
      const out: Float64Array[] = [];
      const sel = new Map<number, number[]>();
      cols.forEach((c, j) => sel.set(c, [...(sel.get(c) ?? []), j]));
      for (const rec of data) {
        // left to right: the first bad selected value, a quote error, then the field count
        const row = new Float64Array(cols.length);
        const upTo = Math.min(rec.fields.length, fieldCount, rec.error ? rec.error.field : Infinity);
        for (let f = 0; f < upTo; f++) {
          const js = sel.get(f);
          if (!js) continue;
          const v = refNumber(rec.fields[f]!, delimiter);
          if (v === undefined) {
            throw new RefError('data', `line ${rec.fieldLines[f]}: not a number: ${JSON.stringify(rec.fields[f]!.slice(0, 40))}`, input, rec.fieldLines[f]);
          }
          for (const j of js) row[j] = v;
        }
        if (rec.error !== null) throw new RefError('data', `line ${rec.error.line}: ${rec.error.message}`, input, rec.error.line);
        if (rec.fields.length !== fieldCount) {
          throw new RefError('data', `line ${rec.line}: expected ${fieldCount} fields, found ${rec.fields.length}`, input, rec.line);
        }
        out.push(row);
      }
      if (unterminated) throw new RefError('data', `line ${unterminated.line}: unterminated quoted field`, input, unterminated.line);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Arrow

function isNumericType(t: DataType): boolean {
  return DataType.isInt(t) || DataType.isFloat(t);
}

/**
 * tableFromIPC, except that a batch which carries a validity buffer (null count 0) in a column the
 * schema declares non-nullable is read under the schema (arrow-js then infers a nullable field for
 * that batch and refuses to make a table: "schemas must be equivalent"); actual nulls there are
 * corrupt data. Found by the fuzzer (seed seventh, case 6166).
 */
function readArrowTable(b: Uint8Array): Table {
  const reader = RecordBatchReader.from(b).open();
  const schema = reader.schema;
  const batches = reader.readAll();
  return new Table(batches.map((batch) => {
    if (batch.schema === schema || batch.schema.fields.length !== schema.fields.length) return batch;
    let onlyNullability = true;
    schema.fields.forEach((f, c) => {
      const g = batch.schema.fields[c]!;
      if (g.name !== f.name || String(g.type) !== String(f.type)) onlyNullability = false;
      const d = batch.data.children[c];
      if (d && !f.nullable && d.nullCount > 0) throw new RefError('data', `arrow: ${d.nullCount} nulls in non-nullable column ${f.name}`);
    });
    return onlyNullability ? new RecordBatch(schema, batch.data) : batch;
  }));
}

function loadArrow(name: string, b: Uint8Array): Loaded {
  let table;
  try {
    table = readArrowTable(b);
  } catch (e) {
    if (e instanceof RefError) throw e;
    throw new RefError('data', `arrow: ${(e as Error).message}`);
  }
  const fields = table.schema.fields;
  const rows = table.numRows;
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RefError('data', `arrow: ${rows} rows`);
  // every batch's columns must have the batch's length
  for (const batch of table.batches) {
    for (let c = 0; c < fields.length; c++) {
      const d = batch.data.children[c];
      if (!d || d.length !== batch.numRows) throw new RefError('data', 'arrow: column length differs from the batch length');
      // every buffer must hold what the column's length needs ("wrong buffer sizes" are corrupt data)
      const need = (x: { offset: number; length: number; values?: { length: number }; nullCount: number; nullBitmap?: Uint8Array }, per: number): void => {
        if (x.values && x.values.length < (x.offset + x.length) * per) throw new RefError('data', 'arrow: values buffer too short');
        if (x.nullCount > 0 && (x.nullBitmap?.length ?? 0) < ((x.offset + x.length + 7) >> 3)) throw new RefError('data', 'arrow: validity bitmap too short');
      };
      const t = fields[c]!.type as DataType;
      if (isNumericType(t)) need(d as never, 1);
      else if (t.typeId === Type.FixedSizeList) {
        // spread would drop nullCount/nullBitmap (getters): pass them explicitly
        need({ offset: d.offset, length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap } as never, 1);
        const child = d.children[0];
        const size = (t as unknown as { listSize: number }).listSize;
        if (!child || child.length < (d.offset + d.length) * size) throw new RefError('data', 'arrow: list values too short');
        need(child as never, 1);
      }
    }
  }
  const width = (c: number): number => {
    const t = fields[c]!.type as DataType;
    if (isNumericType(t)) return 1;
    if (t.typeId === Type.FixedSizeList && isNumericType((t.children[0]!.type) as DataType)) {
      return (t as unknown as { listSize: number }).listSize;
    }
    throw new RefError('usage', `column ${fields[c]!.name} is not numeric`);
  };
  const num = (v: unknown): number => {
    if (v === null || v === undefined) return NaN;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'number') return v;
    throw new RefError('data', `arrow: unexpected value ${String(v)}`);
  };
  return {
    name, names: fields.map((f) => f.name), width: fields.length, rows, isArrow: true,
    widths: (cols) => cols.map(width),
    values(cols) {
      const ws = cols.map(width);
      const total = ws.reduce((a, x) => a + x, 0);
      const vecs = cols.map((c) => table.getChildAt(c)!);
      const out: Float64Array[] = [];
      try {
        for (let r = 0; r < rows; r++) {
          const row = new Float64Array(total);
          let o = 0;
          cols.forEach((_, j) => {
            const v = vecs[j]!.get(r) as unknown;
            if (ws[j] === 1 && !isListLike(v)) {
              row[o++] = num(v);
            } else if (v === null) {
              for (let k = 0; k < ws[j]!; k++) row[o++] = NaN;
            } else {
              const arr = [...(v as Iterable<unknown>)];
              if (arr.length !== ws[j]) throw new RefError('data', `arrow: list of ${arr.length}, expected ${ws[j]}`);
              for (const x of arr) row[o++] = num(x);
            }
          });
          out.push(row);
        }
      } catch (e) {
        if (e instanceof RefError) throw e;
        throw new RefError('data', `arrow: ${(e as Error).message}`);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// NumPy .npy (written from the format's description, not from src/read/npy.ts: the header's
// Python literal is turned into JSON and checked after JSON.parse)

const NPY_TYPES: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

/** The header dict as JSON, tuples as {"t": [...]}; throws a RefError when it is not numpy's literal. */
function npyHeaderJson(text: string): unknown {
  const bad = (why: string): RefError => new RefError('data', `npy: header ${why}`);
  let json = '';
  const tokens = text.match(/'[^']*'|"[^"]*"|\((?:[^()'"]*)\)|True|False|[\s{}:,\[\]]|./g) ?? [];
  for (const tok of tokens) {
    if (tok[0] === "'" || tok[0] === '"') {
      if (tok.length < 2 || tok[tok.length - 1] !== tok[0]) throw bad('string unterminated');
      if (tok.includes('\\')) throw bad('string with an escape');
      json += JSON.stringify(tok.slice(1, -1));
    } else if (tok[0] === '(') {
      // a tuple of Python ints: empty, or each followed by a comma but maybe the last of two or more
      const inner = tok.slice(1, -1);
      const INT = '\\s*(?:0|[1-9][0-9]*)[lL]?\\s*';
      if (!new RegExp(`^(?:\\s*|(?:${INT},)+(?:${INT})?)$`).test(inner)) throw bad(`tuple ${tok}`);
      json += `{"t":[${inner.split(',').map((x) => x.trim().replace(/[lL]$/, '')).filter((x) => x !== '').join(',')}]}`;
    } else if (tok === 'True' || tok === 'False') {
      json += tok === 'True' ? 'true' : 'false';
    } else if (/^[\s{}:,\[\]]$/.test(tok)) {
      json += tok;
    } else {
      throw bad(`character ${JSON.stringify(tok)}`);
    }
  }
  // Python allows a trailing comma in a dict or a list; JSON does not
  json = json.replace(/,(\s*[}\]])/g, '$1');
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw bad('not a literal');
  }
  // JSON.parse keeps the last of repeated keys: count the keys at the top level
  let depth = 0, inStr = false, colons = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i]!;
    if (inStr) { if (ch === '\\') i++; else if (ch === '"') inStr = false; continue; }
    if (ch === '"') inStr = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === ':' && depth === 1) colons++;
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length !== colons) throw bad('repeats a key');
  return v;
}

function loadNpy(name: string, b: Uint8Array): Loaded {
  const bad = (why: string): RefError => new RefError('data', `npy: ${why}`);
  if (b.length < 8) throw bad('short');
  const major = b[6]!, minor = b[7]!;
  if (major < 1 || major > 3 || minor !== 0) throw bad(`version ${major}.${minor}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (b.length < 8 + lenBytes) throw bad('short');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hlen > 1 << 20) throw bad('header over 1 MiB');
  const start = 8 + lenBytes + hlen;
  if (start > b.length) throw bad('header past the end');
  const h = npyHeaderJson(new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(8 + lenBytes, start))) as Record<string, unknown>;
  if (h === null || typeof h !== 'object' || Array.isArray(h)) throw bad('header not a dict');
  if (Object.keys(h).sort().join() !== 'descr,fortran_order,shape') throw bad('header keys');
  const { descr, fortran_order: fortran, shape } = h as { descr: unknown; fortran_order: unknown; shape: { t?: unknown } };
  if (typeof descr !== 'string' || typeof fortran !== 'boolean' || shape === null || typeof shape !== 'object' || !Array.isArray(shape.t)) throw bad('header values');
  const m = /^([<>|])([fiub][1248])$/.exec(descr);
  const size = m ? NPY_TYPES[m[2]!] : undefined;
  if (!m || size === undefined || (m[1] === '|' && size !== 1)) throw bad(`dtype ${descr}`);
  const dims = shape.t as unknown[];
  if (!dims.every((d) => Number.isSafeInteger(d))) throw bad('shape too large');
  if (dims.length > 2) throw bad('more than 2 dimensions');
  const rows = dims.length === 0 ? 1 : dims[0] as number;
  const width = dims.length === 2 ? dims[1] as number : 1;
  const bytes = BigInt(rows) * BigInt(width) * BigInt(size);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('shape too large');
  if (width === 0 || width > 1 << 20) throw bad(`width ${width}`);
  if (fortran && rows > 1 && width > 1) throw bad('Fortran order');
  if (BigInt(b.length - start) !== bytes) throw bad(`${b.length - start} data bytes, the shape needs ${bytes}`);
  const little = m[1] !== '>';
  const code = m[2]!;
  const half = (x: number): number => {
    const e = (x >> 10) & 31, f = x & 1023, sgn = x >> 15 ? -1 : 1;
    if (e === 31) return f ? NaN : sgn * Infinity;
    return e === 0 ? sgn * f / 1024 * 2 ** -14 : sgn * (1 + f / 1024) * 2 ** (e - 15);
  };
  const get = (i: number): number => {
    const o = start + i * size;
    switch (code) {
      case 'f2': return half(dv.getUint16(o, little));
      case 'f4': return dv.getFloat32(o, little);
      case 'f8': return dv.getFloat64(o, little);
      case 'i1': return dv.getInt8(o);
      case 'i2': return dv.getInt16(o, little);
      case 'i4': return dv.getInt32(o, little);
      case 'i8': return Number(dv.getBigInt64(o, little));
      case 'u2': return dv.getUint16(o, little);
      case 'u4': return dv.getUint32(o, little);
      case 'u8': return Number(dv.getBigUint64(o, little));
      default: return dv.getUint8(o); // u1, b1
    }
  };
  return {
    name, names: null, width: 1, rows, isArrow: false,
    widths: (cols) => cols.map(() => width),
    values(cols) {
      const out: Float64Array[] = [];
      for (let r = 0; r < rows; r++) {
        const row = new Float64Array(cols.length * width);
        cols.forEach((_, j) => { for (let k = 0; k < width; k++) row[j * width + k] = get(r * width + k); });
        out.push(row);
      }
      return out;
    },
  };
}

/**
 * What losseval recognises by the first 64 bytes only to refuse (a usage error): Parquet, zip,
 * xz, zstd, bzip2, JSON (`{` then `"` or `}`, or `[` then what starts a JSON value, after spaces).
 */
function refusedFormat(b: Uint8Array): string | null {
  const head = b.subarray(0, 64);
  const text = new TextDecoder('latin1').decode(head);
  if (text.startsWith('PAR1')) return 'parquet';
  if (text.startsWith('PK\x03\x04') || text.startsWith('PK\x05\x06')) return 'zip';
  if (text.startsWith('\xfd7zXZ\x00')) return 'xz';
  if (text.startsWith('\x28\xb5\x2f\xfd')) return 'zstd';
  if (/^BZh[1-9]1AY&SY/.test(text)) return 'bzip2';
  if (/^(?:\xef\xbb\xbf)?[ \t\r\n]*(?:\{[ \t\r\n]*(?:["}]|$)|\[[ \t\r\n]*(?:[[{"\]0-9tfn-]|$))/.test(text)) return 'json';
  return null;
}

function isListLike(v: unknown): boolean {
  return v !== null && typeof v === 'object' && Symbol.iterator in (v as object);
}

// ---------------------------------------------------------------------------------------------
// The whole run

function load(input: RefInput, index: number, c: RefCase): Loaded {
  let b = input.bytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (e) {
      throw new RefError('data', `gzip: ${(e as Error).message}`, index);
    }
  }
  if (b.length >= 6 && dec.decode(b.subarray(0, 6)) === 'ARROW1') return loadArrow(input.name, b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xff && b[2] === 0xff && b[3] === 0xff) {
    // a stream starts with a schema message: its metadata length is positive
    if (b.length < 8 || new DataView(b.buffer, b.byteOffset + 4, 4).getInt32(0, true) <= 0) throw new RefError('data', 'arrow stream: bad first message length');
    return loadArrow(input.name, b);
  }
  if (b.length >= 6 && b[0] === 0x93 && dec.decode(b.subarray(1, 6)) === 'NUMPY') return loadNpy(input.name, b);
  const refused = refusedFormat(b);
  if (refused !== null) throw new RefError('usage', `a ${refused} file`, index);
  const delimiter = c.delimiter ?? (/\.tsv(\.gz)?$/i.test(input.name) ? 9 : 44);
  return loadCsv(input.name, b, c.header, delimiter);
}

function selectCols(list: string, t: Loaded): number[] {
  const out: number[] = [];
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') throw new RefError('usage', 'empty column name');
    if (t.names === null || (t.isArrow === false && t.names.length === 0)) {
      if (t.names !== null) throw new RefError('usage', `unknown column ${item}`);
      if (!/^\d+$/.test(item) || Number(item) >= t.width) throw new RefError('usage', `bad column index ${item}`);
      out.push(Number(item));
      continue;
    }
    if (item.includes('*')) {
      const re = new RegExp('^' + item.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
      const hits = t.names.flatMap((nm, i) => (re.test(nm) ? [i] : []));
      if (hits.length === 0) throw new RefError('usage', `no column matches ${item}`);
      out.push(...hits);
      continue;
    }
    // as losseval (src/read/columns.ts): a name also matches without its surrounding whitespace
    let i = t.names.indexOf(item);
    if (i < 0) i = t.names.findIndex((nm) => nm.trim() === item);
    if (i < 0) throw new RefError('usage', `unknown column ${item}`);
    out.push(i);
  }
  return out;
}

function allCols(t: Loaded, except: number[] = []): number[] {
  const n = Math.max(t.width, 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!except.includes(i)) out.push(i);
  return out;
}

function term(loss: RefLoss, x: number, y: number, beta: number, delta: number): number {
  const d = x - y;
  const z = Math.abs(d);
  switch (loss) {
    case 'l1': return z;
    case 'mse': return d * d;
    case 'smooth_l1': return beta === 0 ? z : z < beta ? (0.5 * z * z) / beta : z - 0.5 * beta;
    case 'huber': return z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
  }
}

/** Correctly rounded sum or mean of float64 terms, IEEE rules for NaN and infinities. */
export function reduceTerms(terms: readonly number[], reduction: 'mean' | 'sum'): number {
  let nan = false, pos = false, neg = false;
  const finite: number[] = [];
  for (const t of terms) {
    if (t !== t) nan = true;
    else if (t === Infinity) pos = true;
    else if (t === -Infinity) neg = true;
    else finite.push(t);
  }
  if (nan || (pos && neg)) return NaN;
  if (pos) return Infinity;
  if (neg) return -Infinity;
  if (reduction === 'mean') {
    if (terms.length === 0) return NaN;
    return roundRational(exactScaledSum(finite), BigInt(terms.length) << 1074n);
  }
  return roundRational(exactScaledSum(finite), 1n << 1074n);
}

export function formatRef(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return 1 / x < 0 ? '-0' : '0';
  return String(x);
}

export function reference(c: RefCase): RefResult {
  try {
    return compute(c);
  } catch (e) {
    if (e instanceof RefError) {
      return { status: 'error', kind: e.kind, reason: e.message, ...(e.input !== undefined ? { input: e.input } : {}), ...(e.line !== undefined ? { line: e.line } : {}) };
    }
    throw e;
  }
}

function compute(c: RefCase): RefResult {
  if (c.beta !== undefined && c.beta < 0) throw new RefError('usage', 'negative beta');
  if (c.delta !== undefined && c.delta <= 0) throw new RefError('usage', 'delta must be > 0');
  const tables = c.inputs.map((inp, i) => load(inp, i, c));
  const preds = tables[0]!;
  let predCols: number[], targetCols: number[];
  let targetsTable: Loaded;
  if (tables.length === 1) {
    if (c.targetCols === null) throw new RefError('usage', 'one file needs --target-cols');
    targetCols = selectCols(c.targetCols, preds);
    predCols = c.predCols !== null ? selectCols(c.predCols, preds) : allCols(preds, targetCols);
    targetsTable = preds;
    if (predCols.length === 0) throw new RefError('usage', 'no prediction columns');
  } else {
    targetsTable = tables[1]!;
    predCols = c.predCols !== null ? selectCols(c.predCols, preds) : allCols(preds);
    targetCols = c.targetCols !== null ? selectCols(c.targetCols, targetsTable) : allCols(targetsTable);
    if (predCols.length === 0) throw new RefError('usage', 'no prediction columns');
    if (targetCols.length === 0) throw new RefError('usage', 'no target columns');
  }
  // widths (Arrow non-numeric columns are a usage error, found before any row is read)
  const pw = preds.widths(predCols).reduce((a, x) => a + x, 0);
  const tw = targetsTable.widths(targetCols).reduce((a, x) => a + x, 0);
  if (pw !== tw) throw new RefError('data', `${pw} prediction values per row but ${tw} targets`);
  let P: Float64Array[], T: Float64Array[];
  if (tables.length === 1) {
    const all = preds.values([...predCols, ...targetCols], 0);
    P = all.map((r) => r.subarray(0, pw));
    T = all.map((r) => r.subarray(pw));
  } else {
    // Both files are read; a bad value anywhere is an error, as are different row counts.
    let pe: unknown = null, te: unknown = null;
    P = [];
    T = [];
    try { P = preds.values(predCols, 0); } catch (e) { pe = e; }
    try { T = targetsTable.values(targetCols, 1); } catch (e) { te = e; }
    if (pe || te) {
      const first = (pe ?? te) as RefError;
      // the line is only predictable when one file is bad and both have as many rows
      const both = pe && te;
      throw new RefError(first.kind, first.message, both || preds.rows !== targetsTable.rows ? undefined : first.input,
        both || preds.rows !== targetsTable.rows ? undefined : first.line);
    }
    if (P.length !== T.length) throw new RefError('data', `row counts differ: ${P.length} vs ${T.length}`);
  }
  let rows = P.length;
  if (c.nanPolicy !== 'propagate') {
    const keepP: Float64Array[] = [], keepT: Float64Array[] = [];
    for (let r = 0; r < P.length; r++) {
      const hasNan = P[r]!.some((v) => v !== v) || T[r]!.some((v) => v !== v);
      if (hasNan && c.nanPolicy === 'raise') throw new RefError('data', `NaN in row ${r + 1}`);
      if (!hasNan) { keepP.push(P[r]!); keepT.push(T[r]!); }
    }
    P = keepP;
    T = keepT;
  }
  rows = P.length;
  const beta = c.beta ?? 1, delta = c.delta ?? 1;
  const values = c.losses.map((loss) => {
    const terms: number[] = [];
    for (let r = 0; r < P.length; r++) {
      const p = P[r]!, t = T[r]!;
      for (let k = 0; k < p.length; k++) terms.push(term(loss, p[k]!, t[k]!, beta, delta));
    }
    return reduceTerms(terms, c.reduction);
  });
  const stdout = values.length === 1
    ? formatRef(values[0]!) + '\n'
    : c.losses.map((l, i) => `${l}\t${formatRef(values[i]!)}\n`).join('');
  return { status: 'ok', stdout, rows };
}
