/** Resolve hook of fault-hooks.mjs: dist/pool/worker.js → fault-worker.mjs (which loads the real one with `?real`). */
const FAULT_WORKER = new URL('./fault-worker.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  return r.url.endsWith('/dist/pool/worker.js') ? { ...r, url: FAULT_WORKER } : r;
}
