/**
 * Faults: a worker that throws or exits, signals, a closed stdout and an
 * unwritable output — each ends with a clean message and exit code, no hang
 * and no partial output file.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, losseval, workdir, SAMPLES, expectFailure } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
});

function runWith(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '', stdout = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}

const data = [join(SAMPLES, 'preds.csv'), join(SAMPLES, 'targets.csv')];

describe('worker faults', () => {
  for (const kind of ['throw', 'exit']) {
    it(`a worker that ${kind}s: exit 1 naming the rows of its chunk, no output file`, async () => {
      const out = join(dir, `${kind}.csv`);
      const r = await runWith(['-l', 'mse', '-r', 'none', '-o', out, '--chunk-rows', '100', '-j', '2', ...data], { LOSSEVAL_TEST_FAULT: `${kind}:3` });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^losseval: error: worker failed on data rows 301–400: /);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(readdirSync(dir).filter((f) => f.includes(`${kind}.csv`))).toEqual([]);
    });
  }
});

describe('worker faults on one CSV cut by size', () => {
  for (const quoted of [false, true]) {
    it(`the crash names the first data row and line of its chunk${quoted ? ' (rows counted: quotes)' : ''}`, async () => {
      // 600 rows; quoted: every 10th with a quoted two-line note, so lines run ahead of rows
      const rows = Array.from({ length: 600 }, (_, i) => `${i},${i + 1},${quoted && i % 10 === 0 ? '"a\nb"' : 'x'}`);
      writeFileSync(join(dir, 'notes.csv'), ['p,t,note', ...rows].join('\n') + '\n');
      // chunks of >= 1000 bytes: the 4th (seq 3) starts after >= 3000 bytes of rows
      const r = await runWith(['-l', 'l1', '-j', '2', '--chunk-bytes', '1000', '--pred-cols', 'p', '--target-cols', 't', 'notes.csv'],
        { LOSSEVAL_TEST_FAULT: 'throw:3' });
      expect(r.code).toBe(1);
      // rows are named as a range when the cutter counted them (a chunk holding quotes)
      const m = (quoted
        ? /^losseval: error: worker failed on data rows (\d+)–\d+ \(notes\.csv from line (\d+)\): injected fault\n$/
        : /^losseval: error: worker failed on the chunk from data row (\d+) \(notes\.csv from line (\d+)\): injected fault\n$/).exec(r.stderr);
      expect(m).not.toBeNull();
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
  // found by the fuzzer: shutting the pool down under busy workers crashed the process
  it('ends with one clean error every time', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => (i === 144 ? 'x' : String(i)));
    writeFileSync(join(dir, 'bad-mid.csv'), ['p', ...rows].join('\n') + '\n');
    writeFileSync(join(dir, 'ok.csv'), ['p', ...rows.map((_, i) => String(i))].join('\n') + '\n');
    for (let k = 0; k < 5; k++) {
      await expectFailure(['-l', 'l1', '-j', String(1 + (k % 3)), '--chunk-rows', '1', 'bad-mid.csv', 'ok.csv'], 1,
        /bad-mid\.csv: line 146, column "p": not a number: "x"/, { cwd: dir });
    }
  });
});

describe('signals', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} mid-run: exit ${code}, no partial output file`, async () => {
      const out = join(dir, `sig-${sig}.csv`);
      const child = spawn(process.execPath, [BIN, '-l', 'l1', '-r', 'none', '-o', out, '-', data[1]!], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      // a slow producer keeps the run in progress
      child.stdin.write('price,demand\n1,2\n');
      await new Promise((r) => setTimeout(r, 700));
      const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      child.kill(sig);
      expect(await exited).toBe(code);
      expect(readdirSync(dir).filter((f) => f.includes(`sig-${sig}`))).toEqual([]);
    });
  }
});

describe('output problems', () => {
  it('stdout closed early (| head) ends quietly', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, '-l', 'l1', '-r', 'none', ...data], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
  it('an output directory that does not exist', async () => {
    const r = await losseval(['-l', 'l1', '-r', 'none', '-o', join(dir, 'nope', 'x.csv'), ...data], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^losseval: error: .*nope\/x\.csv: cannot write/);
  });
  it('an output path whose directory is a file', async () => {
    const r = await losseval(['-l', 'l1', '--state-out', join(data[0]!, 'x.json'), ...data], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^losseval: error: .*preds\.csv\/x\.json: cannot write \((ENOTDIR|not a directory)\)\n$/);
  });
  describe('a full disk', () => {
    // an 8 KiB tmpfs fills up while the rows are written (needs root and mount; skipped elsewhere)
    const tiny = join('/tmp', `losseval-full-${process.pid}`);
    let mounted = false;
    beforeAll(() => {
      mkdirSync(tiny, { recursive: true });
      mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', tiny]).status === 0;
    });
    afterAll(() => {
      if (mounted) spawnSync('umount', [tiny]);
    });
    it('while writing per-row output: exit 1, no partial file', async (ctx) => {
      if (!mounted) ctx.skip();
      const out = join(tiny, 'rows.csv');
      const r = await losseval(['-l', 'l1,mse', '-r', 'none', '-o', out, join(SAMPLES, 'both.csv'), '--target-cols', 'price,demand', '--chunk-rows', '50'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^losseval: error: .*rows\.csv: cannot write \(ENOSPC/);
      expect(readdirSync(tiny)).toEqual([]);
    });
  });
});
