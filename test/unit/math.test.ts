/**
 * Correctly rounded log / log1p / exp (src/math): every result must equal mpmath's correctly
 * rounded reference bit for bit. Fixtures and the hash constant come from
 * scripts/math-fixtures.py (mpmath, 300 bits); this test reads only test/fixtures/math.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exp, log, log1p } from '../../src/math/index.js';
import * as T from '../../src/math/tables.js';
import { fromBits, readMathFixture, toBits } from '../helpers/math-fixture.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, '..', 'fixtures', 'math');
const SRC = join(HERE, '..', '..', 'src', 'math');
const FNS = { log, log1p, exp } as const;
type Name = keyof typeof FNS;

const readFixture = (name: Name): Array<[number, number]> => readMathFixture(name);
const hex = (x: number): string => toBits(x).toString(16).padStart(16, '0');

describe.each(['log', 'log1p', 'exp'] as const)('%s matches the correctly rounded reference', (name) => {
  const rows = readFixture(name);
  it(`has a substantial fixture (${rows.length} rows, incl. 2000 published hard cases)`, () => {
    expect(rows.length).toBeGreaterThan(7000);
  });
  it('every fixture result is bit-identical', () => {
    const fn = FNS[name];
    const bad: string[] = [];
    for (const [x, want] of rows) {
      const got = fn(x);
      if (!Object.is(got, want)) bad.push(`${name}(${hex(x)} = ${x}) = ${hex(got)}, want ${hex(want)}`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(bad.length).toBe(0);
  });
});

describe('special values (IEEE 754 / C99 Annex F)', () => {
  const MIN_SUB = 5e-324;
  const MAX = 1.7976931348623157e308;
  const cases: Array<[Name, number, number]> = [
    ['log', 0, -Infinity],
    ['log', -0, -Infinity],
    ['log', -1, NaN],
    ['log', -MIN_SUB, NaN],
    ['log', -Infinity, NaN],
    ['log', Infinity, Infinity],
    ['log', NaN, NaN],
    ['log', 1, 0],
    ['log', MIN_SUB, -744.4400719213812],
    ['log', MAX, 709.782712893384],
    ['log', 2, 0.6931471805599453],
    ['log1p', -1, -Infinity],
    ['log1p', -1.0000000000000002, NaN],
    ['log1p', -Infinity, NaN],
    ['log1p', Infinity, Infinity],
    ['log1p', NaN, NaN],
    ['log1p', 0, 0],
    ['log1p', -0, -0],
    ['log1p', MIN_SUB, MIN_SUB],
    ['log1p', -MIN_SUB, -MIN_SUB],
    ['log1p', 1e-300, 1e-300],
    ['log1p', 2 ** -54, 2 ** -54],
    ['log1p', -(2 ** -54), -(2 ** -54)],
    ['log1p', MAX, 709.782712893384],
    ['exp', -Infinity, 0],
    ['exp', Infinity, Infinity],
    ['exp', NaN, NaN],
    ['exp', 0, 1],
    ['exp', -0, 1],
    ['exp', MIN_SUB, 1],
    ['exp', -MIN_SUB, 1],
    ['exp', 709.782712893384, 1.7976931348622732e308], // largest x with a finite result
    ['exp', 709.7827128933841, Infinity],
    ['exp', 1000, Infinity],
    ['exp', -745.1332191019411, MIN_SUB], // smallest subnormal
    ['exp', fromBits(0xc0874910d52d3051n), MIN_SUB], // the last x whose result is not 0
    ['exp', fromBits(0xc0874910d52d3052n), 0], // exp(x) < 2^-1075 from here on: rounds to +0
    ['exp', -745.13321910194122, 0],
    ['exp', -1000, 0],
    ['exp', -708.3964185322641, 2.2250738585072626e-308], // just above the smallest normal
    ['exp', 1, 2.718281828459045],
  ];
  it.each(cases)('%s(%s) = %s', (name, x, want) => {
    expect(Object.is(FNS[name](x), want)).toBe(true);
  });
  it('exp(-0) and exp(0) are +1, log(1) is +0, log1p keeps the sign of zero', () => {
    expect(Object.is(log(1), 0)).toBe(true);
    expect(Object.is(log1p(-0), -0)).toBe(true);
    expect(Object.is(exp(-0), 1)).toBe(true);
  });
  it('results never depend on Math.log/exp/log1p (values where V8 fdlibm is not correctly rounded)', () => {
    // log(3): fdlibm returns ...096, the correctly rounded value is ...098
    expect(hex(log(3))).toBe(hex(fromBits(0x3ff193ea7aad030bn)));
  });
});

// ---------------------------------------------------------------- hash over a generated set
class SplitMix64 {
  private s: bigint;
  constructor(seed: number) {
    this.s = BigInt(seed);
  }
  next(): bigint {
    const M = (1n << 64n) - 1n;
    this.s = (this.s + 0x9e3779b97f4a7c15n) & M;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  }
}

/** Mirror of hash_args() in scripts/math-fixtures.py. */
function hashArgs(name: Name, n: number, seed: number): number[] {
  const g = new SplitMix64(seed);
  const out: number[] = [];
  const MANT = (1n << 52n) - 1n;
  const mod = (v: bigint, m: number): bigint => v % BigInt(m);
  for (let c = 0; c < n; c++) {
    const a = g.next();
    const b = g.next();
    let mant = a & MANT;
    const sel = Number(b & 3n);
    let x: number;
    if (name === 'log') {
      let e: bigint;
      if (sel === 0) e = mod(b >> 2n, 2047);
      else if (sel === 1) e = 1022n - mod(b >> 2n, 60);
      else if (sel === 2) {
        e = 1023n - mod(b >> 2n, 2);
        const sh = mod(b >> 8n, 53);
        mant = e === 1023n ? mant >> sh : MANT - (mant >> sh);
      } else e = 1023n + mod(b >> 2n, 64);
      x = fromBits((e << 52n) | mant);
    } else if (name === 'log1p') {
      if (sel === 0) {
        x = fromBits(((1022n - mod(b >> 2n, 44)) << 52n) | mant);
      } else if (sel === 1) {
        const e = 1022n - mod(b >> 3n, 70);
        x = fromBits((((b >> 2n) & 1n) << 63n) | (e << 52n) | mant);
      } else if (sel === 2) {
        const e = 1022n - mod(b >> 2n, 60);
        x = -fromBits((e << 52n) | mant);
        if ((b >> 10n) & 1n) x = -1.0 + fromBits((e << 52n) | mant) * 0.5;
      } else {
        x = fromBits(((1023n + mod(b >> 2n, 1024)) << 52n) | mant);
      }
    } else {
      if (sel === 0) {
        x = -fromBits(((1027n - mod(b >> 2n, 40)) << 52n) | mant);
      } else if (sel === 1) {
        const e = 1032n - mod(b >> 3n, 12);
        x = fromBits((((b >> 2n) & 1n) << 63n) | (e << 52n) | mant);
      } else if (sel === 2) {
        const e = 1022n - mod(b >> 3n, 70);
        x = fromBits((((b >> 2n) & 1n) << 63n) | (e << 52n) | mant);
      } else {
        const base = [0x40862000n, 0xc0862000n, 0xc0874000n][Number(mod(b >> 2n, 3))]!;
        x = fromBits((base << 32n) | (mant & ((1n << 45n) - 1n)));
      }
    }
    out.push(x);
  }
  return out;
}

describe('output hash', () => {
  it('sha256 of log/log1p/exp over 3 x 20000 generated arguments equals the mpmath reference', () => {
    const ref = JSON.parse(readFileSync(join(FIX, 'hash.json'), 'utf8')) as {
      sha256: string;
      seeds: Record<Name, number>;
      counts: Record<Name, number>;
    };
    const h = createHash('sha256');
    const buf = new Float64Array(1);
    const bytes = new Uint8Array(buf.buffer);
    const view = new DataView(buf.buffer);
    for (const name of ['log', 'log1p', 'exp'] as const) {
      const fn = FNS[name];
      for (const x of hashArgs(name, ref.counts[name], ref.seeds[name])) {
        const y = fn(x);
        // little-endian bit pattern, NaN canonicalised
        if (y !== y) view.setBigUint64(0, 0x7ff8000000000000n, true);
        else view.setFloat64(0, y, true);
        h.update(bytes);
      }
    }
    expect(h.digest('hex')).toBe(ref.sha256);
  });
});

describe('source guards', () => {
  const src = (f: string): string => readFileSync(join(SRC, f), 'utf8');
  const code = (f: string): string =>
    src(f)
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
  const FILES = ['index.ts', 'log.ts', 'log1p.ts', 'exp.ts', 'bits.ts', 'bigint-slow.ts', 'tables.ts'];

  it('no platform math (Math.log/exp/log1p/expm1/pow/tanh/..., **) in src/math', () => {
    for (const f of FILES) {
      const c = code(f);
      expect(c, f).not.toMatch(/Math\.(log|log1p|log2|log10|exp|expm1|pow|tanh|sinh|cosh|cbrt|hypot|fround|round)\b/);
      expect(c, f).not.toMatch(/\*\*/);
    }
  });

  it('the literals inlined in the hot paths are the generated constants of tables.ts', () => {
    const hot = code('log.ts') + code('log1p.ts') + code('exp.ts');
    const names = ['LN2_HI', 'LN2_LO', 'EXP_INV', 'EXP_L1', 'EXP_L2', 'EXP_L3', 'LP3', 'LP4', 'LP5', 'LP6', 'LP7', 'LP8', 'EQ3', 'EQ4', 'EQ5', 'EQ6', 'EQ7'] as const;
    for (const n of names) {
      const lit = String(T[n]);
      expect(hot.includes(lit), `${n} = ${lit}`).toBe(true);
    }
  });

  it('log table entry 300 is the identity (r = 1, T = 0, TE = 0), used for |z| < 2^-9', () => {
    expect([...T.LOG_TAB.subarray(1200, 1204)]).toEqual([1, 0, 0, 0]);
    expect(T.LOG_TAB.length).toBe(2048);
    expect(T.EXP_TAB.length).toBe(1024);
  });
});
