#!/usr/bin/env node
// Benchmark: ns/call of Math.log/log1p/exp vs losseval's correctly rounded src/math versions.
//
//   npx tsc -p tsconfig.json --outDir /tmp/math-dist
//   MATH_DIST=/tmp/math-dist node bench/math.mjs          (default dir: ../dist next to bench/)
//   MATH_DIST=/tmp/math-dist node bench/math.mjs --bytecode   (bytecode sizes of the hot functions)
//
// Runs two child processes: default V8 inlining limits, and
// --max-inlined-bytecode-size=2000 --max-inlined-bytecode-size-cumulative=6000.
// Arguments: U(0,1) for log, e^(-30u) for log1p, -30u for exp and for softplus = log1p(exp(x)).
// Median over rounds (round-robin).
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.MATH_DIST ?? resolve(here, '..', 'dist'));
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const N = 1 << 14; // arguments per pass
const PASSES = Number(process.env.PASSES ?? 60); // passes per measurement

const INL = ['--max-inlined-bytecode-size=2000', '--max-inlined-bytecode-size-cumulative=6000'];

async function child() {
  const M = await import(pathToFileURL(resolve(dist, 'math', 'index.js')).href);
  // a fixed LCG for the arguments (the benchmark's inputs need not be reproducible bits)
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const U = new Float64Array(N), L1 = new Float64Array(N), E = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    U[i] = rnd();
    L1[i] = Math.exp(-30 * rnd());
    E[i] = -30 * rnd();
  }
  // one loop function per callee, so each call site stays monomorphic and can be inlined
  // (a distinct source text per loop: V8 shares the feedback of identical Function sources,
  // which would make the call site megamorphic)
  let uniq = 0;
  const mk = () =>
    new Function('f', 'a', 'P', `/* loop ${uniq++} */ return function run() { let acc = 0; for (let p = 0; p < P; p++) for (let i = 0; i < a.length; i++) acc += f(a[i]); return acc; }`);
  const cases = [
    ['log', 'Math.log', mk()(Math.log, U, PASSES), 'losseval log', mk()(M.log, U, PASSES)],
    ['log1p', 'Math.log1p', mk()(Math.log1p, L1, PASSES), 'losseval log1p', mk()(M.log1p, L1, PASSES)],
    ['exp', 'Math.exp', mk()(Math.exp, E, PASSES), 'losseval exp', mk()(M.exp, E, PASSES)],
    // a loss-like composite (softplus, as in BCE-with-logits): log1p(exp(x)) for x = -30u
    ['softplus', 'Math softplus', mk()((x) => Math.log1p(Math.exp(x)), E, PASSES),
      'losseval softplus', mk()((x) => M.log1p(M.exp(x)), E, PASSES)],
  ];
  const empty = mk()((x) => x, U, PASSES);
  const times = new Map();
  let sink = 0;
  // CPU time of this process (user + system), which other processes on a shared machine disturb
  // less than wall time; wall time is reported as well.
  const wall = new Map();
  const time = (name, fn) => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    sink += fn();
    const w = Number(process.hrtime.bigint() - t0) / (N * PASSES);
    const c = process.cpuUsage(c0);
    const ns = ((c.user + c.system) * 1000) / (N * PASSES);
    if (!times.has(name)) times.set(name, []);
    times.get(name).push(ns);
    if (!wall.has(name)) wall.set(name, []);
    wall.get(name).push(w);
  };
  for (let r = 0; r < ROUNDS + 2; r++) {
    if (r < 2) {
      // warm-up: let every loop reach optimized code before measuring
      for (const [, , a, , b] of cases) sink += a() + b();
      sink += empty();
      continue;
    }
    time('loop (identity)', empty);
    for (const [, an, a, bn, b] of cases) {
      time(an, a);
      time(bn, b);
    }
  }
  const med = (v) => { const w = [...v].sort((x, y) => x - y); return w[w.length >> 1]; };
  const out = {};
  for (const [k, v] of times) out[k] = { median: med(v), min: Math.min(...v), wall: med(wall.get(k)) };
  process.stdout.write(JSON.stringify({ out, sink: sink === 0.5 }));
}

function parent() {
  const run = (flags) => {
    const o = execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url)], {
      env: { ...process.env, MATH_BENCH_CHILD: '1', MATH_DIST: dist },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    return JSON.parse(o).out;
  };
  const def = run([]);
  const inl = run(INL);
  console.log(`node ${process.version} ${process.arch}, ${N} args x ${PASSES} passes per round, ${ROUNDS} rounds`);
  console.log('ns/call: median CPU time [min CPU time] {median wall time}; raised = ' + INL.join(' '));
  console.log(`${'function'.padEnd(18)} ${'default'.padStart(24)} ${'raised inlining'.padStart(24)}`);
  for (const k of Object.keys(def)) {
    const f = (r) => `${r.median.toFixed(1)} [${r.min.toFixed(1)}] {${r.wall.toFixed(1)}}`;
    console.log(`${k.padEnd(18)} ${f(def[k]).padStart(24)} ${f(inl[k]).padStart(24)}`);
  }
}

/** Bytecode length of the hot-path functions (V8 inlines a function only below 460 bytes). */
function bytecodeSizes() {
  const url = pathToFileURL(resolve(dist, 'math', 'index.js')).href;
  const script = `import(${JSON.stringify(url)}).then((M) => { let a = 0; for (let i = 1; i < 3000; i++) a += M.log(i / 7) + M.log1p(i / 3e4) + M.log1p(i) + M.exp(-i / 100); console.log(a); });`;
  const sizes = {};
  for (const fn of ['log', 'logHiLo', 'logPoly', 'log1p', 'exp', 'expEval']) {
    const o = execFileSync(process.execPath, ['--print-bytecode', `--print-bytecode-filter=${fn}`, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const m = /Bytecode length: (\d+)/.exec(o);
    sizes[fn] = m ? Number(m[1]) : NaN;
  }
  return sizes;
}

if (process.env.MATH_BENCH_CHILD) await child();
else if (process.argv.includes('--bytecode')) console.log('bytecode bytes:', bytecodeSizes());
else parent();
