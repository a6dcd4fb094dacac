// Row shifts of log-softmax in WebAssembly (AssemblyScript, compiled by `npm run build`:
// asc asm/exp.ts -o dist/math/exp.wasm --runtime stub -O3 --noAssert). The JavaScript side is
// src/math/exp-rows.ts; src/math/exp.ts stays the reference.
//
// For each row of a rows x C matrix of float64 at `x`: m = the row's max (NaN if any value is
// NaN), and s = exp(x_0 - m) + exp(x_1 - m) + ... summed left to right, every term by the fast
// path of src/math/exp.ts written out operation for operation (the same IEEE-754 double
// operations in the same order, so the same bits: WebAssembly has no fused multiply-add and
// binaryen does not reassociate floating point). A term the fast path cannot give (an argument
// with |d| >= 708 or NaN, or a rounding the Ziv test leaves undecided) makes s NaN: the caller
// sums that row again in JS, where exp() takes its rare path.

// the double-double table 2^(j/256) of src/math/tables.ts (EXP_TAB: 256 x [th, tl, thh, thl]),
// copied in by the caller at start-up
const TAB: usize = memory.data(256 * 4 * 8, 16);

export function tab(): usize {
  return TAB;
}

export function heapBase(): usize {
  return __heap_base;
}

// e^d for |d| < 708 (checked by the caller), correctly rounded, or NaN when undecided
// (src/math/exp.ts: exp's fast path and expEval)
// @ts-ignore: decorator
@inline function expFast(x: f64): f64 {
  const kd = (x * 369.3299304675746 + 6755399441055744.0) - 6755399441055744.0;
  const a = x - kd * 0.002707606173999011;
  const b = kd * 6.327543041506426e-14;
  const rh = a - b;
  const bb = rh - a;
  const k = <i32>kd;
  const rl = ((a - (rh - bb)) - (b + bb)) - kd * 1.5629239639119998e-24;
  const i = <usize>((k & 255) << 2);
  const rc = 134217729.0 * rh;
  const rhh = rc - (rc - rh);
  const rhl = rh - rhh;
  const sh = rh * rh;
  const hs = 0.5 * sh;
  const ph = rh + hs;
  const pl =
    ((rh - ph) + hs) +
    (rl +
      (0.5 * (((rhh * rhh - sh) + 2.0 * rhh * rhl) + rhl * rhl) +
        rl * ph +
        sh * rh * (0.16666666666666666 + rh * (0.041666666666666664 + rh * (0.008333333333333333 + rh * (0.001388888888888889 + rh * 0.0001984126984126984))))));
  const p = TAB + (i << 3);
  const th = load<f64>(p);
  const tl = load<f64>(p, 8);
  const thh = load<f64>(p, 16);
  const thl = load<f64>(p, 24);
  const pc = 134217729.0 * ph;
  const phh = pc - (pc - ph);
  const phl = ph - phh;
  const u = th * ph;
  const s = th + u;
  const lo =
    ((th - s) + u) +
    ((((thh * phh - u) + thh * phl + thl * phh) + thl * phl) + (tl + (th * pl + tl * ph)));
  const yh = s + lo;
  const yl = (s - yh) + lo;
  const err = yh * 6.617444900424222e-24; // 2^-77
  const y = yh + (yl + err);
  if (y != yh + (yl - err)) return NaN;
  // 2^(k >> 8), a normal power of two: k >> 8 is in [-1022, 1021] for |x| < 708
  return y * reinterpret<f64>(<u64>((k >> 8) + 1023) << 52);
}

// two terms at once: expFast on both lanes of x (|x| < 708 checked by the caller); false when a
// lane's rounding is undecided. The lanes go to OUT2 (v128 locals cannot be returned in pairs).
// @ts-ignore: decorator
@inline function expFast2(x: v128, out: usize): bool {
  const kd = f64x2.sub(f64x2.add(f64x2.mul(x, f64x2.splat(369.3299304675746)), f64x2.splat(6755399441055744.0)), f64x2.splat(6755399441055744.0));
  const a = f64x2.sub(x, f64x2.mul(kd, f64x2.splat(0.002707606173999011)));
  const b = f64x2.mul(kd, f64x2.splat(6.327543041506426e-14));
  const rh = f64x2.sub(a, b);
  const bb = f64x2.sub(rh, a);
  const k = i32x4.trunc_sat_f64x2_s_zero(kd);
  const rl = f64x2.sub(f64x2.sub(f64x2.sub(a, f64x2.sub(rh, bb)), f64x2.add(b, bb)), f64x2.mul(kd, f64x2.splat(1.5629239639119998e-24)));
  const split = f64x2.splat(134217729.0);
  const rc = f64x2.mul(split, rh);
  const rhh = f64x2.sub(rc, f64x2.sub(rc, rh));
  const rhl = f64x2.sub(rh, rhh);
  const sh = f64x2.mul(rh, rh);
  const hs = f64x2.mul(f64x2.splat(0.5), sh);
  const ph = f64x2.add(rh, hs);
  // 0.16666666666666666 + rh * (0.041666666666666664 + rh * (0.008333333333333333 + rh * (0.001388888888888889 + rh * 0.0001984126984126984)))
  let q = f64x2.add(f64x2.splat(0.001388888888888889), f64x2.mul(rh, f64x2.splat(0.0001984126984126984)));
  q = f64x2.add(f64x2.splat(0.008333333333333333), f64x2.mul(rh, q));
  q = f64x2.add(f64x2.splat(0.041666666666666664), f64x2.mul(rh, q));
  q = f64x2.add(f64x2.splat(0.16666666666666666), f64x2.mul(rh, q));
  // 0.5 * (((rhh * rhh - sh) + 2 * rhh * rhl) + rhl * rhl)
  const sl = f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(rhh, rhh), sh), f64x2.mul(f64x2.mul(f64x2.splat(2.0), rhh), rhl)), f64x2.mul(rhl, rhl));
  const inner = f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(0.5), sl), f64x2.mul(rl, ph)), f64x2.mul(f64x2.mul(sh, rh), q));
  const pl = f64x2.add(f64x2.add(f64x2.sub(rh, ph), hs), f64x2.add(rl, inner));
  const p0 = TAB + (<usize>((i32x4.extract_lane(k, 0) & 255) << 2) << 3);
  const p1 = TAB + (<usize>((i32x4.extract_lane(k, 1) & 255) << 2) << 3);
  const th = f64x2.replace_lane(f64x2.splat(load<f64>(p0)), 1, load<f64>(p1));
  const tl = f64x2.replace_lane(f64x2.splat(load<f64>(p0, 8)), 1, load<f64>(p1, 8));
  const thh = f64x2.replace_lane(f64x2.splat(load<f64>(p0, 16)), 1, load<f64>(p1, 16));
  const thl = f64x2.replace_lane(f64x2.splat(load<f64>(p0, 24)), 1, load<f64>(p1, 24));
  const pc = f64x2.mul(split, ph);
  const phh = f64x2.sub(pc, f64x2.sub(pc, ph));
  const phl = f64x2.sub(ph, phh);
  const u = f64x2.mul(th, ph);
  const s = f64x2.add(th, u);
  // ((th - s) + u) + ((((thh * phh - u) + thh * phl + thl * phh) + thl * phl) + (tl + (th * pl + tl * ph)))
  const ul = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(thh, phh), u), f64x2.mul(thh, phl)), f64x2.mul(thl, phh)), f64x2.mul(thl, phl));
  const lo = f64x2.add(f64x2.add(f64x2.sub(th, s), u), f64x2.add(ul, f64x2.add(tl, f64x2.add(f64x2.mul(th, pl), f64x2.mul(tl, ph)))));
  const yh = f64x2.add(s, lo);
  const yl = f64x2.add(f64x2.sub(s, yh), lo);
  const err = f64x2.mul(yh, f64x2.splat(6.617444900424222e-24));
  const y = f64x2.add(yh, f64x2.add(yl, err));
  const ok = f64x2.eq(y, f64x2.add(yh, f64x2.sub(yl, err)));
  // 2^(k >> 8) per lane
  const e = i64x2.shl(i64x2.add(i64x2.shr_s(i64x2.extend_low_i32x4_s(k), 8), i64x2.splat(1023)), 52);
  v128.store(out, f64x2.mul(y, e));
  return i64x2.all_true(ok);
}

const OUT2: usize = memory.data(32, 16);

export function rowShifts(x: usize, rows: i32, C: i32, outM: usize, outS: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * <usize>C << 3);
    let m = -Infinity;
    let nan = false;
    for (let k = 0; k < C; k++) {
      const v = load<f64>(row + (<usize>k << 3));
      if (v > m) m = v;
      else if (v != v) nan = true;
    }
    if (nan) m = NaN;
    let s = 0.0;
    let k = 0;
    const lim = f64x2.splat(708.0);
    const mm = f64x2.splat(m);
    for (; k + 3 < C; k += 4) {
      const d0 = f64x2.sub(v128.load(row + (<usize>k << 3)), mm);
      const d1 = f64x2.sub(v128.load(row + (<usize>k << 3), 16), mm);
      if (!i64x2.all_true(f64x2.lt(f64x2.abs(d0), lim)) || !i64x2.all_true(f64x2.lt(f64x2.abs(d1), lim)) ||
          !expFast2(d0, OUT2) || !expFast2(d1, OUT2 + 16)) {
        s = NaN;
        break;
      }
      s += load<f64>(OUT2);
      s += load<f64>(OUT2, 8);
      s += load<f64>(OUT2, 16);
      s += load<f64>(OUT2, 24);
    }
    for (; k + 1 < C && s == s; k += 2) {
      const d = f64x2.sub(v128.load(row + (<usize>k << 3)), mm);
      // |d| < 708 in both lanes (NaN fails), and both roundings decided
      if (!i64x2.all_true(f64x2.lt(f64x2.abs(d), lim)) || !expFast2(d, OUT2)) {
        s = NaN;
        break;
      }
      s += load<f64>(OUT2);
      s += load<f64>(OUT2, 8);
    }
    for (; k < C && s == s; k++) {
      const d = load<f64>(row + (<usize>k << 3)) - m;
      // |d| < 708 (NaN fails too)
      if (((<u32>(reinterpret<u64>(d) >> 32)) & 0x7fffffff) >= 0x40862000) {
        s = NaN;
        break;
      }
      const e = expFast(d);
      if (e != e) {
        s = NaN;
        break;
      }
      s += e;
    }
    store<f64>(outM + (<usize>r << 3), m);
    store<f64>(outS + (<usize>r << 3), s);
  }
}

// e^x for each of n values at x into out, by the same code as rowShifts' terms (pairs of lanes,
// then one scalar), NaN where that code gives no term (|x| >= 708, NaN, an undecided rounding).
// For verification against src/math/exp.ts (test/unit/exp-rows.test.ts).
export function expTerms(x: usize, n: i32, out: usize): void {
  const lim = f64x2.splat(708.0);
  let k = 0;
  for (; k + 1 < n; k += 2) {
    const d = v128.load(x + (<usize>k << 3));
    const inRange = i64x2.all_true(f64x2.lt(f64x2.abs(d), lim));
    if (inRange && expFast2(d, OUT2)) {
      v128.store(out + (<usize>k << 3), v128.load(OUT2));
    } else {
      store<f64>(out + (<usize>k << 3), NaN);
      store<f64>(out + (<usize>k << 3), NaN, 8);
    }
  }
  for (; k < n; k++) {
    const d = load<f64>(x + (<usize>k << 3));
    store<f64>(out + (<usize>k << 3), ((<u32>(reinterpret<u64>(d) >> 32)) & 0x7fffffff) >= 0x40862000 ? NaN : expFast(d));
  }
}
