/**
 * csv-parse (a well-kept, independent RFC 4180 parser; a dev dependency for this only) as the
 * reference for the fast path: the main-thread cutter (both cutting modes, any source chunking)
 * and the worker parse must find the same header, the same rows and the same fields as csv-parse
 * — numbers bit for bit (csv-parse's text through parseNumberString), text fields as written
 * (fieldText, the error messages' source) — over the README's dialects and random CSVs
 * (sized by case count, seed printed).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { cutCsv, type RowBlock } from '../../src/read/csv-cut.js';
import { parseCsvChunk } from '../../src/parse/csv.js';
import { fieldText, locateRow } from '../../src/parse/csv-locate.js';
import { parseNumberString } from '../../src/parse/number.js';
import { mulberry32 } from '../helpers/rng.js';

const enc = new TextEncoder();

async function* feed(bytes: Uint8Array, size: () => number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; ) {
    const k = Math.min(bytes.length - i, Math.max(1, size()));
    yield bytes.slice(i, i + k);
    i += k;
  }
}

interface Case {
  text: string;
  delimiter: string;
  /** column indices holding numbers (the others hold text) */
  numeric: number[];
}

/** Cut and parse `c` as losseval does; compare every row and field with csv-parse's records. */
async function agree(c: Case, r: () => number, label: string): Promise<void> {
  const bytes = enc.encode(c.text);
  const delim = c.delimiter.charCodeAt(0);
  const ref = parse(bytes.subarray(bytes[0] === 0xef ? 3 : 0), {
    delimiter: c.delimiter, quote: '"', escape: '"', relax_column_count: false,
    record_delimiter: c.text.includes('\r\n') ? ['\r\n'] : ['\n'],
    // blank lines are no rows in files of two or more columns (README)
    skip_empty_lines: true,
  }) as string[][];
  const [names, ...rows] = ref;
  const size = (): number => 1 + Math.floor(r() * (r() < 0.5 ? 16 : 4096));
  for (const mode of ['rows', 'bytes'] as const) {
    const cut = cutCsv(feed(bytes, size), {
      rowsPerBlock: 1 + Math.floor(r() * 20), bytesPerBlock: mode === 'bytes' ? 1 + Math.floor(r() * 300) : null,
      header: true, delimiter: delim,
    });
    const header = await cut.header;
    expect(header.names, `${label} ${mode}: header`).toEqual(names);
    const blocks: RowBlock[] = [];
    for await (const b of cut.blocks) blocks.push(b);
    let row = 0;
    for (const b of blocks) {
      const res = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: delim, fieldCount: header.fieldCount, columns: c.numeric });
      if (!res.ok) throw new Error(`${label} ${mode}: ${res.message} (${JSON.stringify(res.value)})`);
      for (let k = 0; k < res.rows; k++, row++) {
        const want = rows[row];
        expect(want, `${label} ${mode}: row ${row + 1} exists in csv-parse's records`).toBeDefined();
        c.numeric.forEach((f, j) => {
          const v = res.values[k * c.numeric.length + j]!;
          expect(Object.is(v, parseNumberString(want![f]!)), `${label} ${mode}: row ${row + 1} field ${f}: ${v} vs ${JSON.stringify(want![f])}`).toBe(true);
        });
        const { start } = locateRow(b.bytes, k, header.fieldCount >= 2);
        for (let f = 0; f < header.fieldCount; f++) {
          if (!c.numeric.includes(f)) expect(fieldText(b.bytes, start, f, delim), `${label} ${mode}: row ${row + 1} field ${f}`).toBe(want![f]);
        }
      }
    }
    expect(row, `${label} ${mode}: rows`).toBe(rows.length);
  }
}

describe('the cutter and parser agree with csv-parse', () => {
  // the dialects of test/e2e/dialect.test.ts and the README
  const dialects: [string, Case][] = [
    ['plain', { text: 'p,y\n1.5,1\n-2,1\n3.25,3\n0,-0.5\n', delimiter: ',', numeric: [0, 1] }],
    ['semicolons', { text: 'p;y\n1.5;1\n-2;1\n3.25;3\n0;-0.5\n', delimiter: ';', numeric: [0, 1] }],
    ['tabs', { text: 'p\ty\n1.5\t1\n-2\t1\n3.25\t3\n0\t-0.5\n', delimiter: '\t', numeric: [0, 1] }],
    ['CRLF and a BOM, no final newline', { text: '\ufeffp,y\r\n1.5,1\r\n-2,1\r\n3.25,3\r\n0,-0.5', delimiter: ',', numeric: [0, 1] }],
    ['quoted fields and header', { text: '"p","y"\n"1.5",1\n-2,"1"\n3.25,3\n"0",-0.5\n', delimiter: ',', numeric: [0, 1] }],
    ['signs, exponents, .5 and 5.', { text: 'p,y\n+1.5,1.\n-2e0,1\n325e-2,3\n-0,-.5\n', delimiter: ',', numeric: [0, 1] }],
    ['tokens', { text: 'p,y\nnan,inf\n-Infinity,NaN\n,-nan\n', delimiter: ',', numeric: [0, 1] }],
    ['a text column', { text: 'id,p,y\n"a, b",1.5,1\nc,-2,1\n"say ""hi""",3.25,3\n"e\nf",0,-0.5\n', delimiter: ',', numeric: [1, 2] }],
    ['blank lines', { text: 'p,y\n\n1.5,1\n-2,1\n\n\n3.25,3\n0,-0.5\n\n', delimiter: ',', numeric: [0, 1] }],
    ['CRLF blank lines', { text: 'p,y\r\n\r\n1.5,1\r\n-2,1\r\n\r\n3.25,3\r\n', delimiter: ',', numeric: [0, 1] }],
  ];
  for (const [label, c] of dialects) {
    it(label, () => agree(c, mulberry32(label.length), label));
  }

  it('random CSVs: numbers, quoted text with delimiters, quotes and newlines, blank lines (seed printed)', async () => {
    const seed = 31337;
    console.log(`csv-parse differential seed ${seed}`);
    const r = mulberry32(seed);
    const texts = ['a', 'hello, world', 'say ""hi""', 'multi\nline', 'x;y', '', 'tab\there', '1,2'];
    const number = (): string => {
      const k = r();
      if (k < 0.05) return ['nan', 'inf', '-inf', ''][Math.floor(r() * 4)]!;
      if (k < 0.6) return ((r() - 0.5) * 1000).toPrecision(1 + Math.floor(r() * 17));
      if (k < 0.8) return String(Math.floor(r() * 2e6) - 1e6);
      return (r() * 10 ** (Math.floor(r() * 60) - 30)).toExponential(Math.floor(r() * 18));
    };
    for (let trial = 0; trial < 40; trial++) {
      const delimiter = [',', ';', '\t', '|'][trial % 4]!;
      const fields = 2 + Math.floor(r() * 4);
      const textCol = r() < 0.6 ? Math.floor(r() * fields) : -1;
      const nl = r() < 0.3 ? '\r\n' : '\n';
      const lines = [Array.from({ length: fields }, (_, f) => (f === textCol ? '"note"' : `c${f}`)).join(delimiter)];
      const nrows = Math.floor(r() * 200);
      for (let i = 0; i < nrows; i++) {
        if (r() < 0.1) lines.push('');
        lines.push(Array.from({ length: fields }, (_, f) => {
          if (f === textCol) return `"${texts[Math.floor(r() * texts.length)]!.replace(/\n/g, nl)}"`;
          const v = number();
          return r() < 0.2 ? `"${v}"` : v;
        }).join(delimiter));
      }
      const text = lines.join(nl) + (r() < 0.7 ? nl : '');
      const numeric = Array.from({ length: fields }, (_, f) => f).filter((f) => f !== textCol);
      await agree({ text, delimiter, numeric }, r, `trial ${trial}`);
    }
  });
});
