/**
 * Inputs the long fuzz sweeps found (seed and case in each name), kept as regression tests.
 */
import { describe, it } from 'vitest';
import { join } from 'node:path';
import { expectFailure, ROOT } from '../helpers/cli.js';

const HOSTILE = join(ROOT, 'test', 'fixtures', 'hostile');

describe('long fuzz sweep regressions', () => {
  it('ci-long 69: an Arrow Int field of bit width -1 is a corrupt schema (exit 1), not a type to refuse', async () => {
    const f = join(HOSTILE, 'int-bitwidth-minus1.arrows.gz');
    await expectFailure(['-l', 'huber,mse,l1', '-j', '3', '--chunk-rows', '7', '--delimiter', '|', f, join(HOSTILE, 'int-bitwidth-minus1-targets.csv')], 1,
      new RegExp(`^losseval: error: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid Arrow IPC file or stream: schema: an Int field of bit width -1$`));
  });
});
