/**
 * The elementary functions every kernel uses: losseval's own correctly
 * rounded log, log1p and exp (src/math), so every per-element term is the same
 * on every CPU and Node version. Kernels import them from here and never call
 * Math.log/exp/log1p/expm1/pow or `**` (test/unit/no-libm.test.ts checks).
 */
export { log, log1p, exp } from '../math/index.js';
/** Log-softmax's row shifts (max, Σ exp) over many rows, with the same exp (in WebAssembly where built). */
export { rowShifts } from '../math/exp-rows.js';
