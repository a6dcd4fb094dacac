/**
 * Resolve hook of fault-hooks.mjs: dist/pool/worker.js → fault-worker.mjs (which loads the real
 * one with `?real`); with `bug` in LOSSEVAL_FAULT, also dist/write/result.js → fault-result.mjs (a
 * formatResult that throws a TypeError: an internal error in the main thread).
 */
const FAULT_WORKER = new URL('./fault-worker.mjs', import.meta.url).href;
const FAULT_RESULT = new URL('./fault-result.mjs', import.meta.url).href;
const bug = (process.env.LOSSEVAL_FAULT ?? '').split(',').includes('bug');

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.endsWith('/dist/pool/worker.js')) return { ...r, url: FAULT_WORKER };
  if (bug && r.url.endsWith('/dist/write/result.js')) return { ...r, url: FAULT_RESULT };
  return r;
}
