/**
 * Exact, order-independent float64 summation ("BinF4x" split-bin superaccumulator).
 *
 * Design (see /work/shared/research/exact-sum.md):
 * - The live accumulator keeps, for every biased exponent E (0..2047), 4 lanes x 2 float64 cells
 *   (a "high" and a "low" part).  A finite term x with exponent E < 2016 is split exactly with
 *   Rump's trick: sigma = 1.5*2^(E-996), h = (x + sigma) - sigma, l = x - h.  h is an integer
 *   multiple of 2^(E-1048) and l an integer multiple of ulp(x) = 2^(E-1075), both of magnitude
 *   <= 2^26 units, so a cell stays exact for 2^27 additions; we flush to BigInt before that.
 *   (E = 0, i.e. subnormals and zeros, uses E = 1's sigma and units.)
 * - Rare path: |x| >= 2^993 (E >= 2016) is scaled by 2^-64 (exact), split with sigma[E-64] and
 *   stored in exponent E's cells (which therefore hold value*2^-64).  E = 2047 (Inf/NaN) only sets
 *   sticky flags.  In addArray, groups of 4 containing such terms are skipped by the fast loop and
 *   redone by a second pass.
 * - Flush: non-empty exponents (integer OR over their 64-byte line) are split exactly into
 *   radix-2^32 float digits, carry-normalised, printed as one hex string and parsed as one BigInt.
 * - Canonical state: ExactSum { n = exact_sum * 2^1074 (BigInt), nan, posInf, negInf }.
 *
 * Signed zero: an exact zero sum (including the empty sum and all -0 input) rounds to +0.
 *
 * No Math.log/exp/pow and no exponent operator are used: powers of two come from a table built by
 * repeated exact multiplication by 2 and 0.5.
 */

// ---------------------------------------------------------------------------------------------
// Platform check: the exponent read assumes the high 32-bit word of a double is at u32[2i+1].
{
  const probe = new Float64Array([1]);
  const words = new Uint32Array(probe.buffer);
  if (words[0] !== 0 || words[1] !== 0x3ff00000) {
    throw new Error(
      'exact-sum: this platform is not little-endian (float64 high word not at the odd 32-bit index); ' +
        'the exact accumulator requires a little-endian host',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Exact power-of-two table: POW2[k + 1074] = 2^k for k in [-1074, 1023].
const POW2_OFF = 1074;
const POW2 = new Float64Array(1074 + 1024);
POW2[POW2_OFF] = 1;
for (let k = 1; k <= 1023; k++) POW2[POW2_OFF + k] = POW2[POW2_OFF + k - 1]! * 2;
for (let k = 1; k <= 1074; k++) POW2[POW2_OFF - k] = POW2[POW2_OFF - k + 1]! * 0.5;

/** 2^k exactly, for k in [-1074, 1023]. */
export function pow2(k: number): number {
  return POW2[POW2_OFF + k]!;
}

const TWO_M64 = pow2(-64);
const TWO_M32 = pow2(-32);
const TWO_32 = pow2(32);
const C116 = 1.5 * pow2(116); // ulp 2^64 around it
const C84 = 1.5 * pow2(84); // ulp 2^32 around it

/** Exponents >= RARE_E take the rare path (sigma would overflow / Inf-NaN). */
export const RARE_E = 2016;
/** Maximum pending additions per cell before a flush is mandatory (2^27 * 2^26 = 2^53). */
const MAX_FLUSH = 134217728; // 2^27

// SIG[E] = 1.5 * 2^(E - 996) for 1 <= E < 2016; SIG[0] = SIG[1]; unused (0) for E >= 2016.
export const SIG = new Float64Array(2048);
for (let e = 1; e < RARE_E; e++) SIG[e] = 1.5 * pow2(e - 996);
SIG[0] = SIG[1]!;

// Flush tables.  For exponent E: DIG[2E] / DIG[2E+1] = radix-2^32 digit index of the hi / lo cell
// unit (scaled by 2^1074), MUL[4E..4E+3] = two exact power-of-two factors (hi), two (lo) turning
// the cell value into (integer count) * 2^r, r = position of the unit inside its digit.
const DIG = new Int32Array(2 * 2048);
const MUL = new Float64Array(4 * 2048);
for (let e = 0; e < 2047; e++) {
  const ep = e === 0 ? 1 : e >= RARE_E ? e - 64 : e; // exponent whose units the cells use
  const sHi = e === 0 ? 27 : e + 26; // log2(hi unit * 2^1074), rare-path 2^64 included
  const sLo = e === 0 ? 0 : e - 1;
  const kHi = 1048 - ep + (sHi & 31);
  const kLo = 1075 - ep + (sLo & 31);
  DIG[2 * e] = sHi >> 5;
  DIG[2 * e + 1] = sLo >> 5;
  const aHi = kHi >> 1;
  const aLo = kLo >> 1;
  MUL[4 * e] = pow2(aHi);
  MUL[4 * e + 1] = pow2(kHi - aHi);
  MUL[4 * e + 2] = pow2(aLo);
  MUL[4 * e + 3] = pow2(kLo - aLo);
}

const NDIG = 72;
/**
 * Smallest unit held by exponent e's cells is 2^(e-1075) (lo cells, e >= 1; rare-path cells are
 * larger).  For e >= 64 that is >= 2^-1011, and any non-zero double >= 2^-1042 has a non-zero high
 * word, so the flush scan may test only the high words there.
 */
const SCAN_HI_FROM = 64;
const HEX_PAD = '00000000';

// ---------------------------------------------------------------------------------------------
// Canonical state.

/** Exact sum of float64 terms: n = (exact sum of the finite terms) * 2^1074, plus IEEE special flags. Plain data: structured-clone safe. */
export interface ExactSum {
  readonly n: bigint;
  readonly nan: boolean;
  readonly posInf: boolean;
  readonly negInf: boolean;
}

export const ZERO_SUM: ExactSum = Object.freeze({ n: 0n, nan: false, posInf: false, negInf: false });

/** Associative, commutative, exact. */
export function mergeSums(a: ExactSum, b: ExactSum): ExactSum {
  return {
    n: a.n + b.n,
    nan: a.nan || b.nan,
    posInf: a.posInf || b.posInf,
    negInf: a.negInf || b.negInf,
  };
}

/** The exact integer k as a sum (for count denominators). */
export function sumFromCount(k: number | bigint): ExactSum {
  let b: bigint;
  if (typeof k === 'bigint') {
    b = k;
  } else {
    if (typeof k !== 'number' || !Number.isInteger(k)) {
      throw new RangeError(`sumFromCount: expected an integer, got ${String(k)}`);
    }
    b = BigInt(k);
  }
  return { n: b << 1074n, nan: false, posInf: false, negInf: false };
}

/** Bit length of a non-negative BigInt (0 for 0). */
function bitLength(a: bigint): number {
  if (a === 0n) return 0;
  const h = a.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0]!, 16)));
}

/**
 * Correctly rounded (ties-to-even) value of (a + f) * 2^e where a >= 0 is a BigInt and
 * 0 <= f < 1 with f > 0 iff sticky.  Callers passing sticky = true must give a >= 2^54.
 * Overflow gives +Inf exactly as IEEE round-to-nearest; underflow gives +0.
 */
function roundScaled(a: bigint, e: number, sticky: boolean): number {
  if (a === 0n) return 0;
  const len = bitLength(a);
  let q = e + len - 53; // exponent of the result's last bit
  if (q < -1074) q = -1074;
  if (q > 971) return Infinity; // a*2^e >= 2^(q+52) >= 2^1024
  const shift = q - e;
  let m: bigint;
  if (shift <= 0) {
    // exact (no bits dropped); a < 2^53 here
    m = a << BigInt(-shift);
  } else {
    const sh = BigInt(shift);
    m = a >> sh;
    const rem = a - (m << sh);
    const half = 1n << (sh - 1n);
    if (rem > half || (rem === half && (sticky || (m & 1n) === 1n))) m += 1n;
  }
  // m <= 2^53; m * 2^q is exactly representable or (m = 2^53, q = 971) overflows to +Inf.
  return Number(m) * pow2(q);
}

/**
 * Correctly rounded (ties-to-even) value of the sum.  NaN if nan or both infinities; +-Inf for one
 * infinity; finite exact values beyond the double range round to +-Inf exactly as IEEE
 * round-to-nearest (MAX + ulp/2 ties to even, i.e. Inf).  An exact zero (also the empty sum and
 * all -0 input) gives +0.
 */
export function roundSum(s: ExactSum): number {
  if (s.nan || (s.posInf && s.negInf)) return NaN;
  if (s.posInf) return Infinity;
  if (s.negInf) return -Infinity;
  const n = s.n;
  if (n === 0n) return 0;
  if (n > -9007199254740992n && n < 9007199254740992n) {
    // |n| < 2^53: n * 2^-1074 is exactly representable (subnormal or in [2^-1022, 2^-1021)).
    return Number(n) * pow2(-1074);
  }
  return n < 0n ? -roundScaled(-n, -1074, false) : roundScaled(n, -1074, false);
}

function specialProxy(s: ExactSum): number {
  if (s.nan || s.posInf || s.negInf) return roundSum(s);
  return s.n > 0n ? 1 : s.n < 0n ? -1 : 0;
}

/**
 * The correctly rounded value of (exact num)/(exact den): ONE rounding.  Special cases (a flag on
 * either side, or den exactly 0) follow IEEE division, with a flag-free side taken as its exact
 * finite value.
 */
export function roundQuotient(num: ExactSum, den: ExactSum): number {
  const numSpecial = num.nan || num.posInf || num.negInf;
  const denSpecial = den.nan || den.posInf || den.negInf;
  if (numSpecial || denSpecial || den.n === 0n) {
    // IEEE division of the two sides, where a side without flags stands for its EXACT finite value
    // (only its sign matters in these cases): so an exact numerator beyond MAX divided by Inf gives
    // +-0, not Inf/Inf = NaN.  Exact zero is +0 (0/0 = NaN, x/0 = +-Inf by the sign of x).
    return specialProxy(num) / specialProxy(den);
  }
  if (num.n === 0n) return den.n > 0n ? 0 : -0;
  const neg = num.n < 0n !== den.n < 0n;
  const a = num.n < 0n ? -num.n : num.n;
  const b = den.n < 0n ? -den.n : den.n;
  // q = floor(a * 2^k / b) with 62..63 bits.
  const k = bitLength(b) - bitLength(a) + 62;
  let q: bigint;
  let sticky: boolean;
  if (k >= 0) {
    const aa = a << BigInt(k);
    q = aa / b;
    sticky = aa - q * b !== 0n;
  } else {
    const bb = b << BigInt(-k);
    q = a / bb;
    sticky = a - q * bb !== 0n;
  }
  const r = roundScaled(q, -k, sticky);
  return neg ? -r : r;
}

/** JSON form: sum = signed lowercase hex of n, e.g. "-1f3a" or "0". */
export function sumToJSON(s: ExactSum): { sum: string; nan: boolean; posInf: boolean; negInf: boolean } {
  return { sum: s.n.toString(16), nan: s.nan, posInf: s.posInf, negInf: s.negInf };
}

const HEX_RE = /^(?:0|-?[1-9a-f][0-9a-f]*)$/;
/** Longest accepted hex string (4096 bits: far above any reachable sum). */
const MAX_HEX_DIGITS = 1024;

/**
 * Strict inverse of sumToJSON.  Requires an object with `sum` (canonical signed lowercase hex:
 * no prefix, no leading zeros, no "-0") and boolean `nan`, `posInf`, `negInf`.  Other keys
 * (e.g. format, count, scale) are ignored.
 */
export function sumFromJSON(v: unknown): ExactSum {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`exact sum JSON: expected an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  const o = v as Record<string, unknown>;
  const sum = o['sum'];
  if (typeof sum !== 'string') {
    throw new Error(`exact sum JSON: "sum" must be a string, got ${sum === null ? 'null' : typeof sum}`);
  }
  if (sum.length > MAX_HEX_DIGITS + 1) {
    throw new Error(`exact sum JSON: "sum" is too long (${sum.length} characters, max ${MAX_HEX_DIGITS} hex digits)`);
  }
  if (!HEX_RE.test(sum)) {
    const shown = sum.length > 40 ? `${sum.slice(0, 40)}...` : sum;
    throw new Error(
      `exact sum JSON: "sum" must be canonical signed lowercase hex (e.g. "-1f3a" or "0"), got ${JSON.stringify(shown)}`,
    );
  }
  for (const key of ['nan', 'posInf', 'negInf'] as const) {
    if (typeof o[key] !== 'boolean') {
      throw new Error(`exact sum JSON: "${key}" must be a boolean, got ${o[key] === null ? 'null' : typeof o[key]}`);
    }
  }
  const neg = sum.charCodeAt(0) === 45; // '-'
  const mag = BigInt('0x' + (neg ? sum.slice(1) : sum));
  return { n: neg ? -mag : mag, nan: o['nan'] as boolean, posInf: o['posInf'] as boolean, negInf: o['negInf'] as boolean };
}

// ---------------------------------------------------------------------------------------------
// Hot loop.  Monomorphic: Float64Array terms, Uint32Array view of the same bytes, Float64Array
// cells.  Processes groups of 4 in [start, groupEnd) (groupEnd - start is a multiple of 4); a group
// containing an exponent >= 2016 is skipped and reported (returns true) for the second pass.

function fastGroups(cells: Float64Array, xs: Float64Array, w: Uint32Array, start: number, groupEnd: number): boolean {
  const sig = SIG;
  let rare = false;
  for (let i = start; i < groupEnd; i += 4) {
    const j = 2 * i;
    const e0 = (w[j + 1]! >>> 20) & 0x7ff;
    const e1 = (w[j + 3]! >>> 20) & 0x7ff;
    const e2 = (w[j + 5]! >>> 20) & 0x7ff;
    const e3 = (w[j + 7]! >>> 20) & 0x7ff;
    // e >= 2016  <=>  bit 11 of (e + 32) is set (e + 32 < 4096)
    if ((((e0 + 32) | (e1 + 32) | (e2 + 32) | (e3 + 32)) & 0x800) !== 0) {
      rare = true;
      continue;
    }
    const x0 = xs[i]!;
    const x1 = xs[i + 1]!;
    const x2 = xs[i + 2]!;
    const x3 = xs[i + 3]!;
    const s0 = sig[e0]!;
    const s1 = sig[e1]!;
    const s2 = sig[e2]!;
    const s3 = sig[e3]!;
    const h0 = x0 + s0 - s0;
    const h1 = x1 + s1 - s1;
    const h2 = x2 + s2 - s2;
    const h3 = x3 + s3 - s3;
    const k0 = e0 << 3;
    const k1 = (e1 << 3) | 2;
    const k2 = (e2 << 3) | 4;
    const k3 = (e3 << 3) | 6;
    cells[k0] += h0;
    cells[k0 + 1] += x0 - h0;
    cells[k1] += h1;
    cells[k1 + 1] += x1 - h1;
    cells[k2] += h2;
    cells[k2 + 1] += x2 - h2;
    cells[k3] += h3;
    cells[k3 + 1] += x3 - h3;
  }
  return rare;
}

// ---------------------------------------------------------------------------------------------
// Streaming accumulator.

export interface ExactAccumulatorOptions {
  /**
   * Flush the float cells into the BigInt state after this many pending terms (1..2^27).
   * Default and maximum 2^27.  Small values exist only to exercise the flush path in tests.
   */
  flushEvery?: number;
}

/** Streaming exact accumulator (split-bin "BinF4x" design). */
export class ExactAccumulator {
  private readonly cells = new Float64Array(2048 * 8);
  private readonly cellWords = new Int32Array(this.cells.buffer);
  private readonly digits = new Float64Array(NDIG);
  private readonly nonEmpty = new Int32Array(2047);
  private readonly scratch = new Float64Array(1);
  private readonly scratchWords = new Uint32Array(this.scratch.buffer);
  private readonly limit: number;
  private pending = 0;
  private total = 0;
  private n = 0n;
  private nan = false;
  private posInf = false;
  private negInf = false;

  constructor(options?: ExactAccumulatorOptions) {
    const f = options?.flushEvery;
    if (f === undefined) {
      this.limit = MAX_FLUSH;
    } else {
      if (typeof f !== 'number' || !Number.isInteger(f) || f < 1 || f > MAX_FLUSH) {
        throw new RangeError(`ExactAccumulator: flushEvery must be an integer in [1, 2^27], got ${String(f)}`);
      }
      this.limit = f;
    }
  }

  /** Number of terms added so far (finite and non-finite). */
  get count(): number {
    return this.total;
  }

  add(x: number): void {
    if (this.pending >= this.limit) this.flush();
    this.scratch[0] = x;
    this.addOne(x, this.scratchWords[1]!);
    this.pending++;
    this.total++;
  }

  /** Adds xs[start..end) with the fast 4-lane loop. */
  addArray(xs: Float64Array, start = 0, end: number = xs.length): void {
    if (!(xs instanceof Float64Array)) throw new TypeError('ExactAccumulator.addArray: expected a Float64Array');
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > xs.length || start > end) {
      throw new RangeError(`ExactAccumulator.addArray: bad range [${start}, ${end}) for length ${xs.length}`);
    }
    if (start === end) return;
    const w = new Uint32Array(xs.buffer, xs.byteOffset, xs.length * 2);
    const cells = this.cells;
    let i = start;
    while (i < end) {
      if (this.pending >= this.limit) this.flush();
      const room = this.limit - this.pending;
      const stop = end - i < room ? end : i + room;
      const groupEnd = i + ((stop - i) & ~3);
      if (fastGroups(cells, xs, w, i, groupEnd)) {
        // Second pass: redo the skipped groups (same boundaries) with the scalar routine.
        for (let g = i; g < groupEnd; g += 4) {
          const j = 2 * g;
          const e0 = (w[j + 1]! >>> 20) & 0x7ff;
          const e1 = (w[j + 3]! >>> 20) & 0x7ff;
          const e2 = (w[j + 5]! >>> 20) & 0x7ff;
          const e3 = (w[j + 7]! >>> 20) & 0x7ff;
          if ((((e0 + 32) | (e1 + 32) | (e2 + 32) | (e3 + 32)) & 0x800) !== 0) {
            this.addOne(xs[g]!, w[j + 1]!);
            this.addOne(xs[g + 1]!, w[j + 3]!);
            this.addOne(xs[g + 2]!, w[j + 5]!);
            this.addOne(xs[g + 3]!, w[j + 7]!);
          }
        }
      }
      for (let t = groupEnd; t < stop; t++) this.addOne(xs[t]!, w[2 * t + 1]!);
      this.pending += stop - i;
      this.total += stop - i;
      i = stop;
    }
  }

  /**
   * toSum() when every term added since the last flush has a biased exponent in [lo, hi]: the
   * flush scans only those exponents' cells (a few instead of 2047: for many small sums, e.g. one
   * per group and chunk).
   */
  toSumWithin(lo: number, hi: number): ExactSum {
    if (this.pending > 0) this.flush(Math.max(0, lo), Math.min(2046, hi));
    return { n: this.n, nan: this.nan, posInf: this.posInf, negInf: this.negInf };
  }

  /** Canonical exact state.  Does not reset; adding may continue afterwards. */
  toSum(): ExactSum {
    if (this.pending > 0) this.flush();
    return { n: this.n, nan: this.nan, posInf: this.posInf, negInf: this.negInf };
  }

  reset(): void {
    if (this.pending > 0) this.cells.fill(0);
    this.pending = 0;
    this.total = 0;
    this.n = 0n;
    this.nan = false;
    this.posInf = false;
    this.negInf = false;
  }

  /** Scalar path for one term whose float64 high word is `hi` (any exponent). */
  private addOne(x: number, hi: number): void {
    const e = (hi >>> 20) & 0x7ff;
    const cells = this.cells;
    if (e < RARE_E) {
      const s = SIG[e]!;
      const h = x + s - s;
      const k = e << 3;
      cells[k] += h;
      cells[k + 1] += x - h;
    } else if (e === 2047) {
      if (x !== x) this.nan = true;
      else if (x > 0) this.posInf = true;
      else this.negInf = true;
    } else {
      // |x| >= 2^993: cells of exponent e hold value * 2^-64 in exponent (e - 64)'s units.
      const y = x * TWO_M64;
      const s = SIG[e - 64]!;
      const h = y + s - s;
      const k = e << 3;
      cells[k] += h;
      cells[k + 1] += y - h;
    }
  }

  /** Folds the float cells into the BigInt state and clears them. */
  private flush(lo = 0, hi = 2046): void {
    const cells = this.cells;
    const iw = this.cellWords;
    const d = this.digits;
    const list = this.nonEmpty;
    // Scan for non-empty exponents (64-byte line each).  For e >= SCAN_HI_FROM every non-zero cell
    // value is >= 2^-1042 in magnitude, so its high 32-bit word is non-zero and the 8 high words
    // suffice; below that, cells may hold tiny subnormals: OR all 16 words.
    let cnt = 0;
    for (let e = lo, b = lo << 4; e < SCAN_HI_FROM && e <= hi; e++, b += 16) {
      if (
        (iw[b]! | iw[b + 1]! | iw[b + 2]! | iw[b + 3]! | iw[b + 4]! | iw[b + 5]! | iw[b + 6]! | iw[b + 7]! |
          iw[b + 8]! | iw[b + 9]! | iw[b + 10]! | iw[b + 11]! | iw[b + 12]! | iw[b + 13]! | iw[b + 14]! | iw[b + 15]!) !==
        0
      ) {
        list[cnt++] = e;
      }
    }
    for (let e = Math.max(lo, SCAN_HI_FROM), b = Math.max(lo, SCAN_HI_FROM) << 4; e <= hi; e++, b += 16) {
      if ((iw[b + 1]! | iw[b + 3]! | iw[b + 5]! | iw[b + 7]! | iw[b + 9]! | iw[b + 11]! | iw[b + 13]! | iw[b + 15]!) !== 0) {
        list[cnt++] = e;
      }
    }
    this.pending = 0;
    if (cnt === 0) return;
    let dmin = NDIG;
    let dmax = -1;
    for (let idx = 0; idx < cnt; idx++) {
      const e = list[idx]!;
      const c = e << 3;
      const dHi = DIG[2 * e]!;
      const dLo = DIG[2 * e + 1]!;
      if (dLo < dmin) dmin = dLo;
      if (dHi + 2 > dmax) dmax = dHi + 2;
      const mHa = MUL[4 * e]!;
      const mHb = MUL[4 * e + 1]!;
      const mLa = MUL[4 * e + 2]!;
      const mLb = MUL[4 * e + 3]!;
      for (let lane = 0; lane < 8; lane += 2) {
        const vh = cells[c + lane]!;
        if (vh !== 0) {
          const x = vh * mHa * mHb; // integer * 2^r, |x| <= 2^84
          const t2 = x + C116 - C116; // multiple of 2^64
          const x1 = x - t2;
          const t1 = x1 + C84 - C84; // multiple of 2^32
          d[dHi] += x1 - t1;
          d[dHi + 1] += t1 * TWO_M32;
          d[dHi + 2] += t2 * TWO_M64;
        }
        const vl = cells[c + lane + 1]!;
        if (vl !== 0) {
          const x = vl * mLa * mLb;
          const t2 = x + C116 - C116;
          const x1 = x - t2;
          const t1 = x1 + C84 - C84;
          d[dLo] += x1 - t1;
          d[dLo + 1] += t1 * TWO_M32;
          d[dLo + 2] += t2 * TWO_M64;
        }
        cells[c + lane] = 0;
        cells[c + lane + 1] = 0;
      }
    }
    // Carry-normalise digits dmin..dmax into [0, 2^32); the final carry (small signed integer)
    // sits at digit dmax + 1.
    let carry = 0;
    for (let j = dmin; j <= dmax; j++) {
      const v = d[j]! + carry;
      carry = Math.floor(v * TWO_M32);
      d[j] = v - carry * TWO_32;
    }
    let hex = '';
    for (let j = dmax; j >= dmin; j--) {
      const s = d[j]!.toString(16);
      hex += s.length === 8 ? s : HEX_PAD.slice(s.length) + s;
      d[j] = 0;
    }
    let v = BigInt('0x' + hex);
    if (carry !== 0) v += BigInt(carry) << BigInt(32 * (dmax + 1 - dmin));
    if (dmin > 0) v <<= BigInt(32 * dmin);
    this.n += v;
  }
}

/** Exact sum of all elements of xs. */
export function exactSumOf(xs: Float64Array): ExactSum {
  const acc = new ExactAccumulator();
  acc.addArray(xs);
  return acc.toSum();
}
