import { describe, expect, it } from 'vitest';
import { countRows, cutCsv, scanRows, type RowBlock } from '../../src/read/csv-cut.js';
import { recycleBuffer as recycleBlockBuffer } from '../../src/read/spare.js';
import { setWasmScanner, wasmScanStats, wasmScannerAvailable } from '../../src/parse/wasm-scan.js';
import { parseCsvChunk } from '../../src/parse/csv.js';
import { mulberry32 } from '../helpers/rng.js';

const enc = new TextEncoder();
const dec = new TextDecoder();


/** Feed bytes in chunks; sizes from `size()`. Chunks are Buffers that get overwritten after use. */
async function* feed(bytes: Uint8Array, size: () => number): AsyncGenerator<Uint8Array> {
  let reused = new Uint8Array(0);
  for (let i = 0; i < bytes.length; ) {
    const k = Math.min(bytes.length - i, Math.max(1, size()));
    if (reused.length < k) reused = new Uint8Array(k);
    const view = reused.subarray(0, k);
    view.set(bytes.subarray(i, i + k));
    yield view;
    view.fill(0x7a); // the producer reuses its buffer: the cutter must have copied
    i += k;
  }
}

async function cutAll(text: string | Uint8Array, rowsPerBlock: number, header: boolean, size: () => number = () => 65536, delimiter = 44) {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  const { header: h, blocks } = cutCsv(feed(bytes, size), { rowsPerBlock, header, delimiter });
  const hdr = await h;
  const out: RowBlock[] = [];
  for await (const b of blocks) out.push(b);
  return { hdr, blocks: out };
}

function countLf(b: Uint8Array): number {
  let n = 0;
  for (const c of b) if (c === 10) n++;
  return n;
}

function randomCell(r: () => number): string {
  const k = r();
  if (k < 0.5) return ((r() - 0.5) * 1000).toPrecision(1 + Math.floor(r() * 12));
  if (k < 0.6) return '';
  if (k < 0.7) return '"q,uo""ted"';
  if (k < 0.8) return '"multi\nline\r\nfield"';
  if (k < 0.9) return `"${(r() * 10).toFixed(3)}"`;
  return 'text';
}

describe('scanRows', () => {
  it('finds row ends at any alignment and across word boundaries', () => {
    const r = mulberry32(5);
    for (let trial = 0; trial < 200; trial++) {
      const len = Math.floor(r() * 80);
      const b = new Uint8Array(len + 7);
      for (let i = 0; i < b.length; i++) {
        const x = r();
        b[i] = x < 0.15 ? 10 : x < 0.25 ? 34 : 48 + Math.floor(r() * 10);
      }
      const off = Math.floor(r() * 7);
      const view = b.subarray(off, off + len);
      // reference
      let q = false;
      const ends: number[] = [];
      for (let i = 0; i < view.length; i++) {
        if (view[i] === 34) q = !q;
        else if (view[i] === 10 && !q) ends.push(i + 1);
      }
      const st = { inQuote: false, rows: 0, lfs: 0 };
      const got: number[] = [];
      let i = 0;
      for (;;) {
        const e = scanRows(view, i, view.length, 1, st);
        if (e < 0) break;
        got.push(e);
        i = e;
      }
      expect(got).toEqual(ends);
      expect(st.inQuote).toBe(q);
    }
  });

  it('skips long quote-free stretches word-wise: same ends, counts and state as a byte scan', () => {
    // long runs of plain rows (the fast-forward path) with the odd quoted field, any alignment, any `want`
    skipSweep(9, 300, 200, 3000, 200);
  });

  it('skips longer stretches in WebAssembly (64-byte blocks): the same as a byte scan, and as with it off', () => {
    expect(wasmScannerAvailable()).toBe(true);
    const s0 = wasmScanStats.skips;
    skipSweep(11, 120, 4096, 150_000, 6000);
    expect(wasmScanStats.skips - s0).toBeGreaterThan(50);
    const prev = setWasmScanner(false);
    try {
      skipSweep(11, 120, 4096, 150_000, 6000);
    } finally {
      setWasmScanner(prev);
    }
  });
});

/** scanRows from a random start for a random `want` on random rows, against a byte-by-byte reference. */
function skipSweep(seed: number, trials: number, minLen: number, spread: number, maxWant: number): void {
  {
    const r = mulberry32(seed);
    for (let trial = 0; trial < trials; trial++) {
      const parts: number[] = [];
      const len = minLen + Math.floor(r() * spread);
      const quoteRate = trial % 3 === 0 ? 0 : 0.002;
      for (let i = 0; i < len; i++) {
        const x = r();
        parts.push(x < 0.06 ? 10 : x < 0.06 + quoteRate ? 34 : 44 + Math.floor(r() * 14));
      }
      const b = new Uint8Array(parts.length + 8);
      const off = Math.floor(r() * 8);
      b.set(parts, off);
      const view = b.subarray(off, off + parts.length);
      const want = 1 + Math.floor(r() * maxWant);
      const startQ = r() < 0.2;
      // reference: the want-th row end, counting from a random start
      const start = Math.floor(r() * 50);
      let q = startQ, rows = 0, lfs = 0, lastRowEnd = -1, lastRowLfs = -1, end = -1;
      for (let i = start; i < view.length; i++) {
        if (view[i] === 34) q = !q;
        else if (view[i] === 10) {
          lfs++;
          if (!q) {
            rows++;
            lastRowEnd = i + 1;
            lastRowLfs = lfs;
            if (rows === want) { end = i + 1; break; }
          }
        }
      }
      const st: { inQuote: boolean; rows: number; lfs: number; lastRowEnd?: number; lastRowLfs?: number } = { inQuote: startQ, rows: 0, lfs: 0 };
      expect(scanRows(view, start, view.length, want, st)).toBe(end);
      expect([st.rows, st.lfs, st.inQuote, st.lastRowEnd, st.lastRowLfs]).toEqual([rows, lfs, q, lastRowEnd, lastRowLfs]);
    }
  }
}

describe('cutCsv', () => {
  it('random CSVs: same rows, exact block sizes, firstLine/lines, for many chunkings', async () => {
    const r = mulberry32(31337);
    for (let trial = 0; trial < 24; trial++) {
      const fields = 1 + Math.floor(r() * 4);
      const nrows = Math.floor(r() * 2500);
      const crlf = r() < 0.5;
      const nl = crlf ? '\r\n' : '\n';
      const rows: string[] = [];
      for (let i = 0; i < nrows; i++) {
        const cells = Array.from({ length: fields }, () => randomCell(r));
        rows.push(cells.join(',') + nl);
      }
      // maybe drop the final newline
      const noFinalNl = nrows > 0 && r() < 0.3 && rows[nrows - 1] !== nl;
      if (noFinalNl) rows[nrows - 1] = rows[nrows - 1]!.slice(0, -nl.length);
      const hasHeader = r() < 0.7;
      const bom = r() < 0.3 ? '\ufeff' : '';
      const headerText = hasHeader ? ['a', '"b,""x"""', '"c\nd"', 'e'].slice(0, fields).join(',') + nl : '';
      const text = bom + headerText + rows.join('');
      const headerLines = countLf(enc.encode(headerText));
      for (const N of [1, 7, 1000]) {
        const mode = trial % 3;
        const size =
          mode === 0 ? () => 1 + Math.floor(r() * 5) : mode === 1 ? () => 1 + Math.floor(r() * 65536) : () => 1 + Math.floor(r() * 300);
        const { hdr, blocks } = await cutAll(text, N, hasHeader, size);
        expect(hdr.fieldCount).toBe(nrows === 0 && !hasHeader ? 0 : fields);
        if (hasHeader) expect(hdr.names).toEqual(['a', 'b,"x"', 'c\nd', 'e'].slice(0, fields));
        else expect(hdr.names).toBeNull();
        // expected grouping
        const expectBlocks: string[] = [];
        for (let i = 0; i < nrows; i += N) expectBlocks.push(rows.slice(i, i + N).join(''));
        expect(blocks.length).toBe(expectBlocks.length);
        let line = hasHeader ? 1 + headerLines : 1;
        blocks.forEach((b, i) => {
          expect(dec.decode(b.bytes)).toBe(expectBlocks[i]);
          expect(b.rows).toBe(Math.min(N, nrows - i * N));
          expect(b.firstLine).toBe(line);
          expect(b.lines).toBe(countLf(b.bytes));
          expect(b.bytes.byteOffset).toBe(0);
          line += b.lines;
          // the worker agrees on the row count
          const res = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: 44, fieldCount: fields, columns: [] });
          expect(res.ok).toBe(true);
        });
      }
    }
  });

  it('header with quotes and a BOM; CRLF header', async () => {
    const { hdr, blocks } = await cutAll('\ufeff"id","x, y",z\r\n1,2,3\r\n', 10, true);
    expect(hdr).toEqual({ names: ['id', 'x, y', 'z'], fieldCount: 3 });
    expect(blocks).toHaveLength(1);
    expect(dec.decode(blocks[0]!.bytes)).toBe('1,2,3\r\n');
    expect(blocks[0]!.firstLine).toBe(2);
  });

  it('BOM without header, fed byte by byte', async () => {
    const { hdr, blocks } = await cutAll('\ufeff1,2\n3,4', 1, false, () => 1);
    expect(hdr).toEqual({ names: null, fieldCount: 2 });
    expect(blocks.map((b) => dec.decode(b.bytes))).toEqual(['1,2\n', '3,4']);
    expect(blocks.map((b) => [b.rows, b.firstLine, b.lines])).toEqual([
      [1, 1, 1],
      [1, 2, 0],
    ]);
  });

  it('no trailing newline, trailing CRLF, and empty lines', async () => {
    let r = await cutAll('a\n1\n2', 10, true);
    expect(r.blocks.map((b) => b.rows)).toEqual([2]);
    r = await cutAll('a\r\n1\r\n2\r\n', 10, true);
    expect(r.blocks.map((b) => b.rows)).toEqual([2]);
    r = await cutAll('a\n\n\n1\n', 2, true);
    expect(r.blocks.map((b) => [b.rows, b.firstLine])).toEqual([
      [2, 2],
      [1, 4],
    ]);
  });

  it('blank lines in two or more columns are no rows: N non-blank rows per block, trailing ones join the last block', async () => {
    let r = await cutAll('a,b\n\n\n1,2\n', 2, true);
    expect(r.blocks.map((b) => [b.rows, b.firstLine, b.lines])).toEqual([[1, 2, 3]]);
    r = await cutAll('a,b\n1,2\n3,5\n\n', 1, true);
    expect(r.blocks.map((b) => [b.rows, b.firstLine, b.lines])).toEqual([[1, 2, 1], [1, 3, 2]]);
    for (const size of [1, 2, 3, 65536]) {
      // blank lines between blocks may go with either block (by where the source chunks end)
      r = await cutAll('a,b\r\n1,2\r\n\r\n3,4\r\n\r\n\r\n\r', 1, true, () => size);
      expect(r.blocks.map((b) => b.rows)).toEqual([1, 1]);
      expect(r.blocks[1]!.firstLine).toBe(2 + r.blocks[0]!.lines!);
      expect(r.blocks[0]!.lines! + r.blocks[1]!.lines!).toBe(5);
      expect(dec.decode(r.blocks[1]!.bytes)).toMatch(/^(\r\n)?3,4\r\n\r\n\r\n\r$/);
      // a '\r' that begins a row after held blank lines
      r = await cutAll('a,b\n1,2\n\n\r3,4\n', 1, true, () => size);
      expect(r.blocks.map((b) => b.rows)).toEqual([1, 1]);
      expect(dec.decode(r.blocks[1]!.bytes)).toMatch(/^\n?\r3,4\n$/);
      expect(r.blocks[1]!.firstLine).toBe(2 + r.blocks[0]!.lines!);
    }
    // one column: a blank line is a row (NaN)
    r = await cutAll('a\n1\n\n', 5, true);
    expect(r.blocks.map((b) => b.rows)).toEqual([2]);
    // no header: the field count is the first non-blank line's
    r = await cutAll('\n\n1,2\n\n3,4\n', 5, false);
    expect(r.hdr.fieldCount).toBe(2);
    expect(r.blocks.map((b) => [b.rows, b.firstLine])).toEqual([[2, 1]]);
    r = await cutAll('\n1\n2\n', 5, false);
    expect([r.hdr.fieldCount, r.blocks.map((b) => b.rows)]).toEqual([1, [3]]);
    expect(countRows(enc.encode('\n1,2\n\n"3\n\n",4\n\r'), true)).toBe(2);
  });

  it('random CSVs with blank lines: both cutting modes agree with a line-by-line count (seed printed)', async () => {
    const seed = 9001;
    console.log(`blank-line sweep seed ${seed}`);
    const r = mulberry32(seed);
    for (let trial = 0; trial < 60; trial++) {
      const fields = 2 + Math.floor(r() * 3);
      const nl = r() < 0.5 ? '\r\n' : '\n';
      const lines: string[] = [];
      let rows = 0, blanks = 0;
      const n = Math.floor(r() * 300);
      for (let i = 0; i < n; i++) {
        if (r() < 0.3) {
          lines.push(r() < 0.5 ? '\n' : '\r\n');
          blanks++;
        } else {
          lines.push(Array.from({ length: fields }, () => randomCell(r)).join(',') + nl);
          rows++;
        }
      }
      const text = 'a,b,c,d'.slice(0, 2 * fields - 1) + '\n' + lines.join('');
      const body = enc.encode(text).subarray(text.indexOf('\n') + 1);
      const size = () => 1 + Math.floor(r() * (trial % 2 ? 40 : 5000));
      const N = 1 + Math.floor(r() * 40);
      const byRows = await cutAll(text, N, true, size);
      const byBytes = await cutAllByBytes(text, 1 + Math.floor(r() * 200), true, size);
      for (const [mode, blocks] of [['rows', byRows.blocks], ['bytes', byBytes.blocks]] as const) {
        expect(dec.decode(concatBytes(blocks.map((b) => b.bytes))), mode).toBe(dec.decode(body));
        let got = 0, gotBlanks = 0, line = 2, known = true;
        blocks.forEach((b, i) => {
          const res = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: 44, fieldCount: fields, columns: [] });
          if (!res.ok) throw new Error(`${mode} trial ${trial}: ${res.message}`);
          if (mode === 'rows') {
            expect(b.rows).toBe(i < blocks.length - 1 ? N : res.rows);
            if (rows > 0) expect(res.rows).toBeGreaterThan(0);
          }
          if (b.lines !== null) expect(b.lines).toBe(countLf(b.bytes));
          if (known) expect(b.firstLine).toBe(line);
          known = known && b.lines !== null;
          line += countLf(b.bytes);
          got += res.rows;
          gotBlanks += res.blankLines;
        });
        expect([mode, got, gotBlanks]).toEqual([mode, rows, blanks]);
      }
      expect(countRows(body, true)).toBe(rows);
    }
  });

  it('empty and header-only files yield no blocks', async () => {
    for (const [text, header, names, fc] of [
      ['', true, [], 0],
      ['', false, null, 0],
      ['\ufeff', true, [], 0],
      ['a,b', true, ['a', 'b'], 2],
      ['a,b\n', true, ['a', 'b'], 2],
      ['a,b\r\n', true, ['a', 'b'], 2],
    ] as const) {
      const r = await cutAll(text, 3, header);
      expect(r.hdr).toEqual({ names, fieldCount: fc });
      expect(r.blocks).toEqual([]);
    }
    const one = await cutAll('\n', 3, false);
    expect(one.hdr).toEqual({ names: null, fieldCount: 1 });
    expect(one.blocks.map((b) => b.rows)).toEqual([1]);
  });

  it('passes an unterminated quote through to the worker', async () => {
    const { blocks } = await cutAll('a,b\n1,2\n3,"4\n5,6\n', 10, true);
    expect(blocks).toHaveLength(1);
    const b = blocks[0]!;
    expect(b.rows).toBe(2);
    const res = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: 44, fieldCount: 2, columns: [0, 1] });
    expect(res).toMatchObject({ ok: false, kind: 'quote', row: 1, line: 1 });
  });

  it('rejects a malformed header', async () => {
    const { header, blocks } = cutCsv(feed(enc.encode('"a,b\n1,2\n'), () => 4), { rowsPerBlock: 2, header: true, delimiter: 44 });
    await expect(header).rejects.toThrow(/unterminated/);
    await expect(async () => {
      for await (const _ of blocks) void _;
    }).rejects.toThrow(/unterminated/);
  });

  it('blocks can be iterated without awaiting the header first', async () => {
    const { blocks } = cutCsv(feed(enc.encode('x\n1\n2\n3\n'), () => 3), { rowsPerBlock: 2, header: true, delimiter: 44 });
    const got: number[] = [];
    for await (const b of blocks) got.push(b.rows);
    expect(got).toEqual([2, 1]);
  });

  it('TSV header', async () => {
    const r = await cutAll('a b\t"c\td"\n1\t2\n', 5, true, () => 7, 9);
    expect(r.hdr).toEqual({ names: ['a b', 'c\td'], fieldCount: 2 });
  });

  it('a block spanning many source chunks', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},${i * 0.5}\n`).join('');
    const r = await cutAll('a,b\n' + rows, 5000, true, () => 13);
    expect(r.blocks).toHaveLength(1);
    expect(dec.decode(r.blocks[0]!.bytes)).toBe(rows);
  });

  it('countRows', () => {
    expect(countRows(enc.encode(''))).toBe(0);
    expect(countRows(enc.encode('\n'))).toBe(1);
    expect(countRows(enc.encode('1\n2'))).toBe(2);
    expect(countRows(enc.encode('"1\n2"\n3\n'))).toBe(2);
  });
});

describe('cutCsv limits and options', () => {
  it('reads rowsPerBlock when the block iteration starts', async () => {
    const opts = { rowsPerBlock: 1000, header: true, delimiter: 44 };
    const { header, blocks } = cutCsv(feed(enc.encode('a\n1\n2\n3\n4\n5\n'), () => 4), opts);
    await header;
    opts.rowsPerBlock = 2;
    const got: number[] = [];
    for await (const b of blocks) got.push(b.rows);
    expect(got).toEqual([2, 2, 1]);
  });

  it('an unterminated quote mid-file is bounded by maxRowBytes', async () => {
    const body = '1,2\n3,"4\n' + '5,6\n'.repeat(1000);
    const { blocks } = cutCsv(feed(enc.encode('a,b\n' + body), () => 100), {
      rowsPerBlock: 10_000,
      header: true,
      delimiter: 44,
      maxRowBytes: 1000,
    });
    await expect(async () => {
      for await (const _ of blocks) void _;
    }).rejects.toMatchObject({ name: 'CsvCutError', kind: 'quote', line: 3 });
  });

  it('a long header with an unterminated quote is bounded too', async () => {
    const { header } = cutCsv(feed(enc.encode('"a,b\n' + '1,2\n'.repeat(1000)), () => 64), {
      rowsPerBlock: 10,
      header: true,
      delimiter: 44,
      maxRowBytes: 500,
    });
    await expect(header).rejects.toMatchObject({ name: 'CsvCutError', line: 1 });
  });

  it('rejects delimiters that cannot work', () => {
    for (const d of [10, 13, 34, 46, 45, 48, 101, 256]) {
      expect(() => cutCsv(feed(new Uint8Array(0), () => 1), { rowsPerBlock: 1, header: true, delimiter: d })).toThrow(RangeError);
      expect(() => parseCsvChunk({ bytes: new Uint8Array(0), rows: 0, delimiter: d, fieldCount: 1, columns: [] })).toThrow(RangeError);
    }
  });
});

describe('cutCsv source handling', () => {
  it('a big first source chunk does not trip maxRowBytes when the header is short', async () => {
    const text = 'a,b\n' + '1,2\n'.repeat(10_000);
    const { header, blocks } = cutCsv(feed(enc.encode(text), () => 1 << 20), { rowsPerBlock: 4096, header: true, delimiter: 44, maxRowBytes: 100 });
    expect(await header).toEqual({ names: ['a', 'b'], fieldCount: 2 });
    let rows = 0;
    for await (const b of blocks) rows += b.rows;
    expect(rows).toBe(10_000);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* src() {
      try {
        for (let i = 0; i < 100; i++) yield enc.encode(`${i}\n`);
      } finally {
        closed = true;
      }
    }
    const { blocks } = cutCsv(src(), { rowsPerBlock: 1, header: false, delimiter: 44 });
    for await (const b of blocks) {
      expect(b.rows).toBe(1);
      break;
    }
    expect(closed).toBe(true);
  });
});

/** Cut by bytes, collecting the blocks. */
async function cutAllByBytes(text: string, bytesPerBlock: number, header: boolean, size: () => number, maxRowBytes?: number) {
  const { header: h, blocks } = cutCsv(feed(enc.encode(text), size), {
    rowsPerBlock: 1, bytesPerBlock, header, delimiter: 44, ...(maxRowBytes ? { maxRowBytes } : {}),
  });
  const hdr = await h;
  const out: RowBlock[] = [];
  for await (const b of blocks) out.push(b);
  return { hdr, blocks: out };
}

describe('cutCsv by bytes (bytesPerBlock)', () => {
  it('random CSVs: blocks end at row ends, hold every byte once, and parse to the same rows and lines', async () => {
    const r = mulberry32(4242);
    for (let trial = 0; trial < 30; trial++) {
      const fields = 1 + Math.floor(r() * 4);
      const nrows = Math.floor(r() * 1500);
      const nl = r() < 0.5 ? '\r\n' : '\n';
      // a third of the files hold no quote at all (blocks are then cut without a scan)
      const plain = trial % 3 === 0;
      const rows: string[] = [];
      for (let i = 0; i < nrows; i++) {
        const cells = Array.from({ length: fields }, () => (plain ? ((r() - 0.5) * 1000).toPrecision(1 + Math.floor(r() * 12)) : randomCell(r)));
        rows.push(cells.join(',') + nl);
      }
      if (nrows > 0 && r() < 0.3 && rows[nrows - 1] !== nl) rows[nrows - 1] = rows[nrows - 1]!.slice(0, -nl.length);
      const hasHeader = r() < 0.7;
      const headerText = hasHeader ? ['a', '"b,""x"""', '"c\nd"', 'e'].slice(0, fields).join(',') + nl : '';
      const body = rows.join('');
      // where rows end (offsets into the body) and the line each row starts on
      const ends = new Set<number>();
      const lineAt = new Map<number, number>([[0, hasHeader ? 1 + countLf(enc.encode(headerText)) : 1]]);
      let off = 0, line = lineAt.get(0)!;
      for (const row of rows) {
        off += enc.encode(row).length;
        line += countLf(enc.encode(row));
        ends.add(off);
        lineAt.set(off, line);
      }
      for (const target of [1, 13, 400, 1 << 20]) {
        const size = trial % 2 === 0 ? () => 1 + Math.floor(r() * 50) : () => 1 + Math.floor(r() * 65536);
        // each block is checked as it arrives and its buffer handed back, as a worker does: memory
        // stays at a few blocks, and the reuse path is the one under test
        const cut = cutCsv(feed(enc.encode(headerText + body), size), { rowsPerBlock: 1, bytesPerBlock: target, header: hasHeader, delimiter: 44 });
        await cut.header;
        let text = '', at = 0, known = true, parsedRows = 0, i = 0, prevShort = false;
        const problems: string[] = [];
        for await (const b of cut.blocks) {
          const len = b.bytes.length;
          const start = at;
          at += len;
          text += dec.decode(b.bytes);
          if (len === 0) problems.push(`block ${i}: empty`);
          if (!ends.has(at)) problems.push(`block ${i}: ends at ${at}, not a row end`);
          if (prevShort) problems.push(`block ${i - 1}: shorter than ${target} bytes but not the last`);
          prevShort = len < target;
          const res = parseCsvChunk({ bytes: b.bytes, rows: null, delimiter: 44, fieldCount: fields, columns: [] });
          if (!res.ok) throw new Error(res.message);
          const lfs = countLf(b.bytes);
          if (res.lines !== lfs) problems.push(`block ${i}: parse counts ${res.lines} lines, ${lfs} there`);
          parsedRows += res.rows;
          if (b.rows !== null && b.rows !== res.rows) problems.push(`block ${i}: ${b.rows} rows, parse ${res.rows}`);
          if (b.lines !== null && b.lines !== lfs) problems.push(`block ${i}: ${b.lines} lines, ${lfs} there`);
          // firstLine is given while every earlier block was counted (always for the first)
          if (i === 0 && b.firstLine !== lineAt.get(0)) problems.push(`block 0: firstLine ${b.firstLine}`);
          if (b.firstLine !== null && (!known || b.firstLine !== lineAt.get(start))) problems.push(`block ${i}: firstLine ${b.firstLine}`);
          known = known && b.lines !== null;
          if (plain && b.rows !== null) problems.push(`block ${i}: rows counted in a file without quotes`);
          recycleBlockBuffer(b.bytes.buffer as ArrayBuffer);
          i++;
        }
        expect(problems).toEqual([]);
        expect(text).toBe(body);
        expect(parsedRows).toBe(nrows);
      }
    }
  });

  it('buffers handed back for reuse are reused, and scribbling on them never shows in later blocks', async () => {
    const r = mulberry32(77);
    const rows = Array.from({ length: 20000 }, (_, i) => `${i},${(r() * 1000).toFixed(3)}${i % 97 === 0 ? ',"q\nx"' : ',t'}\n`);
    const body = rows.join('');
    const { blocks } = cutCsv(feed(enc.encode('a,b,c\n' + body), () => 1 + Math.floor(r() * 5000)), {
      rowsPerBlock: 1, bytesPerBlock: 3000, header: true, delimiter: 44,
    });
    const seen = new Set<ArrayBufferLike>();
    let text = '', reused = 0;
    for await (const b of blocks) {
      if (seen.has(b.bytes.buffer)) reused++;
      seen.add(b.bytes.buffer);
      text += dec.decode(b.bytes);
      // as a worker would: hand the buffer back; then scribble on it, as its next user may
      recycleBlockBuffer(b.bytes.buffer as ArrayBuffer);
      new Uint8Array(b.bytes.buffer).fill(0x21);
    }
    expect(text).toBe(body);
    expect(reused).toBeGreaterThan(0);
  });

  it('a row longer than maxRowBytes after uncounted blocks: its line is relative to them', async () => {
    const text = 'a,b\n' + '1,2\n'.repeat(50) + '3,' + '4'.repeat(3000) + '\n5,6\n';
    await expect(cutAllByBytes(text, 16, true, () => 64, 1000)).rejects.toMatchObject({
      name: 'CsvCutError', kind: 'size', relative: true, line: 1, message: expect.stringMatching(/^row at line \+1 is longer than 1000 bytes$/),
    });
    // before any block was cut the line is known; an open quote says so
    await expect(cutAllByBytes('a,b\n"' + 'x'.repeat(3000), 16, true, () => 64, 1000)).rejects.toMatchObject({
      name: 'CsvCutError', kind: 'quote', relative: false, line: 2,
      message: 'row at line 2 is longer than 1000 bytes (unterminated quoted field?)',
    });
  });
});

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
