#!/usr/bin/env node
// Convert a numeric CSV (with a header row) to Arrow IPC, to make sample and benchmark files.
//
//   node scripts/make-arrow.mjs in.csv out.arrow [--stream] [--float32] [--batch-rows N]
//        [--list name=prefix_*]... [--var-list name=prefix_*]...
//
// --stream       write the IPC stream format (default: IPC file format)
// --float32      store Float32 instead of Float64
// --batch-rows N rows per record batch (default 65536)
// --list         gather the columns matching the glob (in header order) into one FixedSizeList column
// --var-list     the same as a (variable-length) List column
// Empty fields become nulls; `nan`, `inf`, `-inf` (any case) are read as numbers. Fields are split on
// commas (no quoting in the data rows). Reads and writes one batch at a time.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import {
  RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Schema, Field, Struct, Float32, Float64,
  FixedSizeList, List, makeData,
} from 'apache-arrow';

function usage(msg) {
  if (msg) process.stderr.write(`make-arrow: ${msg}\n`);
  process.stderr.write('usage: node scripts/make-arrow.mjs in.csv out.arrow [--stream] [--float32] [--batch-rows N] [--list name=glob] [--var-list name=glob]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const pos = [];
const lists = [];
let stream = false, float32 = false, batchRows = 65536;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--stream') stream = true;
  else if (a === '--float32') float32 = true;
  else if (a === '--batch-rows') batchRows = Number(args[++i]);
  else if (a === '--list' || a === '--var-list') {
    const m = /^([^=]+)=(.+)$/.exec(args[++i] ?? '');
    if (!m) usage(`${a} takes name=glob`);
    lists.push({ name: m[1], glob: m[2], variable: a === '--var-list' });
  } else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else pos.push(a);
}
if (pos.length !== 2 || !(batchRows >= 1)) usage();
const [input, output] = pos;

const globRe = (g) => new RegExp('^' + g.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
const parseNum = (s) => {
  const t = s.trim();
  if (t === '') return null;
  const l = t.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  const v = Number(t);
  if (Number.isNaN(v)) throw new Error(`not a number: ${JSON.stringify(s)}`);
  return v;
};

const rl = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
const it = rl[Symbol.asyncIterator]();
const first = await it.next();
if (first.done) usage('empty input');
const header = first.value.split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1'));

// Output columns: each either a plain CSV column or a list of CSV columns.
const used = new Set();
const listCols = lists.map((l) => {
  const re = globRe(l.glob);
  const idx = header.map((h, i) => (re.test(h) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) usage(`no column matches ${l.glob}`);
  idx.forEach((i) => used.add(i));
  return { ...l, idx };
});
const cols = [];
header.forEach((h, i) => {
  if (used.has(i)) {
    const l = listCols.find((x) => x.idx[0] === i);
    if (l) cols.push(l);
  } else cols.push({ name: h, idx: [i], plain: true });
});
const Elem = float32 ? Float32 : Float64;
const Arr = float32 ? Float32Array : Float64Array;
const fields = cols.map((c) => {
  if (c.plain) return new Field(c.name, new Elem(), true);
  const item = new Field('item', new Elem(), true);
  return new Field(c.name, c.variable ? new List(item) : new FixedSizeList(c.idx.length, item), true);
});
const schema = new Schema(fields);

const writer = stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
const out = createWriteStream(output);
writer.toNodeStream().pipe(out);

function column(c, rows) {
  const n = rows.length, w = c.idx.length;
  const vals = new Arr(n * w);
  const valid = new Uint8Array(Math.ceil((n * w) / 8));
  let nulls = 0;
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < w; k++) {
      const v = rows[r][c.idx[k]];
      const j = r * w + k;
      if (v === null) { nulls++; vals[j] = 0; } else { vals[j] = v; valid[j >> 3] |= 1 << (j & 7); }
    }
  }
  const type = new Elem();
  const values = makeData({ type, length: n * w, nullCount: nulls, nullBitmap: nulls ? valid : null, data: vals });
  if (c.plain) return values;
  const f = fields[cols.indexOf(c)];
  if (!c.variable) return makeData({ type: f.type, length: n, nullCount: 0, child: values });
  const offs = new Int32Array(n + 1);
  for (let r = 0; r <= n; r++) offs[r] = r * w;
  return makeData({ type: f.type, length: n, nullCount: 0, valueOffsets: offs, child: values });
}

let rows = [];
let line = 1;
let total = 0;
async function flush() {
  if (rows.length === 0) return;
  const children = cols.map((c) => column(c, rows));
  writer.write(new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, children })));
  total += rows.length;
  rows = [];
  if (out.writableLength > 64 << 20) await once(out, 'drain');
}
for (;;) {
  const r = await it.next();
  if (r.done) break;
  line++;
  const parts = r.value.split(',');
  if (parts.length !== header.length) {
    if (r.value === '' ) continue;
    throw new Error(`${input}: line ${line}: ${parts.length} fields, expected ${header.length}`);
  }
  try { rows.push(parts.map(parseNum)); } catch (e) { throw new Error(`${input}: line ${line}: ${e.message}`); }
  if (rows.length >= batchRows) await flush();
}
await flush();
if (total === 0) writer.reset(undefined, schema); // schema-only output
writer.close();
await once(out, 'finish');
process.stderr.write(`make-arrow: ${total} rows, ${cols.length} columns → ${output} (${stream ? 'stream' : 'file'})\n`);
