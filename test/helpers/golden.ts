/** Load the PyTorch golden fixtures (test/golden/*.json, written by scripts/golden.py). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
  error: string | null;
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
