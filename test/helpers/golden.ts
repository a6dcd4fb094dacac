/** Load the PyTorch golden fixtures (test/golden/*.json, written by scripts/golden.py). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { exactScaledSum, roundRational } from './exact.js';
import { TORCH_ULP_BOUNDS } from './torch-bounds.js';

/**
 * The independent reference of losseval's results (scripts/refterms.py: losseval's operation
 * order in Python, correctly rounded log/log1p/exp from mpmath). `diff` lists the flat indices
 * where a reference term differs from torch's `none`; sum/mean/batchmean are float64 bit
 * patterns (16 hex digits) of the exact sum/quotient of the reference terms, rounded once
 * (an exact zero sum is +0).
 */
export interface GoldenRef {
  diff: [number, string][];
  sum: string;
  mean: string;
  batchmean?: string;
}

export interface GoldenCase {
  name: string;
  kwargs: Record<string, unknown>;
  inputs: Record<string, unknown>;
  shapes: Record<string, number[]>;
  target_kind: string;
  formula: string;
  none?: unknown;
  mean?: string;
  sum?: string;
  batchmean?: string;
  torch_mean?: string | null;
  torch_sum?: string | null;
  torch_batchmean?: string;
  denominator?: string;
  error: string | null;
  /** null for error cases and for cases losseval refuses (a negative label_smoothing). */
  ref?: GoldenRef | null;
}

export interface GoldenFile {
  loss: string;
  torch: string;
  cases: GoldenCase[];
}

export function loadGolden(loss: string): GoldenFile {
  const path = fileURLToPath(new URL(`../golden/${loss}.json`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as GoldenFile;
}

/** Python repr text → float64 ('nan', 'inf', '-inf' included). */
export function num(s: unknown): number {
  if (typeof s === 'number') return s;
  if (s === 'nan') return NaN;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s as string);
}

/** A nested list of a tensor of the given shape as a row-major matrix: [N] → N×1, [N,C] → N×C, [] → 1×1. */
export function matrix(v: unknown, shape: number[]): { data: Float64Array; rows: number; width: number } {
  const flat: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else flat.push(num(x));
  };
  walk(v);
  const rows = shape.length === 0 ? 1 : shape[0]!;
  const width = shape.length <= 1 ? 1 : shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: Float64Array.from(flat), rows, width };
}

export function flat(v: unknown): number[] {
  const out: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else out.push(num(x));
  };
  walk(v);
  return out;
}

const bitsView = new DataView(new ArrayBuffer(8));

/** A float64 from its bit pattern in 16 hex digits. */
export function fromHex(h: string): number {
  bitsView.setBigUint64(0, BigInt(`0x${h}`));
  return bitsView.getFloat64(0);
}

/** The bit pattern of x as 16 hex digits (every NaN as 7ff8000000000000, as the generator writes it). */
export function hexOf(x: number): string {
  if (Number.isNaN(x)) return '7ff8000000000000';
  bitsView.setFloat64(0, x);
  return bitsView.getBigUint64(0).toString(16).padStart(16, '0');
}

/** Position of x on the line of doubles (−0 and +0 both 0), so that adjacent doubles differ by 1. */
function ordinal(x: number): bigint {
  bitsView.setFloat64(0, x);
  const b = bitsView.getBigInt64(0);
  return b >= 0n ? b : -(b & 0x7fffffffffffffffn);
}

/** How many doubles apart a and b are: 0 for equal values (±0 alike) and for NaN against NaN, Infinity for NaN against a number. */
export function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const d = ordinal(a) - ordinal(b);
  return Number(d < 0n ? -d : d);
}

/** The reference terms of a case: torch's `none`, flattened, with the reference's differing entries. */
export function refTerms(c: GoldenCase): number[] {
  const terms = flat(c.none);
  for (const [i, v] of c.ref!.diff) terms[i] = num(v);
  return terms;
}

/**
 * The mean's denominator terms of a case, from the inputs alone: Σ w[y] over the kept rows
 * (`sum_w_y`: nll, cross_entropy class-index), else a count of terms or rows.
 */
function denominatorTerms(c: GoldenCase, terms: readonly number[]): number[] | bigint {
  if (c.denominator === 'sum_w_y') {
    const ignore = c.kwargs.ignore_index as number;
    const w = c.inputs.weight === undefined ? null : flat(c.inputs.weight);
    return (c.inputs.target as number[]).filter((t) => t !== ignore).map((t) => (w ? w[t]! : 1));
  }
  if (c.denominator === 'N') return BigInt(c.shapes.input!.length === 0 ? 1 : c.shapes.input![0]!);
  return BigInt(terms.length);
}

/** Correctly rounded Σ num / den (BigInt, test/helpers/exact.ts), IEEE for x/0; null if a term is not finite. */
function exactQuotient(numTerms: readonly number[], den: readonly number[] | bigint): number | null {
  if (!numTerms.every(Number.isFinite)) return null;
  const n = exactScaledSum(numTerms);
  const d = typeof den === 'bigint' ? den << 1074n : exactScaledSum(den);
  if (d === 0n) return n === 0n ? NaN : n > 0n ? Infinity : -Infinity;
  // an exact zero sum is +0, even of −0 terms (losseval's rule, and PyTorch's: its sums start from +0)
  if (n === 0n) return d > 0n ? 0 : -0;
  return d > 0n ? roundRational(n, d) : roundRational(-n, -d);
}

/** What losseval computed for a golden case. */
export interface LossResult {
  terms: ArrayLike<number>;
  sum: number;
  mean: number;
  /** kl_div only. */
  batchmean?: number;
}

/** Every entry where got and want are not the same float64 (Object.is: −0 ≠ +0, NaN = NaN), as readable lines. */
export function bitMismatches(got: ArrayLike<number>, want: readonly number[]): string[] {
  const bad: string[] = [];
  if (got.length !== want.length) return [`${got.length} terms, want ${want.length}`];
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) bad.push(`${i}: ${got[i]} (${hexOf(got[i]!)}) want ${want[i]} (${hexOf(want[i]!)})`);
  }
  return bad;
}

/**
 * losseval's result for a golden case against the reference, bit for bit: every term, and sum /
 * mean (/ batchmean) equal to the exact sum / quotient of the reference terms rounded once — the
 * generator's Fraction value, cross-checked here with the BigInt helper. Then against PyTorch's own
 * values within the loss's stated ulp bound (torch-bounds.ts, the README's Accuracy table).
 */
export function expectMatchesReference(loss: string, c: GoldenCase, got: LossResult): void {
  const ref = c.ref;
  if (!ref) throw new Error(`${c.name}: the fixture has no reference (regenerate with scripts/golden.py)`);
  const terms = refTerms(c);
  expect(bitMismatches(got.terms, terms), 'terms vs reference').toEqual([]);
  const want = { sum: fromHex(ref.sum), mean: fromHex(ref.mean) };
  const bigSum = exactQuotient(terms, 1n);
  if (bigSum !== null) expect(hexOf(bigSum), 'generator sum vs BigInt sum').toBe(ref.sum);
  const bigMean = exactQuotient(terms, denominatorTerms(c, terms));
  if (bigMean !== null) expect(hexOf(bigMean), 'generator mean vs BigInt quotient').toBe(ref.mean);
  expect(hexOf(got.sum), 'sum').toBe(hexOf(want.sum));
  expect(Object.is(got.sum, want.sum), 'sum (sign of zero)').toBe(true);
  expect(hexOf(got.mean), 'mean').toBe(hexOf(want.mean));
  expect(Object.is(got.mean, want.mean), 'mean (sign of zero)').toBe(true);
  if (ref.batchmean !== undefined) {
    expect(hexOf(got.batchmean!), 'batchmean').toBe(ref.batchmean);
    const rows = BigInt(c.shapes.input!.length === 0 ? 1 : c.shapes.input![0]!);
    const bigBatch = exactQuotient(terms, rows);
    if (bigBatch !== null) expect(hexOf(bigBatch), 'generator batchmean vs BigInt quotient').toBe(ref.batchmean);
  }
  const bound = TORCH_ULP_BOUNDS[loss]!;
  const d = torchDistances(c);
  expect(d.terms, `terms within ${bound.terms} ulp of torch`).toBeLessThanOrEqual(bound.terms);
  expect(d.reduced, `sum/mean within ${bound.reduced} ulp of torch`).toBeLessThanOrEqual(bound.reduced);
}

/**
 * How far PyTorch's values are from the reference in a case (max ulp distance): its `none` terms,
 * and its `torch_sum`, `torch_mean` (and `torch_batchmean`) against the exact reductions.
 */
export function torchDistances(c: GoldenCase): { terms: number; reduced: number } {
  const ref = c.ref!;
  const terms = refTerms(c);
  const torch = flat(c.none);
  let t = 0;
  for (let i = 0; i < terms.length; i++) t = Math.max(t, ulpDistance(torch[i]!, terms[i]!));
  let r = 0;
  const pairs: [string | null | undefined, string | undefined][] = [
    [c.torch_sum, ref.sum], [c.torch_mean, ref.mean], [c.torch_batchmean, ref.batchmean],
  ];
  // torch_sum / torch_mean are null where PyTorch returns uninitialised memory (multi_margin, N = 0)
  for (const [tv, rv] of pairs) if (tv != null && rv !== undefined) r = Math.max(r, ulpDistance(num(tv), fromHex(rv)));
  return { terms: t, reduced: r };
}
