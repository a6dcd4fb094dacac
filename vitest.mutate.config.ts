import { defineConfig } from 'vitest/config';

/**
 * The unit tests Stryker runs against each mutant (stryker.config.mjs): the in-process tests of
 * src/losses, src/reduce, src/math and src/parse. Not api.test.ts (it runs dist/ and the CLI, which
 * do not see a mutant in src/), csv-cut (src/read only) or ordered-window (src/pool).
 */
export default defineConfig({
  test: {
    include: [
      'test/unit/golden-*.test.ts',
      'test/unit/exact-sum.test.ts',
      'test/unit/math.test.ts',
      'test/unit/no-libm.test.ts',
      'test/unit/csv-number.test.ts',
      'test/unit/csv-parse.test.ts',
      'test/unit/arrow.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
