/**
 * losseval's correctly rounded elementary functions: bit-identical results on every machine and
 * Node version (no Math.log/exp/log1p/expm1/pow inside). Use these in loss kernels instead of Math.*.
 */
export { log } from './log.js';
export { log1p } from './log1p.js';
export { exp } from './exp.js';
