/**
 * The WebAssembly SIMD scanner (src/parse/wasm-scan.ts, asm/scan.ts) against the JS parser, the
 * reference: every chunk is parsed twice by parseCsvChunk, once with the scanner and once with it
 * switched off, and the two results must be identical — values bit for bit (float64), rows,
 * lines, blank lines, and on an error its kind, row, line, field, value, message and the values
 * before it; a thrown error must carry the same message. Needs `npm run build` (dist/parse/scan.wasm).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvChunk, type CsvChunk, type CsvParseResult } from '../../src/parse/csv.js';
import { countRows } from '../../src/read/csv-cut.js';
import { setWasmScanner, wasmScanStats, wasmScannerAvailable, wasmScannerEnabled, wasmSimdSupported } from '../../src/parse/wasm-scan.js';
import { mulberry32u } from '../helpers/rng.js';

const enc = new TextEncoder();

function bits(a: Float64Array | undefined): string {
  if (a === undefined) return 'undefined';
  const u = new Uint32Array(a.length * 2);
  new Float64Array(u.buffer).set(a);
  return Array.from(u, (x) => x.toString(16)).join(' ');
}

type Outcome = { thrown: string } | { result: CsvParseResult; groups: string[]; before: string[] };

function run(c: CsvChunk, wasm: boolean): Outcome {
  const prev = setWasmScanner(wasm);
  try {
    const r = parseCsvChunk({ ...c, ...(c.out ? { out: new Float64Array(c.out.length).fill(-7.5) } : {}) });
    // nanFree is a promise about the values, the only field in which the scanners may differ
    if (r.ok && r.nanFree) for (const g of r.groups) expect(g.some((v) => Number.isNaN(v)), 'nanFree with a NaN value').toBe(false);
    return r.ok
      ? { result: { ...r, groups: [], values: new Float64Array(0), nanFree: false }, groups: r.groups.map(bits), before: [] }
      : { result: { ...r, before: [] }, groups: [], before: (r.before ?? []).map(bits) };
  } catch (e) {
    return { thrown: String(e) };
  } finally {
    setWasmScanner(prev);
  }
}

/** Parse with both scanners and require identical outcomes; returns the outcome. */
function same(c: CsvChunk): Outcome {
  const js = run(c, false);
  const wa = run(c, true);
  expect(wa).toEqual(js);
  return wa;
}

function chunk(text: string, fieldCount: number, columns: number[], opts: { delimiter?: number; rows?: number | null; groupWidth?: number; out?: number } = {}): CsvChunk {
  const bytes = enc.encode(text);
  const delimiter = opts.delimiter ?? 44;
  return {
    bytes,
    rows: opts.rows === undefined ? countRows(bytes, fieldCount >= 2) : opts.rows,
    delimiter,
    fieldCount,
    columns,
    ...(opts.groupWidth !== undefined ? { groupWidth: opts.groupWidth } : {}),
    ...(opts.out !== undefined ? { out: new Float64Array(opts.out) } : {}),
  };
}

/** Tokens of every kind the number syntax knows, valid and not. */
const TOKENS = [
  // plain, decided in WASM
  '0', '-0', '-0.0', '0.000', '000', '7', '-7', '1.5', '-1.5', '.5', '-.5', '5.', '-5.', '0.1', '0.2', '0.3',
  '123456789', '-9.99984347', '0.131537788', '1234567890123456', '8999999999999999', '9007199254740991',
  '999999999999999.9', '0.000000000000001', '.000000000000001', '000000000000000.5', '12345678.12345678',
  // at or past 2^53, 17-25 digits, exact halfway cases (JS fallback)
  '9007199254740992', '9007199254740993', '9007199254740995', '9999999999999999', '18014398509481985',
  '12345678901234567', '123456789012345678', '1234567890123456789', '12345678901234567890123', '1234567890123456789012345',
  '0.12345678901234567', '0.1234567890123456789012', '9007199254740992.5', '0.50000000000000011102230246251565404236316680908203125',
  '2.2250738585072011e-308', '2.2250738585072014e-308', '4.9406564584124654e-324', '2.4703282292062327e-324',
  '2.4703282292062328e-324', '5e-324', '1e-324', '1e-400', '1e308', '1e-308', '-1e308', '1.7976931348623157e308',
  '1.7976931348623158e308', '1.7976931348623159e308', '1e309', '-1e309', '1e22', '1e23', '1e-22', '1E+05', '1.e5',
  '.5e-3', '-0e10', '0e-999999999', '1e99999999999', '123456789012345e37', '9007199254740991e22',
  // signs, tokens, whitespace
  '+0', '+1.5', '+.5', 'nan', 'NaN', 'NAN', '-nan', '+nan', 'inf', '-inf', '+inf', 'INF', 'Infinity', '-Infinity', 'infinity',
  '', ' ', '\t', '  ', ' 1.5', '1.5 ', '\t2\t', ' -0 ', ' nan ', ' \t 3.25 \t ',
  // malformed
  '1e', '1e+', '1e-', '.', '-', '+', '..5', '1..5', '1.2.3', '1-2', '--1', '+-1', '0x10', '1_000', 'abc', 'nan1', 'infi',
  'NA', 'N/A', 'NULL', 'None', '#N/A', '1 2', '1\r', '1\r2', '\r', 'é', '1é', '٣', '1.5x', 'e5', '.e5', '-.e5', '1e5.5',
];

afterAll(() => setWasmScanner(true));

describe('WebAssembly scanner', () => {
  it('is available and on by default in this Node (SIMD supported, dist/parse/scan.wasm built)', () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(wasmScannerAvailable()).toBe(true);
    expect(wasmScannerEnabled()).toBe(true);
  });

  it('decides plain fields itself and leaves the others to the JS parser', () => {
    const s0 = { ...wasmScanStats };
    const o = same(chunk('1.5,-2\n0.25,9007199254740993\n', 2, [0, 1]));
    expect('result' in o && o.result.ok).toBe(true);
    expect(wasmScanStats.chunks - s0.chunks).toBe(1);
    expect(wasmScanStats.fallbacks - s0.fallbacks).toBe(1);
    const s1 = { ...wasmScanStats };
    same(chunk('1,"2"\n', 2, [0, 1]));
    same(chunk('1,2\n3\n', 2, [0, 1]));
    same(chunk('1,x\n', 2, [0, 1]));
    expect(wasmScanStats.declined - s1.declined).toBe(3);
  });


  it('says a chunk is NaN-free only when no field it left to JS was NaN (the worker then skips its NaN count)', () => {
    const parse = (text: string, wasm: boolean): boolean => {
      const prev = setWasmScanner(wasm);
      try {
        const r = parseCsvChunk(chunk(text, 2, [0, 1]));
        if (!r.ok) throw new Error(r.message);
        return r.nanFree;
      } finally {
        setWasmScanner(prev);
      }
    };
    expect(parse('1.5,-2\n0.25,9007199254740993\n', true)).toBe(true); // a fallback, not NaN
    expect(parse('1.5,nan\n0.25,3\n', true)).toBe(false);
    expect(parse('1.5,NaN\n0.25,3\n', true)).toBe(false);
    expect(parse('1.5,\n0.25,3\n', true)).toBe(false); // an empty field is NaN
    expect(parse('1.5,2\n0.25,3\n', true)).toBe(true);
    // the JS paths do not know: the worker counts
    expect(parse('1.5,2\n0.25,3\n', false)).toBe(false);
    // a NaN-free chunk after one with a NaN
    expect(parse('nan,2\n', true)).toBe(false);
    expect(parse('1,2\n', true)).toBe(true);
  });
  it('agrees on every token, alone, first, middle and last in the row, with LF, CRLF and no final newline', () => {
    for (const t of TOKENS) {
      for (const eol of ['\n', '\r\n', '']) {
        same(chunk(`${t}${eol}`, 1, [0]));
        same(chunk(`${t},1,2${eol}3,4,5${eol}`, 3, [0, 1, 2]));
        same(chunk(`1,${t},2${eol}`, 3, [0, 1, 2]));
        same(chunk(`1,2,${t}${eol}`, 3, [0, 1, 2]));
        same(chunk(`1,2,${t}${eol}`, 3, [0, 1]));
        same(chunk(`1.25,2.5\n${t},${t}${eol}`, 2, [1, 0]));
      }
    }
  });

  it('agrees on every token with other delimiters (tab, space, semicolon, |)', () => {
    for (const d of ['\t', ' ', ';', '|']) {
      const code = d.charCodeAt(0);
      for (const t of TOKENS) {
        same(chunk(`1${d}${t}${d}2\n${t}${d}3${d}4\r\n`, 3, [0, 1, 2], { delimiter: code }));
      }
    }
  });

  it('agrees on row structure: field counts, blank lines, quotes, stray CR, row counts', () => {
    const texts = [
      '', '\n', '\r\n', '\n\n', '1,2\n\n3,4\n', '1,2\r\n\r\n3,4\r\n', '1,2\n3,4\n\n', '1,2\n3,4\n\r', '\n1,2\n',
      '1,2\n3\n', '1,2\n3,4,5\n', '1\n', '1,2,3\n', '1,2\n,\n', ',\n', '1,2\n3,4', '1,2\r', '1,2\r\r\n', '1\r,2\n',
      '1,"2"\n', '"1",2\n', '1,2\n3,4\n5,"6\n7"\n', '1,2"\n', 'x,2\n1,"\n', '1,2\nx,"y"\n', '1,2\n3,4\n'.repeat(100) + '5\n',
    ];
    for (const t of texts) {
      for (const fc of [1, 2, 3]) {
        const cols = fc === 1 ? [0] : fc === 2 ? [0, 1] : [2, 0];
        same(chunk(t, fc, cols));
        same(chunk(t, fc, cols, { rows: null }));
        same(chunk(t, fc, [], { rows: null }));
        for (const rows of [0, 1, 2, 3, 201]) same(chunk(t, fc, cols, { rows }));
      }
    }
  });

  it('agrees on output layouts: repeated and reordered columns, group widths, a larger out buffer', () => {
    const text = '1,2,3,4\n5.5,-6,7e3,x\n0.125,,nan,8\r\n9,10,11,12';
    for (const [cols, gw] of [
      [[0, 1, 2, 3], 4], [[0, 1, 2, 3], 2], [[0, 1, 2, 3], 1], [[3, 2, 1, 0], 2], [[1, 1, 0, 0], 2], [[2, 2], 1],
      [[0, 2], 1], [[1], 1], [[0, 1, 2, 1, 0, 2], 3],
    ] as [number[], number][]) {
      same(chunk(text, 4, cols, { groupWidth: gw }));
      same(chunk(text, 4, cols, { groupWidth: gw, rows: null }));
      same(chunk(text, 4, cols, { groupWidth: gw, out: 1000 }));
      same(chunk(text.replace(',x', ',4'), 4, cols, { groupWidth: gw, out: 1000, rows: null }));
    }
  });

  it('agrees on chunks longer than its 16 KiB index segment, with rows across segments and very wide rows', () => {
    const r = mulberry32u(17);
    const rows: string[] = [];
    for (let k = 0; k < 4000; k++) rows.push(`${(r() / 1e6).toPrecision(9)},${r() % 1000},-${(r() % 100000) / 1000}`);
    same(chunk(rows.join('\n') + '\n', 3, [0, 1, 2]));
    same(chunk(rows.join('\r\n'), 3, [2, 0], { rows: null }));
    const wide: string[] = [];
    for (let k = 0; k < 7; k++) wide.push(Array.from({ length: 5000 }, (_, j) => String((k * 5000 + j) / 8)).join(','));
    const cols = Array.from({ length: 5000 }, (_, j) => j).filter((j) => j % 3 !== 1);
    same(chunk(wide.join('\n') + '\n', 5000, cols));
    same(chunk(wide.join('\n') + '\n', 5000, cols.slice(0, 500), { rows: null }));
    same(chunk(wide.join('\n') + ',1\n', 5000, cols));
  });

  it('agrees when a chunk has more fallback fields than the scanner keeps, and on a late bad value', () => {
    const long: string[] = [];
    for (let k = 0; k < 20000; k++) long.push(`${k / 7},${k}`);
    const s0 = { ...wasmScanStats };
    same(chunk(long.join('\n') + '\n', 2, [0, 1]));
    expect(wasmScanStats.declined - s0.declined).toBe(1);
    // after such a chunk, the next 8 go to the JS paths directly, then the scanner is tried again
    const long17 = chunk(long.join('\n') + '\n', 2, [0, 1]);
    const plain = chunk('1,2\n3,4\n', 2, [0, 1]);
    parseCsvChunk(long17);
    const s1 = { ...wasmScanStats };
    for (let k = 0; k < 9; k++) expect(parseCsvChunk(plain).ok).toBe(true);
    expect([wasmScanStats.declined - s1.declined, wasmScanStats.chunks - s1.chunks]).toEqual([8, 1]);
    const good = Array.from({ length: 3000 }, (_, k) => `${k},${k / 4}`);
    same(chunk([...good, '5,1e', ...good].join('\n'), 2, [0, 1]));
    same(chunk([...good, '5,6,7', ...good].join('\n'), 2, [0, 1]));
    same(chunk([...good, '"5",6', ...good].join('\n'), 2, [0, 1]));
  });

  it('seeded random sweep: chunks of random tokens, rows and line ends (seed printed)', () => {
    const seed = Number(process.env.WASM_SCAN_SEED ?? 20261207);
    const CASES = 6000;
    console.log(`wasm scanner sweep seed ${seed}, ${CASES} chunks`);
    const next = mulberry32u(seed);
    const rnd = (n: number): number => next() % n;
    const digits = (n: number): string => Array.from({ length: n }, () => String(rnd(10))).join('');
    const token = (): string => {
      const k = rnd(100);
      if (k < 30) return (((next() / 2 ** 32) - 0.5) * 10 ** (rnd(12) - 4)).toPrecision(1 + rnd(16));
      if (k < 45) return `${rnd(3) === 0 ? '-' : ''}${digits(rnd(17))}${rnd(2) ? '.' : ''}${digits(rnd(10))}`;
      if (k < 55) return String((next() / 2 ** 32) * 10 ** (rnd(40) - 20));
      if (k < 65) return `${digits(1 + rnd(25))}e${rnd(2) ? '-' : ''}${rnd(400)}`;
      if (k < 72) return `${rnd(2) ? '-' : ''}0.${'0'.repeat(rnd(20))}${digits(1 + rnd(20))}`;
      if (k < 80) return String(Math.floor(next() * 2 ** (rnd(22))));
      if (k < 95) return TOKENS[rnd(TOKENS.length)]!;
      return ['"1"', '1"', 'x', '1,2', ''][rnd(5)]!;
    };
    let taken = 0;
    for (let c = 0; c < CASES; c++) {
      const fc = 1 + rnd(4);
      const cols = Array.from({ length: rnd(fc + 2) }, () => rnd(fc));
      const bad = rnd(4) === 0;
      const nrows = rnd(60);
      const lines: string[] = [];
      for (let r = 0; r < nrows; r++) {
        const n = bad && rnd(30) === 0 ? fc + rnd(3) - 1 : fc;
        const fields = Array.from({ length: n }, () => (bad || rnd(8) === 0 ? token() : (next() / 2 ** 32 * 100 - 50).toPrecision(1 + rnd(12))));
        lines.push(fields.join(','));
      }
      const eol = rnd(3) === 0 ? '\r\n' : '\n';
      const text = lines.join(eol) + (rnd(3) ? eol : '');
      const s0 = wasmScanStats.chunks;
      same(chunk(text, fc, cols, { rows: rnd(2) ? null : undefined }));
      taken += wasmScanStats.chunks - s0;
    }
    // most chunks must really have gone through the scanner
    expect(taken).toBeGreaterThan(CASES / 3);
  });
});
