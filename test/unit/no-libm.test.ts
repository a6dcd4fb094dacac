/**
 * Reproducibility rests on every loss term using losseval's own correctly
 * rounded log/log1p/exp: no kernel may call the platform's Math.log & co. or
 * `**` (whose results differ between CPUs and Node versions).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const FORBIDDEN = /Math\.(log|log1p|log2|log10|exp|expm1|pow|tanh|sinh|cosh|cbrt|hypot)\b|\*\*/;

function code(text: string): string {
  // strip comments so prose may mention the forbidden names
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

for (const folder of ['losses', 'math']) {
  describe(`src/${folder}`, () => {
    const dir = fileURLToPath(new URL(`../../src/${folder}/`, import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    it('has files to check', () => expect(files.length).toBeGreaterThan(2));
    for (const f of files) {
      it(`${f} uses no platform libm function and no **`, () => {
        const lines = code(readFileSync(join(dir, f), 'utf8')).split('\n');
        const bad = lines.flatMap((l, i) => (FORBIDDEN.test(l) ? [`${f}:${i + 1}: ${l.trim()}`] : []));
        expect(bad).toEqual([]);
      });
    }
  });
}

it('the pattern catches what it should', () => {
  expect(FORBIDDEN.test('const y = Math.log(x);')).toBe(true);
  expect(FORBIDDEN.test('const y = x ** 2;')).toBe(true);
  expect(FORBIDDEN.test('const y = Math.abs(x) * x;')).toBe(false);
});
