// Throughput of the CSV cutter (main thread) and the chunk parser (worker side), one core.
// Build first:  npx tsc -p tsconfig.json --outDir /tmp/csv-dist
// Run:          CSV_DIST=/tmp/csv-dist node bench/csv-parse.mjs [sizeMB]
// Generates /tmp/losseval-bench-2col.csv (2 columns, 9 significant digits, ~50 MB) once.
import { existsSync, statSync, createReadStream, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { writeTwoColumnCsv } from './gen.mjs';

const dist = process.env.CSV_DIST ?? '/tmp/csv-dist';
const { cutCsv } = await import(pathToFileURL(join(dist, 'read/csv-cut.js')).href);
const { parseCsvChunk } = await import(pathToFileURL(join(dist, 'parse/csv.js')).href);

const sizeMB = Number(process.argv[2] ?? 50);
const file = `/tmp/losseval-bench-2col-${sizeMB}.csv`;
const quotedFile = `/tmp/losseval-bench-2col-${sizeMB}-quoted.csv`;

function generate(path, quoted) {
  writeTwoColumnCsv(path, sizeMB * 1e6, 42, quoted ? '"pred","target"\n' : 'pred,target\n', (x, y) => {
    const a = x.toPrecision(9), b = y.toPrecision(9);
    return quoted ? `"${a}",${b}\n` : `${a},${b}\n`;
  });
}

for (const [p, q] of [[file, false], [quotedFile, true]]) {
  if (!existsSync(p) || Math.abs(statSync(p).size - sizeMB * 1e6) > 1e5) generate(p, q);
}

async function* fromBuffer(buf, chunk) {
  for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, Math.min(buf.length, i + chunk));
}

async function cut(src, rowsPerBlock) {
  const { header, blocks } = cutCsv(src, { rowsPerBlock, header: true, delimiter: 44 });
  const h = await header;
  const out = [];
  for await (const b of blocks) out.push(b);
  return { h, out };
}

function best(times) {
  return Math.min(...times);
}

async function benchFile(path, label) {
  const buf = readFileSync(path);
  const mb = buf.length / 1e6;
  console.log(`\n${label}: ${path} (${mb.toFixed(1)} MB)`);
  const rowsPerBlock = 65536;
  // cutter from memory (64 KiB source chunks), isolates the cutter from disk I/O
  const tc = [];
  let blocks;
  let fieldCount;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const { h, out } = await cut(fromBuffer(buf, 65536), rowsPerBlock);
    tc.push(performance.now() - t0);
    blocks = out;
    fieldCount = h.fieldCount;
  }
  console.log(`cutCsv (memory, 64 KiB chunks, ${rowsPerBlock} rows/block): ${(mb / (best(tc) / 1000)).toFixed(0)} MB/s  (${blocks.length} blocks)`);
  // cutter from a file stream (includes fs reads)
  const tf = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await cut(createReadStream(path, { highWaterMark: 1 << 20 }), rowsPerBlock);
    tf.push(performance.now() - t0);
  }
  console.log(`cutCsv (fs stream, 1 MiB chunks): ${(mb / (best(tf) / 1000)).toFixed(0)} MB/s`);
  // parser, single thread
  for (const columns of [[0, 1], [1]]) {
    const tp = [];
    let sum = 0;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      for (const b of blocks) {
        const r = parseCsvChunk({ bytes: b.bytes, rows: b.rows, delimiter: 44, fieldCount, columns });
        if (!r.ok) throw new Error(JSON.stringify(r));
        sum += r.values[0];
      }
      tp.push(performance.now() - t0);
    }
    const bytes = blocks.reduce((a, b) => a + b.bytes.length, 0) / 1e6;
    console.log(`parseCsvChunk columns [${columns}]: ${(bytes / (best(tp) / 1000)).toFixed(0)} MB/s  (checksum ${sum.toFixed(3)})`);
  }
  return blocks;
}

await benchFile(file, 'plain (no quotes)');
const qblocks = await benchFile(quotedFile, 'quoted first column');

// csv-parse/sync on the same quoted blocks, for comparison with the hand-written RFC 4180 path
try {
  const { parse } = await import('csv-parse/sync');
  const dec = new TextDecoder();
  const sub = qblocks.slice(0, Math.max(1, Math.ceil(qblocks.length / 5)));
  const bytes = sub.reduce((a, b) => a + b.bytes.length, 0) / 1e6;
  const t0 = performance.now();
  let s = 0;
  for (const b of sub) {
    const recs = parse(dec.decode(b.bytes), { delimiter: ',' });
    for (const r of recs) s += Number(r[0]) + Number(r[1]);
  }
  const t = performance.now() - t0;
  console.log(`\ncsv-parse/sync + Number() on quoted blocks: ${(bytes / (t / 1000)).toFixed(0)} MB/s (checksum ${s.toFixed(3)})`);
} catch (e) {
  console.log('csv-parse comparison skipped:', e.message);
}
