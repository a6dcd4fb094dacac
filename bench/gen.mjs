// Deterministic benchmark data under /tmp/losseval-bench (cached by name + size) and the
// independent reference values the benchmark checks losseval against.
//
// Values come from integers, so the float64 a correct parser must produce is known without parsing:
//   pred   = m1 / 1e8, m1 uniform in [-999999999, 999999999]  -> CSV text "[-]d.dddddddd"
//   target = m2 / 1e9, m2 uniform in [0, 999999999]           -> CSV text "0.ddddddddd"
// (IEEE division of an exact integer by an exact power of ten is the correctly rounded quotient,
// i.e. exactly what Number(text) gives.) Arrow files hold Math.fround of the same values, float32.
//
// Exact reference for l1: every term |p - t| is split into its integer mantissa and exponent, and
// the mantissas are summed per exponent with plain integer arithmetic (21 + 32 bit halves in
// float64 counters that stay below 2^53, folded into BigInt), then mean = sum / N is rounded once
// by handing V8's correctly rounded string-to-double the exact decimal expansion (N is a power of
// ten, so the quotient is a terminating decimal). None of src/ is used.
import { mkdirSync, existsSync, openSync, writeSync, closeSync, renameSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DIR = process.env.LOSSEVAL_BENCH_DIR ?? '/tmp/losseval-bench';
const GEN_VERSION = 2;

// ---- deterministic PRNG (splitmix32-like), one stream per purpose ---------------------------------
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
/** uniform doubles in [0, 1) from rng(seed) (32 bits each) */
export function uniform(seed) {
  const r = rng(seed);
  return () => r() / 4294967296;
}
/**
 * A two-column CSV of about `bytes` bytes at `path`: `header`, then rows line(a, b) with a uniform in
 * [-10, 10) and b in [0, 1), drawn from uniform(seed). For the micro-benchmarks of the cutter and scanners.
 */
export function writeTwoColumnCsv(path, bytes, seed, header, line) {
  const r = uniform(seed);
  const parts = [header];
  let size = header.length;
  let batch = [];
  while (size < bytes) {
    const l = line((r() - 0.5) * 20, r());
    batch.push(l);
    size += l.length;
    if (batch.length === 10000) {
      parts.push(batch.join(''));
      batch = [];
    }
  }
  parts.push(batch.join(''));
  writeFileSync(path, parts.join(''));
}
/** uniform integer in [0, 1e9) from two 32-bit draws (no modulo bias worth mentioning) */
function int9(r) {
  return Math.floor(((r() >>> 5) * 67108864 + (r() >>> 6)) / 9007199254740992 * 1e9);
}

// ---- exact l1 reference ----------------------------------------------------------------------------
export class ExactPosSum {
  constructor() {
    this.hi = new Float64Array(2048); // sums of the top 21 mantissa bits
    this.lo = new Float64Array(2048); // sums of the low 32 mantissa bits
    this.pend = 0;
    this.big = 0n;
    this.f = new Float64Array(1);
    this.w = new Uint32Array(this.f.buffer);
    this.count = 0;
  }
  add(x) {
    if (!(x >= 0) || x === Infinity) throw new Error(`reference: term ${x}`);
    this.f[0] = x;
    const h = this.w[1], l = this.w[0];
    const e = h >>> 20;
    this.hi[e] += (h & 0xfffff) | (e ? 0x100000 : 0);
    this.lo[e] += l;
    this.count++;
    if (++this.pend === 1 << 20) this.fold();
  }
  fold() {
    for (let e = 0; e < 2048; e++) {
      if (this.hi[e] === 0 && this.lo[e] === 0) continue;
      const mant = (BigInt(this.hi[e]) << 32n) + BigInt(this.lo[e]);
      this.big += mant << BigInt(e === 0 ? 0 : e - 1); // value * 2^1074
      this.hi[e] = 0;
      this.lo[e] = 0;
    }
    this.pend = 0;
  }
  /** exact sum * 2^1074 as a BigInt */
  scaled() {
    this.fold();
    return this.big;
  }
}

/** Correctly rounded float64 of n * 2^-1074 / d, d = 2^a * 5^b (so the quotient is a terminating decimal). */
export function roundScaledOverPow10(n, d) {
  let a = 0, b = 0, r = d;
  while (r % 2 === 0) { r /= 2; a++; }
  while (r % 5 === 0) { r /= 5; b++; }
  if (r !== 1) throw new Error(`reference rounding needs a row count of the form 2^a 5^b, got ${d}`);
  const k = Math.max(a, b);
  // 1/d = 2^(k-a) 5^(k-b) / 10^k
  n *= 2n ** BigInt(k - a) * 5n ** BigInt(k - b);
  if (n === 0n) return 0;
  // n * 2^-1074 / 10^k = n * 5^1074 * 10^-(1074 + k)
  let digits = (n * 5n ** 1074n).toString();
  let exp = -(1074 + k);
  if (digits.length > 760) {
    // keep 760 digits; a dropped non-zero tail becomes a sticky '1' (correct rounding preserved)
    const tail = digits.slice(760);
    exp += tail.length;
    digits = digits.slice(0, 760);
    if (/[1-9]/.test(tail)) {
      digits += '1';
      exp -= 1;
    }
  }
  return Number(`${digits}e${exp}`);
}

// ---- writers ---------------------------------------------------------------------------------------
function writeDigits(buf, o, v, n) {
  // v in [0, 10^n): exactly n digits, zero-padded
  for (let i = n - 1; i >= 0; i--) {
    buf[o + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + n;
}
/** "[-]d.dddddddd" for m / 1e8, |m| < 1e9 */
function putPred(buf, o, m) {
  if (m < 0) {
    buf[o++] = 45;
    m = -m;
  }
  buf[o++] = 48 + Math.floor(m / 1e8);
  buf[o++] = 46;
  return writeDigits(buf, o, m % 1e8, 8);
}
/** "0.ddddddddd" for m / 1e9 */
function putTarget(buf, o, m) {
  buf[o++] = 48;
  buf[o++] = 46;
  return writeDigits(buf, o, m, 9);
}
function putInt(buf, o, v) {
  const s = String(v);
  for (let i = 0; i < s.length; i++) buf[o++] = s.charCodeAt(i);
  return o;
}

function label(n) {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

function cached(name, make) {
  mkdirSync(DIR, { recursive: true });
  const meta = join(DIR, `${name}.json`);
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.version === GEN_VERSION && m.files.every((f) => existsSync(f.path) && statSync(f.path).size === f.bytes)) return m;
  }
  const t0 = performance.now();
  process.stderr.write(`generating ${name} … `);
  const m = make();
  const done = (mm) => {
    mm.version = GEN_VERSION;
    mm.files = mm.files.map((p) => ({ path: p, bytes: statSync(p).size }));
    writeFileSync(meta, JSON.stringify(mm, null, 1));
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return mm;
  };
  return m instanceof Promise ? m.then(done) : done(m);
}

const ROWS_PER_WRITE = 1 << 16;

/**
 * Regression data, N rows: both-N.csv (pred,target), preds-N.csv, targets-N.csv (same values),
 * preds-N.arrow, targets-N.arrow (float32, IPC file, record batches of 2^18 rows).
 * Returns { files, rows, csv: {mean, sum}, arrow: {mean, sum} } with exact references.
 */
export async function regression(n, { arrow = true, csv = true } = {}) {
  const name = `reg-${label(n)}${csv ? '' : '-nocsv'}${arrow ? '' : '-noarrow'}`;
  return cached(name, async () => {
    const paths = {
      both: join(DIR, `both-${label(n)}.csv`),
      preds: join(DIR, `preds-${label(n)}.csv`),
      targets: join(DIR, `targets-${label(n)}.csv`),
      predsArrow: join(DIR, `preds-${label(n)}.arrow`),
      targetsArrow: join(DIR, `targets-${label(n)}.arrow`),
    };
    const r = rng(0x1234567 ^ n);
    const refCsv = new ExactPosSum();
    const refArrow = new ExactPosSum();
    const fds = csv ? [paths.both, paths.preds, paths.targets].map((p) => openSync(p + '.tmp', 'w')) : [];
    const bufs = [Buffer.alloc(ROWS_PER_WRITE * 24 + 64), Buffer.alloc(ROWS_PER_WRITE * 12 + 64), Buffer.alloc(ROWS_PER_WRITE * 13 + 64)];
    if (csv) {
      writeSync(fds[0], 'pred,target\n');
      writeSync(fds[1], 'pred\n');
      writeSync(fds[2], 'target\n');
    }
    let arrowW = null;
    if (arrow) arrowW = await arrowPairWriter(paths.predsArrow + '.tmp', paths.targetsArrow + '.tmp');
    const BATCH = 1 << 18;
    let p32 = new Float32Array(BATCH), t32 = new Float32Array(BATCH), inBatch = 0;
    for (let done = 0; done < n; ) {
      const k = Math.min(ROWS_PER_WRITE, n - done);
      let o0 = 0, o1 = 0, o2 = 0;
      const [b0, b1, b2] = bufs;
      for (let i = 0; i < k; i++) {
        const m1 = int9(r) * (r() & 1 ? 1 : -1);
        const m2 = int9(r);
        const p = m1 / 1e8, t = m2 / 1e9;
        if (csv) {
          refCsv.add(Math.abs(p - t));
          const s0 = o0;
          o0 = putPred(b0, o0, m1);
          const plen = o0 - s0;
          b0.copy(b1, o1, s0, o0);
          o1 += plen;
          b1[o1++] = 10;
          b0[o0++] = 44;
          const s2 = o0;
          o0 = putTarget(b0, o0, m2);
          b0.copy(b2, o2, s2, o0);
          o2 += o0 - s2;
          b2[o2++] = 10;
          b0[o0++] = 10;
        }
        if (arrow) {
          const pf = Math.fround(p), tf = Math.fround(t);
          refArrow.add(Math.abs(pf - tf));
          p32[inBatch] = pf;
          t32[inBatch] = tf;
          if (++inBatch === BATCH) {
            await arrowW.write(p32, t32, inBatch);
            p32 = new Float32Array(BATCH);
            t32 = new Float32Array(BATCH);
            inBatch = 0;
          }
        }
      }
      if (csv) {
        writeSync(fds[0], b0, 0, o0);
        writeSync(fds[1], b1, 0, o1);
        writeSync(fds[2], b2, 0, o2);
      }
      done += k;
    }
    if (arrow) {
      if (inBatch) await arrowW.write(p32.subarray(0, inBatch), t32.subarray(0, inBatch), inBatch);
      await arrowW.close();
    }
    const files = [];
    if (csv) {
      fds.forEach((fd) => closeSync(fd));
      for (const p of [paths.both, paths.preds, paths.targets]) {
        renameSync(p + '.tmp', p);
        files.push(p);
      }
    }
    if (arrow) {
      for (const p of [paths.predsArrow, paths.targetsArrow]) {
        renameSync(p + '.tmp', p);
        files.push(p);
      }
    }
    const ref = (acc) => {
      const s = acc.scaled();
      return { mean: roundScaledOverPow10(s, n), sum: roundScaledOverPow10(s, 1) };
    };
    return { rows: n, paths, files, csv: csv ? ref(refCsv) : null, arrow: arrow ? ref(refArrow) : null };
  });
}

async function loadArrow() {
  return import('apache-arrow');
}

/** Two single-column float32 IPC files written batch by batch (the writers' bytes are drained as they come). */
async function arrowPairWriter(pPath, tPath) {
  const A = await loadArrow();
  const mk = (path, name) => {
    const schema = new A.Schema([new A.Field(name, new A.Float32(), false)]);
    const w = new A.RecordBatchFileWriter();
    const fd = openSync(path, 'w');
    const drained = (async () => {
      for await (const chunk of w) writeSync(fd, chunk);
      closeSync(fd);
    })();
    return { schema, w, drained };
  };
  const P = mk(pPath, 'pred'), T = mk(tPath, 'target');
  const batch = (x, f32, len) => {
    const child = A.makeData({ type: new A.Float32(), length: len, nullCount: 0, data: f32 });
    const data = A.makeData({ type: new A.Struct(x.schema.fields), length: len, nullCount: 0, children: [child] });
    return new A.RecordBatch(x.schema, data);
  };
  return {
    async write(p, t, len) {
      P.w.write(batch(P, p, len));
      T.w.write(batch(T, t, len));
      await new Promise((res) => setImmediate(res));
    },
    async close() {
      P.w.finish();
      T.w.finish();
      P.w.close();
      T.w.close();
      await Promise.all([P.drained, T.drained]);
    },
  };
}

/**
 * cross_entropy data: R rows of C logits and one class index.
 * ce-C-R.csv: header l0..l{C-1},y; logits m/1e8 (|m| < 1e9), class uniform in [0, C).
 * ce-C-R.arrow: FixedSizeList<Float32>[C] "logits" + Int32 "y" (float32 of the same logits).
 * Reference means (log-softmax as PyTorch: max shift, Σexp, log; naive float sum; checked to 1e-9 relative).
 */
export async function crossEntropy(rowsN, C = 1000) {
  const name = `ce-${C}-${label(rowsN)}`;
  return cached(name, async () => {
    const csvPath = join(DIR, `ce-${C}-${label(rowsN)}.csv`);
    const arrowPath = join(DIR, `ce-${C}-${label(rowsN)}.arrow`);
    const A = await loadArrow();
    const r = rng(0xce ^ rowsN ^ (C << 8));
    const fd = openSync(csvPath + '.tmp', 'w');
    const header = [];
    for (let k = 0; k < C; k++) header.push(`l${k}`);
    header.push('y');
    writeSync(fd, header.join(',') + '\n');
    const schema = new A.Schema([
      new A.Field('logits', new A.FixedSizeList(C, new A.Field('item', new A.Float32(), false)), false),
      new A.Field('y', new A.Int32(), false),
    ]);
    const w = new A.RecordBatchFileWriter();
    const afd = openSync(arrowPath + '.tmp', 'w');
    const drained = (async () => {
      for await (const chunk of w) writeSync(afd, chunk);
      closeSync(afd);
    })();
    const BATCH = Math.max(1, Math.floor((1 << 20) / C)); // ~1 Mi values per record batch
    const buf = Buffer.alloc(BATCH * C * 12 + BATCH * 8 + 64);
    const x = new Float64Array(C), xf = new Float64Array(C);
    let sumCsv = 0, sumArrow = 0;
    const ceTerm = (v, y) => {
      let m = -Infinity;
      for (let k = 0; k < C; k++) if (v[k] > m) m = v[k];
      let s = 0;
      for (let k = 0; k < C; k++) s += Math.exp(v[k] - m);
      return -(v[y] - m - Math.log(s));
    };
    for (let done = 0; done < rowsN; ) {
      const k = Math.min(BATCH, rowsN - done);
      const f32 = new Float32Array(k * C);
      const ys = new Int32Array(k);
      let o = 0;
      for (let i = 0; i < k; i++) {
        for (let c = 0; c < C; c++) {
          const m = int9(r) * (r() & 1 ? 1 : -1);
          x[c] = m / 1e8;
          xf[c] = f32[i * C + c] = Math.fround(x[c]);
          o = putPred(buf, o, m);
          buf[o++] = 44;
        }
        const y = r() % C;
        ys[i] = y;
        o = putInt(buf, o, y);
        buf[o++] = 10;
        sumCsv += ceTerm(x, y);
        sumArrow += ceTerm(xf, y);
      }
      writeSync(fd, buf, 0, o);
      const child = A.makeData({ type: new A.Float32(), length: k * C, nullCount: 0, data: f32 });
      const list = A.makeData({ type: schema.fields[0].type, length: k, nullCount: 0, child });
      const yd = A.makeData({ type: new A.Int32(), length: k, nullCount: 0, data: ys });
      w.write(new A.RecordBatch(schema, A.makeData({ type: new A.Struct(schema.fields), length: k, nullCount: 0, children: [list, yd] })));
      await new Promise((res) => setImmediate(res));
      done += k;
    }
    closeSync(fd);
    w.finish();
    w.close();
    await drained;
    renameSync(csvPath + '.tmp', csvPath);
    renameSync(arrowPath + '.tmp', arrowPath);
    return { rows: rowsN, classes: C, paths: { csv: csvPath, arrow: arrowPath }, files: [csvPath, arrowPath], csv: { mean: sumCsv / rowsN }, arrow: { mean: sumArrow / rowsN } };
  });
}

// `node bench/gen.mjs 1000000` generates (or finds) the regression data and prints its metadata.
if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1e6);
  console.log(await regression(n));
}
