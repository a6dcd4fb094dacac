/**
 * Number formatting for every output: the shortest decimal that round-trips
 * to the same float64 (ECMAScript Number::toString), with `nan`, `inf`,
 * `-inf` for non-finite values and `-0` kept.
 */
export function formatNumber(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0 && 1 / x < 0) return '-0';
  return String(x);
}

/** JSON value for a float64: a number when finite, else the strings "nan", "inf", "-inf". */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : formatNumber(x);
}
