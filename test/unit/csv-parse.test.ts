import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { csvValuesBound, parseCsvChunk, type CsvChunk, type CsvParseResult } from '../../src/parse/csv.js';
import { parseNumberString } from '../../src/parse/number.js';
import { countRows } from '../../src/read/csv-cut.js';
import { mulberry32 } from '../helpers/rng.js';

const enc = new TextEncoder();

function chunk(text: string, fieldCount: number, columns: number[], delimiter = 44, rows?: number): CsvChunk {
  const bytes = enc.encode(text);
  return { bytes, rows: rows ?? countRows(bytes, fieldCount >= 2), delimiter, fieldCount, columns };
}

function ok(r: CsvParseResult): number[] {
  if (!r.ok) throw new Error(`unexpected error: ${JSON.stringify(r)}`);
  return Array.from(r.values);
}

function err(r: CsvParseResult) {
  if (r.ok) throw new Error('expected an error');
  return r;
}

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}


describe('parseCsvChunk basics', () => {
  it('parses plain rows, with and without the final newline', () => {
    expect(ok(parseCsvChunk(chunk('1,2\n3,4\n', 2, [0, 1])))).toEqual([1, 2, 3, 4]);
    expect(ok(parseCsvChunk(chunk('1,2\n3,4', 2, [0, 1])))).toEqual([1, 2, 3, 4]);
    expect(ok(parseCsvChunk(chunk('', 2, [0, 1], 44, 0)))).toEqual([]);
  });

  it('selects, reorders and repeats columns', () => {
    expect(ok(parseCsvChunk(chunk('1,2,3\n4,5,6\n', 3, [2, 0, 2])))).toEqual([3, 1, 3, 6, 4, 6]);
    expect(ok(parseCsvChunk(chunk('1,2,3\n4,5,6\n', 3, [])))).toEqual([]);
  });

  it('handles CRLF', () => {
    expect(ok(parseCsvChunk(chunk('1,2\r\n3,4\r\n', 2, [0, 1])))).toEqual([1, 2, 3, 4]);
    expect(ok(parseCsvChunk(chunk('1,2\r\n3,4', 2, [0, 1])))).toEqual([1, 2, 3, 4]);
    expect(ok(parseCsvChunk(chunk('a,2\r\nb,4\r\n', 2, [1])))).toEqual([2, 4]);
    expect(ok(parseCsvChunk(chunk('1,x\r\n3,y\r\n', 2, [0])))).toEqual([1, 3]);
    // a lone CR inside a number is data (invalid)
    const e = err(parseCsvChunk(chunk('1\r2,3\n', 2, [0])));
    expect(e.kind).toBe('number');
  });

  it('ignores unselected text columns, even with odd bytes', () => {
    expect(ok(parseCsvChunk(chunk('id-1,0.5\nzz\r top,1.5\n', 2, [1])))).toEqual([0.5, 1.5]);
  });

  it('parses the special tokens, trims spaces and tabs', () => {
    const v = ok(parseCsvChunk(chunk(' 1 ,\t2\t,nan,-inf, Infinity ,,NAN\n', 7, [0, 1, 2, 3, 4, 5, 6])));
    expect(v.slice(0, 2)).toEqual([1, 2]);
    expect(Number.isNaN(v[2])).toBe(true);
    expect(v[3]).toBe(-Infinity);
    expect(v[4]).toBe(Infinity);
    expect(Number.isNaN(v[5])).toBe(true);
    expect(Number.isNaN(v[6])).toBe(true);
  });

  it('empty line: NaN with one column, a field-count error otherwise', () => {
    const v = ok(parseCsvChunk(chunk('1\n\n3\n', 1, [0])));
    expect(v[0]).toBe(1);
    expect(Number.isNaN(v[1])).toBe(true);
    expect(v[2]).toBe(3);
    const w = ok(parseCsvChunk(chunk('1\r\n\r\n3\r\n', 1, [0])));
    expect(Number.isNaN(w[1])).toBe(true);
    expect(w[2]).toBe(3);
  });

  it('blank lines in two or more columns: skipped anywhere, counted, and lines stay physical', () => {
    for (const [text, rows, blanks, lines] of [
      ['1,2\n\n3,4\n', 2, 1, 3], ['\n1,2\n3,4\n\n\n', 2, 3, 5], ['1,2\r\n\r\n3,4\r\n\r\n', 2, 2, 4],
      ['1,2\n\r', 1, 1, 1], ['\n\n', 0, 2, 2], ['"1",2\n\n3,"4"\n\n', 2, 2, 4],
    ] as const) {
      const r = parseCsvChunk(chunk(text, 2, [0, 1]));
      if (!r.ok) throw new Error(r.message);
      expect([r.rows, r.blankLines, r.lines]).toEqual([rows, blanks, lines]);
      expect(Array.from(r.values)).toEqual([1, 2, 3, 4].slice(0, 2 * rows));
      // uncounted (cut by size): the parse counts the same
      const u = parseCsvChunk({ ...chunk(text, 2, [0, 1]), rows: null });
      expect(u.ok && [u.rows, u.blankLines, u.lines]).toEqual([rows, blanks, lines]);
    }
    // errors after blank lines name the physical line (0-based within the chunk), both paths
    expect(err(parseCsvChunk(chunk('1,2\n\n\r\n3,x\n', 2, [0, 1])))).toMatchObject({ kind: 'number', row: 1, line: 3, value: 'x' });
    expect(err(parseCsvChunk(chunk('"1",2\n\n\r\n3,x\n', 2, [0, 1])))).toMatchObject({ kind: 'number', row: 1, line: 3, value: 'x' });
    expect(err(parseCsvChunk(chunk('1,2\n\n3\n', 2, [0, 1], 44, 2)))).toMatchObject({ kind: 'fields', row: 1, line: 2, message: 'expected 2 fields, found 1' });
    // a line of spaces is not blank: a ragged row
    expect(err(parseCsvChunk(chunk('1,2\n  \n', 2, [0, 1], 44, 2)))).toMatchObject({ kind: 'fields', row: 1, line: 1 });
  });

  it('reports wrong field counts (too few and too many)', () => {
    expect(err(parseCsvChunk(chunk('1,2,3\n4,5\n', 3, [0])))).toMatchObject({
      kind: 'fields',
      row: 1,
      line: 1,
      field: 2,
      value: '4,5',
      message: 'expected 3 fields, found 2',
    });
    expect(err(parseCsvChunk(chunk('1,2\n4,5,6\r\n', 2, [1])))).toMatchObject({
      kind: 'fields',
      row: 1,
      field: 3,
      value: '4,5,6',
      message: 'expected 2 fields, found 3',
    });
    // an unselected column can be missing too
    expect(err(parseCsvChunk(chunk('1,2,3\n4,5', 3, [0]))).kind).toBe('fields');
  });

  it('reports bad numbers with row, line, field and the value as written', () => {
    expect(err(parseCsvChunk(chunk('1,2\n3,abc\n', 2, [0, 1])))).toMatchObject({
      ok: false,
      kind: 'number',
      row: 1,
      line: 1,
      field: 1,
      value: 'abc',
      message: 'not a number: "abc"',
    });
    for (const bad of ['0x10', '1_000', '1e', 'nan1', '1 2', '--1']) {
      const e = err(parseCsvChunk(chunk(`1,${bad}\n`, 2, [0, 1])));
      expect(e).toMatchObject({ kind: 'number', row: 0, field: 1, value: bad });
    }
    // not reported when the column is not selected
    expect(ok(parseCsvChunk(chunk('1,abc\n', 2, [0])))).toEqual([1]);
  });

  it('truncates long offending values', () => {
    const long = 'x'.repeat(200);
    const e = err(parseCsvChunk(chunk(`${long},1\n`, 2, [0])));
    expect(e.value.length).toBe(61);
    expect(e.value.endsWith('…')).toBe(true);
  });

  it('parses TSV (tab is then not trimmed)', () => {
    expect(ok(parseCsvChunk(chunk('1\t2\n 3 \t4\n', 2, [0, 1], 9)))).toEqual([1, 2, 3, 4]);
    expect(ok(parseCsvChunk(chunk('a,b\t2\n', 2, [1], 9)))).toEqual([2]);
    expect(ok(parseCsvChunk(chunk('"1"\t"2.5"\n', 2, [0, 1], 9)))).toEqual([1, 2.5]);
  });

  it('detects the row-count mismatch with the cutter as an internal error', () => {
    expect(() => parseCsvChunk(chunk('1\n2\n', 1, [0], 44, 1))).toThrow(/internal/);
    expect(() => parseCsvChunk(chunk('1\n2\n', 1, [0], 44, 3))).toThrow(/internal/);
  });
});

describe('parseCsvChunk quoted fields', () => {
  it('quoted numbers are numbers, quoted text with commas and escapes is skipped', () => {
    const text = '"a, ""b""",  "1.5" ,2\n"x\ny",-3,"4"\r\n';
    const v = ok(parseCsvChunk(chunk(text, 3, [1, 2])));
    expect(v).toEqual([1.5, 2, -3, 4]);
  });

  it('spaces inside and around the quotes are trimmed for numbers', () => {
    expect(ok(parseCsvChunk(chunk('" 1 " , "\t2"\n', 2, [0, 1])))).toEqual([1, 2]);
    expect(Number.isNaN(ok(parseCsvChunk(chunk('"",1\n', 2, [0])))[0])).toBe(true);
  });

  it('counts physical lines for errors after multi-line fields', () => {
    const text = '"l1\nl2\nl3",1\n"ok",2\n"a\nb",zz\n';
    const e = err(parseCsvChunk(chunk(text, 2, [1])));
    expect(e).toMatchObject({ kind: 'number', row: 2, line: 5, field: 1, value: 'zz' });
    const e2 = err(parseCsvChunk(chunk('1,2\n"a\nb",3,4\n', 2, [1])));
    expect(e2).toMatchObject({ kind: 'fields', row: 1, line: 1, field: 3 });
    // the bad value itself spans lines: its start line is reported
    const e3 = err(parseCsvChunk(chunk('1,"2\n3"\n', 2, [1])));
    expect(e3).toMatchObject({ kind: 'number', row: 0, line: 0, field: 1, value: '2\n3' });
  });

  it('a quoted field with "" in a selected column is not a number', () => {
    const e = err(parseCsvChunk(chunk('"1""2",3\n', 2, [0])));
    expect(e).toMatchObject({ kind: 'number', value: '1"2' });
  });

  it('reports an unterminated quote', () => {
    const e = err(parseCsvChunk(chunk('1,2\n3,"4\n5,6\n', 2, [0], 44, 2)));
    expect(e).toMatchObject({ kind: 'quote', row: 1, line: 1, field: 1, message: 'unterminated quoted field' });
  });

  it('reports stray quotes and text after a closing quote', () => {
    expect(err(parseCsvChunk(chunk('ab"c",1\n', 2, [1], 44, 1)))).toMatchObject({ kind: 'quote', field: 0 });
    expect(err(parseCsvChunk(chunk('"ab"c,1\n', 2, [1], 44, 1)))).toMatchObject({ kind: 'quote', field: 0 });
  });

  it('empty quoted lines and CRLF inside quotes', () => {
    const v = ok(parseCsvChunk(chunk('"a\r\nb",1\r\n"",2\r\n', 2, [1])));
    expect(v).toEqual([1, 2]);
  });
});

function randomNumberText(r: () => number): string {
  const k = r();
  if (k < 0.04) return ['nan', 'NaN', 'inf', '-Infinity', ''][Math.floor(r() * 5)]!;
  if (k < 0.5) return ((r() - 0.5) * 100).toPrecision(1 + Math.floor(r() * 17));
  if (k < 0.7) return String(Math.floor(r() * 1e6) - 5e5);
  if (k < 0.85) return (r() * 10 ** (Math.floor(r() * 80) - 40)).toExponential(Math.floor(r() * 20));
  let d = '';
  const nd = 1 + Math.floor(r() * 24);
  for (let i = 0; i < nd; i++) d += String(Math.floor(r() * 10));
  const p = Math.floor(r() * nd);
  return (r() < 0.5 ? '-' : '') + d.slice(0, p) + '.' + d.slice(p) + (r() < 0.3 ? 'e' + (Math.floor(r() * 40) - 20) : '');
}

describe('fast path vs RFC 4180 path', () => {
  it('quoting every field gives bit-identical values (random data)', () => {
    const r = mulberry32(2024);
    for (let trial = 0; trial < 20; trial++) {
      const fields = 1 + Math.floor(r() * 5);
      const nrows = 1 + Math.floor(r() * 300);
      const crlf = r() < 0.5;
      const plain: string[] = [];
      const quoted: string[] = [];
      const partly: string[] = [];
      for (let i = 0; i < nrows; i++) {
        const cells = Array.from({ length: fields }, () => randomNumberText(r));
        if (fields === 1 && cells[0] === '') cells[0] = 'nan';
        plain.push(cells.join(','));
        quoted.push(cells.map((c) => `"${c}"`).join(','));
        partly.push(cells.map((c) => (r() < 0.5 ? ` "${c}" ` : c)).join(','));
      }
      const nl = crlf ? '\r\n' : '\n';
      const tail = r() < 0.5 ? nl : '';
      const cols = Array.from({ length: fields }, (_, i) => fields - 1 - i);
      const a = parseCsvChunk(chunk(plain.join(nl) + tail, fields, cols));
      const b = parseCsvChunk(chunk(quoted.join(nl) + tail, fields, cols));
      const c = parseCsvChunk(chunk(partly.join(nl) + tail, fields, cols));
      if (!a.ok || !b.ok || !c.ok) throw new Error(JSON.stringify([a, b, c]));
      expect(bitsEqual(a.values, b.values)).toBe(true);
      expect(bitsEqual(a.values, c.values)).toBe(true);
      // and against parseNumberString cell by cell
      const want = new Float64Array(nrows * fields);
      plain.forEach((line, i) => {
        const cells = line.split(',');
        cols.forEach((f, j) => (want[i * fields + j] = parseNumberString(cells[f]!)!));
      });
      expect(bitsEqual(a.values, want)).toBe(true);
    }
  });

  it('agrees with csv-parse/sync on random quoted CSV with text columns', () => {
    const r = mulberry32(7);
    const texts = ['a', 'hello, world', 'say ""hi""', 'multi\nline', 'crlf\r\ninside', '', ' spaced ', 'x,y\nz'];
    for (let trial = 0; trial < 30; trial++) {
      const nrows = 1 + Math.floor(r() * 200);
      const lines: string[] = [];
      for (let i = 0; i < nrows; i++) {
        const t = texts[Math.floor(r() * texts.length)]!;
        const num = randomNumberText(r) || '0';
        const num2 = randomNumberText(r) || '1';
        lines.push(`"${t}",${r() < 0.5 ? `"${num}"` : num},${num2}`);
      }
      const nl = r() < 0.5 ? '\r\n' : '\n';
      const text = lines.join(nl) + nl;
      const res = parseCsvChunk(chunk(text, 3, [1, 2, 1]));
      const recs = parse(text, { delimiter: ',' }) as string[][];
      expect(recs.length).toBe(nrows);
      const want = new Float64Array(nrows * 3);
      recs.forEach((rec, i) => {
        want[i * 3] = parseNumberString(rec[1]!)!;
        want[i * 3 + 1] = parseNumberString(rec[2]!)!;
        want[i * 3 + 2] = want[i * 3]!;
      });
      if (!res.ok) throw new Error(JSON.stringify(res));
      expect(bitsEqual(res.values, want)).toBe(true);
    }
  });
});

describe('parseCsvChunk without a row count (chunks cut by size)', () => {
  const uncounted = (text: string, fieldCount: number, columns: number[], out?: Float64Array) =>
    parseCsvChunk({ bytes: enc.encode(text), rows: null, delimiter: 44, fieldCount, columns, ...(out ? { out } : {}) });

  it('counts rows and newlines, and gives the values of the counted parse', () => {
    const r = mulberry32(99);
    for (let t = 0; t < 200; t++) {
      const fields = 1 + Math.floor(r() * 4);
      const n = Math.floor(r() * 40);
      const nl = r() < 0.5 ? '\r\n' : '\n';
      let text = '';
      for (let i = 0; i < n; i++) {
        const cells = Array.from({ length: fields }, () => {
          const k = r();
          return k < 0.7 ? String((r() - 0.5) * 100) : k < 0.85 ? `"${r()}"` : k < 0.95 ? '' : '"a\nb"';
        });
        text += cells.join(',') + (i < n - 1 || r() < 0.7 ? nl : '');
      }
      const cols = [fields - 1, 0];
      const counted = parseCsvChunk(chunk(text, fields, cols));
      const got = uncounted(text, fields, cols);
      if (!counted.ok || !got.ok) {
        // text cells in selected columns: both report the same error
        expect(got).toEqual(counted);
        continue;
      }
      expect(got.rows).toBe(countRows(enc.encode(text)));
      expect(got.lines).toBe((text.match(/\n/g) ?? []).length);
      expect(bitsEqual(got.values, counted.values)).toBe(true);
      expect(counted.rows).toBe(got.rows);
      expect(counted.lines).toBe(got.lines);
    }
  });

  it('the bound holds for the densest rows: one byte per field', () => {
    for (const [text, fields, rows] of [
      ['\n\n\n', 1, 3], ['\n\n\n1', 1, 4], [',,\n,,\n,,', 3, 3], [',\n,\n', 2, 2], ['1', 1, 1], ['', 1, 0],
    ] as const) {
      const bytes = enc.encode(text);
      const bound = csvValuesBound(bytes.length, fields, fields);
      // exactly the bound's space: a row beyond it would be an internal error, not a lost value
      const res = uncounted(text, fields, Array.from({ length: fields }, (_, i) => i), new Float64Array(bound));
      if (!res.ok) throw new Error(res.message);
      expect(res.rows).toBe(rows);
      expect(res.values.length).toBe(rows * fields);
      expect(rows * fields).toBeLessThanOrEqual(bound);
    }
  });

  it('a short row is an error within the bound, found when that row is parsed', () => {
    const res = uncounted('1,2\n3\n', 2, [0, 1], new Float64Array(csvValuesBound(6, 2, 2)));
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res).toMatchObject({ kind: 'fields', row: 1, line: 1 });
  });

  it('uses the given space when it is large enough, and only then', () => {
    const out = new Float64Array(16);
    const a = uncounted('1,2\n3,4\n', 2, [0, 1], out);
    if (!a.ok) throw new Error(a.message);
    expect(a.values.buffer).toBe(out.buffer);
    expect(Array.from(a.values)).toEqual([1, 2, 3, 4]);
    const b = uncounted('1,2\n3,4\n', 2, [0, 1], new Float64Array(2));
    if (!b.ok) throw new Error(b.message);
    expect(Array.from(b.values)).toEqual([1, 2, 3, 4]);
  });
});

describe('parseCsvChunk groupWidth (roles laid out as their own matrices)', () => {
  it('each group equals its columns cut out of the row-major parse, counted or not, with repeated columns', () => {
    const r = mulberry32(2024);
    for (let t = 0; t < 150; t++) {
      const fields = 1 + Math.floor(r() * 6);
      const w = 1 + Math.floor(r() * 3);
      const ng = 1 + Math.floor(r() * 3);
      const columns = Array.from({ length: w * ng }, () => Math.floor(r() * fields));
      const n = Math.floor(r() * 30);
      let text = '';
      for (let i = 0; i < n; i++) {
        text += Array.from({ length: fields }, () => (r() < 0.2 ? `"${(r() * 9).toFixed(2)}"` : String((r() - 0.5) * 1e3))).join(',') + '\n';
      }
      const wide = parseCsvChunk(chunk(text, fields, columns));
      if (!wide.ok) throw new Error(wide.message);
      for (const rows of [n, null]) {
        const bytes = enc.encode(text);
        const got = parseCsvChunk({ bytes, rows, delimiter: 44, fieldCount: fields, columns, groupWidth: w });
        if (!got.ok) throw new Error(got.message);
        expect(got.groups).toHaveLength(ng);
        got.groups.forEach((g, gi) => {
          const want = new Float64Array(n * w);
          for (let row = 0; row < n; row++) for (let k = 0; k < w; k++) want[row * w + k] = wide.values[row * w * ng + gi * w + k]!;
          expect(bitsEqual(g, want)).toBe(true);
        });
      }
    }
  });

  it('refuses a width that does not divide the columns', () => {
    expect(() => parseCsvChunk({ ...chunk('1,2,3\n', 3, [0, 1, 2]), groupWidth: 2 })).toThrow(RangeError);
  });
});
