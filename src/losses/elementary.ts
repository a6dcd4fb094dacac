/**
 * The elementary functions every kernel uses. Kernels import log/log1p/exp
 * from here and never call Math.log/exp/log1p/expm1/pow or `**`.
 */
export const log = Math.log;
export const log1p = Math.log1p;
export const exp = Math.exp;
