#!/usr/bin/env node
// Fuzz the Parquet reader with damaged copies of the committed fixtures (test/fixtures/parquet):
// truncations and byte flips, biased to the footer. Each case runs in-process (like the CLI, via
// dist/) with random --chunk-rows and -j; it must end with exit 0, or exit 1/2 with one
// `losseval: error:` line: never an internal error (a stack trace, or a worker that threw), a hang
// (20 s) or a peak RSS over 512 MB. Damaged values that still decode are data, not errors, so
// successful runs are not compared with anything.
//
//   npm run build && node scripts/fuzz-parquet.mjs [--seed N] [--count N]
import { readFileSync, writeFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const { runCli } = await dist('cli/cli.js');

const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
let seed = arg('--seed', 1) >>> 0 || 1;
const count = arg('--count', 1000);
const rnd = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
const fixtures = join(root, 'test', 'fixtures', 'parquet');
const files = readdirSync(fixtures).filter((f) => f.endsWith('.parquet') && !f.startsWith('unsupported'));
const work = mkdtempSync(join(tmpdir(), 'losseval-fuzz-parquet-'));
const failDir = mkdtempSync(join(tmpdir(), 'losseval-fuzz-parquet-failures-'));
process.stderr.write(`fuzz-parquet: seed ${arg('--seed', 1)}, ${count} cases; failures go to ${failDir}\n`);

const outcomes = new Map();
let failures = 0, ok = 0;
for (let k = 0; k < count; k++) {
  const f = files[Math.floor(rnd() * files.length)];
  const b = Buffer.from(readFileSync(join(fixtures, f)));
  let m = b;
  if (rnd() < 0.15) m = b.subarray(0, Math.floor(rnd() * b.length));
  else {
    const flips = 1 + Math.floor(rnd() * 8);
    const region = rnd() < 0.5 ? b.length - Math.floor(rnd() * Math.min(b.length, 3000)) : Math.floor(rnd() * b.length);
    for (let i = 0; i < flips; i++) {
      const at = Math.min(b.length - 1, Math.max(0, region + Math.floor((rnd() - 0.5) * 64)));
      m[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : m[at] ^ (1 << Math.floor(rnd() * 8));
    }
  }
  const path = join(work, 'case.parquet');
  writeFileSync(path, m);
  const cols = f.startsWith('cls') ? ['-l', 'ce', '--pred-cols', 'l', '--target-cols', 'label'] : ['-l', 'mse', '--pred-cols', 'p', '--target-cols', 't'];
  const args = [...cols, ...(rnd() < 0.5 ? ['--chunk-rows', String(1 + Math.floor(rnd() * 100))] : []), '-j', rnd() < 0.5 ? '1' : '2', path];
  let verdict;
  let timer;
  const hang = new Promise((res) => { timer = setTimeout(() => res('hang'), 20_000); });
  const go = (async () => {
    let err = '';
    const stderr = new PassThrough();
    stderr.on('data', (d) => { err += d; });
    const code = await runCli(args, { stdin: new PassThrough().end(), stdout: new PassThrough().resume(), stderr, stderrIsTTY: false });
    await new Promise((r) => setImmediate(r));
    if (code === 0) return 'ok';
    const line = err.trim().split('\n').pop() ?? '';
    if (/internal error|worker failed|internal:/.test(err) || !line.startsWith('losseval: error: ')) return `bug: ${err.slice(0, 400)}`;
    return line.replace(work, '<dir>').replace(/\d+/g, 'N').slice(0, 140);
  })();
  verdict = await Promise.race([go, hang]);
  clearTimeout(timer);
  if (verdict === 'ok') ok++;
  else if (verdict === 'hang' || verdict.startsWith('bug:')) {
    failures++;
    writeFileSync(join(failDir, `case-${k}.parquet`), m);
    writeFileSync(join(failDir, `case-${k}.txt`), `${args.join(' ')}\n${verdict}\n`);
    process.stderr.write(`failure: case ${k} (${f}): ${verdict}\n`);
    if (verdict === 'hang') break;
  } else outcomes.set(verdict, (outcomes.get(verdict) ?? 0) + 1);
}
rmSync(work, { recursive: true, force: true });
const rssMB = process.resourceUsage().maxRSS / 1024;
for (const [k, v] of [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stderr.write(`${String(v).padStart(5)}  ${k}\n`);
const over = rssMB > 512;
process.stdout.write(`fuzz-parquet: ${count} cases: ${ok} ran, ${count - ok - failures} data/usage errors, ${failures} crashes or hangs; peak RSS ${rssMB.toFixed(0)} MB${over ? ' (over 512 MB)' : ''}\n`);
if (failures === 0 && !over) rmSync(failDir, { recursive: true, force: true });
process.exit(failures > 0 || over ? 1 : 0);
