/**
 * The file piscina loads in each worker thread. piscina loads its filename with
 * require() and falls back to import(); on Node 20.19+ (require of ES modules)
 * its preload and its first task can race between the two and crash with
 * "Unexpected status of a module that is imported again after being required".
 * This CommonJS entry is only ever require()d, and it loads the ES-module worker
 * exactly once, with import().
 */
type Work = (task: unknown) => unknown;
let work: Promise<Work> | undefined;

// a run with Parquet inputs: load the decoder as the thread starts, not on its first task
// (createPool's workerData; ~30 ms of module loading that would otherwise wait for the task)
const { workerData } = require('node:worker_threads') as { workerData?: { parquet?: boolean } };
if (workerData?.parquet) {
  work = import('./worker.js').then(async (m) => {
    await (await import('./chunk.js')).preloadParquet();
    return m.default as Work;
  });
}

module.exports = function runTask(task: unknown): Promise<unknown> {
  work ??= import('./worker.js').then((m) => m.default as Work);
  return work.then((f) => f(task));
};
