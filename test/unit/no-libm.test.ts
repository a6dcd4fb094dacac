/**
 * Reproducibility rests on every loss term using losseval's own correctly rounded log/log1p/exp:
 * no code in src/ may call the platform's Math.log & co. (whose results differ between CPUs and
 * Node versions) nor compute `**` of a non-constant.
 *
 * 1. At run time: Math.log/exp/log1p/expm1/pow (and the other libm functions) are replaced, before
 *    any src module loads, by stubs that record and throw when called from a file under src/; then
 *    every PyTorch golden test (test/unit/golden-*.test.ts) runs in this module context, so every
 *    loss's kernel runs over its golden inputs with the stubs in place. A call from src/ fails the
 *    golden case that made it, and is listed by the last test here (error cases that expect a
 *    throw would otherwise swallow it).
 * 2. In the source: the TypeScript syntax tree of every file in src/ is searched for `**` whose
 *    operands are not both numeric literals, and for any reference to a forbidden Math member
 *    (`Math.log`, `Math['exp']`, `const { log } = Math`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const FORBIDDEN = ['log', 'log1p', 'log2', 'log10', 'exp', 'expm1', 'pow', 'tanh', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'cbrt', 'hypot'] as const;

/** The file of the frame that called the stub, from a V8 stack (frame 0: the Error, 1: the stub). */
export function callerFile(stack: string): string | null {
  const frame = stack.split('\n').slice(1).find((l) => !l.includes('no-libm.test.ts')) ?? '';
  const m = /\(?(?:file:\/\/)?(\/[^():]+):\d+:\d+\)?\s*$/.exec(frame);
  return m ? m[1]! : null;
}

const fromSrc = (file: string | null): boolean => file !== null && file.startsWith(SRC);
const calls: string[] = [];
const orig = new Map<string, (...a: number[]) => number>();
for (const name of FORBIDDEN) {
  const f = (Math as unknown as Record<string, (...a: number[]) => number>)[name]!;
  orig.set(name, f);
  Object.defineProperty(Math, name, {
    configurable: true, writable: true,
    value: function stub(...args: number[]): number {
      const file = callerFile(new Error().stack ?? '');
      if (fromSrc(file)) {
        calls.push(`Math.${name}(${args.join(', ')}) from ${relative(SRC, file!)}`);
        throw new Error(`Math.${name} called from src/${relative(SRC, file!)}`);
      }
      return f(...args);
    },
  });
}
afterAll(() => {
  for (const [name, f] of orig) Object.defineProperty(Math, name, { configurable: true, writable: true, value: f });
});

// the golden tests, loaded only now (after the stubs): their src modules are fresh in this file
const HERE = fileURLToPath(new URL('.', import.meta.url));
const goldenFiles = readdirSync(HERE).filter((f) => /^golden-.*\.test\.ts$/.test(f)).sort();
describe('the golden tests, with the libm functions stubbed to throw from src/', async () => {
  for (const f of goldenFiles) await import(/* @vite-ignore */ `./${f}`);
});

describe('the stubs', () => {
  it('there are golden test files to run under them', () => {
    expect(goldenFiles).toEqual(expect.arrayContaining(['golden-classification.test.ts', 'golden-other.test.ts', 'golden-regression.test.ts']));
  });
  it('tell a call from src/ from any other (the test runner may use Math.log)', () => {
    expect(callerFile(`Error\n    at Math.stub [as log] (/a/no-libm.test.ts:1:1)\n    at kernel (${SRC}losses/margin.ts:12:34)\n    at t (/x/test.ts:1:1)`))
      .toBe(`${SRC}losses/margin.ts`);
    expect(fromSrc(callerFile(`Error\n    at Math.stub (/a/no-libm.test.ts:1:1)\n    at file://${SRC}math/log.ts:3:4`))).toBe(true);
    expect(fromSrc(callerFile('Error\n    at Math.stub (/a/no-libm.test.ts:1:1)\n    at /work/node_modules/vitest/x.js:3:4'))).toBe(false);
    expect(Math.log(Math.E)).toBe(1); // this file is not under src/: the real function
  });
  it('were never called from src/ while the golden tests ran', () => {
    // declared last: runs after every golden case above
    expect(calls).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The source

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(c|m)?ts$/.test(f) ? [p] : [];
  });
}

const isNumberLiteral = (e: ts.Expression): boolean => {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)) return isNumberLiteral(e.operand);
  return ts.isNumericLiteral(e) || ts.isBigIntLiteral(e);
};
const isMath = (e: ts.Expression): boolean => ts.isIdentifier(e) && e.text === 'Math';
const forbiddenName = (s: string): boolean => (FORBIDDEN as readonly string[]).includes(s);

/** `**` on non-literals and references to forbidden Math members in one source text. */
export function problems(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const at = (n: ts.Node, what: string): void => {
    const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    out.push(`${file}:${line + 1}: ${what}: ${n.getText(sf)}`);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isBinaryExpression(n) && (n.operatorToken.kind === ts.SyntaxKind.AsteriskAsteriskToken || n.operatorToken.kind === ts.SyntaxKind.AsteriskAsteriskEqualsToken)) {
      if (n.operatorToken.kind === ts.SyntaxKind.AsteriskAsteriskEqualsToken || !isNumberLiteral(n.left) || !isNumberLiteral(n.right)) at(n, '** of a non-constant');
    }
    if (ts.isPropertyAccessExpression(n) && isMath(n.expression) && forbiddenName(n.name.text)) at(n, 'Math member');
    if (ts.isElementAccessExpression(n) && isMath(n.expression)) {
      const k = n.argumentExpression;
      if (!ts.isStringLiteralLike(k) || forbiddenName(k.text)) at(n, 'Math member by index');
    }
    if (ts.isVariableDeclaration(n) && n.initializer && isMath(n.initializer)) at(n, 'Math destructured or aliased');
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && isMath(n.right)) at(n, 'Math aliased');
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('src/ (syntax tree)', () => {
  const files = sourceFiles(SRC);
  it('has the files to check', () => {
    expect(files.map((f) => relative(SRC, f))).toEqual(expect.arrayContaining(['losses/margin.ts', 'math/log.ts', 'parse/arrow-column.ts', 'reduce/exact-sum.ts']));
  });
  it('no ** of a non-constant and no forbidden Math member anywhere', () => {
    expect(files.flatMap((f) => problems(relative(SRC, f), readFileSync(f, 'utf8')))).toEqual([]);
  });
  it('the check catches what it should, and passes constants and prose', () => {
    const found = (code: string): number => problems('x.ts', code).length;
    expect(found('const y = Math.log(x);')).toBe(1);
    expect(found("const y = Math['exp'](x);")).toBe(1);
    expect(found('const k = "pow"; const y = Math[k](x, 2);')).toBe(1);
    expect(found('const { log1p } = Math;')).toBe(1);
    expect(found('const M = Math; M.expm1(x);')).toBe(1);
    expect(found('const y = x ** 2;')).toBe(1);
    expect(found('const y = 2 ** e;')).toBe(1);
    expect(found('y **= 2;')).toBe(1);
    expect(found('const y = 2 ** 53, z = 2 ** -1074, w = (-2) ** 3;')).toBe(0);
    expect(found('const y = Math.abs(x) * x + Math.max(a, b); // Math.log(x) ** 2')).toBe(0);
  });
});
