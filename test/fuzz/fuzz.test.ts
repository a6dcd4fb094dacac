/**
 * CI-sized seeded fuzz run, by count: cases 0..COUNT-1 of seed SEED (printed; a fixed list, the same
 * inputs on every machine), mutated CSV / TSV / gzip / Arrow inputs through losseval, each compared
 * with the slow reference (test/helpers/reference.ts). Every SPAWN_EVERY-th case goes through the real
 * CLI, the others through the in-process runner (test/fuzz/inproc-runner.mjs). A case is a hang only
 * after CASE_TIMEOUT_MS. Failures: a crash, a hang, a wrong answer, a wrong exit-code class, a wrong
 * first-error line, a refusal of an input the reference reads (unless one of the documented STRICTER
 * checks, counted and printed), or memory over the bound. The long sweep is `npm run fuzz`.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-ignore plain ESM module without types
import { fuzz, summaryLine, STRICTER, classify } from './core.mjs';

const COUNT = 150;
const SEED = 'ci';
const SPAWN_EVERY = 6;
const CASE_TIMEOUT_MS = 30_000;

interface FuzzFailure { index: number; outcome: string; why: string; desc: string[]; dir: string | null }
interface FuzzResult {
  ran: number;
  counts: Record<string, number>;
  failures: FuzzFailure[];
  stricter: Record<string, number[]>;
  spawned: number;
}

describe(`fuzz (seed ${JSON.stringify(SEED)}, cases 0–${COUNT - 1})`, () => {
  it(`${COUNT} mutated inputs: exact results or the expected error, never a crash, hang or blow-up`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'losseval-fuzz-ci-'));
    console.log(`fuzz: seed ${SEED}, ${COUNT} cases, every ${SPAWN_EVERY}th through the CLI (rerun one: npm run fuzz -- --seed ${SEED} --start I --count 1)`);
    try {
      const r = (await fuzz({
        seed: SEED, count: COUNT, parallel: 2, spawnEvery: SPAWN_EVERY, timeoutMs: CASE_TIMEOUT_MS,
        workDir: join(work, 'run'), failDir: join(work, 'failures'),
      })) as FuzzResult;
      const accepted = Object.entries(r.stricter).map(([k, cases]) => `accepted refusal (${cases.length}×): ${k}: cases ${cases.join(', ')}`);
      const report = [`seed ${SEED}: ${summaryLine(r)}`, ...accepted,
        ...r.failures.map((f) => `case ${f.index} ${f.outcome}: ${f.why}\n  ${f.desc.join('; ')}`)].join('\n');
      console.log(report);
      expect(r.failures, report).toEqual([]);
      expect(r.ran, report).toBe(COUNT);
      expect(r.spawned, report).toBeGreaterThanOrEqual(COUNT / SPAWN_EVERY);
      // every accepted refusal is a documented one
      for (const k of Object.keys(r.stricter)) expect((STRICTER as { key: string }[]).map((s) => s.key)).toContain(k);
      // the generator must reach every outcome, or the run proves little
      expect(r.counts.ok, report).toBeGreaterThan(COUNT / 4);
      expect(r.counts['data-error'], report).toBeGreaterThan(COUNT / 4);
      expect(r.counts['usage-error'], report).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 1_200_000);
});

describe('the fuzz verdicts', () => {
  const run = (code: number, stderr: string, stdout = '') => ({ code, stderr, stdout, signal: null, crashed: false, timedOut: false, maxRSS: 0 });
  const outcome = (ref: object, res: object): string => (classify(ref, res) as { outcome: string }).outcome;
  it('a wrong exit-code class or first-error line fails; the right ones pass', () => {
    const dataRef = { status: 'error', kind: 'data', reason: 'bad number', line: 4 };
    expect(outcome(dataRef, run(1, 'losseval: error: a.csv: line 4, column "p": not a number: "x"\n'))).toBe('data-error');
    expect(outcome(dataRef, run(2, 'losseval: error: a.csv: line 4, column "p": not a number: "x"\n'))).toBe('mismatch');
    expect(outcome(dataRef, run(1, 'losseval: error: a.csv: line 5, column "p": not a number: "x"\n'))).toBe('mismatch');
    expect(outcome({ status: 'error', kind: 'usage', reason: 'no such column' }, run(1, 'losseval: error: row counts differ: …\n'))).toBe('mismatch');
  });
  it('refusing an input the reference reads fails, unless it is a listed STRICTER check (counted by its key)', () => {
    const okRef = { status: 'ok', stdout: '1\n' };
    expect(outcome(okRef, run(1, 'losseval: error: a.arrow: not a valid Arrow IPC file or stream: something new\n'))).toBe('mismatch');
    expect(outcome(okRef, run(1, 'losseval: error: a.csv: line 3, column "p": not a number: "x"\n'))).toBe('mismatch');
    const eos = 'losseval: error: a.arrows: not a valid Arrow IPC file or stream: data after the end-of-stream marker (after 1 record batches, 3 rows): truncated or corrupt?\n';
    expect(classify(okRef, run(1, eos))).toEqual({ outcome: 'data-error', stricter: STRICTER[0].key });
    expect(STRICTER.every((x: { why: string }) => x.why.length > 40)).toBe(true);
  });
});
