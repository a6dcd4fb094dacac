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

module.exports = function runTask(task: unknown): Promise<unknown> {
  work ??= import('./worker.js').then((m) => m.default as Work);
  return work.then((f) => f(task));
};
