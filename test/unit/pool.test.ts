/**
 * Worker count: capped at WORKERS_PER_CPU × the available parallelism, and threads start as
 * chunks arrive, so a small input never starts more threads than it has chunks. Uses the built
 * pool (dist/: the worker entry is compiled there), as the CLI runs it.
 */
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';

const { createPool, capWorkers, WORKERS_PER_CPU } = await import('../../dist/pool/pool.js');

describe('capWorkers', () => {
  it('keeps a count up to the cap and lowers a larger one with a note', () => {
    expect(WORKERS_PER_CPU).toBe(4);
    expect(capWorkers(8, 2)).toEqual({ workers: 8, note: null });
    expect(capWorkers(9, 2)).toEqual({ workers: 8, note: '--workers 9: using 8 (at most 4 per available CPU; 2 available)' });
    expect(capWorkers(1000, 1)).toEqual({ workers: 4, note: '--workers 1000: using 4 (at most 4 per available CPU; 1 available)' });
    expect(capWorkers(3).workers).toBe(Math.min(3, 4 * availableParallelism()));
  });
});

describe('createPool', () => {
  const task = (seq: number) => ({
    seq, rows: 1, firstRow: seq,
    parts: [{ kind: 'csv', bytes: new TextEncoder().encode(`${seq},1\n`), delimiter: 44, fieldCount: 2, firstLine: 2 + seq, fields: [0, 1] }],
    plan: {
      losses: [{ name: 'l1', params: {} }], reduction: 'sum', nanPolicy: 'propagate',
      inputs: [{ file: 'x.csv', columns: ['p', 't'] }],
      roles: { preds: { input: 0, start: 0, width: 1 }, targets: { input: 0, start: 1, width: 1 } },
      rowsAsCsv: false,
    },
  });
  it('a pool of 8 given 3 chunks at once starts at most 3 threads, and none before the first chunk', async () => {
    const pool = createPool(8);
    try {
      expect(pool.threads).toBe(0);
      const results = await Promise.all([0, 1, 2].map((i) => pool.submit(task(i) as never, [])));
      expect(results.map((r) => r.ok && r.rows)).toEqual([1, 1, 1]);
      expect(pool.threads).toBeGreaterThanOrEqual(1);
      expect(pool.threads).toBeLessThanOrEqual(3);
    } finally {
      await pool.close();
    }
  });
  it('warm threads start at once, never more than the workers', async () => {
    const pool = createPool(2, 5);
    try {
      await pool.ready;
      expect(pool.threads).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
