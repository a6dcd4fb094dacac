/** dist/write/result.js with a bug (fault-loader.mjs, LOSSEVAL_FAULT=bug): formatResult throws. */
export * from '../../dist/write/result.js?real';

export function formatResult() {
  throw new TypeError('injected internal error');
}
