/**
 * Faults: a worker that throws or exits, a data error while other chunks are busy, signals, a
 * closed stdout and an unwritable or full output — each ends with a clean message and exit code,
 * no hang and no partial output anywhere (the output directory, the temporary directory).
 *
 * Faults are injected from test-only preloads (test/helpers/fault-hooks.mjs, enospc.mjs), never
 * from src/. Nothing waits a fixed time: a signal is sent once the run's temporary output exists.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, ROOT, losseval, workdir, SAMPLES, expectFailure } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
});

const preload = (name: string): string[] => ['--import', pathToFileURL(join(ROOT, 'test', 'helpers', name)).href];
const FAULTS = preload('fault-hooks.mjs');
const ENOSPC = preload('enospc.mjs');

interface Run { code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }

/** The environment without any LOSSEVAL_* the caller may have exported, plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOSSEVAL_')));
  return { ...base, ...env };
}

function start(args: string[], opts: { node?: string[]; env?: Record<string, string>; stdin?: 'pipe' | 'ignore' } = {}): ChildProcess {
  return spawn(process.execPath, [...(opts.node ?? []), BIN, ...args], {
    cwd: dir, env: cleanEnv(opts.env ?? {}), stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
}

function finish(child: ChildProcess): Promise<Run> {
  return new Promise((resolve) => {
    let stderr = '', stdout = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b));
    child.stdout!.on('data', (b: Buffer) => (stdout += b));
    child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout }));
  });
}

const runWith = (args: string[], opts: Parameters<typeof start>[1] = {}): Promise<Run> => finish(start(args, opts));

/** Poll (no fixed sleep) until `dir` holds a file matching `re`; its name. */
async function appears(where: string, re: RegExp, child: ChildProcess): Promise<string> {
  for (;;) {
    const hit = readdirSync(where).find((f) => re.test(f));
    if (hit) return hit;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the run ended before ${re} appeared in ${where}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const data = [join(SAMPLES, 'preds.csv'), join(SAMPLES, 'targets.csv')];

describe('worker faults (test/helpers/fault-hooks.mjs)', () => {
  for (const kind of ['throw', 'exit']) {
    it(`a worker that ${kind}s: exit 1 naming the rows of its chunk, no output file`, async () => {
      const out = join(dir, `${kind}.csv`);
      const r = await runWith(['-l', 'mse', '-r', 'none', '-o', out, '--chunk-rows', '100', '-j', '2', ...data],
        { node: FAULTS, env: { LOSSEVAL_FAULT: `${kind}:3` } });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(kind === 'throw'
        ? /^losseval: error: worker failed on data rows 301–400: injected fault\n$/
        : /^losseval: error: worker failed on data rows 301–400: .*\b7\b.*\n$/);
      expect(readdirSync(dir).filter((f) => f.includes(`${kind}.csv`))).toEqual([]);
    });
  }
  it('the hooks reach the workers: without a fault every chunk runs through the test worker, and the answer is the same', async () => {
    const marks = mkdtempSync(join(dir, 'marks-'));
    const plain = await runWith(['-l', 'mse', '--chunk-rows', '100', '-j', '2', ...data]);
    const hooked = await runWith(['-l', 'mse', '--chunk-rows', '100', '-j', '2', ...data],
      { node: FAULTS, env: { LOSSEVAL_FAULT: '', LOSSEVAL_FAULT_DIR: marks } });
    expect(plain.code).toBe(0);
    expect(hooked).toEqual(plain);
    expect(readdirSync(marks).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `ran-${i}`).sort());
  });
});

describe('worker faults on one CSV cut by size', () => {
  for (const quoted of [false, true]) {
    it(`the crash names the first data row and line of its chunk${quoted ? ' (rows counted: quotes)' : ''}`, async () => {
      // 600 rows; quoted: every 10th with a quoted two-line note, so lines run ahead of rows
      const rows = Array.from({ length: 600 }, (_, i) => `${i},${i + 1},${quoted && i % 10 === 0 ? '"a\nb"' : 'x'}`);
      writeFileSync(join(dir, 'notes.csv'), ['p,t,note', ...rows].join('\n') + '\n');
      // chunks of >= 1000 bytes: the 4th (seq 3) starts after >= 3000 bytes of rows
      const r = await runWith(['-l', 'l1', '-j', '2', '--chunk-bytes', '1000', '--pred-cols', 'p', '--target-cols', 't', 'notes.csv'],
        { node: FAULTS, env: { LOSSEVAL_FAULT: 'throw:3' } });
      expect(r.code).toBe(1);
      // rows are named as a range when the cutter counted them (a chunk holding quotes)
      const m = (quoted
        ? /^losseval: error: worker failed on data rows (\d+)–\d+ \(notes\.csv from line (\d+)\): injected fault\n$/
        : /^losseval: error: worker failed on the chunk from data row (\d+) \(notes\.csv from line (\d+)\): injected fault\n$/).exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const row = Number(m![1]), line = Number(m![2]);
      // the named row starts on the named line, and it is a chunk start: >= 3000 bytes of rows before it
      const before = rows.slice(0, row - 1).join('\n') + '\n';
      expect(1 + 1 + (before.match(/\n/g) ?? []).length).toBe(line);
      expect(before.length).toBeGreaterThanOrEqual(3000);
      expect(before.length).toBeLessThan(3000 + 3 * 20);
    });
  }
});

describe('a data error while other chunks are in flight', () => {
  // found by the fuzzer: shutting the pool down under busy workers crashed the process. The chunk
  // after the bad one (row 145, seq 144; --chunk-rows 1) is made slow, and the bad chunk runs only
  // once the slow one has started, so a worker is always busy when the error reaches the main thread.
  const rows = Array.from({ length: 300 }, (_, i) => (i === 144 ? 'x' : String(i)));
  for (const workers of [2, 3]) {
    for (const output of [null, 'rows-mid.csv']) {
      it(`-j ${workers}${output ? ' -r none -o' : ''}: one clean error, no output, the slow chunk did run`, async () => {
        writeFileSync(join(dir, 'bad-mid.csv'), ['p', ...rows].join('\n') + '\n');
        writeFileSync(join(dir, 'ok.csv'), ['p', ...rows.map((_, i) => String(i))].join('\n') + '\n');
        const marks = mkdtempSync(join(dir, 'marks-'));
        const r = await runWith(['-l', 'l1', '-j', String(workers), '--chunk-rows', '1', ...(output ? ['-r', 'none', '-o', output] : []), 'bad-mid.csv', 'ok.csv'],
          { node: FAULTS, env: { LOSSEVAL_FAULT: 'after:144:145,slow:145:400', LOSSEVAL_FAULT_DIR: marks } });
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe('losseval: error: bad-mid.csv: line 146, column "p": not a number: "x"\n');
        expect(r.code).toBe(1);
        expect(existsSync(join(marks, 'started-145'))).toBe(true);
        expect(existsSync(join(marks, 'ran-144'))).toBe(true);
        if (output) expect(readdirSync(dir).filter((f) => f.includes('rows-mid'))).toEqual([]);
      });
    }
  }
});

describe('signals, sent once the temporary output exists', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} mid-run with -o: exit ${code}, no partial or temporary file`, async () => {
      const name = `sig-${sig}.csv`;
      const child = start(['-l', 'l1', '-r', 'none', '-o', name, '-', data[1]!], { stdin: 'pipe' });
      const done = finish(child);
      // a producer that never finishes keeps the run in progress (past the 64 bytes the format sniff reads)
      child.stdin!.write('price,demand\n' + '1,2\n'.repeat(20));
      await appears(dir, new RegExp(`^\\.${name.replace('.', '\\.')}\\.\\d+\\.[0-9a-f]+\\.tmp$`), child);
      child.kill(sig);
      const r = await done;
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(readdirSync(dir).filter((f) => f.includes(`sig-${sig}`))).toEqual([]);
    });
    it(`${sig} mid-run to stdout: exit ${code}, nothing printed, the spool removed`, async () => {
      const tmp = mkdtempSync(join(dir, 'tmp-'));
      const child = start(['-l', 'l1', '-r', 'none', '-', data[1]!], { stdin: 'pipe', env: { TMPDIR: tmp } });
      const done = finish(child);
      child.stdin!.write('price,demand\n' + '1,2\n'.repeat(20));
      await appears(tmp, /^losseval-\d+-[0-9a-f]+\.csv$/, child);
      child.kill(sig);
      const r = await done;
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(readdirSync(tmp)).toEqual([]);
    });
  }
});

describe('output problems', () => {
  it('stdout closed early (| head) after the first of > 4 MB of rows: exit 0, quiet, no spool left in TMPDIR', async () => {
    // 120,000 rows, three losses: ~6 MB of per-row output, far more than a pipe holds
    const lines = ['p,t'];
    for (let i = 0; i < 120_000; i++) lines.push(`${i / 7},${(i % 13) / 3}`);
    writeFileSync(join(dir, 'long.csv'), lines.join('\n') + '\n');
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const child = start(['-l', 'l1,mse,huber', '-r', 'none', '--target-cols', 't', 'long.csv'], { env: { TMPDIR: tmp } });
    let got = 0;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b));
      child.stdout!.once('data', (b: Buffer) => {
        got = b.length;
        child.stdout!.destroy();
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(got).toBeGreaterThan(0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
  });
  it('the same rows in full: the output is all there (> 4 MB) and the spool is gone', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const r = await runWith(['-l', 'l1,mse,huber', '-r', 'none', '--target-cols', 't', 'long.csv'], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(4 * 2 ** 20);
    expect(r.stdout.split('\n')).toHaveLength(120_000 + 2);
    expect(readdirSync(tmp)).toEqual([]);
  });
  it('an output directory that does not exist', async () => {
    await expectFailure(['-l', 'l1', '-r', 'none', '-o', join(dir, 'nope', 'x.csv'), ...data], 2,
      /^losseval: error: .*nope\/x\.csv: cannot write \(no such directory\)$/, { cwd: dir });
  });
  it('an output path whose directory is a file', async () => {
    await expectFailure(['-l', 'l1', '--state-out', join(data[0]!, 'x.json'), ...data], 2,
      /^losseval: error: .*preds\.csv\/x\.json: cannot write \((ENOTDIR|not a directory)\)$/, { cwd: dir });
  });
});

describe('a full disk (test/helpers/enospc.mjs: writes fail with ENOSPC after 4096 bytes)', () => {
  const both = join(SAMPLES, 'both.csv');
  const args = ['-l', 'l1,mse', '-r', 'none', both, '--target-cols', 'price,demand', '--chunk-rows', '50'];
  const full = { node: ENOSPC, env: { LOSSEVAL_ENOSPC_AFTER: '4096' } };
  for (const out of ['rows.csv', 'rows.arrow']) {
    it(`while writing per-row output to ${out}: exit 1, the file named, no partial or temporary file`, async () => {
      const sub = mkdtempSync(join(dir, 'full-'));
      const r = await runWith([...args, '-o', join(sub, out)], full);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`losseval: error: ${join(sub, out)}: cannot write (ENOSPC: no space left on device, write)\n`);
      expect(r.code).toBe(1);
      expect(readdirSync(sub)).toEqual([]);
      // the same run with room to spare succeeds: the limit, not the run, failed it
      const ok = await runWith([...args, '-o', join(sub, out)], { node: ENOSPC, env: { LOSSEVAL_ENOSPC_AFTER: String(2 ** 30) } });
      expect(ok.code).toBe(0);
      expect(readdirSync(sub)).toEqual([out]);
    });
  }
  it('while spooling per-row output for stdout: exit 1, nothing on stdout, no spool left', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const r = await runWith(args, { ...full, env: { ...full.env, TMPDIR: tmp } });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^losseval: error: ${tmp}/losseval-\\d+-[0-9a-f]+\\.csv \\(spool of standard output\\): cannot write \\(ENOSPC: no space left on device, write\\)\\n$`));
    expect(r.code).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
