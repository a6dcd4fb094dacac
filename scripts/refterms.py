#!/usr/bin/python3
"""Reference terms of every loss, written independently of losseval's TypeScript (for scripts/golden.py).

Each function takes plain Python floats (IEEE binary64: every + - * / is rounded once, as in
JavaScript) and follows the operation order that shared/spec/losses.md and src/losses/*.ts
document for losseval's kernels. log, log1p and exp are correctly rounded (scripts/crmath.py,
mpmath rounded once), never glibc's. The golden tests compare losseval's terms with these bit for
bit, and its sums/means with the exact rational sum/quotient of these terms.

Python raises where IEEE gives +-inf or NaN in three places, so they go through helpers: `div`
(x/0), `sqrt` (negative argument) and the transcendental functions (crmath handles specials).
`max`/`min` are never used: their NaN behaviour depends on the argument order; comparisons are
written out as the kernels write them.

terms(loss, inputs, kwargs, kind) returns (flat terms in losseval's row-major layout, denominator
terms or None), or None when losseval refuses the case (a negative label_smoothing).
"""
import math
import struct

import crmath

NAN, INF = float("nan"), float("inf")
exp, log, log1p = crmath.exp, crmath.log, crmath.log1p


def div(a, b):
    """IEEE a / b, including b = +-0."""
    if b == 0:
        if a != a or a == 0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def sqrt(x):
    return NAN if x < 0 else math.sqrt(x)


def fabs(x):
    return math.fabs(x)


# ---------------------------------------------------------------------------------------------
# tensors -> flat lists


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def broadcast(t, shape):
    """A weight / pos_weight / var tensor expanded to `shape`, flat (PyTorch's broadcasting)."""
    return flat(t.expand(shape).contiguous()) if t.dim() > 0 else [float(t.item())] * int(_numel(shape))


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def rows_width(t):
    """(N, C) -> (N, C); (L,) -> (L, 1); () -> (1, 1)."""
    if t.dim() == 0:
        return 1, 1
    if t.dim() == 1:
        return t.shape[0], 1
    return t.shape[0], _numel(t.shape[1:])


# ---------------------------------------------------------------------------------------------
# torch's row sum order (SumKernel.cpp cascade_sum over a contiguous float64 row, at::Vectorized
# of 4 lanes), used by cosine_embedding and multilabel_soft_margin's per-row sums


VEC = 4


def _multi_row_sum(a, off, row_stride, col_stride, nrows, lanes, size):
    width = nrows * lanes
    levels = 4
    ceil_log2 = 1 if size <= 2 else (size - 1).bit_length()
    level_power = max(4, ceil_log2 // levels)
    level_step = 1 << level_power
    level_mask = level_step - 1
    acc = [0.0] * (levels * width)

    def add0(i):
        base = off + i * row_stride
        for k in range(nrows):
            for l in range(lanes):
                acc[k * lanes + l] = acc[k * lanes + l] + a[base + k * col_stride + l]

    i = 0
    while i + level_step <= size:
        for _ in range(level_step):
            add0(i)
            i += 1
        for j in range(1, levels):
            for q in range(width):
                acc[j * width + q] = acc[j * width + q] + acc[(j - 1) * width + q]
                acc[(j - 1) * width + q] = 0.0
            if i & (level_mask << (j * level_power)):
                break
    while i < size:
        add0(i)
        i += 1
    for j in range(1, levels):
        for q in range(width):
            acc[q] = acc[q] + acc[j * width + q]
    return acc


def _row_sum(a, off, stride, lanes, size):
    ilp = 4
    size_ilp = size // ilp
    acc = _multi_row_sum(a, off, stride * ilp, stride, ilp, lanes, size_ilp)
    for i in range(size_ilp * ilp, size):
        for l in range(lanes):
            acc[l] = acc[l] + a[off + i * stride + l]
    for k in range(1, ilp):
        for l in range(lanes):
            acc[l] = acc[l] + acc[k * lanes + l]
    return acc[:lanes]


def torch_row_sum(a):
    n = len(a)
    if n < VEC:
        return 0.0 + _row_sum(a, 0, 1, 1, n)[0]
    vec_size = n // VEC
    acc = _row_sum(a, 0, VEC, VEC, vec_size)
    fin = 0.0
    for k in range(vec_size * VEC, n):
        fin += a[k]
    for l in range(VEC):
        fin += acc[l]
    return 0.0 + fin


# ---------------------------------------------------------------------------------------------
# the losses


def l1(x, y):
    return [fabs(a - b) for a, b in zip(x, y)]


def mse(x, y):
    out = []
    for a, b in zip(x, y):
        d = a - b
        out.append(d * d)
    return out


def smooth_l1(x, y, beta):
    if beta == 0:
        return l1(x, y)
    half = 0.5 * beta
    out = []
    for a, b in zip(x, y):
        z = fabs(a - b)
        out.append(div(0.5 * z * z, beta) if z < beta else z - half)
    return out


def huber(x, y, delta):
    half = 0.5 * delta
    out = []
    for a, b in zip(x, y):
        z = fabs(a - b)
        out.append(0.5 * z * z if z < delta else delta * (z - half))
    return out


def nll(lp, C, y, weight, ignore_index):
    """ℓ_r = (−lp[r, y_r])·w[y_r], 0 for ignored rows; den_r = w[y_r] (1 without weight), 0 if ignored."""
    out, den = [], []
    for r, t in enumerate(y):
        if t == ignore_index:
            out.append(0.0)
            den.append(0.0)
            continue
        wt = weight[t] if weight is not None else 1.0
        out.append(-lp[r * C + t] * wt)
        den.append(wt)
    return out, den


def log_softmax(x, C):
    """Per row: m = max (NaN if any NaN), ls = log Σ exp(x − m) summed left to right, lp = (x − m) − ls."""
    lp = []
    for off in range(0, len(x), C):
        row = x[off:off + C]
        m, nan = -INF, False
        for v in row:
            if v > m:
                m = v
            elif v != v:
                nan = True
        if nan:
            m = NAN
        s = 0.0
        for v in row:
            s += exp(v - m)
        ls = log(s)
        lp.extend((v - m) - ls for v in row)
    return lp


def cross_entropy(x, C, y, weight, ignore_index, eps, probs):
    keep, spread = 1 - eps, div(eps, C)
    lp = log_softmax(x, C)
    if probs:
        out = []
        for off in range(0, len(x), C):
            acc = 0.0
            for k in range(C):
                t = y[off + k]
                if eps > 0:
                    t = t * keep + spread
                acc += lp[off + k] * t * weight[k] if weight is not None else lp[off + k] * t
            out.append(-acc)
        return out, None
    out, den = nll(lp, C, y, weight, ignore_index)
    if eps > 0:
        for r, t in enumerate(y):
            if t == ignore_index:
                continue
            off = r * C
            smooth = 0.0
            for k in range(C):
                smooth += lp[off + k] * weight[k] if weight is not None else lp[off + k]
            out[r] = keep * out[r] + (-smooth) * spread
    return out, den


def bce(x, y, w):
    out = []
    for a, b in zip(x, y):
        l1_ = log1p(-a)
        if l1_ < -100:
            l1_ = -100.0
        l0 = log(a)
        if l0 < -100:
            l0 = -100.0
        out.append((b - 1) * l1_ - b * l0)
    return out if w is None else [v * wi for v, wi in zip(out, w)]


def log_sigmoid(x):
    return (x if x < 0 else 0.0) - log1p(exp(-fabs(x)))


def bce_with_logits(x, y, w, pw):
    out = []
    for i, (a, b) in enumerate(zip(x, y)):
        if pw is not None:
            lw = (pw[i] - 1) * b + 1
            out.append((1 - b) * a - lw * log_sigmoid(a))
        else:
            out.append((1 - b) * a - log_sigmoid(a))
    return out if w is None else [v * wi for v, wi in zip(out, w)]


def kl_div(x, y, log_target):
    out = []
    for a, t in zip(x, y):
        if log_target:
            out.append(exp(t) * (t - a))
        else:
            xl = NAN if t != t else 0.0 if t == 0 else t * log(t)
            out.append(xl - t * a)
    return out


TWO_PI = 2 * math.pi                                   # PyTorch's 2 * c10::pi<double>
HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)          # torch/nn/functional.py's constant (Python's math.log)
assert HALF_LOG_TWO_PI == 0.5 * log(2 * math.pi)       # which is also the correctly rounded log(2π)


def poisson_nll(x, y, log_input, full, eps):
    out = []
    for a, b in zip(x, y):
        out.append(exp(a) - b * a if log_input else a - b * log(a + eps))
    if full:
        for i, t in enumerate(y):
            s = 0.0 if t <= 1 else t * log(t) - t + 0.5 * log(TWO_PI * t)
            out[i] = out[i] + s
    return out


def gaussian_nll(x, y, var, full, eps):
    out = []
    for a, b, raw in zip(x, y, var):
        v = eps if raw < eps else raw
        d = a - b
        out.append(0.5 * (log(v) + div(d * d, v)))
    if full:
        out = [v + HALF_LOG_TWO_PI for v in out]
    return out


LOG1P_INF_BOUND = 1e307  # losseval (as torch's SLEEF log1p): exp(−y·x) above this gives inf


def soft_margin(x, y):
    out = []
    for a, b in zip(x, y):
        e = exp(-a * b)
        out.append(INF if e > LOG1P_INF_BOUND else log1p(e))
    return out


def multilabel_soft_margin(x, C, y, w):
    out = []
    for off in range(0, len(x), C):
        e = []
        for i in range(off, off + C):
            a, b = x[i], y[i]
            v = -(b * log_sigmoid(a) + (1 - b) * log_sigmoid(-a))
            if w is not None:
                v = v * w[i]
            e.append(v)
        out.append(div(torch_row_sum(e), C))
    return out


def hinge_embedding(x, y, margin):
    out = []
    for a, b in zip(x, y):
        d = margin - a
        clamped = 0.0 if d < 0 else d
        out.append((clamped if b != 1 else 0.0) + (a if b != -1 else 0.0))
    return out


def multi_margin(x, C, y, p, margin, weight):
    out = []
    for r, t in enumerate(y):
        off = r * C
        xt = x[off + t]
        wt = weight[t] if weight is not None else 1.0
        s = 0.0
        for d in range(C):
            if d == t:
                continue
            z = margin - xt + x[off + d]
            if z > 0:
                h = z * z if p == 2 else z
                if weight is not None:
                    h = h * wt
                s += h
        out.append(div(s, C))
    return out


def margin_ranking(x1, x2, y, margin):
    out = []
    for a, b, t in zip(x1, x2, y):
        z = -t * (a - b) + margin
        out.append(0.0 if z < 0 else z)
    return out


COSINE_EPS = struct.unpack("<f", struct.pack("<f", 1e-12))[0]  # float32 1e-12 as a double


def cosine_embedding(x1, x2, D, y, margin):
    out = []
    for r, t in enumerate(y):
        a, b = x1[r * D:(r + 1) * D], x2[r * D:(r + 1) * D]
        dot = torch_row_sum([u * v for u, v in zip(a, b)])
        m1 = torch_row_sum([u * u for u in a]) + COSINE_EPS
        m2 = torch_row_sum([v * v for v in b]) + COSINE_EPS
        cos = div(dot, sqrt(m1 * m2))
        neg = cos - margin
        out.append((1 - cos if t == 1 else 0.0) + ((0.0 if neg < 0 else neg) if t == -1 else 0.0))
    return out


# ---------------------------------------------------------------------------------------------
# a golden case (torch tensors + kwargs with defaults) -> reference terms


def terms(loss, inputs, kw, kind):
    inp, tgt = inputs["input"], inputs["target"]
    x = flat(inp)
    N, C = rows_width(inp)
    shape = inp.shape
    w = inputs.get("weight")
    if loss == "l1_loss":
        return l1(x, flat(tgt)), None
    if loss == "mse_loss":
        return mse(x, flat(tgt)), None
    if loss == "smooth_l1_loss":
        return smooth_l1(x, flat(tgt), float(kw["beta"])), None
    if loss == "huber_loss":
        return huber(x, flat(tgt), float(kw["delta"])), None
    if loss == "nll_loss":
        return nll(x, C, tgt.tolist(), flat(w) if w is not None else None, kw["ignore_index"])
    if loss == "cross_entropy":
        eps = float(kw["label_smoothing"])
        if eps < 0:
            return None  # losseval refuses it (PyTorch silently uses 0)
        probs = kind == "probs"
        y = flat(tgt) if probs else tgt.tolist()
        return cross_entropy(x, C, y, flat(w) if w is not None else None, kw["ignore_index"], eps, probs)
    if loss == "binary_cross_entropy":
        return bce(x, flat(tgt), broadcast(w, shape) if w is not None else None), None
    if loss == "binary_cross_entropy_with_logits":
        pw = inputs.get("pos_weight")
        return bce_with_logits(x, flat(tgt), broadcast(w, shape) if w is not None else None,
                               broadcast(pw, shape) if pw is not None else None), None
    if loss == "kl_div":
        return kl_div(x, flat(tgt), bool(kw["log_target"])), None
    if loss == "poisson_nll_loss":
        return poisson_nll(x, flat(tgt), bool(kw["log_input"]), bool(kw["full"]), float(kw["eps"])), None
    if loss == "gaussian_nll_loss":
        var = inputs["var"]
        if var.shape != shape:  # (N,) -> (N, 1), as torch unsqueezes it
            var = var.unsqueeze(-1) if var.dim() == inp.dim() - 1 else var
        return gaussian_nll(x, flat(tgt), broadcast(var, shape), bool(kw["full"]), float(kw["eps"])), None
    if loss == "soft_margin_loss":
        return soft_margin(x, flat(tgt)), None
    if loss == "multilabel_soft_margin_loss":
        return multilabel_soft_margin(x, C, flat(tgt), broadcast(w, shape) if w is not None else None), None
    if loss == "hinge_embedding_loss":
        return hinge_embedding(x, flat(tgt), float(kw["margin"])), None
    if loss == "multi_margin_loss":
        return multi_margin(x, C, tgt.tolist(), kw["p"], float(kw["margin"]), flat(w) if w is not None else None), None
    if loss == "margin_ranking_loss":
        return margin_ranking(x, flat(inputs["input2"]), flat(tgt), float(kw["margin"])), None
    if loss == "cosine_embedding_loss":
        return cosine_embedding(x, flat(inputs["input2"]), C, flat(tgt), float(kw["margin"])), None
    raise KeyError(loss)
