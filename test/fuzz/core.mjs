// Fuzz harness core, shared by scripts/fuzz.mjs and test/fuzz/fuzz.test.ts.
//
// A seeded generator makes valid inputs (one or two files; CSV, TSV, gzip, Arrow IPC file and
// stream, NumPy .npy of every dtype and byte order; up to 10 000 columns; megabyte-long lines) and
// mutates them (bit flips, truncation at every kind of boundary, random bytes, ragged rows, NUL
// bytes, invalid UTF-8, unterminated quotes, hostile Arrow metadata, hostile .npy headers). Each input is run through losseval (in long-lived in-process runners for
// speed, a share of them through the real CLI, and every failure again through the real CLI) and
// compared with the slow reference (test/helpers/reference.ts), passed in as `ref`.
import { spawn, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { pathToFileURL } from 'node:url';
import { mkdirSync, writeFileSync, readFileSync, rmSync, cpSync, openSync, closeSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  tableToIPC, Table, vectorFromArray, makeVector, Float64, Float32, Int32, Field, FixedSizeList, Utf8,
} from 'apache-arrow';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'losseval.js');
const RUNNER = fileURLToPath(new URL('./inproc-runner.mjs', import.meta.url));

// ---------------------------------------------------------------------------------------------
// PRNG (sfc32, seeded from a string)

export function makeRng(seed) {
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) { h = Math.imul(h ^ ch.charCodeAt(0), 3432918353); h = (h << 13) | (h >>> 19); }
  const next = () => { h = Math.imul(h ^ (h >>> 16), 2246822507); h = Math.imul(h ^ (h >>> 13), 3266489909); return (h ^= h >>> 16) >>> 0; };
  let a = next(), b = next(), c = next(), d = next();
  const u32 = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9); b = (c + (c << 3)) | 0; c = (c << 21) | (c >>> 11); d = (d + 1) | 0; t = (t + d) | 0; c = (c + t) | 0;
    return t >>> 0;
  };
  const rng = () => u32() / 4294967296;
  rng.int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1)); // inclusive
  rng.pick = (xs) => xs[Math.floor(rng() * xs.length)];
  rng.chance = (p) => rng() < p;
  rng.weighted = (pairs) => {
    let total = 0;
    for (const [w] of pairs) total += w;
    let x = rng() * total;
    for (const [w, v] of pairs) { if ((x -= w) < 0) return v; }
    return pairs[pairs.length - 1][1];
  };
  return rng;
}

// ---------------------------------------------------------------------------------------------
// Values

function decimalText(rng) {
  const k = rng.int(0, 8);
  const s = (rng() * 200 - 100).toFixed(k);
  return s;
}

/** A CSV field text; `validOnly` keeps to numbers and tokens. */
function valueText(rng, validOnly = true) {
  const kind = rng.weighted([
    [60, 'dec'], [8, 'exp'], [4, 'long'], [3, 'token'], [6, 'int'], [3, 'pad'], [3, 'quoted'], [3, 'odd'], [2, 'extreme'],
    [validOnly ? 0 : 3, 'bad'],
  ]);
  switch (kind) {
    case 'dec': return decimalText(rng);
    case 'exp': return `${rng.pick(['', '-', '+'])}${rng.int(1, 9)}.${rng.int(0, 99999)}${rng.pick(['e', 'E'])}${rng.pick(['', '-', '+'])}${rng.int(0, 320)}`;
    case 'long': {
      let s = rng.pick(['', '-']) + String(rng.int(1, 9));
      const n = rng.int(17, 60);
      for (let i = 0; i < n; i++) s += String(rng.int(0, 9));
      if (rng.chance(0.5)) s = s.slice(0, 3) + '.' + s.slice(3);
      return s;
    }
    case 'token': return rng.pick(['nan', 'NaN', 'NAN', '', 'inf', '+inf', '-inf', 'Infinity', '-Infinity', 'INF', 'infinity']);
    case 'int': return String(rng.int(-1000000, 1000000));
    case 'pad': return rng.pick([' ', '\t', '  ']) + decimalText(rng) + rng.pick(['', ' ', '\t ']);
    case 'quoted': return `${rng.pick(['', ' '])}"${rng.pick(['', ' '])}${decimalText(rng)}"${rng.pick(['', ' '])}`;
    case 'odd': return rng.pick(['5.', '.5', '-.25e1', '+0', '-0', '0.0', '00012', '1e0', '.0e-0', '4.9e-324', '2.2250738585072014e-308']);
    case 'extreme': return rng.pick(['1e308', '-1.7976931348623157e308', '1e-320', '1e400', '-1e400', '1e-400', '123456789012345678901234567890e-10']);
    case 'bad': return rng.pick(['1e', '0x10', '1_000', 'abc', 'nan1', '-nan', '1 2', '1e+', '--1', '1..2', '∞', 'inf inity']);
  }
  return '0';
}

function valueNumber(rng) {
  const k = rng.weighted([[85, 'dec'], [4, 'nan'], [2, 'inf'], [4, 'null'], [5, 'big']]);
  if (k === 'nan') return NaN;
  if (k === 'inf') return rng.pick([Infinity, -Infinity]);
  if (k === 'null') return null;
  if (k === 'big') return Number(rng.pick(['1e300', '-1e300', '5e-324', '1e20', '123456789']));
  return Number(decimalText(rng));
}

// ---------------------------------------------------------------------------------------------
// Base inputs

function csvField(text, delim) {
  // quote names/text that need it
  const d = String.fromCharCode(delim);
  if (text.includes(d) || text.includes('"') || text.includes('\n') || text.includes('\r')) return '"' + text.replace(/"/g, '""') + '"';
  return text;
}

/** CSV text of a table: names (or null), and rows of field texts. */
function csvText(names, rows, delim, eol) {
  const d = String.fromCharCode(delim);
  const lines = [];
  if (names) lines.push(names.map((n) => csvField(n, delim)).join(d));
  for (const r of rows) lines.push(r.join(d));
  return lines.join(eol) + (lines.length ? eol : '');
}

function arrowBytes(rng, cols, nrows, format) {
  // cols: [{ name, kind: 'f64'|'f32'|'i32'|'i64'|'fsl'|'utf8', width, cells: (row) -> value }]
  const sizes = [];
  let left = nrows;
  const nb = rng.weighted([[5, 1], [3, 2], [2, 5]]);
  for (let b = 0; b < nb - 1 && left > 0; b++) { const s = rng.int(0, left); sizes.push(s); left -= s; }
  sizes.push(left);
  let start = 0;
  let table = null;
  for (const size of sizes) {
    const vecs = {};
    for (const c of cols) {
      const vals = [];
      for (let r = start; r < start + size; r++) vals.push(c.cells[r]);
      let v;
      switch (c.kind) {
        case 'f64': v = vectorFromArray(vals, new Float64()); break;
        case 'f32': v = vectorFromArray(vals, new Float32()); break;
        case 'i32': v = vectorFromArray(vals, new Int32()); break;
        case 'i64': v = makeVector(BigInt64Array.from(vals.map((x) => BigInt(x)))); break;
        case 'utf8': v = vectorFromArray(vals, new Utf8()); break;
        case 'fsl': v = vectorFromArray(vals, new FixedSizeList(c.width, new Field('item', new Float64(), true))); break;
      }
      vecs[c.name] = v;
    }
    const t = new Table(vecs);
    table = table ? table.concat(t) : t;
    start += size;
  }
  return tableToIPC(table, format);
}

function arrowCells(rng, kind, nrows, width) {
  const cells = [];
  for (let r = 0; r < nrows; r++) {
    if (kind === 'i32') cells.push(rng.chance(0.05) ? null : rng.int(-1000, 1000));
    else if (kind === 'i64') cells.push(rng.chance(0.1) ? rng.pick([9007199254740993, -9007199254740995, 2 ** 62 + 2 ** 10]) : rng.int(-1e6, 1e6));
    else if (kind === 'utf8') cells.push(rng.chance(0.1) ? null : `id-${r}`);
    else if (kind === 'fsl') {
      if (rng.chance(0.03)) { cells.push(null); continue; }
      const v = [];
      for (let k = 0; k < width; k++) v.push(valueNumber(rng));
      cells.push(v);
    } else {
      const x = valueNumber(rng);
      cells.push(kind === 'f32' && x !== null ? Math.fround(x) : x);
    }
  }
  return cells;
}

// NumPy .npy: the dtypes losseval reads, in either byte order; values the dtype holds
const NPY_DTYPES = [[30, 'f8'], [12, 'f4'], [10, 'f2'], [4, 'i1'], [4, 'i2'], [6, 'i4'], [8, 'i8'], [4, 'u1'], [4, 'u2'], [4, 'u4'], [6, 'u8'], [4, 'b1']];

function npyValue(rng, code) {
  const size = Number(code[1]);
  if (code === 'f8') return valueNumber(rng) ?? NaN;
  if (code === 'f4') return Math.fround(valueNumber(rng) ?? NaN);
  if (code === 'f2') return rng.chance(0.5) ? rng.int(0, 0xffff) : rng.pick([0x3c00, 0xbc00, 0x7c00, 0xfc00, 0x7e00, 0x0001, 0x8000, 0x7bff, 0x3555]);
  if (code === 'b1') return rng.int(0, 1);
  const signed = code[0] === 'i';
  const bits = BigInt(size * 8);
  const lo = signed ? -(1n << (bits - 1n)) : 0n, hi = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (rng.chance(0.15)) return rng.pick([lo, hi, 0n, hi - 1n, lo + 1n]);
  if (rng.chance(0.5)) return BigInt(rng.int(signed ? -100 : 0, 100));
  // a random value of the full range
  let v = 0n;
  for (let i = 0n; i < bits; i += 16n) v = (v << 16n) | BigInt(rng.int(0, 0xffff));
  return lo + (v % (hi - lo + 1n));
}

/** An .npy file as np.save writes it (header padded to 64 bytes): 1-D, or 2-D of K values per row. */
function npyBytes(rng, nrows, K) {
  const code = rng.weighted(NPY_DTYPES);
  const size = Number(code[1]);
  const order = size === 1 ? '|' : rng.chance(0.7) ? '<' : '>';
  const shape = K === 1 && rng.chance(0.7) ? `(${nrows},)` : `(${nrows}, ${K})`;
  const fortran = K === 1 && shape.includes(', ') && rng.chance(0.3) ? 'True' : 'False';
  const major = rng.weighted([[80, 1], [10, 2], [10, 3]]);
  const pre = major === 1 ? 10 : 12;
  let header = `{'descr': '${order}${code}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const data = Buffer.alloc(nrows * K * size);
  const little = order !== '>';
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < nrows * K; i++) {
    const v = npyValue(rng, code), o = i * size;
    switch (code) {
      case 'f8': dv.setFloat64(o, v, little); break;
      case 'f4': dv.setFloat32(o, v, little); break;
      case 'f2': case 'u2': dv.setUint16(o, Number(v), little); break;
      case 'i1': dv.setInt8(o, Number(v)); break;
      case 'u1': case 'b1': dv.setUint8(o, Number(v)); break;
      case 'i2': dv.setInt16(o, Number(v), little); break;
      case 'i4': dv.setInt32(o, Number(v), little); break;
      case 'u4': dv.setUint32(o, Number(v), little); break;
      case 'i8': dv.setBigInt64(o, v, little); break;
      case 'u8': dv.setBigUint64(o, v, little); break;
    }
  }
  const len = Buffer.alloc(pre - 8);
  if (major === 1) len.writeUInt16LE(header.length); else len.writeUInt32LE(header.length);
  return { bytes: Buffer.concat([Buffer.from([0x93]), Buffer.from(`NUMPY`), Buffer.from([major, 0]), len, Buffer.from(header, 'latin1'), data]), desc: `${order}${code} ${shape}${fortran === 'True' ? ' fortran' : ''} v${major}` };
}

/** Hostile .npy headers: another version, header length, shape, dtype or order, or a rewritten dict. */
function npyHostile(rng, b, nrows) {
  if (b.length < 12 || b[0] !== 0x93) return GENERIC.bitflip(rng, b);
  const major = b[6];
  const pre = major === 1 ? 10 : 12;
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  if (pre + hlen > b.length) return GENERIC.bitflip(rng, b);
  let text = b.subarray(pre, pre + hlen).toString('latin1');
  const data = b.subarray(pre + hlen);
  const what = rng.pick(['version', 'length', 'shape', 'descr', 'fortran', 'dict']);
  if (what === 'version') { const c = Buffer.from(b); c[6] = rng.pick([0, 1, 2, 3, 4, 255]); c[7] = rng.pick([0, 0, 0, 1]); return c; }
  if (what === 'length') {
    const c = Buffer.from(b);
    const v = rng.pick([hlen + 1, hlen - 1, hlen + 8, Math.max(0, hlen - 8), 0, 0xffff, b.length, 1 << 20, (1 << 20) + 1, 0xffffffff]);
    if (major === 1) c.writeUInt16LE(v & 0xffff, 8); else c.writeUInt32LE(v >>> 0, 8);
    return c;
  }
  const n = nrows;
  if (what === 'shape') {
    const evil = rng.pick([`(${n + 1},)`, `(${Math.max(0, n - 1)},)`, `(${n}, 0)`, `(${n}, 1, 1)`, '()', `(${n})`, `(0${n},)`, '(99999999999999999999,)',
      '(4294967296, 4294967296)', `(${n * 2},)`, `(1, ${n})`, `(${n}, 1048577)`, `(${n}L,)`, `( ${n} , )`, '(,)', `(${n},,)`, `(-${n},)`, `(0x${n.toString(16)},)`]);
    text = text.replace(/\([^)]*\)/, evil);
  } else if (what === 'descr') {
    text = text.replace(/'descr': '[^']*'/, `'descr': '${rng.pick(['<f8', '>f8', '<f4', '>f2', '|u1', '|b1', '<i8', '>u8', '<c16', '|O', '<f16', '<U4', '|f8', '=f8', '<M8[ns]', '<i16'])}'`);
  } else if (what === 'fortran') {
    text = text.replace(/True|False/, rng.pick(['True', 'False', 'true', '1', 'None']));
  } else {
    text = rng.pick([
      (t) => t.replace(/'shape'/, "'shap'"), (t) => t.replace(/, \}/, '}'), (t) => t.replace(/\{/, "{'descr': '<f8', "),
      (t) => t.replace(/'/g, '"'), (t) => t.replace(/\}/, ", 'extra': 1}"), (t) => t.replace(/\}/, '} x'), (t) => t.replace(/'descr': '([^']*)'/, "'descr': [('a', '$1')]"),
      (t) => t.replace(/ /g, '\t'), (t) => t.replace(/\n$/, ''), (t) => `  ${t}`,
    ])(text);
  }
  const len = Buffer.alloc(pre - 8);
  if (major === 1) len.writeUInt16LE(Math.min(text.length, 0xffff)); else len.writeUInt32LE(text.length);
  return Buffer.concat([b.subarray(0, 8), len, Buffer.from(text, 'latin1'), data]);
}

/** Build one file: { kind, ext, bytes, names (null: no header), text? } */
function makeFile(rng, opt) {
  // opt: { format, names, nrows, header, delim, eol, kinds (per col, arrow), csvCells (per col) }
  const { format, names, nrows } = opt;
  if (format === 'npy') {
    const { bytes, desc } = npyBytes(rng, nrows, names.length);
    return { bytes, ext: '.npy', arrow: false, npy: true, nrows, desc };
  }
  if (format === 'arrow-file' || format === 'arrow-stream') {
    const cols = names.map((name, j) => {
      const kind = opt.kinds[j];
      const width = opt.widths?.[j] ?? 1;
      return { name, kind, width, cells: arrowCells(rng, kind, nrows, width) };
    });
    const bytes = arrowBytes(rng, cols, nrows, format === 'arrow-file' ? 'file' : 'stream');
    return { bytes: Buffer.from(bytes), ext: format === 'arrow-file' ? '.arrow' : '.arrows', arrow: true, nrows };
  }
  const rows = [];
  for (let r = 0; r < nrows; r++) {
    rows.push(names.map((n, j) => (opt.textCols?.[j] ? csvField(opt.textCols[j](r), opt.delim) : valueText(rng, !opt.allowBad))));
  }
  const text = csvText(opt.header ? names : null, rows, opt.delim, opt.eol);
  return { bytes: Buffer.from((opt.bom ? '\ufeff' : '') + text, 'utf8'), ext: opt.delim === 9 ? '.tsv' : '.csv', arrow: false, nrows };
}

// ---------------------------------------------------------------------------------------------
// Mutators

const SPECIAL = [0, 0x22, 0x2c, 0x0a, 0x0d, 0x09, 0x20, 0xff, 0xfe, 0xc3, 0x80, 0x2e, 0x65, 0x2d, 0x31, 0x3b];

function randBytes(rng, n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.chance(0.6) ? rng.pick(SPECIAL) : rng.int(0, 255);
  return b;
}

function splice(b, at, del, ins) {
  return Buffer.concat([b.subarray(0, at), ins ?? Buffer.alloc(0), b.subarray(Math.min(b.length, at + del))]);
}

function positionsOf(b, byte) {
  const out = [];
  for (let i = 0; i < b.length && out.length < 100000; i++) if (b[i] === byte) out.push(i);
  return out;
}

function lineStarts(b) {
  const out = [0];
  for (let i = 0; i < b.length; i++) if (b[i] === 10 && i + 1 < b.length) out.push(i + 1);
  return out;
}

const GENERIC = {
  bitflip(rng, b) {
    if (!b.length) return b;
    const c = Buffer.from(b);
    const n = rng.int(1, 4);
    for (let k = 0; k < n; k++) { const i = rng.int(0, c.length - 1); c[i] ^= 1 << rng.int(0, 7); }
    return c;
  },
  setbyte(rng, b) {
    if (!b.length) return b;
    const c = Buffer.from(b);
    c[rng.int(0, c.length - 1)] = rng.chance(0.7) ? rng.pick(SPECIAL) : rng.int(0, 255);
    return c;
  },
  insert(rng, b) { return splice(b, rng.int(0, b.length), 0, randBytes(rng, rng.int(1, 8))); },
  delete(rng, b) { return b.length ? splice(b, rng.int(0, b.length - 1), rng.int(1, 16), null) : b; },
  truncate(rng, b) { return b.subarray(0, rng.int(0, b.length)); },
  truncateBoundary(rng, b) {
    // at / around a newline, a quote, a delimiter, an 8-byte boundary, a 0xFFFFFFFF marker, the tail
    const kind = rng.pick(['lf', 'quote', 'comma', 'align8', 'marker', 'tail', 'head']);
    let cands = [];
    if (kind === 'lf') cands = positionsOf(b, 10);
    else if (kind === 'quote') cands = positionsOf(b, 34);
    else if (kind === 'comma') cands = positionsOf(b, 44);
    else if (kind === 'align8') for (let i = 8; i < b.length; i += 8) cands.push(i);
    else if (kind === 'marker') { for (let i = 0; i + 3 < b.length; i++) if (b.readUInt32LE(i) === 0xffffffff) cands.push(i, i + 4, i + 8); }
    else if (kind === 'tail') cands = [b.length - 1, b.length - 2, b.length - 6, b.length - 10, b.length - 11].filter((x) => x >= 0);
    else cands = [0, 1, 2, 3, 6, 8, 10, 16].filter((x) => x <= b.length);
    if (!cands.length) return b.subarray(0, rng.int(0, b.length));
    const at = rng.pick(cands) + rng.pick([0, 0, 1, -1]);
    return b.subarray(0, Math.max(0, Math.min(b.length, at)));
  },
  duplicate(rng, b) {
    if (!b.length) return b;
    const s = rng.int(0, b.length - 1), n = rng.int(1, 64);
    return splice(b, s, 0, b.subarray(s, s + n));
  },
  garbage(rng, b) { return Buffer.concat([b, randBytes(rng, rng.int(1, 64))]); },
  randomFile(rng) { return randBytes(rng, rng.int(0, 300)); },
};

const CSV_MUTATORS = {
  ragged(rng, b, delim) {
    const starts = lineStarts(b);
    const s = rng.pick(starts);
    let e = b.indexOf(10, s);
    if (e < 0) e = b.length;
    const ds = [];
    for (let i = s; i < e; i++) if (b[i] === delim) ds.push(i);
    if (ds.length && rng.chance(0.5)) return splice(b, rng.pick(ds), 1, null);
    return splice(b, rng.int(s, e), 0, Buffer.from([delim]));
  },
  unterminatedQuote(rng, b, delim) {
    const starts = [...lineStarts(b), ...positionsOf(b, delim).map((x) => x + 1)];
    return splice(b, rng.pick(starts), 0, Buffer.from(rng.pick(['"', '"1', '" ', '"1,2\n3'])));
  },
  nul(rng, b) { return splice(b, rng.int(0, b.length), rng.int(0, 1), Buffer.from([0])); },
  invalidUtf8(rng, b) { return splice(b, rng.int(0, b.length), 0, Buffer.from(rng.pick([[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]))); },
  emptyLine(rng, b) { return splice(b, rng.pick(lineStarts(b)), 0, Buffer.from(rng.pick(['\n', '\r\n']))); },
  crlf(rng, b) {
    const lfs = positionsOf(b, 10);
    if (!lfs.length) return b;
    return splice(b, rng.pick(lfs), 0, Buffer.from(rng.pick(['\r', '\r\r'])));
  },
  loneCR(rng, b) { return splice(b, rng.int(0, b.length), 0, Buffer.from('\r')); },
  stripFinalNewline(_rng, b) { return b.length && b[b.length - 1] === 10 ? b.subarray(0, b.length - 1) : Buffer.concat([b, Buffer.from('\n')]); },
  quoteField(rng, b, delim) {
    const ds = positionsOf(b, delim);
    if (!ds.length) return b;
    const at = rng.pick(ds) + 1;
    let e = at;
    while (e < b.length && b[e] !== delim && b[e] !== 10 && b[e] !== 13) e++;
    return Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(['"', ' "'])), b.subarray(at, e), Buffer.from(rng.pick(['"', '" ', '"x', '""'])), b.subarray(e)]);
  },
};

function patchInts(rng, b, interesting) {
  // hostile metadata: rewrite little-endian int64 / int32 fields equal to known sizes
  const c = Buffer.from(b);
  const hits64 = [], hits32 = [];
  for (let i = 0; i + 8 <= c.length; i += 8) {
    const v = c.readBigInt64LE(i);
    if (interesting.has(v)) hits64.push(i);
  }
  for (let i = 0; i + 4 <= c.length; i += 4) {
    if (c.readUInt32LE(i) === 0xffffffff && i + 8 <= c.length) hits32.push(i + 4);
  }
  if (c.length >= 10) hits32.push(c.length - 10); // footer length
  const evil64 = [2n ** 40n, 2n ** 62n, -1n, -8n, 2n ** 31n, 2n ** 31n - 1n, 2n ** 32n + 8n, 0n, 1n, 7n, 1n << 53n];
  const evil32 = [0x7fffffff, -1, -8, 0, 8, 1 << 24, 1 << 30];
  const n = rng.int(1, 3);
  for (let k = 0; k < n; k++) {
    if (hits64.length && rng.chance(0.7)) {
      const at = rng.pick(hits64);
      const old = c.readBigInt64LE(at);
      c.writeBigInt64LE(rng.chance(0.3) ? old + BigInt(rng.pick([-8, -1, 1, 8, 64])) : rng.pick(evil64), at);
    } else if (hits32.length) {
      const at = rng.pick(hits32);
      const old = c.readInt32LE(at);
      c.writeInt32LE(rng.chance(0.3) ? (old + rng.pick([-8, -1, 1, 8])) | 0 : rng.pick(evil32), at);
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Cases

const LOSS_NAMES = {
  l1: ['l1', 'L1Loss', 'l1_loss'],
  mse: ['mse', 'MSELoss', 'mse-loss'],
  smooth_l1: ['smooth_l1', 'SmoothL1Loss', 'smoothl1'],
  huber: ['huber', 'HuberLoss', 'huber_loss'],
};

/** Generate case `i` of seed `seed`: everything needed to write, run and check it. */
export function generateCase(seed, i) {
  const rng = makeRng(`${seed}:${i}`);
  const desc = [];
  const twoFiles = rng.chance(0.65);
  const header = rng.chance(0.85);
  const big = rng.weighted([[93, 'normal'], [3, 'wide'], [2, 'huge'], [2, 'megaline']]);
  let nrows = rng.weighted([[5, 0], [8, 1], [8, 2], [10, 3], [15, 10], [20, 50], [15, 200], [8, 1000], [3, 4000]]);
  let K = rng.weighted([[40, 1], [25, 2], [20, 3], [10, 5], [5, 8]]);
  if (big === 'wide') { K = rng.pick([300, 1000]); nrows = Math.min(nrows, 20); }
  if (big === 'huge') { K = 10000; nrows = rng.int(1, 3); }
  desc.push(`${twoFiles ? 'two files' : 'one file'}, ${nrows} rows × ${K}, ${header ? 'header' : 'no header'}, ${big}`);
  // the dialect applies to every CSV input
  const dialect = rng.weighted([[70, 'comma'], [15, 'tsv'], [8, 'semicolon'], [7, 'pipe']]);
  const explicitDelim = dialect === 'semicolon' ? 59 : dialect === 'pipe' ? 124 : dialect === 'tsv' && rng.chance(0.3) ? 9 : null;
  const delim = dialect === 'tsv' ? 9 : explicitDelim ?? 44;
  const eol = rng.chance(0.15) ? '\r\n' : '\n';
  const pickFormat = () => (big === 'normal' || big === 'megaline'
    ? rng.weighted([[55, 'csv'], [25, 'arrow-file'], [20, 'arrow-stream']]) : rng.weighted([[85, 'csv'], [15, 'arrow-file']]));
  const arrowKind = () => rng.weighted([[60, 'f64'], [15, 'f32'], [15, 'i32'], [10, 'i64']]);
  const withId = rng.chance(0.25);
  const files = [];
  let predCols = null, targetCols = null;
  const names = (prefix, k) => Array.from({ length: k }, (_, j) => `${prefix}${j}`);
  const makeOne = (role, colNames, format, textCols, kinds, widths) => {
    const f = makeFile(rng, {
      format, names: colNames, nrows, header, delim, eol, bom: rng.chance(0.05), textCols, kinds, widths,
      allowBad: rng.chance(0.03),
    });
    f.role = role;
    f.format = format;
    if (f.npy) desc.push(`${role} .npy ${f.desc}`);
    return f;
  };
  const megaRow = rng.int(0, Math.max(0, nrows - 1));
  const megaLen = rng.int(1, 2) << 20;
  const megaText = big === 'megaline' ? (r) => (r === megaRow ? 'x'.repeat(megaLen) : `r${r}`) : null;
  // .npy: one array per file, so for two-file runs only; decided by a generator of its own, so the
  // cases without .npy are those the seeds made before .npy was added
  const npyRng = makeRng(`${seed}:${i}:npy`);
  const pickTwo = () => (big === 'normal' && npyRng.chance(0.2) ? 'npy' : pickFormat());
  if (twoFiles) {
    const pf = pickTwo(), tf = pickTwo();
    let pNames = names('p', K);
    let pKinds = pNames.map(arrowKind);
    let pWidths;
    let pText;
    if (pf.startsWith('arrow') && K > 1 && rng.chance(0.3)) { pNames = ['p']; pKinds = ['fsl']; pWidths = [K]; desc.push('preds as FixedSizeList'); }
    if (withId && pf !== 'npy') {
      pNames = ['id', ...pNames];
      pKinds = ['utf8', ...pKinds];
      pWidths = pWidths ? [1, ...pWidths] : undefined;
      pText = [megaText ?? ((r) => `row ${r}, "q"`)];
      predCols = pf.startsWith('arrow') || header ? (pNames.length > 2 && rng.chance(0.5) ? 'p*' : pNames.slice(1).join(',')) : pNames.slice(1).map((_, j) => String(j + 1)).join(',');
    }
    files.push(makeOne('preds', pNames, pf, pText, pKinds, pWidths));
    const tNames = names('t', K);
    files.push(makeOne('targets', tNames, tf, undefined, tNames.map(arrowKind)));
  } else {
    const f = pickFormat();
    let cols = [...names('p', K), ...names('t', K)];
    let kinds = cols.map(arrowKind);
    let text;
    if (withId) { cols = ['id', ...cols]; kinds = ['utf8', ...kinds]; text = [megaText ?? ((r) => `r${r}`)]; }
    const off = withId ? 1 : 0;
    const byName = f.startsWith('arrow') || header;
    const tn = byName ? names('t', K) : names('', K).map((_, j) => String(off + K + j));
    targetCols = byName && K > 1 && rng.chance(0.3) ? 't*' : tn.join(',');
    if (withId || rng.chance(0.3)) {
      const pn = byName ? names('p', K) : names('', K).map((_, j) => String(off + j));
      predCols = byName && rng.chance(0.3) ? 'p*' : pn.join(',');
    }
    files.push(makeOne('preds', cols, f, text, kinds));
  }
  // mutations
  const nMut = rng.weighted([[45, 0], [35, 1], [12, 2], [8, 3]]);
  const interesting = new Set([BigInt(nrows), BigInt(nrows * 8), BigInt(nrows * 4), BigInt(((nrows * 8 + 63) >> 6) << 6), BigInt((((nrows + 7) >> 3) + 63 >> 6) << 6)]);
  for (let m = 0; m < nMut; m++) {
    const f = rng.pick(files);
    let name;
    if (f.npy) {
      name = rng.weighted([[55, 'npyHostile'], [45, rng.pick(Object.keys(GENERIC))]]);
      f.bytes = name === 'npyHostile' ? npyHostile(rng, f.bytes, nrows) : GENERIC[name](rng, f.bytes);
    } else if (f.arrow) {
      name = rng.weighted([[40, 'hostile'], [60, rng.pick(Object.keys(GENERIC))]]);
      f.bytes = name === 'hostile' ? patchInts(rng, f.bytes, interesting) : GENERIC[name](rng, f.bytes);
    } else {
      name = rng.weighted([[55, rng.pick(Object.keys(CSV_MUTATORS))], [45, rng.pick(Object.keys(GENERIC))]]);
      f.bytes = name in CSV_MUTATORS ? CSV_MUTATORS[name](rng, f.bytes, delim) : GENERIC[name](rng, f.bytes);
    }
    desc.push(`mutate ${f.role}: ${name}`);
  }
  // gzip (then maybe mutate the compressed bytes)
  for (const f of files) {
    if (rng.chance(0.15)) {
      f.bytes = gzipSync(f.bytes, { level: rng.pick([1, 6, 9]) });
      f.ext += '.gz';
      f.gzip = true;
      desc.push(`gzip ${f.role}`);
      if (rng.chance(0.2)) {
        const name = rng.pick(['bitflip', 'truncate', 'truncateBoundary', 'garbage', 'delete']);
        f.bytes = GENERIC[name](rng, f.bytes);
        desc.push(`mutate ${f.role}.gz: ${name}`);
      }
    }
  }
  const stdinIndex = rng.chance(0.2) ? rng.int(0, files.length - 1) : null;
  const lossKeys = Object.keys(LOSS_NAMES);
  const nl = rng.weighted([[70, 1], [20, 2], [10, 3]]);
  const losses = [];
  while (losses.length < nl) { const l = rng.pick(lossKeys); if (!losses.includes(l)) losses.push(l); }
  const beta = losses.includes('smooth_l1') && rng.chance(0.4) ? rng.pick([0, 0.5, 2.5, 1e-3, 100, -1]) : undefined;
  const delta = losses.includes('huber') && rng.chance(0.4) ? rng.pick([0.5, 3, 1e-3, 0]) : undefined;
  const chunkRows = rng.chance(0.5) ? rng.pick([1, 2, 3, 7, 64, 1000, 65536]) : null;
  // without --chunk-rows one CSV input is cut by size: tiny sizes make many chunks (test hook)
  const chunkBytes = chunkRows === null && rng.chance(0.5) ? rng.pick([1, 5, 64, 4096]) : null;
  return {
    seed, index: i, desc,
    files: files.map((f, k) => ({ role: f.role, file: `${f.role}${f.ext}`, bytes: f.bytes, stdin: stdinIndex === k })),
    losses, lossArgs: losses.map((l) => rng.pick(LOSS_NAMES[l])), beta, delta,
    reduction: rng.chance(0.7) ? 'mean' : 'sum',
    nanPolicy: rng.weighted([[80, 'propagate'], [15, 'omit'], [5, 'raise']]),
    predCols, targetCols, header, delimiter: explicitDelim,
    workers: rng.weighted([[30, 1], [40, 2], [20, 3], [10, 4]]),
    chunkRows, chunkBytes,
  };
}


export function caseArgs(c, dir) {
  const args = ['-l', c.lossArgs.join(','), '-r', c.reduction, '--nan-policy', c.nanPolicy, '-j', String(c.workers), '--no-progress'];
  if (c.chunkRows !== null) args.push('--chunk-rows', String(c.chunkRows));
  if (c.chunkBytes !== null) args.push('--chunk-bytes', String(c.chunkBytes));
  if (c.beta !== undefined) args.push(`--beta=${c.beta}`);
  if (c.delta !== undefined) args.push(`--delta=${c.delta}`);
  if (!c.header) args.push('--no-header');
  if (c.delimiter !== null) args.push('--delimiter', c.delimiter === 9 ? 'tab' : String.fromCharCode(c.delimiter));
  if (c.predCols !== null) args.push('--pred-cols', c.predCols);
  if (c.targetCols !== null) args.push('--target-cols', c.targetCols);
  for (const f of c.files) args.push(f.stdin ? '-' : join(dir, f.file));
  return args;
}

export function refCase(c) {
  return {
    inputs: c.files.map((f) => ({ name: f.stdin ? '<stdin>' : f.file, bytes: f.bytes })),
    losses: c.losses, beta: c.beta, delta: c.delta, reduction: c.reduction, nanPolicy: c.nanPolicy,
    predCols: c.predCols, targetCols: c.targetCols, header: c.header, delimiter: c.delimiter,
  };
}

// ---------------------------------------------------------------------------------------------
// Running

export const MEMORY_LIMIT = 512 * 1024 * 1024;
export const TIMEOUT_MS = 20_000;

/** Run the real CLI (spawned), peak RSS through /usr/bin/time. */
export function runSpawned(c, dir, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const args = caseArgs(c, dir);
    const rssFile = join(dir, 'rss.txt');
    const useTime = existsSync('/usr/bin/time');
    const cmd = useTime ? '/usr/bin/time' : process.execPath;
    const full = useTime ? ['-f', '%M', '-o', rssFile, process.execPath, BIN, ...args] : [BIN, ...args];
    const sf = c.files.find((f) => f.stdin);
    const stdinFd = sf ? openSync(join(dir, sf.file), 'r') : 'ignore';
    const child = spawn(cmd, full, { cwd: dir, stdio: [stdinFd, 'pipe', 'pipe'], detached: true, env: process.env });
    if (typeof stdinFd === 'number') closeSync(stdinFd);
    const out = [], err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    const t0 = Date.now();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let maxRSS = 0;
      let exitCode = code;
      if (useTime) {
        try {
          const txt = readFileSync(rssFile, 'utf8');
          const m = /(\d+)\s*$/.exec(txt.trim());
          if (m) maxRSS = Number(m[1]) * 1024;
          const sig = /Command terminated by signal (\d+)/.exec(txt);
          if (sig) exitCode = 128 + Number(sig[1]);
        } catch { /* killed */ }
      }
      resolve({ code: exitCode, signal, timedOut, crashed: exitCode > 2 || signal !== null, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), maxRSS, ms: Date.now() - t0, via: 'cli' });
    });
  });
}

/** A pool of in-process runners (test/fuzz/inproc-runner.mjs). */
export class RunnerPool {
  constructor(size) {
    this.size = size;
    this.idle = [];
    this.waiters = [];
    this.nextId = 1;
    for (let i = 0; i < size; i++) this.idle.push(this.start());
  }
  start() {
    const child = fork(RUNNER, [ROOT], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    const r = { child, ready: null, pending: null, stderr: '' };
    child.stderr.on('data', (b) => { r.stderr += b.toString(); if (r.stderr.length > 100000) r.stderr = r.stderr.slice(-50000); });
    let readyNow;
    r.ready = new Promise((res) => {
      readyNow = res;
      child.on('message', (m) => {
        if (m.ready) return res();
        if (r.pending && m.id === r.pending.id) { const p = r.pending; r.pending = null; p.resolve(m); }
      });
    });
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      r.dead = true;
      readyNow?.();
      if (r.pending) { const p = r.pending; r.pending = null; p.resolve({ id: p.id, code: code ?? 128, signal, stdout: '', stderr: `runner died (${code ?? signal}): ${r.stderr.slice(-4000)}`, crashed: true, maxRSS: 0 }); }
    });
    return r;
  }
  async acquire() {
    if (this.idle.length) return this.idle.pop();
    return new Promise((res) => this.waiters.push(res));
  }
  release(r) {
    if (r.dead) r = this.start();
    const w = this.waiters.shift();
    if (w) w(r); else this.idle.push(r);
  }
  async run(c, dir, timeoutMs = TIMEOUT_MS) {
    let r = await this.acquire();
    await r.ready;
    const id = this.nextId++;
    const sf = c.files.find((f) => f.stdin);
    const t0 = Date.now();
    const res = await new Promise((resolve) => {
      const timer = setTimeout(() => { r.pending = null; resolve({ id, timedOut: true, code: null, stdout: '', stderr: '', maxRSS: 0 }); r.child.kill('SIGKILL'); }, timeoutMs);
      r.pending = { id, resolve: (m) => { clearTimeout(timer); resolve(m); } };
      if (r.dead) { r.pending = null; clearTimeout(timer); resolve({ id, crashed: true, code: null, stdout: '', stderr: `runner dead before the case: ${r.stderr.slice(-4000)}`, maxRSS: 0 }); return; }
      r.child.send({ id, args: caseArgs(c, dir), stdin: sf ? join(dir, sf.file) : null }, (e) => {
        if (e && r.pending) { const p = r.pending; r.pending = null; p.resolve({ id, crashed: true, code: null, stdout: '', stderr: `send failed: ${e.message} ${r.stderr.slice(-4000)}`, maxRSS: 0 }); }
      });
    });
    if (res.crashed || res.timedOut || res.maxRSS > MEMORY_LIMIT * 0.75) {
      // start afresh: after a crash or hang, and before a high-water mark hides the next case's peak
      if (!r.dead) { r.child.kill('SIGKILL'); r.dead = true; }
    }
    this.release(r);
    return { ...res, timedOut: !!res.timedOut, ms: Date.now() - t0, via: 'inproc' };
  }
  async close() {
    for (const r of this.idle) r.child.kill('SIGKILL');
    this.idle = [];
  }
}

// ---------------------------------------------------------------------------------------------
// The reference, in worker threads

/** Transpile test/helpers/reference.ts (and exact.ts) to plain ESM beside node_modules; returns its URL. */
export function referenceUrl() {
  // under node_modules, so the transpiled reference resolves apache-arrow and csv-parse; in a
  // directory named by the sources' hash, so checkouts sharing node_modules never mix versions
  const srcs = ['exact', 'reference'].map((name) => readFileSync(join(ROOT, 'test', 'helpers', `${name}.ts`), 'utf8'));
  const hash = createHash('sha256').update(srcs.join('\0')).digest('hex').slice(0, 16);
  const dir = join(ROOT, 'node_modules', '.cache', 'losseval-fuzz', hash);
  mkdirSync(dir, { recursive: true });
  ['exact', 'reference'].forEach((name, k) => {
    const js = ts.transpileModule(srcs[k], { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(dir, `${name}.mjs`), js.replace(/from '\.\/exact\.js'/g, "from './exact.mjs'"));
  });
  return pathToFileURL(join(dir, 'reference.mjs')).href;
}

const REF_WORKER = new URL('./ref-worker.mjs', import.meta.url);
export const REF_HEAP_MB = 384;
export const REF_TIMEOUT_MS = 30_000;

class RefPool {
  constructor(url, size) {
    this.url = url;
    this.idle = [];
    this.waiters = [];
    this.id = 0;
    for (let i = 0; i < size; i++) this.idle.push(this.start());
  }
  start() {
    const w = new Worker(REF_WORKER, { workerData: { url: this.url }, resourceLimits: { maxOldGenerationSizeMb: REF_HEAP_MB } });
    const r = { w, pending: null, dead: false };
    r.ready = new Promise((res) => {
      w.on('message', (m) => {
        if (m.ready) return res();
        if (r.pending && m.id === r.pending.id) { const p = r.pending; r.pending = null; p.resolve(m); }
      });
    });
    w.on('error', (e) => { r.dead = true; r.error = e; });
    w.on('exit', () => {
      r.dead = true;
      if (r.pending) { const p = r.pending; r.pending = null; p.resolve({ id: p.id, died: String(r.error?.code ?? r.error?.message ?? 'exit') }); }
    });
    return r;
  }
  async run(c) {
    let r = this.idle.pop() ?? await new Promise((res) => this.waiters.push(res));
    await r.ready;
    const id = ++this.id;
    const m = await new Promise((resolve) => {
      const timer = setTimeout(() => { if (r.pending) { r.pending = null; resolve({ id, died: 'timeout' }); } r.w.terminate(); }, REF_TIMEOUT_MS);
      r.pending = { id, resolve: (x) => { clearTimeout(timer); resolve(x); } };
      r.w.postMessage({ id, c });
    });
    if (m.died) { r.dead = true; r.w.terminate(); }
    if (r.dead) r = this.start();
    const waiter = this.waiters.shift();
    if (waiter) waiter(r); else this.idle.push(r);
    if (m.died) {
      // apache-arrow could not even hold the input's metadata in a few hundred MB (or took 30 s):
      // the input is hostile; losseval must refuse it.
      return { status: 'error', kind: 'data', reason: `reference: apache-arrow needs more than ${REF_HEAP_MB} MB / ${REF_TIMEOUT_MS / 1000} s (${m.died})` };
    }
    if (m.bug) throw new Error(m.bug);
    return m.result;
  }
  async close() { await Promise.all(this.idle.map((r) => r.w.terminate())); }
}

// ---------------------------------------------------------------------------------------------
// Checking

/**
 * Refusals of inputs the reference reads that are not failures: each is one of losseval's checks of
 * Arrow metadata that apache-arrow (behind the reference) does not make. Each is counted per key
 * (`stricter` in fuzz()'s result); a refusal of a readable input that matches none is a mismatch,
 * to be fixed or, once understood, added here with its reason.
 */
export const STRICTER = [
  {
    key: 'data after the end-of-stream marker',
    re: /: not a valid Arrow IPC file or stream: data after the end-of-stream marker /,
    why: 'apache-arrow stops at a stream\'s end-of-stream marker and ignores the bytes after it; losseval refuses them (a corrupt stream once read as 0 rows, README)',
  },
  {
    key: 'a flatbuffer table outside its metadata',
    re: /: not a valid Arrow IPC file or stream: .*\blies outside the \d+-byte metadata$/,
    why: 'apache-arrow reads flatbuffer tables lazily and does not bound their offsets; losseval checks every table it reads (messages, schema fields, vtables) against the metadata length',
  },
  {
    key: 'a buffer outside its message body',
    re: /: not a valid Arrow IPC file or stream: record batch \d+ \(.*\): buffer \d+ \(offset -?\d+, length -?\d+\) lies outside the \d+-byte message body$/,
    why: 'apache-arrow slices a buffer of a record batch without checking it against the body (it reads short or neighbouring bytes); losseval refuses a buffer that does not lie inside the body',
  },
  {
    key: 'a vector longer than its metadata',
    re: /: not a valid Arrow IPC file or stream: .*: [\w ]+ claims \d+ entries, more than its \d+-byte metadata can hold$/,
    why: 'apache-arrow trusts a flatbuffer vector\'s count; losseval bounds it by the bytes the metadata has (a count bomb must not build millions of objects)',
  },
  {
    key: 'an unreadable message length after the batches',
    re: /: not a valid Arrow IPC file or stream: message \d+ \(after record batch \d+\): metadata length -?\d+$/,
    why: 'apache-arrow ends a stream at a message length it cannot use (negative, say) and returns the batches before it; losseval refuses the stream as corrupt',
  },
  {
    key: 'a field node of the wrong length',
    re: /: not a valid Arrow IPC file or stream: record batch \d+ \(.*\): (column|the values of column) "[^"]*" has \d+ values, not \d+$/,
    why: 'apache-arrow builds a column whose field node length differs from the batch\'s row count (it reads what the buffers hold); losseval requires each node to hold the rows the batch claims',
  },
];

/**
 * Outcome of one run against the reference: 'ok' | 'data-error' | 'usage-error' (both as expected),
 * or a failure: 'crash' | 'hang' | 'mismatch' | 'overmemory'. A mismatch is also an exit code of the
 * wrong class (1 for a data error, 2 for a usage error) and a first-error line other than the
 * reference's. `stricter`: the STRICTER key of an accepted refusal of an input the reference reads.
 */
export function classify(ref, res) {
  if (res.timedOut) return { outcome: 'hang', why: 'timed out' };
  const errLines = res.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('losseval: warning:'));
  if (res.crashed || res.signal || ![0, 1, 2].includes(res.code)) return { outcome: 'crash', why: `exit ${res.code} ${res.signal ?? ''}` };
  if (/internal error|\n\s+at .*:\d+:\d+/.test(res.stderr)) return { outcome: 'crash', why: 'stack trace / internal error' };
  if (res.maxRSS > MEMORY_LIMIT) return { outcome: 'overmemory', why: `peak RSS ${(res.maxRSS / 2 ** 20).toFixed(0)} MB` };
  // the reference read the input (and found it fine, or found a usage problem in it) where losseval refused it
  if ((ref.status === 'ok' || ref.kind === 'usage') && res.code === 1 && res.stdout === '' && errLines.length === 1) {
    const s = STRICTER.find((x) => x.re.test(errLines[0]));
    if (s) return { outcome: 'data-error', stricter: s.key };
  }
  if (ref.status === 'ok') {
    if (res.code === 0 && res.stdout === ref.stdout && errLines.length === 0) return { outcome: 'ok' };
    return { outcome: 'mismatch', why: `expected exit 0 and ${JSON.stringify(ref.stdout)}, got exit ${res.code} ${JSON.stringify(res.stdout)} ${JSON.stringify(res.stderr.slice(0, 500))}` };
  }
  if (res.code === 0) return { outcome: 'mismatch', why: `expected an error (${ref.kind}: ${ref.reason}), got exit 0 ${JSON.stringify(res.stdout)}` };
  if (res.stdout !== '') return { outcome: 'mismatch', why: `error with output on stdout: ${JSON.stringify(res.stdout.slice(0, 200))}` };
  if (errLines.length !== 1 || !errLines[0].startsWith('losseval: error:')) {
    return { outcome: 'mismatch', why: `stderr is not one error line: ${JSON.stringify(res.stderr.slice(0, 500))}` };
  }
  const want = ref.kind === 'usage' ? 2 : 1;
  if (res.code !== want) return { outcome: 'mismatch', why: `exit ${res.code} where the reference says ${ref.kind} error (${ref.reason}): ${errLines[0]}` };
  if (ref.line !== undefined && !ref.noLine) {
    const m = /: line (\d+)[,:]/.exec(errLines[0]);
    if (m && Number(m[1]) !== ref.line) return { outcome: 'mismatch', why: `line ${m[1]} where the reference finds the first error at line ${ref.line} (${ref.reason}): ${errLines[0]}` };
  }
  return { outcome: res.code === 2 ? 'usage-error' : 'data-error' };
}

export const FAILURES = ['crash', 'hang', 'mismatch', 'overmemory', 'refbug'];

/**
 * Run `count` cases of `seed` (from `start`), `parallel` at a time; `spawnEvery`: every n-th case
 * goes through the real CLI (every failure is re-run through it too). Stops starting new cases after
 * `timeLimitSec` (the long sweep's option; the test runs by count). Returns counts, failures (with their
 * directory when `failDir` is set) and the accepted STRICTER refusals (`stricter`: per key, the case indices).
 */
export async function fuzz({ refUrl = referenceUrl(), timeoutMs = TIMEOUT_MS, seed, count, start = 0, parallel = 2, spawnEvery = 10, timeLimitSec = Infinity, workDir, failDir = null, log = () => {} }) {
  const t0 = Date.now();
  mkdirSync(workDir, { recursive: true });
  const pool = new RunnerPool(parallel);
  const refs = new RefPool(refUrl, Math.max(1, parallel - 1));
  const counts = { ok: 0, 'data-error': 0, 'usage-error': 0, crash: 0, hang: 0, mismatch: 0, overmemory: 0, refbug: 0 };
  const failures = [];
  const stricter = {};
  let ran = 0, next = start, maxRSS = 0, spawned = 0, refMs = 0, runMs = 0;
  const end = start + count;
  const one = async (i) => {
    const c = generateCase(seed, i);
    const dir = join(workDir, `case-${i}`);
    mkdirSync(dir, { recursive: true });
    for (const f of c.files) writeFileSync(join(dir, f.file), f.bytes);
    let ref;
    const r0 = Date.now();
    try {
      ref = await refs.run(refCase(c));
    } catch (e) {
      ref = { status: 'refbug', reason: e?.stack ?? String(e) };
    }
    refMs += Date.now() - r0;
    let res, cl;
    const viaCli = spawnEvery > 0 && i % spawnEvery === 0;
    if (ref.status === 'refbug') {
      cl = { outcome: 'refbug', why: ref.reason };
      res = null;
    } else {
      res = viaCli ? await runSpawned(c, dir, timeoutMs) : await pool.run(c, dir, timeoutMs);
      if (viaCli) spawned++;
      runMs += res.ms;
      cl = classify(c.nanPolicy === 'raise' ? { ...ref, noLine: true } : ref, res);
      if (FAILURES.includes(cl.outcome) && !viaCli) {
        // confirm through the real CLI, which is what users run
        const cli = await runSpawned(c, dir, timeoutMs);
        spawned++;
        const cl2 = classify(c.nanPolicy === 'raise' ? { ...ref, noLine: true } : ref, cli);
        cl = { ...cl2, why: `${cl2.why ?? cl2.outcome} [in-process: ${cl.outcome}: ${cl.why}]` };
        res = cli;
      }
    }
    maxRSS = Math.max(maxRSS, res?.maxRSS ?? 0);
    counts[cl.outcome]++;
    ran++;
    if (cl.stricter) (stricter[cl.stricter] ??= []).push(i);
    if (FAILURES.includes(cl.outcome)) {
      const f = { index: i, outcome: cl.outcome, why: cl.why, desc: c.desc, args: caseArgs(c, '.'), ref, dir: null };
      if (failDir) {
        const fd = join(failDir, `${cl.outcome}-${seed}-${i}`);
        mkdirSync(dirname(fd), { recursive: true });
        cpSync(dir, fd, { recursive: true });
        const stdinFile = c.files.find((x) => x.stdin)?.file;
        writeFileSync(join(fd, 'case.json'), JSON.stringify({
          seed, index: i, outcome: cl.outcome, why: cl.why, desc: c.desc, reference: ref,
          repro: `cd ${fd} && node ${BIN} ${caseArgs(c, '.').map(shq).join(' ')}${stdinFile ? ` < ${stdinFile}` : ''}`,
          result: res && { code: res.code, stdout: res.stdout, stderr: res.stderr.slice(0, 4000), maxRSS: res.maxRSS },
        }, null, 2));
        f.dir = fd;
      }
      failures.push(f);
      log(`FAIL ${cl.outcome} case ${i}: ${cl.why}\n  ${c.desc.join('; ')}`);
    }
    rmSync(dir, { recursive: true, force: true });
    if (ran % 500 === 0) log(`${ran} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(counts)}`);
  };
  const lanes = [];
  for (let l = 0; l < parallel + 1; l++) {
    lanes.push((async () => {
      while (next < end && (Date.now() - t0) / 1000 < timeLimitSec) await one(next++);
    })());
  }
  await Promise.all(lanes);
  await pool.close();
  await refs.close();
  return { ran, counts, failures, stricter, maxRSS, spawned, seconds: (Date.now() - t0) / 1000, refMs, runMs, timedOut: ran < count };
}

function shq(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function summaryLine(r) {
  const c = r.counts;
  return `${r.ran} inputs: ${c.ok} ok, ${c['data-error']} data errors, ${c['usage-error']} usage errors, ${c.crash} crashes, ` +
    `${c.hang} hangs, ${c.mismatch} mismatches, ${c.overmemory} over memory` + (c.refbug ? `, ${c.refbug} reference bugs` : '');
}
