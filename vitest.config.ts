import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/full: `npm run test:full` (vitest.full.config.ts)
    exclude: [...configDefaults.exclude, 'test/full/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
