/**
 * CI-sized seeded sweep of the grouped / bootstrap fuzzer (test/fuzz/groups.mjs): cases 0..COUNT-1
 * of seed SEED (printed). Each case checks the per-group oracle, layout invariance (-j,
 * --chunk-rows, stdin), shards merged (plain and --bootstrap with --row-offset) and --max-groups
 * refusals over hostile keys. The long sweep is `npm run fuzz -- --groups N`.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-ignore plain ESM module without types
import { fuzzGroups } from './groups.mjs';

const COUNT = 12;
const SEED = 'groups-ci';

describe(`grouped fuzz (seed ${JSON.stringify(SEED)}, cases 0–${COUNT - 1})`, () => {
  it(`${COUNT} hostile-key grouped/bootstrap cases: exact per-group results, same bytes under any layout or shard merge`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'losseval-gfuzz-ci-'));
    console.log(`grouped fuzz: seed ${SEED}, ${COUNT} cases (rerun: npm run fuzz -- --count 0 --groups N --groups-seed ${SEED})`);
    try {
      const r = (await fuzzGroups({ seed: SEED, count: COUNT, workDir: work, timeoutMs: 30_000 })) as
        { ran: number; ok: number; failures: { index: number; desc: string; why: string }[] };
      const report = r.failures.map((f) => `case ${f.index} (${f.desc}): ${f.why}`).join('\n');
      expect(r.failures, report).toEqual([]);
      expect(r.ran).toBe(COUNT);
      expect(r.ok).toBeGreaterThan(COUNT / 2);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
