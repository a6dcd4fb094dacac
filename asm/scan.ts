// WebAssembly SIMD scanner for quote-free CSV chunks (AssemblyScript, compiled by `npm run build`:
// asc asm/scan.ts -o dist/parse/scan.wasm --runtime stub --enable simd -O3 --noAssert).
// The JavaScript side is src/parse/wasm-scan.ts; the JS parser (src/parse/csv.ts, number.ts)
// stays the reference: this scanner decides only what it can decide exactly and gives the
// rest back, either one field at a time (fallback triplets) or the whole chunk (a status).
//
// Input: chunk bytes at `inp`, len >= 1 bytes, the last one '\n' (the caller appends one when the
// chunk lacks it), followed by 64 zero bytes. Two passes per 16 KiB segment:
//  1. index: the positions of every delimiter and '\n' (64 bytes per step: 4 x i8x16.eq +
//     bitmask); any '"' in the chunk gives status QUOTE (the chunk goes to the JS paths);
//  2. fields: each row must have exactly fc fields (delimiter after fields 0..fc-2, '\n' after
//     the last), else status FIELDS. A selected field [s, e) (a '\r' before the '\n' dropped) is
//     converted here when it is `-?` followed by 1..16 bytes of digits with at most one '.', at
//     least one digit, and its digits read as an integer m < 2^53: the value is m / 10^frac, one
//     correctly rounded IEEE division of exact operands (Clinger), as number.ts's fast path does.
//     Anything else is recorded as (output index, start, end) for the JS parser.

const LF: i32 = 10;
const CR: i32 = 13;
const QUOTE: i32 = 34;
const SEG: i32 = 16384; // bytes indexed per refill (a multiple of 64)

export const STATUS_OK: i32 = 0;
export const STATUS_FIELDS: i32 = 1; // a row with the wrong field count (or a blank line)
export const STATUS_QUOTE: i32 = 2; // a '"' somewhere in the chunk
export const STATUS_ROWS: i32 = 3; // more rows than maxRows
export const STATUS_FALLBACKS: i32 = 4; // more fallback fields than fbCap, or over 2048 and a quarter of the fields

// exact powers of ten 1e0..1e22
const POW10: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);

// v128 constants, loaded from memory (binaryen folds v128.const locals back into every use)
const CONSTS: usize = memory.data(16 * 6, 16);
// swizzle table: entry (n * 17 + dot) for a field of n bytes (1..16) with its '.' at `dot`
// (0..n-1), or 16 when it has none: drops the '.', right-aligns the digits, zero-fills the rest
const SWZ: usize = memory.data(17 * 17 * 16, 16);

export function init(): void {
  for (let k = 0; k < 16; k++) {
    store<u8>(CONSTS + k, 0x50); // +0x50: '0'..'9' become 0x80..0x89 (-128..-119 signed)
    store<i8>(CONSTS + 16 + k, -118);
    store<u8>(CONSTS + 32 + k, 48); // '0'
    store<u8>(CONSTS + 48 + k, 46); // '.'
  }
  for (let k = 0; k < 8; k++) {
    store<u16>(CONSTS + 64 + 2 * k, 0x00ff);
    store<u16>(CONSTS + 80 + 2 * k, 10);
  }
  for (let n = 1; n <= 16; n++) {
    for (let dot = 0; dot <= 16; dot++) {
      const hasDot = dot < 16;
      if (hasDot && dot >= n) continue;
      const nd = hasDot ? n - 1 : n;
      const t = SWZ + <usize>(n * 17 + dot) * 16;
      for (let lane = 0; lane < 16; lane++) {
        const k = 15 - lane; // digit k from the right
        let src = 0x80;
        if (k < nd) src = !hasDot || n - 1 - k > dot ? n - 1 - k : n - 2 - k;
        store<u8>(t + lane, <u8>src);
      }
    }
  }
}

/** Set by fill when a segment holds a '"'. */
let quoteSeen = false;

/** Index the delimiter and '\n' positions of inp[from, to) (from a multiple of 64) into idx from cnt on. */
function fill(inp: usize, from: i32, to: i32, len: i32, delim: i32, idx: usize, cnt: i32): i32 {
  const D = i8x16.splat(<i8>delim);
  const L = i8x16.splat(<i8>LF);
  const Q = i8x16.splat(<i8>QUOTE);
  let qacc = i8x16.splat(0);
  for (let p = from; p < to; p += 64) {
    const a = v128.load(inp + p);
    const b = v128.load(inp + p + 16);
    const c = v128.load(inp + p + 32);
    const d = v128.load(inp + p + 48);
    let m: u64 =
      <u64><u32>i8x16.bitmask(v128.or(i8x16.eq(a, D), i8x16.eq(a, L))) |
      (<u64><u32>i8x16.bitmask(v128.or(i8x16.eq(b, D), i8x16.eq(b, L))) << 16) |
      (<u64><u32>i8x16.bitmask(v128.or(i8x16.eq(c, D), i8x16.eq(c, L))) << 32) |
      (<u64><u32>i8x16.bitmask(v128.or(i8x16.eq(d, D), i8x16.eq(d, L))) << 48);
    qacc = v128.or(qacc, v128.or(v128.or(i8x16.eq(a, Q), i8x16.eq(b, Q)), v128.or(i8x16.eq(c, Q), i8x16.eq(d, Q))));
    if (p + 64 > len) m &= (<u64>1 << <u64>(len - p)) - 1;
    while (m != 0) {
      store<u32>(idx + (<usize>cnt << 2), <u32>(p + <i32>ctz(m)));
      cnt++;
      m &= m - 1;
    }
  }
  if (v128.any_true(qacc)) quoteSeen = true;
  return cnt;
}

/**
 * Scan a chunk. slot: i32 per field (output offset of the field within a row, or -1: not
 * selected); a value goes to out[row * stride + slot[f]] (f64). fb: fallback triplets (i32
 * output index, start, end). idx: room for SEG + fc + 64 u32. ctl: [rows, fallbacks] (i32).
 * Returns a STATUS_*.
 */
export function scan(
  inp: usize, len: i32, delim: i32, fc: i32, slot: usize, stride: i32, out: usize, maxRows: i32,
  fb: usize, fbCap: i32, idx: usize, ctl: usize,
): i32 {
  const P50 = v128.load(CONSTS);
  const M118 = v128.load(CONSTS + 16);
  const ZERO = v128.load(CONSTS + 32);
  const DOT = v128.load(CONSTS + 48);
  const LO8 = v128.load(CONSTS + 64);
  const TEN16 = v128.load(CONSTS + 80);
  const W100 = i32x4.splat(0x00010064); // i16 lanes 100, 1
  const W10K = i32x4.splat(0x00012710); // i16 lanes 10000, 1
  quoteSeen = false;
  let scanned = 0; // bytes indexed
  let k = 0; // next index entry
  let cnt = 0; // index entries
  let s = 0; // start of the current field
  let row = 0;
  let nfb = 0;
  const last = fc - 1;
  let nsel = 0; // selected fields per row
  for (let f = 0; f < fc; f++) if (load<i32>(slot + (<usize>f << 2)) >= 0) nsel++;
  while (s < len) {
    // refill: keep the unread entries, index more segments until a whole row is there
    const rem = cnt - k;
    if (k > 0) memory.copy(idx, idx + (<usize>k << 2), <usize>rem << 2);
    k = 0;
    cnt = rem;
    while (cnt < fc && scanned < len) {
      const to = scanned + SEG < len ? scanned + SEG : len;
      cnt = fill(inp, scanned, to, len, delim, idx, cnt);
      scanned = to + ((64 - ((to - scanned) & 63)) & 63);
    }
    if (quoteSeen) return STATUS_QUOTE;
    if (cnt < fc) return STATUS_FIELDS;
    while (cnt - k >= fc) {
      if (row >= maxRows) return STATUS_ROWS;
      const base = row * stride;
      for (let f = 0; f < fc; f++) {
        const e = <i32>load<u32>(idx + (<usize>k << 2));
        k++;
        const c = <i32>load<u8>(inp + e);
        if (f == last ? c != LF : c != delim) return STATUS_FIELDS;
        const sl = load<i32>(slot + (<usize>f << 2));
        if (sl >= 0) {
          let fe = e;
          if (f == last && fe > s && <i32>load<u8>(inp + fe - 1) == CR) fe--;
          const neg = <i32>load<u8>(inp + s) == 45 ? 1 : 0;
          const q = s + neg;
          const n = fe - q;
          let ok = false;
          let v: f64 = 0;
          if (n >= 1 && n <= 16) {
            const x = v128.load(inp + q);
            const w = (1 << n) - 1;
            const dig = i8x16.bitmask(i8x16.gt_s(M118, i8x16.add(x, P50))) & w;
            const dot = i8x16.bitmask(i8x16.eq(x, DOT)) & w;
            if ((dig | dot) == w && (dot & (dot - 1)) == 0 && dig != 0) {
              const dp = dot != 0 ? ctz(dot) : 16;
              const frac = dot != 0 ? n - 1 - dp : 0;
              const al = i8x16.swizzle(i8x16.sub(x, ZERO), v128.load(SWZ + (<usize>(n * 17 + dp) << 4)));
              const t16 = i16x8.add(i16x8.mul(v128.and(al, LO8), TEN16), i16x8.shr_u(al, 8));
              const t32 = i32x4.dot_i16x8_s(t16, W100);
              const h = <u64>i64x2.extract_lane(i32x4.dot_i16x8_s(i16x8.narrow_i32x4_s(t32, t32), W10K), 0);
              const m = (h & 0xffffffff) * 100000000 + (h >> 32);
              if (m < 9007199254740992) {
                ok = true;
                v = <f64>m / load<f64>(POW10 + (<usize>frac << 3));
                if (neg) v = -v;
              }
            }
          }
          const o = base + sl;
          if (ok) {
            store<f64>(out + (<usize>o << 3), v);
          } else {
            // more than a quarter of the fields so far: the JS path alone is faster
            if (nfb == fbCap || (nfb >= 2048 && nfb > (row * nsel) >> 2)) return STATUS_FALLBACKS;
            const t = fb + <usize>nfb * 12;
            store<i32>(t, o);
            store<i32>(t + 4, s);
            store<i32>(t + 8, fe);
            nfb++;
          }
        }
        s = e + 1;
      }
      row++;
    }
  }
  store<i32>(ctl, row);
  store<i32>(ctl + 4, nfb);
  return STATUS_OK;
}

/** First free byte above the static data: the JS side lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base;
}

// Quote-free row skipping for the row cutter (src/read/csv-cut.ts, scanRows): from `p`, whole
// 64-byte blocks that hold no '"' and whose newlines, with those of the blocks before, stay below
// `want`. Writes the newlines skipped and the offset just after the last of them (-1: none) at
// ctl[0], ctl[1]; returns the offset where the caller's byte scan resumes (a multiple of 64).
export function skipRows(p: usize, len: i32, want: i32, ctl: usize): i32 {
  const lf = i8x16.splat(10);
  const q = i8x16.splat(34);
  let rows = 0;
  let last = -1;
  let off = 0;
  while (off + 64 <= len) {
    const at = p + <usize>off;
    const a = v128.load(at);
    const b = v128.load(at, 16);
    const c = v128.load(at, 32);
    const d = v128.load(at, 48);
    if (v128.any_true(v128.or(v128.or(i8x16.eq(a, q), i8x16.eq(b, q)), v128.or(i8x16.eq(c, q), i8x16.eq(d, q))))) break;
    const m = <u64>i8x16.bitmask(i8x16.eq(a, lf)) | (<u64>i8x16.bitmask(i8x16.eq(b, lf)) << 16) |
      (<u64>i8x16.bitmask(i8x16.eq(c, lf)) << 32) | (<u64>i8x16.bitmask(i8x16.eq(d, lf)) << 48);
    if (m != 0) {
      const k = <i32>popcnt<u64>(m);
      if (rows + k >= want) break;
      rows += k;
      last = off + 64 - <i32>clz<u64>(m);
    }
    off += 64;
  }
  store<i32>(ctl, rows);
  store<i32>(ctl, last, 4);
  return off;
}
