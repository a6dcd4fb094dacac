// Grouped / bootstrap fuzzer (issue 16), shared by scripts/fuzz.mjs (--groups N) and
// test/fuzz/groups.test.ts. Sized by case count with a seed, never by time. Each case writes a
// random CSV with 1–3 key columns of hostile values (quotes, delimiters and newlines in quoted
// fields, NUL bytes, raw invalid UTF-8, long keys — up to 1 MB in a few cases —, empty = missing
// keys, "01" vs "1", unicode) and random numeric columns, then checks, bit for bit:
//   1. oracle: every group of `--group-by … --json` equals the ungrouped run over that group's rows
//      (split by this file from its own keys, groups matched by an independent comparator of the
//      documented key order), and the overall losses equal the ungrouped run on the whole input;
//   2. layout: the grouped TSV stdout is the same under another -j / --chunk-rows and from stdin;
//   3. shards: 2–3 shards --state-out, `merge` in shuffled order prints the single run's stdout,
//      also with --bootstrap R --seed S --row-offset;
//   4. --max-groups K below the distinct key count: exit 1, one error line, empty stdout, no -o file;
//   5. never a stack trace, a hang (timeout per case) or an exit code other than 0/1/2.
import { writeFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { makeRng, ROOT } from './core.mjs';

let cli = null;
async function run(args, stdin) {
  cli ??= import(pathToFileURL(join(ROOT, 'dist', 'cli', 'cli.js')).href);
  const { runCli } = await cli;
  const out = [], err = [];
  const sink = (a) => new Writable({ write(c, _e, d) { a.push(Buffer.from(c)); d(); } });
  const pieces = [];
  if (stdin) for (let i = 0; i < stdin.length; i += 65536) pieces.push(stdin.subarray(i, i + 65536));
  const code = await runCli(args, { stdin: Readable.from(pieces), stdout: sink(out), stderr: sink(err), stderrIsTTY: false });
  return { code, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString() };
}

/** A hostile key value as raw bytes (empty = missing). */
function keyBytes(rng, big) {
  const k = rng.weighted([[20, 'plain'], [8, 'int'], [8, 'quote'], [6, 'delim'], [6, 'nul'], [8, 'badutf8'], [6, 'unicode'], [6, 'empty'], [big ? 2 : 0, 'huge'], [3, 'long']]);
  switch (k) {
    case 'plain': return Buffer.from(rng.pick(['a', 'b', 'en', 'fr', ' en', 'en ', 'A', 'x y']));
    case 'int': return Buffer.from(rng.pick(['0', '1', '01', '-1', '-0', '10', '9', '007', '99999999999999999999', '+1']));
    case 'quote': return Buffer.from(rng.pick(['"', 'say "hi"', '""', "it's", '"a"']));
    case 'delim': return Buffer.from(rng.pick([',', 'a,b', 'line\nbreak', 'cr\r\nlf', '\t', ';']));
    case 'nul': return Buffer.from(rng.pick(['\0', 'a\0b', '\0\0']), 'latin1');
    case 'badutf8': return Buffer.from(rng.pick([[0xff], [0xc3], [0x61, 0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xfe, 0x62], [0x80]]));
    case 'unicode': return Buffer.from(rng.pick(['é', 'e\u0301', 'zh-中文', '😀', '\uFFFD', 'Ω']));
    case 'empty': return Buffer.alloc(0);
    case 'huge': return Buffer.alloc(rng.int(200_000, 1_000_000), rng.pick(['k', 'z']));
    case 'long': return Buffer.alloc(rng.int(1000, 70_000), 'q');
  }
}

function field(b) {
  return /[",\r\n]/.test(b.toString('latin1')) ? Buffer.concat([Buffer.from('"'), Buffer.from(b.toString('latin1').replace(/"/g, '""'), 'latin1'), Buffer.from('"')]) : b;
}

const INT = /^-?[0-9]+$/;
/** Independent comparator of the documented order: null < integer-literal text (by value, then bytes) < other text (bytes). */
function comparePart(a, b) {
  if (a.length === 0 || b.length === 0) return (a.length === 0 ? 0 : 1) - (b.length === 0 ? 0 : 1);
  const sa = a.toString('latin1'), sb = b.toString('latin1');
  const ia = INT.test(sa), ib = INT.test(sb);
  if (ia !== ib) return ia ? -1 : 1;
  if (ia) { const x = BigInt(sa), y = BigInt(sb); if (x !== y) return x < y ? -1 : 1; }
  return Buffer.compare(a, b);
}
const compareKey = (a, b) => { for (let i = 0; i < a.length; i++) { const c = comparePart(a[i], b[i]); if (c) return c; } return 0; };
const keyId = (parts) => parts.map((p) => p.toString('hex')).join('/');

function num(rng) { return rng.chance(0.05) ? 'nan' : (rng() * 20 - 10).toFixed(rng.int(0, 6)); }

function makeCase(rng, index) {
  const big = index % 25 === 7;
  const nk = rng.int(1, 3);
  const pool = Array.from({ length: nk }, () => Array.from({ length: rng.int(1, 8) }, () => keyBytes(rng, big && rng.chance(0.5))));
  const n = rng.int(1, big ? 30 : 120);
  const loss = rng.pick(['l1', 'mse', 'huber', 'ce', 'nll']);
  const cls = loss === 'ce' || loss === 'nll' ? rng.int(2, 4) : 0;
  const preds = cls ? Array.from({ length: cls }, (_, c) => `s${c}`) : ['p'];
  const header = [...Array.from({ length: nk }, (_, i) => `k${i}`), ...preds, 'y'];
  const rows = [];
  for (let r = 0; r < n; r++) {
    const keys = pool.map((p) => rng.pick(p));
    const vals = preds.map(() => (loss === 'nll' ? (-rng() * 5).toFixed(4) : num(rng)));
    const y = cls ? String(rng.chance(0.1) ? -100 : rng.int(0, cls - 1)) : num(rng);
    rows.push({ keys, line: Buffer.concat([Buffer.concat(keys.flatMap((k) => [field(k), Buffer.from(',')])), Buffer.from([...vals, y].join(',') + '\n')]) });
  }
  const args = ['-l', loss, '--pred-cols', preds.join(','), '--target-cols', 'y'];
  if (loss === 'nll') args.push('--weight', Array.from({ length: cls }, () => rng.pick(['1', '0.5', '2', '3'])).join(','));
  if (rng.chance(0.5)) args.push('--nan-policy', 'omit');
  return { nk, header: header.join(',') + '\n', rows, args, desc: `loss ${loss}, ${nk} keys, ${n} rows${big ? ', big keys' : ''}` };
}

const csvOf = (c, rows) => Buffer.concat([Buffer.from(c.header), ...rows.map((r) => r.line)]);
const stack = (s) => /\n\s+at |TypeError|RangeError|ReferenceError/.test(s);

async function checkedRun(args, stdin, fails, what) {
  const r = await run(args, stdin);
  if (![0, 1, 2].includes(r.code) || stack(r.stderr)) fails.push(`${what}: exit ${r.code}, stderr ${r.stderr.slice(0, 300)}`);
  return r;
}

async function oneCase(rng, index, dir) {
  const c = makeCase(rng, index);
  const fails = [];
  const groupBy = Array.from({ length: c.nk }, (_, i) => `k${i}`).join(',');
  const whole = join(dir, 'all.csv');
  writeFileSync(whole, csvOf(c, c.rows));
  const g = await checkedRun([...c.args, '--group-by', groupBy, '--json', whole], null, fails, 'grouped');
  const u = await checkedRun([...c.args, '--json', whole], null, fails, 'ungrouped');
  if (g.code !== u.code) fails.push(`grouped exit ${g.code}, ungrouped ${u.code}: ${g.stderr}${u.stderr}`);
  if (g.code !== 0) return { fails, desc: c.desc, ok: false };
  const gj = JSON.parse(Buffer.from(g.stdout, 'latin1').toString()), uj = JSON.parse(Buffer.from(u.stdout, 'latin1').toString());
  if (JSON.stringify(gj.losses) !== JSON.stringify(uj.losses)) fails.push('overall losses differ from the ungrouped run');
  // 1. oracle
  const byKey = new Map();
  for (const r of c.rows) { const id = keyId(r.keys); if (!byKey.has(id)) byKey.set(id, { keys: r.keys, rows: [] }); byKey.get(id).rows.push(r); }
  const all = [...byKey.values()].sort((a, b) => compareKey(a.keys, b.keys));
  // each group's rows alone, ungrouped; a group whose rows were all omitted (--nan-policy omit) has no row in the table
  const groups = [];
  for (let i = 0; i < all.length; i++) {
    const part = join(dir, 'part.csv');
    writeFileSync(part, csvOf(c, all[i].rows));
    const pr = await checkedRun([...c.args, '--json', part], null, fails, `group ${i} alone`);
    if (pr.code !== 0) { fails.push(`group ${i} alone: exit ${pr.code} ${pr.stderr}`); continue; }
    const pj = JSON.parse(pr.stdout);
    if (pj.rows === 0 && pj.omitted_rows > 0) continue;
    groups.push({ ...all[i], alone: pj });
  }
  if (gj.groups.length !== groups.length) fails.push(`${gj.groups.length} groups, expected ${groups.length}`);
  for (let i = 0; i < Math.min(groups.length, gj.groups.length); i++) {
    const exp = groups[i], got = gj.groups[i], pj = exp.alone;
    exp.keys.forEach((k, j) => {
      const want = k.length === 0 ? null : k.toString();
      if (got.key[`k${j}`] !== want) fails.push(`group ${i} key k${j}: ${JSON.stringify(got.key[`k${j}`]).slice(0, 80)} vs ${JSON.stringify(want).slice(0, 80)}`);
    });
    if (got.rows !== pj.rows) fails.push(`group ${i}: ${got.rows} rows, alone ${pj.rows}`);
    const pl = pj.losses.map((l) => ({ name: l.name, value: l.value, elements: l.elements, ignored_rows: l.ignored_rows }));
    if (JSON.stringify(pl) !== JSON.stringify(got.losses)) fails.push(`group ${i}: ${JSON.stringify(got.losses)} vs alone ${JSON.stringify(pl)}`);
  }
  // 2. layout
  const tsvArgs = [...c.args, '--group-by', groupBy];
  const base = await checkedRun([...tsvArgs, '-j', '1', whole], null, fails, 'tsv -j1');
  for (const extra of [['-j', '2', '--chunk-rows', String(rng.int(1, 7))], ['-j', String(rng.int(1, 3)), '--chunk-rows', String(rng.int(1, 50))]]) {
    const r = await checkedRun([...tsvArgs, ...extra, whole], null, fails, `tsv ${extra.join(' ')}`);
    if (r.stdout !== base.stdout || r.code !== base.code) fails.push(`tsv stdout differs under ${extra.join(' ')}`);
  }
  const si = await checkedRun([...tsvArgs, '-'], csvOf(c, c.rows), fails, 'stdin');
  if (si.stdout !== base.stdout) fails.push('tsv stdout differs from stdin');
  // 3. shards (with and without bootstrap)
  if (c.rows.length >= 2) {
    const k = Math.min(c.rows.length, rng.int(2, 3));
    const cuts = [0, ...Array.from({ length: k - 1 }, () => rng.int(1, c.rows.length - 1)).sort((a, b) => a - b), c.rows.length];
    for (const boot of [[], ['--bootstrap', String(rng.int(1, 20)), '--seed', String(rng.int(0, 1e6))]]) {
      const single = await checkedRun([...tsvArgs, ...boot, whole], null, fails, 'single');
      const states = [];
      for (let s = 0; s < k; s++) {
        if (cuts[s] === cuts[s + 1]) continue;
        const f = join(dir, `shard${s}.csv`), st = join(dir, `shard${s}.json`);
        writeFileSync(f, csvOf(c, c.rows.slice(cuts[s], cuts[s + 1])));
        const off = boot.length ? ['--row-offset', String(cuts[s])] : [];
        const r = await checkedRun([...tsvArgs, ...boot, ...off, '--state-out', st, f], null, fails, `shard ${s}`);
        if (r.code !== 0) fails.push(`shard ${s}: exit ${r.code} ${r.stderr}`);
        states.push(st);
      }
      for (let i = states.length - 1; i > 0; i--) { const j = rng.int(0, i); [states[i], states[j]] = [states[j], states[i]]; }
      const m = await checkedRun(['merge', ...states], null, fails, 'merge');
      if (m.stdout !== single.stdout) fails.push(`merged stdout differs${boot.length ? ' (bootstrap)' : ''}: ${m.stderr}`);
    }
  }
  // 4. --max-groups
  if (groups.length >= 2) {
    const K = rng.int(1, groups.length - 1);
    const o = join(dir, 'out.csv');
    rmSync(o, { force: true });
    const r = await checkedRun([...tsvArgs, '--max-groups', String(K), '-o', o, whole], null, fails, 'max-groups');
    const lines = r.stderr.split('\n').filter(Boolean);
    if (r.code !== 1 || r.stdout !== '' || lines.length !== 1 || !lines[0].startsWith('losseval: error: ') || !lines[0].includes(`more than ${K} groups (--max-groups ${K})`) || existsSync(o)) {
      fails.push(`--max-groups ${K} of ${groups.length}: exit ${r.code}, stdout ${r.stdout.length} B, stderr ${r.stderr.slice(0, 200)}, -o left: ${existsSync(o)}`);
    }
  }
  return { fails, desc: c.desc, ok: true };
}

const withTimeout = (p, ms) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`hang: over ${ms} ms`)), ms).unref())]);

/** Cases start..start+count-1 of `seed`; returns { ran, ok, failures: [{ index, desc, why }] }. */
export async function fuzzGroups({ seed = 'groups', count = 200, start = 0, workDir, timeoutMs = 30_000, log = () => {} }) {
  const failures = [];
  let ok = 0;
  for (let i = start; i < start + count; i++) {
    const dir = join(workDir, `case-${i}`);
    mkdirSync(dir, { recursive: true });
    const rng = makeRng(`${seed}/${i}`);
    try {
      const r = await withTimeout(oneCase(rng, i, dir), timeoutMs);
      if (r.ok) ok++;
      if (r.fails.length) { failures.push({ index: i, desc: r.desc, why: r.fails.join('\n    ') }); log(`groups case ${i} FAILED (${r.desc}):\n    ${r.fails.join('\n    ')}`); }
    } catch (e) {
      failures.push({ index: i, desc: '', why: String(e?.stack ?? e) });
      log(`groups case ${i} FAILED: ${e?.stack ?? e}`);
    }
    if (!failures.some((f) => f.index === i)) rmSync(dir, { recursive: true, force: true });
  }
  return { ran: count, ok, failures };
}
