/**
 * Exact bit access to binary64 values, shared by the math kernels.
 *
 * Reads go through a Float64Array/Uint32Array pair over one 8-byte buffer. The word order is
 * detected once (little-endian on every platform Node ships on, but big-endian s390x works too).
 * Everything here is exact: no Math.* function is used to compute a constant.
 */

/**
 * Scratch views: write F64[0], read its words U32[1] (sign, exponent, top 20 mantissa bits) and
 * U32[0] (low 32 mantissa bits). The hot paths use these literal indices, which assume the
 * little-endian word order of every platform V8 ships on except s390x; see LITTLE_ENDIAN.
 */
export const F64 = new Float64Array(1);
export const U32 = new Uint32Array(F64.buffer);

/** Whether typed arrays are little-endian here (U32[1] is the high word of F64[0]). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!LITTLE_ENDIAN) {
  // The kernels read the words of a double as U32[1]/U32[0]; a big-endian port would swap them.
  throw new Error('losseval math: big-endian platforms are not supported (word order of binary64)');
}
/** Index of the high 32-bit word of F64[0] in U32 (1: little-endian). */
export const HI = 1;
/** Index of the low 32-bit word of F64[0] in U32. */
export const LO = 0;

/** Offset of 2^0 in POW2. */
export const POW2_BIAS = 1074;

/** POW2[e + POW2_BIAS] = 2^e exactly, for every e in [-1074, 1023], built from bit patterns. */
export const POW2 = new Float64Array(1074 + 1024);
{
  const f = new Float64Array(1);
  const w = new Uint32Array(f.buffer);
  // (built from bit patterns: exact, no arithmetic)
  for (let e = -1074; e <= 1023; e++) {
    w[HI] = 0;
    w[LO] = 0;
    if (e >= -1022) {
      w[HI] = (e + 1023) << 20;
    } else {
      const bit = e + 1074; // position of the single mantissa bit of the subnormal
      if (bit >= 32) w[HI] = 1 << (bit - 32);
      else w[LO] = (1 << bit) >>> 0;
    }
    POW2[e + POW2_BIAS] = f[0]!;
  }
}

/** x * 2^n exactly (when the result is representable), in steps that never underflow early. */
export function scalePow2(x: number, n: number): number {
  while (n > 1023) {
    x *= POW2[1023 + POW2_BIAS]!;
    n -= 1023;
  }
  while (n < -1022) {
    // stay normal while stepping down: multiply by 2^-1022 only while more than that remains
    x *= POW2[-1022 + POW2_BIAS]!;
    n += 1022;
  }
  return x * POW2[n + POW2_BIAS]!;
}
