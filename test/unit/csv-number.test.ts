import { describe, expect, it } from 'vitest';
import {
  numberInvalid,
  parseNumberBytes,
  parseNumberBytesGeneral,
  parseNumberString,
  scanEnd,
  scanNumber,
} from '../../src/parse/number.js';
import { mulberry32 } from '../helpers/rng.js';

// ---------- independent exact reference: decimal -> rational -> nearest double (ties to even) ----------

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function bitsToDouble(neg: boolean, biasedExp: number, frac: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  const bits = (BigInt(neg ? 1 : 0) << 63n) | (BigInt(biasedExp) << 52n) | frac;
  dv.setBigUint64(0, bits);
  return dv.getFloat64(0);
}

/** Exact, correctly rounded conversion of a decimal literal (syntax assumed valid). */
function refDecimal(text: string): number {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`reference: bad literal ${text}`);
  const neg = m[1] === '-';
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  const digits = (intPart + frac).replace(/^0+/, '');
  const exp10 = Number(m[4] ?? '0') - frac.length;
  if (digits === '') return neg ? -0 : 0;
  let num = BigInt(digits);
  let den = 1n;
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den = 10n ** BigInt(-exp10);
  // q = floor(num * 2^s / den) with 53 bits
  let s = 53 - (bitLength(num) - bitLength(den));
  const quot = (sh: number): [bigint, bigint] => {
    const nn = sh >= 0 ? num << BigInt(sh) : num;
    const dd = sh >= 0 ? den : den << BigInt(-sh);
    return [nn / dd, nn % dd];
  };
  let [q, r] = quot(s);
  while (q >= 1n << 53n) {
    s--;
    [q, r] = quot(s);
  }
  while (q < 1n << 52n) {
    s++;
    [q, r] = quot(s);
  }
  let e = -s; // value ~ q * 2^e, q in [2^52, 2^53)
  let d: bigint = s >= 0 ? den : den << BigInt(-s);
  if (e < -1074) {
    // subnormal: fix the exponent at -1074
    s = 1074;
    [q, r] = quot(s);
    d = den;
    e = -1074;
  }
  // round half to even
  const twice = 2n * r;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q += 1n;
  if (q === 1n << 53n) {
    q = 1n << 52n;
    e++;
  }
  if (q === 0n) return neg ? -0 : 0;
  if (q < 1n << 52n) return bitsToDouble(neg, 0, q); // subnormal (e === -1074)
  const biased = e + 52 + 1023;
  if (biased >= 2047) return neg ? -Infinity : Infinity;
  return bitsToDouble(neg, biased, q - (1n << 52n));
}

function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function fast(s: string): number {
  const b = bytesOf(s);
  return parseNumberBytes(b, 0, b.length);
}

function general(s: string): number {
  const b = bytesOf(s);
  return parseNumberBytesGeneral(b, 0, b.length);
}

function same(a: number, b: number): boolean {
  return Object.is(a, b);
}


describe('reference sanity', () => {
  it('agrees with simple known values', () => {
    expect(refDecimal('0.1')).toBe(0.1);
    expect(refDecimal('1')).toBe(1);
    expect(refDecimal('-2.5e3')).toBe(-2500);
    expect(refDecimal('5e-324')).toBe(5e-324);
    expect(refDecimal('1.7976931348623157e308')).toBe(Number.MAX_VALUE);
    expect(Object.is(refDecimal('-0.0'), -0)).toBe(true);
  });
});

describe('token rules', () => {
  const accepted: [string, number][] = [
    ['0', 0],
    ['-0', -0],
    ['+0', 0],
    ['5.', 5],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['+5.', 5],
    ['1e5', 1e5],
    ['1E+5', 1e5],
    ['1e-5', 1e-5],
    ['2.5E-3', 2.5e-3],
    ['.5e1', 5],
    ['5.e1', 50],
    ['007', 7],
    ['0e999999999999', 0],
    ['1e-99999999999', 0],
    ['1e99999999999', Infinity],
    ['-1e400', -Infinity],
    ['123456789', 123456789],
    ['  1.5  ', 1.5],
    ['\t-2\t', -2],
    [' \t 3 \t ', 3],
    ['inf', Infinity],
    ['+inf', Infinity],
    ['-inf', -Infinity],
    ['INF', Infinity],
    ['iNf', Infinity],
    ['-Inf', -Infinity],
    ['Infinity', Infinity],
    ['+Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['INFINITY', Infinity],
    ['-infinity', -Infinity],
    ['  -inf ', -Infinity],
  ];
  it.each(accepted)('accepts %j', (text, want) => {
    expect(same(parseNumberString(text)!, want)).toBe(true);
    expect(same(fast(text), want)).toBe(true);
    expect(same(general(text), want)).toBe(true);
  });

  // nan in any case, optionally signed, as Python's float() and DuckDB read it
  const nanTokens = ['nan', 'NaN', 'NAN', 'nAn', 'nAN', 'Nan', '-nan', '+nan', '-NaN', '+NAN', '', ' ', '\t', '  nan  ', ' -nan '];
  it.each(nanTokens)('NaN token %j', (text) => {
    const v = fast(text);
    expect(Number.isNaN(v)).toBe(true);
    expect(numberInvalid).toBe(false);
    expect(Number.isNaN(parseNumberString(text))).toBe(true);
  });

  const rejected = [
    '0x10', '1_000', '1e', '1e+', '1e-', 'e5', 'nan1', '--nan', '+-nan', 'nana', 'na', 'nan.', '-', 'abc',
    // other tools' missing-value words are not numbers (README: "Numbers in CSV")
    'NA', 'N/A', 'n/a', 'NULL', 'null', '#N/A', '#NA', '<NA>', 'None', '-1.#IND', '1.#QNAN', '.', '-', '+', '+-1',
    '--1', '1.2.3', '1 2', '1,5', '١', 'infinit', 'infinityy', 'in', '+-inf', 'inf inity', '1e5.5', '1.5e', 'Infinity1',
    '0b1', '1f', '1d', '٫5', '\u00a01', '1\r', '∞', 'NaN ', // trailing space is fine, see below
  ].filter((t) => t !== 'NaN ');
  it.each(rejected)('rejects %j', (text) => {
    expect(parseNumberString(text)).toBeUndefined();
    const b = bytesOf(text);
    const v = parseNumberBytes(b, 0, b.length);
    expect(Number.isNaN(v)).toBe(true);
    expect(numberInvalid).toBe(true);
  });

  it('with tab as delimiter only spaces are trimmed', () => {
    const b = bytesOf('\t1\t');
    expect(Number.isNaN(parseNumberBytes(b, 0, b.length, 9))).toBe(true);
    expect(numberInvalid).toBe(true);
    const c = bytesOf('  1  ');
    expect(parseNumberBytes(c, 0, c.length, 9)).toBe(1);
  });

  it('the invalid flag is reset by a NaN token', () => {
    fast('abc');
    expect(numberInvalid).toBe(true);
    fast('nan');
    expect(numberInvalid).toBe(false);
  });

  it('scanNumber stops at the end of the number and not inside an incomplete exponent', () => {
    const b = bytesOf('12.5e3,x');
    expect(scanNumber(b, 0, b.length)).toBe(12500);
    expect(scanEnd).toBe(6);
    const c = bytesOf('7e+,');
    expect(scanNumber(c, 0, c.length)).toBe(7);
    expect(scanEnd).toBe(1);
    const d = bytesOf('x');
    expect(Number.isNaN(scanNumber(d, 0, 1))).toBe(true);
    expect(scanEnd).toBe(0);
  });

  it('huge exponents combined with many fraction digits', () => {
    const zeros = '0'.repeat(200);
    expect(fast('0.' + zeros + '1e205')).toBe(1e4);
    expect(fast('0.' + zeros + '1e0000000000000000000205')).toBe(1e4);
    expect(fast('1e-0000000000000000000000000003')).toBe(0.001);
    expect(fast('0.' + '0'.repeat(100000005) + '1e100000005')).toBe(0.1);
  });

  it('parses a field inside a larger buffer', () => {
    const b = bytesOf('xx,3.25,yy');
    expect(parseNumberBytes(b, 3, 7)).toBe(3.25);
  });
});

describe('correct rounding', () => {
  const hard = [
    '9007199254740993', // 2^53 + 1: tie, to even -> 2^53
    '9007199254740995', // tie, to even -> 2^53 + 4
    '9007199254740993.0000000000000000001', // just above the tie -> 2^53 + 2
    '9007199254740992.9999999999999999999',
    '1.00000000000000011102230246251565404236316680908203125', // 1 + ulp/2: tie -> 1
    '1.00000000000000011102230246251565404236316680908203126', // just above -> 1 + ulp
    '1.00000000000000011102230246251565404236316680908203124',
    '0.1000000000000000055511151231257827021181583404541015625', // exact value of 0.1
    '0.10000000000000000555111512312578270211815834045410156250000000001',
    '0.1000000000000000124900090270330610871315002441406250', // midpoint 0.1 / next
    '0.1000000000000000124900090270330610871315002441406249',
    '0.1000000000000000124900090270330610871315002441406251',
    '2.2250738585072011e-308',
    '2.2250738585072012e-308',
    '2.225073858507201136057409796709131975934819546351645648e-308',
    '4.9406564584124654e-324',
    '2.4703282292062327e-324',
    '2.4703282292062328e-324',
    '2.47032822920623272088284396434110686182529901307162382212792841250337753635104375932649918180817996189898282347722858865463328355177969898199387398005390939063150356595155702263922908583924491051844359318028499365361525003193704576782492193656236698636584807570015857692699037063119282795585513329278343384093519780155312465972635795746227664652728272200563740064854999770965994704540208281662262378573934507363390079677619305775067401763246736009689513405355374585166611342237666786041621596804619144672918403005300575308490487653917113865916462395249126236538818796362393732804238910186723484976682350898633885879256283027559956575244555072551893136908362547791869486679949683240497058210285131854513962138377228261454376934125320985913276672363281255e-324',
    '1e-324',
    '3e-324',
    '7.4109846876186981626485318930233205854758970392148714663837852375101326090531312779794975454245398856969484704316857659638998506553390969459816219401617281718945106978546710679176872575177347315553307795408549809608457500958111373034747658096871009590975442271004757307809711118935784838675653998783503015228055934046593739791790738723868299395818481660169122019456499931289798411362062484498678713572180352209017023903285791732520220528974020802906854021606612375549983402671300035812486479041385743401875520901590172592547146296175134159774938718574737870961645638908718119841271673056017045493004705269590165763776884908267986972573366521765567941072508764337560846003984904972149117463085539556354188641513168478436313080237596295773983001708984375e-324', // 1.5 * 2^-1074: tie -> 2*2^-1074
    '1.7976931348623157e308',
    '1.7976931348623158e308',
    '1.7976931348623159e308',
    '179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999',
    '179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792',
    '123456789012345678',
    '12345678901234567890123',
    '0.000000000000000000000000000001234567890123456789',
    '8.589973e9',
    '3.0540412e5',
    '1e23',
    '8.533e+68',
    '4.1006e-184',
    '9.998e+307',
    '9.9538452227e-280',
    '6.47660115e-260',
    '7.4e+47',
    '5.92e+48',
    '7.35e+66',
    '8.32116e+55',
    '1448997445238699',
    '999999999999999',
    '9999999999999999',
    '99999999999999999',
    '1e22',
    '1e-22',
    '1.5e37',
    '9e37',
    '123456789e30',
    '4503599627370497.5', // 2^52 + 0.5 + 1: tie at odd -> up
    '4503599627370496.5', // tie at even -> down
  ];
  it.each(hard)('%s matches the exact reference', (text) => {
    const want = refDecimal(text);
    expect(same(fast(text), want)).toBe(true);
    expect(same(general(text), want)).toBe(true);
    expect(same(fast('-' + text), -want)).toBe(true);
  });

  it('subnormal and overflow boundaries', () => {
    expect(fast('1e-324')).toBe(0);
    expect(fast('2.4703282292062328e-324')).toBe(5e-324);
    expect(fast('2.4703282292062327e-324')).toBe(0);
    expect(fast('1.7976931348623158e308')).toBe(Number.MAX_VALUE);
    expect(fast('1.7976931348623159e308')).toBe(Infinity);
    expect(fast('-1.7976931348623159e308')).toBe(-Infinity);
    expect(fast('9007199254740993')).toBe(9007199254740992);
    expect(fast('1.00000000000000011102230246251565404236316680908203125')).toBe(1);
  });

  it('10k seeded random decimals (1-25 digits, wide exponents) match the exact reference', () => {
    const r = mulberry32(12345);
    let bad = 0;
    const failures: string[] = [];
    for (let k = 0; k < 10000; k++) {
      const nd = 1 + Math.floor(r() * 25);
      let digits = '';
      for (let j = 0; j < nd; j++) digits += String(Math.floor(r() * 10));
      const point = Math.floor(r() * (nd + 1));
      let text = digits.slice(0, point) + (r() < 0.8 ? '.' : '') + digits.slice(point);
      if (text === '.') text = '0.';
      const kind = r();
      if (kind < 0.3) text += 'e' + String(Math.floor(r() * 60) - 30);
      else if (kind < 0.6) text += 'E' + String(Math.floor(r() * 660) - 340);
      if (r() < 0.5) text = '-' + text;
      const want = refDecimal(text);
      const got = fast(text);
      const gen = general(text);
      if (!same(got, want) || !same(gen, want)) {
        bad++;
        if (failures.length < 5) failures.push(`${text}: got ${got}, general ${gen}, want ${want}`);
      }
    }
    expect(failures).toEqual([]);
    expect(bad).toBe(0);
  });

  it('fast path and general path are bit-identical on fast-path inputs (≤17 digits, |exp| ≤ 22)', () => {
    const r = mulberry32(777);
    for (let k = 0; k < 20000; k++) {
      const nd = 1 + Math.floor(r() * 17); // 16-17 digits: fast path only while the digits are < 2^53
      let digits = '';
      for (let j = 0; j < nd; j++) digits += String(Math.floor(r() * 10));
      const point = Math.floor(r() * (nd + 1));
      let text = digits.slice(0, point) + '.' + digits.slice(point);
      if (text === '.') text = '0';
      if (r() < 0.5) text += 'e' + String(Math.floor(r() * 30) - 15);
      const a = fast(text);
      const b = general(text);
      if (!same(a, b)) throw new Error(`${text}: fast ${a} general ${b}`);
      if (k < 2000 && !same(a, refDecimal(text))) throw new Error(`${text}: ${a} vs reference`);
    }
  });

  it('9-significant-digit values round-trip like toPrecision output', () => {
    const r = mulberry32(99);
    for (let k = 0; k < 5000; k++) {
      const x = (r() - 0.5) * 10 ** (Math.floor(r() * 20) - 10);
      const t = x.toPrecision(9);
      expect(same(fast(t), refDecimal(t))).toBe(true);
    }
  });
});
