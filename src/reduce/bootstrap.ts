/**
 * Poisson(1) bootstrap in one pass, exact (see ../shared/research/bootstrap.md, design W8 + g3).
 *
 * Weights: row i (its global 0-based index among the data rows, plus --row-offset) gets, for
 * replicate r, the weight w(seed, i, r) in 0..10 drawn from a counter-based generator: no state,
 * so weights do not depend on chunking, workers or shards.
 *   key_i = fmix32(fmix32(lo32(i) ^ seed) ^ imul(hi32(i) + 1, 0x9e3779b1) ^ seed)
 *   z     = fmix32(key_i + q · 0x9e3779b9)            one word per 4 replicates q = r >> 2
 *   byte b = byte (r & 3) of z: w = T8[b] for b < 253 (94, 94, 47, 15, 3 bytes give 0..4);
 *   b ≥ 253 (3/256 of weights) escapes to u = (b − 253)·2^16 + (fmix32(key_i ^ imul(r + 1, 0x85ebca77)) >>> 16)
 *   and the escape table; together P(w = k) = N24[k] / 2^24 exactly (Poisson(1) to 1e-7).
 *
 * Sums: each replicate keeps an exact Σ w·x (x: the loss terms) — a term is split once into
 * h + l by its exponent E (exact-sum.ts's SIG), and w·h, w·l (w ≤ 10) are exact doubles;
 * blocks of rows are bucketed by E, and per (E, 4 replicates) register sums are added to
 * cells[E][r]. Cells are folded into BigInt sums (ExactSum: value · 2^1074) at the end of every
 * chunk, so merging is exact: any chunking or sharding gives the same replicate sums.
 */
import { pow2, RARE_E, SIG, type ExactSum } from './exact-sum.js';

export const BOOT_GENERATOR = 'W8/fmix32/N24';

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Weight counts per 2^24 (w = 0..10). */
const N24 = [6171993, 6171993, 3085996, 1028666, 257166, 51433, 8572, 1225, 153, 17, 2];
/** Byte → weight (bytes ≥ 253 escape: 0 here). */
const T8Z = new Float64Array(256);
/** Escape values u in [0, 3·2^16): weight = the first k with u < ESC_CUM[k]. */
const ESC_CUM = new Int32Array(11);
{
  let b = 0;
  let cum = 0;
  for (let k = 0; k < N24.length; k++) {
    const bytes = k <= 4 ? Math.floor(N24[k]! / 65536) : 0;
    for (let j = 0; j < bytes; j++) T8Z[b++] = k;
    cum += N24[k]! - bytes * 65536;
    ESC_CUM[k] = cum;
  }
  if (b !== 253 || cum !== 3 * 65536) throw new Error('internal: bootstrap weight tables');
}

/** The row's hash key (i: a non-negative safe integer). */
export function rowKey(seed: number, i: number): number {
  const lo = i >>> 0;
  const hi = Math.floor(i / 4294967296);
  return fmix32(fmix32(lo ^ seed) ^ Math.imul(hi + 1, 0x9e3779b1) ^ seed);
}

function escapeWeight(key: number, r: number, b: number): number {
  const u = (b - 253) * 65536 + (fmix32(key ^ Math.imul(r + 1, 0x85ebca77)) >>> 16);
  let k = 0;
  while (u >= ESC_CUM[k]!) k++;
  return k;
}

/** w(seed, i, r): the weight of row i in replicate r (the scalar definition; the loops below agree). */
export function bootWeight(seed: number, i: number, r: number): number {
  const key = rowKey(seed, i);
  const z = fmix32((key + Math.imul(r >>> 2, 0x9e3779b9)) | 0);
  const b = (z >>> (8 * (r & 3))) & 255;
  return b < 253 ? T8Z[b]! : escapeWeight(key, r, b);
}

const BLOCK = 512;
/** A cell takes ≤ 2^30 units per term (w ≤ 10, |h|, |l| ≤ 2^26 units): fold before 2^23 terms. */
const FOLD_EVERY = 1 << 22;

/**
 * R replicates' exact Σ w·x over terms added with their rows' keys (reused per chunk: reset()).
 * R must be a multiple of 4 internally; other R are padded and the extra replicates dropped.
 */
export class BootAccumulator {
  private readonly R4: number;
  private readonly cellsH: Float64Array;
  private readonly cellsL: Float64Array;
  private readonly touched = new Uint8Array(2048);
  private readonly touchedList = new Int32Array(2048);
  private nTouched = 0;
  /** Σ w per replicate (the weighted row count), exact in a double */
  readonly counts: Float64Array;
  private readonly nan: Uint8Array;
  private readonly posInf: Uint8Array;
  private readonly negInf: Uint8Array;
  private readonly rare: bigint[];
  private hasRare = false;
  // block scratch
  private readonly GH = new Float64Array(BLOCK);
  private readonly GL = new Float64Array(BLOCK);
  private readonly GK = new Int32Array(BLOCK);
  private readonly GE = new Int32Array(BLOCK);
  private readonly SH = new Float64Array(BLOCK);
  private readonly SL = new Float64Array(BLOCK);
  private readonly SK = new Int32Array(BLOCK);
  private readonly bucketOf = new Int32Array(2048).fill(-1);
  private readonly bucketE = new Int32Array(BLOCK);
  private readonly bucketStart = new Int32Array(BLOCK + 1);
  private readonly esc: Int32Array;
  /** terms added since the cells were last folded into `acc` (cells stay exact below 2^23) */
  private pending = 0;
  private readonly acc: bigint[];
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  constructor(readonly R: number) {
    this.R4 = (R + 3) >> 2;
    const n = this.R4 * 4;
    this.cellsH = new Float64Array(2048 * n);
    this.cellsL = new Float64Array(2048 * n);
    this.counts = new Float64Array(n);
    this.nan = new Uint8Array(n);
    this.posInf = new Uint8Array(n);
    this.negInf = new Uint8Array(n);
    this.rare = new Array<bigint>(n).fill(0n);
    this.acc = new Array<bigint>(n).fill(0n);
    // every (row, word) of a block may escape
    this.esc = new Int32Array(2 * BLOCK * this.R4);
  }

  /** Add Σ_r w(key, r) to counts for each row key (the weighted row count). */
  addCounts(keys: Int32Array, n: number): void {
    const counts = this.counts;
    for (let q = 0, qg = 0; q < this.R4; q++, qg = (qg + 0x9e3779b9) | 0) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = 0; k < n; k++) {
        const key = keys[k]!;
        let z = (key + qg) | 0;
        z ^= z >>> 16; z = Math.imul(z, 0x85ebca6b); z ^= z >>> 13; z = Math.imul(z, 0xc2b2ae35); z ^= z >>> 16;
        const b0 = z & 255, b1 = (z >>> 8) & 255, b2 = (z >>> 16) & 255, b3 = z >>> 24;
        c0 += b0 < 253 ? T8Z[b0]! : escapeWeight(key >>> 0, 4 * q, b0);
        c1 += b1 < 253 ? T8Z[b1]! : escapeWeight(key >>> 0, 4 * q + 1, b1);
        c2 += b2 < 253 ? T8Z[b2]! : escapeWeight(key >>> 0, 4 * q + 2, b2);
        c3 += b3 < 253 ? T8Z[b3]! : escapeWeight(key >>> 0, 4 * q + 3, b3);
      }
      counts[4 * q] += c0; counts[4 * q + 1] += c1; counts[4 * q + 2] += c2; counts[4 * q + 3] += c3;
    }
  }

  /**
   * Add Σ_r w(keys[k], r) · xs[k] for k < n; with `count` (one term per row) also Σ_r w to
   * counts, in the same loop (as addCounts would).
   */
  addTerms(xs: Float64Array, keys: Int32Array, n: number, count = false): void {
    for (let s = 0; s < n; s += BLOCK) {
      if (this.pending >= FOLD_EVERY) this.fold();
      this.block(xs, keys, s, Math.min(n, s + BLOCK), count);
      this.pending += Math.min(n, s + BLOCK) - s;
    }
  }

  private block(xs: Float64Array, keys: Int32Array, s: number, e: number, count: boolean): void {
    const { GH, GL, GK, GE, SH, SL, SK, bucketOf, bucketE, bucketStart, u32, f64 } = this;
    let m = 0;
    let nb = 0;
    // split, and bucket the block's finite terms by exponent
    for (let k = s; k < e; k++) {
      const x = xs[k]!;
      f64[0] = x;
      const E = (u32[1]! >>> 20) & 0x7ff;
      if (E >= RARE_E) { this.addRare(x, keys[k]! >>> 0, E, count); continue; }
      const sg = SIG[E]!;
      const h = x + sg - sg;
      GH[m] = h; GL[m] = x - h; GK[m] = keys[k]!; GE[m] = E;
      if (bucketOf[E] === -1) { bucketOf[E] = nb; bucketE[nb] = E; bucketStart[nb] = 0; nb++; }
      bucketStart[bucketOf[E]!]!++;
      m++;
    }
    // counting sort by bucket
    let acc = 0;
    for (let b = 0; b < nb; b++) { const c = bucketStart[b]!; bucketStart[b] = acc; acc += c; }
    bucketStart[nb] = acc;
    // the rows in bucket order, so that the replicate loops read them in sequence
    for (let k = 0; k < m; k++) {
      const d = bucketStart[bucketOf[GE[k]!]!]!++;
      SH[d] = GH[k]!; SL[d] = GL[k]!; SK[d] = GK[k]!;
    }
    for (let b = nb; b > 0; b--) bucketStart[b] = bucketStart[b - 1]!;
    bucketStart[0] = 0;
    const R4 = this.R4, R = R4 * 4;
    const cellsH = this.cellsH, cellsL = this.cellsL, esc = this.esc, counts = this.counts;
    for (let b = 0; b < nb; b++) {
      const E = bucketE[b]!;
      bucketOf[E] = -1;
      if (this.touched[E] === 0) { this.touched[E] = 1; this.touchedList[this.nTouched++] = E; }
      const a = bucketStart[b]!, z1 = bucketStart[b + 1]!;
      const base = E * R;
      let ne = 0;
      for (let q = 0, qg = 0; q < R4; q++, qg = (qg + 0x9e3779b9) | 0) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        for (let k = a; k < z1; k++) {
          let z = (SK[k]! + qg) | 0;
          z ^= z >>> 16; z = Math.imul(z, 0x85ebca6b); z ^= z >>> 13; z = Math.imul(z, 0xc2b2ae35); z ^= z >>> 16;
          if ((((z & 0x7f7f7f7f) + 0x03030303) & z & 0x80808080) !== 0) { esc[ne++] = k; esc[ne++] = q; }
          const w0 = T8Z[z & 255]!, w1 = T8Z[(z >>> 8) & 255]!, w2 = T8Z[(z >>> 16) & 255]!, w3 = T8Z[z >>> 24]!;
          const h = SH[k]!, l = SL[k]!;
          a0 += w0 * h; b0 += w0 * l; a1 += w1 * h; b1 += w1 * l; a2 += w2 * h; b2 += w2 * l; a3 += w3 * h; b3 += w3 * l;
          c0 += w0; c1 += w1; c2 += w2; c3 += w3;
        }
        const c = base + 4 * q;
        cellsH[c] += a0; cellsL[c] += b0; cellsH[c + 1] += a1; cellsL[c + 1] += b1;
        cellsH[c + 2] += a2; cellsL[c + 2] += b2; cellsH[c + 3] += a3; cellsL[c + 3] += b3;
        if (count) { counts[4 * q] += c0; counts[4 * q + 1] += c1; counts[4 * q + 2] += c2; counts[4 * q + 3] += c3; }
      }
      // escape bytes weighed 0 above: add their true weights
      for (let t = 0; t < ne; t += 2) {
        const k = esc[t]!, q = esc[t + 1]!;
        const key = SK[k]! >>> 0;
        const z = fmix32((key + Math.imul(q, 0x9e3779b9)) | 0);
        for (let j = 0; j < 4; j++) {
          const byte = (z >>> (8 * j)) & 255;
          if (byte < 253) continue;
          const w = escapeWeight(key, 4 * q + j, byte);
          cellsH[base + 4 * q + j] += w * SH[k]!;
          cellsL[base + 4 * q + j] += w * SL[k]!;
          if (count) counts[4 * q + j] += w;
        }
      }
    }
  }

  /** |x| ≥ 2^993, ±Inf, NaN: per replicate, by BigInt or flags. */
  private addRare(x: number, key: number, E: number, count: boolean): void {
    const R = this.R4 * 4;
    for (let r = 0; r < R; r++) {
      const z = fmix32((key + Math.imul(r >>> 2, 0x9e3779b9)) | 0);
      const b = (z >>> (8 * (r & 3))) & 255;
      const w = b < 253 ? T8Z[b]! : escapeWeight(key, r, b);
      if (w === 0) continue;
      if (count) this.counts[r] += w;
      if (E === 2047) {
        if (x !== x) this.nan[r] = 1;
        else if (x > 0) this.posInf[r] = 1;
        else this.negInf[r] = 1;
      } else {
        this.rare[r] = this.rare[r]! + BigInt(w) * (BigInt(x) << 1074n);
        this.hasRare = true;
      }
    }
  }

  /** The exact replicate sums (value · 2^1074 as ExactSum), R of them; then starts again from zero. */
  sums(): ExactSum[] {
    this.fold();
    const n = this.acc;
    const out: ExactSum[] = [];
    for (let r = 0; r < this.R; r++) {
      out.push({ n: n[r]! + (this.hasRare ? this.rare[r]! : 0n), nan: this.nan[r] === 1, posInf: this.posInf[r] === 1, negInf: this.negInf[r] === 1 });
    }
    n.fill(0n);
    this.rare.fill(0n);
    this.hasRare = false;
    this.nan.fill(0);
    this.posInf.fill(0);
    this.negInf.fill(0);
    return out;
  }

  /** Fold the float cells into the BigInt sums and clear them. */
  private fold(): void {
    const R = this.R4 * 4;
    const n = this.acc;
    this.pending = 0;
    for (let t = 0; t < this.nTouched; t++) {
      const E = this.touchedList[t]!;
      const e = E === 0 ? 1 : E;
      // h: integer multiples of 2^(e-1048); l: of 2^(e-1075) (scaled by 2^1074: shifts e+26 and e-1)
      const hShift = BigInt(e + 26), lShift = BigInt(e - 1);
      const hA = pow2(Math.min(1023, 1048 - e)), hB = pow2(1048 - e - Math.min(1023, 1048 - e));
      const lA = pow2(Math.min(1023, 1075 - e)), lB = pow2(1075 - e - Math.min(1023, 1075 - e));
      for (let r = 0; r < R; r++) {
        const c = E * R + r;
        const h = this.cellsH[c]!, l = this.cellsL[c]!;
        if (h !== 0) n[r] = n[r]! + (BigInt(h * hA * hB) << hShift);
        if (l !== 0) n[r] = n[r]! + (BigInt(l * lA * lB) << lShift);
        this.cellsH[c] = 0;
        this.cellsL[c] = 0;
      }
      this.touched[E] = 0;
    }
    this.nTouched = 0;
  }

  /** The weighted row counts (Σ w per replicate, R of them); then zeroes them. */
  takeCounts(): number[] {
    const out = Array.from(this.counts.subarray(0, this.R));
    this.counts.fill(0);
    return out;
  }
}
