/** The correctly rounded references of test/fixtures/math/<name>.txt: [argument, result] as binary64 bit patterns. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

export function fromBits(b: bigint): number {
  u64[0] = b;
  return f64[0]!;
}

export function toBits(x: number): bigint {
  f64[0] = x;
  return u64[0]!;
}

export function readMathFixture(name: 'log' | 'log1p' | 'exp'): Array<[number, number]> {
  const text = readFileSync(fileURLToPath(new URL(`../fixtures/math/${name}.txt`, import.meta.url)), 'utf8');
  const rows: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [a, r] = line.split(' ');
    rows.push([fromBits(BigInt('0x' + a)), fromBits(BigInt('0x' + r))]);
  }
  return rows;
}
