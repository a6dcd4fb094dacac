/**
 * CI-sized seeded fuzz run (the full harness is `npm run fuzz -- --seed S --count N`, see
 * scripts/fuzz.mjs): a few hundred mutated CSV / TSV / gzip / Arrow inputs through losseval, each
 * compared with the slow reference (test/helpers/reference.ts). Budget: about 60 s on 2 cores; the
 * run stops starting new inputs after FUZZ_TIME_LIMIT seconds (default 35; a hang costs 10 s more, twice) and still needs at least
 * MIN_INPUTS of them to have run.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-ignore plain ESM module without types
import { fuzz, summaryLine } from './core.mjs';

const COUNT = Number(process.env.FUZZ_COUNT ?? 300);
const TIME_LIMIT = Number(process.env.FUZZ_TIME_LIMIT ?? 35);
const MIN_INPUTS = Math.min(COUNT, 100);
const SEED = process.env.FUZZ_SEED ?? 'ci';

interface FuzzFailure { index: number; outcome: string; why: string; desc: string[]; dir: string | null }
interface FuzzResult {
  ran: number;
  counts: Record<string, number>;
  failures: FuzzFailure[];
  notes: { index: number; note: string }[];
}

describe('fuzz (seeded, CI-sized)', () => {
  it(`${COUNT} mutated inputs: exact results or one clean error line, never a crash, hang or blow-up`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'losseval-fuzz-ci-'));
    try {
      const r = (await fuzz({
        seed: SEED, count: COUNT, parallel: 2, spawnEvery: 15, timeLimitSec: TIME_LIMIT, timeoutMs: 10_000,
        workDir: join(work, 'run'), failDir: join(work, 'failures'),
      })) as FuzzResult;
      const report = [summaryLine(r), ...r.failures.map((f) => `case ${f.index} ${f.outcome}: ${f.why}\n  ${f.desc.join('; ')}`)].join('\n');
      expect(r.failures, report).toEqual([]);
      expect(r.ran, report).toBeGreaterThanOrEqual(MIN_INPUTS);
      // the generator must reach every outcome, or the run proves little
      expect(r.counts.ok, report).toBeGreaterThan(0);
      expect(r.counts['data-error'], report).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
