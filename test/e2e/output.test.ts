/** Output files are artifacts: their bytes depend on the rows only, never on workers or chunking. */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { losseval, workdir } from '../helpers/cli.js';
import { mulberry32 } from '../helpers/rng.js';

const dir = workdir();
// more rows than one output record batch (65536), so batch cutting is exercised
const N = 70_001;
const rand = mulberry32(20261207);
const r = { next: rand };
const lines = ['p,q,t,u'];
for (let i = 0; i < N; i++) lines.push(`${r.next().toFixed(6)},${r.next().toFixed(3)},${(r.next() * 2).toFixed(5)},${r.next().toFixed(4)}`);
writeFileSync(join(dir, 'data.csv'), lines.join('\n') + '\n');

const digest = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('-r none -o rows.arrow is byte-identical for any layout', () => {
  it('across workers, --chunk-rows and --chunk-bytes', async () => {
    const layouts = [['-j', '1'], ['-j', '2', '--chunk-rows', '999'], ['-j', '3', '--chunk-rows', '65536'], ['-j', '2', '--chunk-bytes', '5000'], ['-j', '2']];
    const sums: string[] = [];
    for (const [k, layout] of layouts.entries()) {
      const out = join(dir, `rows${k}.arrow`);
      const res = await losseval(['-l', 'l1,mse', '-r', 'none', '--pred-cols', 'p,q', '--target-cols', 't,u', ...layout, '-o', out, join(dir, 'data.csv')]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      sums.push(digest(out));
    }
    expect(new Set(sums).size).toBe(1);
    const t = tableFromIPC(readFileSync(join(dir, 'rows0.arrow')));
    expect(t.numRows).toBe(N);
    expect(t.batches.map((b) => b.numRows)).toEqual([65536, N - 65536]);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['l1:p', 'l1:q', 'mse:p', 'mse:q']);
    // the values are the CSV output's values
    const csv = await losseval(['-l', 'l1,mse', '-r', 'none', '--pred-cols', 'p,q', '--target-cols', 't,u', join(dir, 'data.csv')]);
    const row = csv.stdout.split('\n')[N]!.split(',').map(Number);
    expect([0, 1, 2, 3].map((c) => t.getChildAt(c)!.get(N - 1))).toEqual(row);
  });
});
