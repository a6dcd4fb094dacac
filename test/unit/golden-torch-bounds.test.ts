/**
 * PyTorch's own values against losseval's reference (test/golden `ref`), per loss: the largest
 * ulp distance over every golden case with a reference must be exactly the stated bound of
 * test/helpers/torch-bounds.ts, and the README's Accuracy table must state the same numbers.
 * (The per-case tests in golden-*.test.ts check losseval against the reference bit for bit.)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadGolden, torchDistances } from '../helpers/golden.js';
import { TORCH_ULP_BOUNDS } from '../helpers/torch-bounds.js';

const LOSSES = Object.keys(TORCH_ULP_BOUNDS);

describe('PyTorch ulp bounds', () => {
  const measured: Record<string, { terms: number; reduced: number; cases: number }> = {};
  for (const loss of LOSSES) {
    it(`${loss}: the measured maximum over all cases is the stated bound`, () => {
      const golden = loadGolden(loss);
      const m = { terms: 0, reduced: 0, cases: 0 };
      for (const c of golden.cases) {
        if (!c.ref) continue;
        const d = torchDistances(c);
        m.terms = Math.max(m.terms, d.terms);
        m.reduced = Math.max(m.reduced, d.reduced);
        m.cases++;
      }
      measured[loss] = m;
      expect(m.cases).toBeGreaterThan(5);
      expect({ terms: m.terms, reduced: m.reduced }, `measured over ${m.cases} cases`).toEqual(TORCH_ULP_BOUNDS[loss]);
    });
  }

  it("the README's Accuracy table states these bounds", () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Accuracy'));
    expect(section, 'README has an Accuracy section').toBeDefined();
    const rows = new Map<string, [number, number]>();
    for (const m of section!.matchAll(/^\| `([a-z0-9_]+)` \| (\d+) \| (\d+) \|/gm)) rows.set(m[1]!, [Number(m[2]), Number(m[3])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(LOSSES.map((l) => [l, [TORCH_ULP_BOUNDS[l]!.terms, TORCH_ULP_BOUNDS[l]!.reduced]])));
  });
});
