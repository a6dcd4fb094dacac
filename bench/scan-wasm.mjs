#!/usr/bin/env node
// The CSV chunk parser alone, one thread: the JS scanner against the WebAssembly SIMD scanner
// (src/parse/wasm-scan.ts), same blocks, runs interleaved in one process (ABBA order), medians.
// Build first (npm run build), then:  node bench/scan-wasm.mjs [sizeMB] [runs]
// Data (generated once under /tmp): 2 columns pred,target as toPrecision(9) and as String(x)
// (17 significant digits: the JS fast path misses most of them, both scanners fall back to Number()).
import { existsSync, statSync, readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { writeTwoColumnCsv } from './gen.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { cutCsv } = await import(pathToFileURL(join(dist, 'read/csv-cut.js')).href);
const { parseCsvChunk } = await import(pathToFileURL(join(dist, 'parse/csv.js')).href);
const { setWasmScanner, wasmScannerAvailable } = await import(pathToFileURL(join(dist, 'parse/wasm-scan.js')).href);

const sizeMB = Number(process.argv[2] ?? 50);
const RUNS = Number(process.argv[3] ?? 7);
if (!wasmScannerAvailable()) throw new Error('WebAssembly scanner not available (SIMD missing or dist/parse/scan.wasm not built)');

function generate(path, fmt) {
  writeTwoColumnCsv(path, sizeMB * 1e6, 7, 'pred,target\n', (a, b) => `${fmt(a)},${fmt(b)}\n`);
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function blocksOf(buf) {
  async function* src() {
    for (let i = 0; i < buf.length; i += 1 << 20) yield buf.subarray(i, Math.min(buf.length, i + (1 << 20)));
  }
  const { header, blocks } = cutCsv(src(), { rowsPerBlock: 65536, header: true, delimiter: 44 });
  const h = await header;
  const out = [];
  for await (const b of blocks) out.push(b);
  return { fieldCount: h.fieldCount, blocks: out };
}

function parseAll(blocks, fieldCount, keep) {
  const vals = [];
  let sum = 0;
  for (const b of blocks) {
    const r = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: 44, fieldCount, columns: [0, 1] });
    if (!r.ok) throw new Error(JSON.stringify(r));
    sum += r.values[0];
    if (keep) vals.push(r.values.slice());
  }
  return { sum, vals };
}

const cases = [
  ['toPrecision(9)', `/tmp/losseval-scan-p9-${sizeMB}.csv`, (x) => x.toPrecision(9)],
  ['String(x), 17 digits', `/tmp/losseval-scan-s17-${sizeMB}.csv`, (x) => String(x)],
];
console.log(`node ${process.version}, ${RUNS} interleaved runs per scanner, MB/s of chunk bytes (median), ratio = median of per-pair ratios`);
for (const [label, path, fmt] of cases) {
  if (!existsSync(path) || Math.abs(statSync(path).size - sizeMB * 1e6) > 1e5) generate(path, fmt);
  const { fieldCount, blocks } = await blocksOf(readFileSync(path));
  const mb = blocks.reduce((a, b) => a + b.bytes.length, 0) / 1e6;
  // bit-identical values first
  setWasmScanner(false);
  const a = parseAll(blocks, fieldCount, true).vals;
  setWasmScanner(true);
  const b = parseAll(blocks, fieldCount, true).vals;
  let diff = 0;
  for (let k = 0; k < a.length; k++) {
    const x = new Uint8Array(a[k].buffer), y = new Uint8Array(b[k].buffer);
    if (x.length !== y.length) diff++;
    else for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) { diff++; break; }
  }
  const t = { js: [], wasm: [] };
  const ratio = [];
  for (let k = 0; k < RUNS; k++) {
    const order = k % 2 === 0 ? ['js', 'wasm'] : ['wasm', 'js'];
    const ms = {};
    for (const which of order) {
      setWasmScanner(which === 'wasm');
      const t0 = performance.now();
      parseAll(blocks, fieldCount, false);
      ms[which] = performance.now() - t0;
      t[which].push(mb / (ms[which] / 1000));
    }
    ratio.push(ms.js / ms.wasm);
  }
  setWasmScanner(true);
  console.log(
    `${label}: ${mb.toFixed(1)} MB in ${blocks.length} blocks; JS ${median(t.js).toFixed(0)} MB/s, WASM ${median(t.wasm).toFixed(0)} MB/s, ` +
      `x${median(ratio).toFixed(2)} (range x${Math.min(...ratio).toFixed(2)}-${Math.max(...ratio).toFixed(2)}); blocks differing: ${diff}`,
  );
}
