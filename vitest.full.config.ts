import { defineConfig } from 'vitest/config';

// `npm run test:full`: the tests too costly for `npm test` (test/full), after the build.
export default defineConfig({
  test: {
    include: ['test/full/**/*.test.ts'],
    testTimeout: 600_000,
  },
});
