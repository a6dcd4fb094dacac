#!/usr/bin/python3
"""Generate the PyTorch golden fixtures in test/golden/<functional_name>.json.

Usage (needs Debian's torch and mpmath, not the pyenv python on PATH):

    apt-get install -y python3-torch python3-mpmath
    /usr/bin/python3 scripts/golden.py            # writes test/golden/*.json
    /usr/bin/python3 scripts/golden.py --check    # also compare the 2.x re-implementations with torch 1.13

The output is deterministic: every random case uses its own generator seeded from the case name,
torch runs single-threaded, and the JSON is written with a fixed key order.

Layout of this file:
  * helpers: tensors, float formatting, exact (Fraction) reductions;
  * the 2.x re-implementations of binary_cross_entropy, binary_cross_entropy_with_logits and
    soft_margin_loss (spec section 4: losseval follows 2.x where 1.13 differs);
  * LOSSES: one entry per loss = how to call it, its mean denominator, default kwargs, and a case
    builder returning the list of cases;
  * evaluate(): runs one case for every reduction and produces the JSON record;
  * reference(): the record's `ref`, losseval's expected terms and reductions, from refterms.py
    (losseval's operation order with correctly rounded log/log1p/exp) and exact Fraction sums.
See test/golden/README.md for the meaning of every field.
"""

import json
import math
import struct
import sys
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import refterms  # noqa: E402  (losseval's kernels in Python with correctly rounded log/log1p/exp)

torch.set_num_threads(1)  # cascade-sum results must not depend on the thread split
warnings.filterwarnings("ignore")  # kl_div 'mean' warning etc.

OUT_DIR = Path(__file__).resolve().parent.parent / "test" / "golden"
F64 = torch.float64
NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------
# small helpers


def T(data):
    """float64 tensor from (nested) Python data."""
    return torch.tensor(data, dtype=F64)


def I(data):
    """int64 tensor (class indices)."""
    return torch.tensor(data, dtype=torch.int64)


def rng(name):
    """A generator seeded from the case name, so adding/removing cases never shifts the others."""
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def randn(g, *shape, scale=1.0, dec=None):
    t = torch.randn(tuple(shape), generator=g, dtype=F64) * scale
    return rounded(t, dec) if dec is not None else t


def rand(g, *shape):
    return torch.rand(tuple(shape), generator=g, dtype=F64)


def rounded(t, dec):
    """Round to `dec` decimals, as a CSV with limited precision would hold (short repr strings)."""
    return torch.round(t * 10.0**dec) / 10.0**dec


def class_targets(g, n, c, ignore_frac=0.0, ignore_index=-100):
    y = torch.randint(0, c, (n,), generator=g, dtype=torch.int64)
    if ignore_frac > 0:
        mask = torch.rand(n, generator=g, dtype=F64) < ignore_frac
        y[mask] = ignore_index
    return y


def fmt(v):
    """Python repr of a float64: shortest round-trip string, 'nan'/'inf'/'-inf' for specials."""
    return repr(float(v))


def tolist(t):
    """Tensor -> nested lists; floats become repr strings, integers stay JSON numbers."""
    if t.dtype.is_floating_point:
        if t.dim() == 0:
            return fmt(t.item())
        return [tolist(s) for s in t] if t.dim() > 1 else [fmt(v) for v in t.tolist()]
    return t.tolist()


def jsonable(v):
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return fmt(v)
    raise TypeError(v)


# ---------------------------------------------------------------------------------------------
# exact reductions (what losseval computes): exact sum of the float64 terms, rounded once


def to_float(q):
    """Correctly rounded Fraction -> float (int/int true division is correctly rounded in CPython)."""
    try:
        return float(q)
    except OverflowError:
        return INF if q > 0 else -INF


def exact_sum(values):
    """IEEE semantics for specials, otherwise the exactly rounded sum. Returns (float, Fraction|None)."""
    if any(math.isnan(v) for v in values):
        return NAN, None
    pinf, ninf = INF in values, -INF in values
    if pinf and ninf:
        return NAN, None
    if pinf:
        return INF, None
    if ninf:
        return -INF, None
    q = sum((Fraction(v) for v in values), Fraction(0))
    if q == 0:  # IEEE: the sum is -0.0 only when every term is -0.0
        neg = len(values) > 0 and all(math.copysign(1.0, v) < 0 for v in values)
        return (-0.0 if neg else 0.0), q
    return to_float(q), q


def exact_mean(total, q, den):
    """total/q from exact_sum, den a Fraction; one correctly rounded division (IEEE for x/0)."""
    if math.isnan(total):
        return NAN
    if den == 0:
        if q is not None and q == 0:
            return NAN  # 0/0
        return math.copysign(INF, total)
    if q is None:  # +-inf over a finite non-zero denominator
        return total if den > 0 else -total
    if q == 0:
        return math.copysign(0.0, total) * (1.0 if den > 0 else -1.0)
    return to_float(q / den)


# ---------------------------------------------------------------------------------------------
# torch 2.x formulas for the three losses whose 1.13 kernels differ (spec section 4)


def _log(x):
    return -INF if x == 0 else math.log(x)


def _log1p(x):
    return -INF if x == -1 else math.log1p(x)


def bce_2x(input, target, weight=None, reduction="mean"):
    """2.x binary_cross_entropy: the functional checks + the scalar CPU kernel of Loss.cpp.

    The 2.x kernel is a scalar `cpu_kernel` using std::log / std::log1p (libm), so the per-element
    term is evaluated with Python's math (the same glibc libm), in the source's operation order:
        (y - 1) * max(log1p(-x), -100) - y * max(log(x), -100)
    both range checks run per element, input first; the weight is multiplied in place afterwards.
    """
    if target.size() != input.size():
        raise ValueError(
            "Using a target size ({}) that is different to the input size ({}) is deprecated. "
            "Please ensure they have the same size.".format(target.size(), input.size()))
    if weight is not None:
        new_size = torch._C._infer_size(target.size(), weight.size())
        weight = weight.expand(new_size)
    terms = []
    for x, y in zip(input.reshape(-1).tolist(), target.reshape(-1).tolist()):
        if not (x >= 0 and x <= 1):
            raise RuntimeError("all elements of input should be between 0 and 1")
        if not (y >= 0 and y <= 1):
            raise RuntimeError("all elements of target should be between 0 and 1")
        terms.append((y - 1.0) * max(_log1p(-x), -100.0) - y * max(_log(x), -100.0))
    loss = torch.tensor(terms, dtype=F64).reshape(input.shape)
    if weight is not None:
        loss.mul_(weight)
    return reduce_like_torch(loss, reduction)


def log_sigmoid_2x(x):
    """2.x log_sigmoid CPU kernel: min(x, 0) - log1p(exp(-|x|)) (vectorised exp/log1p)."""
    return torch.minimum(x, torch.zeros_like(x)) - torch.log1p(torch.exp(torch.neg(torch.abs(x))))


def bce_with_logits_2x(input, target, weight=None, pos_weight=None, reduction="mean"):
    """2.x binary_cross_entropy_with_logits (Loss.cpp), same op order:
        ls = log_sigmoid(x); ls *= (pos_weight - 1) * y + 1; loss = (1 - y) * x - ls; loss *= w
    """
    if not (target.size() == input.size()):
        raise ValueError("Target size ({}) must be the same as input size ({})".format(
            target.size(), input.size()))
    ls = log_sigmoid_2x(input)
    if pos_weight is not None:
        log_weight = (pos_weight - 1).mul(target).add_(1)
        ls.mul_(log_weight)
    loss = (1 - target).mul_(input).sub_(ls)
    if weight is not None:
        loss.mul_(weight)
    return reduce_like_torch(loss, reduction)


def soft_margin_2x(input, target, reduction="mean"):
    """2.x soft_margin_loss_out: neg_out(output, input).mul_(target).exp_().log1p_()."""
    out = torch.neg(input).mul_(target).exp_().log1p_()
    return reduce_like_torch(out, reduction)


def reduce_like_torch(loss, reduction):
    """apply_loss_reduction: Tensor.mean() / Tensor.sum() (PyTorch's cascade summation)."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError("{} is not a valid value for reduction".format(reduction))


# ---------------------------------------------------------------------------------------------
# denominators of 'mean' (exact Fractions)


def den_numel(case, none):
    return Fraction(none.numel())


def den_rows(case, none):
    inp = case["inputs"]["input"]
    return Fraction(inp.shape[0] if inp.dim() > 0 else 1)


def den_sum_w_y(case, none):
    """NLL/CE class-index: sum of w[y] over non-ignored rows (exact sum of the float64 weights)."""
    inputs, kw = case["inputs"], case["kwargs"]
    y = inputs["target"].tolist()
    ign = kw.get("ignore_index", -100)
    w = inputs.get("weight")
    wl = w.tolist() if w is not None else None
    total = Fraction(0)
    for t in y:
        if t == ign:
            continue
        total += Fraction(wl[t]) if wl is not None else 1
    return total


# ---------------------------------------------------------------------------------------------
# case construction


def case(name, inputs, kwargs=None, kind="elementwise", **extra):
    c = {"name": name, "inputs": inputs, "kwargs": dict(kwargs or {}), "target_kind": kind}
    c.update(extra)
    return c


def random_elementwise(prefix, shapes, make, kwargs_list=({},)):
    """Seeded random element-wise cases: make(g, n, k) -> inputs dict."""
    out = []
    for (n, k) in shapes:
        for kw in kwargs_list:
            suffix = "".join(" {}={}".format(a, b) for a, b in kw.items())
            name = "random {} N={} C={}{}".format(prefix, n, k, suffix)
            out.append(case(name, make(rng(name), n, k), kw))
    return out


SPEC_X = [1.5, -2.0, 3.25, 0.0]
SPEC_Y = [1.0, 1.0, 3.0, -0.5]
SMOOTH_X = [0.2, -0.7, 1.9, 3.0]
SMOOTH_Y = [0.0, 0.0, 0.5, -1.0]
SPECIAL_X = [NAN, INF, INF, 1.0, -INF, 2.0]
SPECIAL_Y = [0.0, INF, 1.0, -INF, 5.0, NAN]


def regression_data(g, n, k):
    y = randn(g, n, k, scale=3.0, dec=4)
    x = rounded(y + randn(g, n, k, scale=1.0) * (1 + 2 * rand(g, n, k)), 4)
    return {"input": x, "target": y}


def regression_full_precision(g, n, k):
    return {"input": randn(g, n, k, scale=2.0), "target": randn(g, n, k, scale=2.0)}


REG_SHAPES = [(1, 1), (7, 3), (257, 2), (1000, 1)]
BIG_SHAPES = [(1, 1), (7, 3), (257, 2), (3000, 1)]  # only for a few losses: keeps the JSON < 4 MB


def cases_l1():
    return [
        case("spec §5", {"input": T(SPEC_X), "target": T(SPEC_Y)}),
        case("spec §5 as 2x2", {"input": T([[1.5, -2.0], [3.25, 0.0]]), "target": T([[1.0, 1.0], [3.0, -0.5]])}),
        case("nan/inf propagation", {"input": T(SPECIAL_X), "target": T(SPECIAL_Y)}),
        case("overflow 1e308 - (-1e308)", {"input": T([1e308, 1.0]), "target": T([-1e308, 0.5])}),
        case("signed zeros and subnormals", {"input": T([-0.0, 5e-324, 0.0]), "target": T([0.0, 0.0, -5e-324])}),
        case("empty", {"input": torch.zeros(0, 3, dtype=F64), "target": torch.zeros(0, 3, dtype=F64)}),
    ] + random_elementwise("regression", REG_SHAPES, regression_data) \
      + random_elementwise("full-precision", [(30, 10)], regression_full_precision)


def cases_mse():
    return [
        case("spec §5", {"input": T(SPEC_X), "target": T(SPEC_Y)}),
        case("nan/inf propagation", {"input": T(SPECIAL_X), "target": T(SPECIAL_Y)}),
        case("square overflows to inf", {"input": T([1e200, 1e154]), "target": T([-1e200, 0.0])}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}),
    ] + random_elementwise("regression", BIG_SHAPES, regression_data) \
      + random_elementwise("full-precision", [(30, 10)], regression_full_precision)


def heavy_tail_data(g, n, k):
    y = randn(g, n, k, scale=2.0, dec=3)
    noise = randn(g, n, k) * torch.exp(randn(g, n, k))  # mixes |z| < beta and |z| >= beta
    return {"input": rounded(y + noise, 3), "target": y}


def cases_smooth_l1():
    xs = {"input": T(SMOOTH_X), "target": T(SMOOTH_Y)}
    return [
        case("spec §5 beta=1.0", xs, {"beta": 1.0}),
        case("spec §5 beta=0.5", xs, {"beta": 0.5}),
        case("spec §5 beta=0.0 (= l1)", xs, {"beta": 0.0}),
        case("spec §5 beta=2.0", xs, {"beta": 2.0}),
        case("boundary z == beta", {"input": T([1.5, -0.5, 0.25]), "target": T([1.0, 0.0, 0.0])}, {"beta": 0.5}),
        case("tiny beta 1e-300", {"input": T([1e-301, 1.0]), "target": T([0.0, 0.0])}, {"beta": 1e-300}),
        case("nan/inf propagation", {"input": T(SPECIAL_X), "target": T(SPECIAL_Y)}, {"beta": 1.0}),
        case("nan/inf beta=0", {"input": T(SPECIAL_X), "target": T(SPECIAL_Y)}, {"beta": 0.0}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}, {"beta": 1.0}),
        case("error beta<0", xs, {"beta": -1.0}),
    ] + random_elementwise("heavy-tail", REG_SHAPES[:3], heavy_tail_data,
                           [{"beta": 1.0}, {"beta": 0.5}, {"beta": 0.0}]) \
      + random_elementwise("heavy-tail", [(1000, 1)], heavy_tail_data, [{"beta": 1.0}])


def cases_huber():
    xs = {"input": T(SMOOTH_X), "target": T(SMOOTH_Y)}
    return [
        case("spec §5 delta=1.0", xs, {"delta": 1.0}),
        case("spec §5 delta=2.0", xs, {"delta": 2.0}),
        case("spec §5 delta=0.5", xs, {"delta": 0.5}),
        case("boundary z == delta", {"input": T([1.5, -0.5, 0.25]), "target": T([1.0, 0.0, 0.0])}, {"delta": 0.5}),
        case("large delta 1e200 squares overflow", {"input": T([1e160, 3.0]), "target": T([0.0, 1.0])}, {"delta": 1e200}),
        case("nan/inf propagation", {"input": T(SPECIAL_X), "target": T(SPECIAL_Y)}, {"delta": 1.0}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}, {"delta": 1.0}),
        case("error delta=0", xs, {"delta": 0.0}),
        case("error delta<0", xs, {"delta": -1.0}),
    ] + random_elementwise("heavy-tail", REG_SHAPES[:3], heavy_tail_data,
                           [{"delta": 1.0}, {"delta": 0.3}, {"delta": 2.5}]) \
      + random_elementwise("heavy-tail", [(1000, 1)], heavy_tail_data, [{"delta": 1.35}])


NLL_X = [[-0.5, -1.2, -2.3], [-1.0, -0.7, -1.8], [-2.2, -0.3, -1.6]]
CE_X = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-0.3, 0.2, 0.9]]
CE_P = [[0.7, 0.2, 0.1], [0.0, 1.0, 0.0], [0.25, 0.25, 0.5]]


def nll_random(name, n, c, weighted=False, ignore_frac=0.1, ignore_index=-100):
    g = rng(name)
    x = rounded(torch.log_softmax(randn(g, n, c, scale=2.0), dim=1), 4)  # log-probs as a CSV holds them
    inputs = {"input": x, "target": class_targets(g, n, c, ignore_frac, ignore_index)}
    if weighted:
        inputs["weight"] = rounded(0.1 + 1.9 * rand(g, c), 3)
    return case(name, inputs, {"ignore_index": ignore_index}, "index")


def cases_nll():
    X = T(NLL_X)
    w = T([1.0, 2.0, 0.5])
    cs = [
        case("spec §5", {"input": X, "target": I([0, 2, 1])}, {}, "index"),
        case("spec §5 weight", {"input": X, "target": I([0, 2, 1]), "weight": w}, {}, "index"),
        case("spec §5 weight + ignored row", {"input": X, "target": I([0, -100, 1]), "weight": w}, {}, "index"),
        case("spec §5 all ignored", {"input": X, "target": I([-100, -100, -100])}, {}, "index"),
        case("all ignored with weight", {"input": X, "target": I([-100, -100, -100]), "weight": w}, {}, "index"),
        case("ignore_index is a valid class (1)", {"input": X, "target": I([0, 1, 1])}, {"ignore_index": 1}, "index"),
        case("ignore_index valid class with weight", {"input": X, "target": I([1, 2, 1]), "weight": w}, {"ignore_index": 1}, "index"),
        case("custom negative ignore_index -1", {"input": X, "target": I([-1, 2, 0])}, {"ignore_index": -1}, "index"),
        case("selected weights all 0 -> nan (0/0)", {"input": X, "target": I([0, 1, 1]), "weight": T([0.0, 0.0, 1.0])}, {}, "index"),
        case("selected weights sum to 0 -> +inf", {"input": X, "target": I([0, 2, 1]), "weight": T([1.0, -1.0, 0.0])}, {}, "index"),
        case("selected weights sum to 0 -> -inf", {"input": X, "target": I([0, 1, 2]), "weight": T([1.0, -1.0, 0.0])}, {}, "index"),
        case("negative weights", {"input": X, "target": I([0, 2, 1]), "weight": T([-1.0, 2.0, 0.5])}, {}, "index"),
        case("nan/inf in non-target columns and ignored rows", {"input": T([[-0.5, NAN, INF], [NAN, NAN, NAN], [-INF, -0.3, NAN]]),
                                                                 "target": I([0, -100, 1])}, {}, "index"),
        case("nan / -inf on the target column", {"input": T([[NAN, -1.0], [-INF, -2.0]]), "target": I([0, 0])}, {}, "index"),
        case("C=1", {"input": T([[-0.25], [-1.5]]), "target": I([0, 0])}, {}, "index"),
        case("empty", {"input": torch.zeros(0, 3, dtype=F64), "target": I([])}, {}, "index"),
        case("error target out of bounds (3)", {"input": X, "target": I([0, 3, 1])}, {}, "index"),
        case("error negative target (-1)", {"input": X, "target": I([0, -1, 1])}, {}, "index"),
        case("error weight of wrong length", {"input": X, "target": I([0, 2, 1]), "weight": T([1.0, 2.0])}, {}, "index"),
        case("error batch size mismatch", {"input": X[:2], "target": I([0, 2, 1])}, {}, "index"),
    ]
    for (n, c) in [(1, 2), (7, 3), (257, 10), (20, 100), (3000, 2)]:
        cs.append(nll_random("random N={} C={}".format(n, c), n, c))
    for (n, c) in [(7, 3), (100, 10), (20, 100)]:
        cs.append(nll_random("random weighted N={} C={}".format(n, c), n, c, weighted=True))
    cs.append(nll_random("random ignore_index=0 weighted N=257 C=3", 257, 3, weighted=True, ignore_frac=0.0, ignore_index=0))
    return cs


def ce_random(name, n, c, weighted=False, ignore_frac=0.1, ls=0.0, dec=3, ignore_index=-100):
    g = rng(name)
    x = randn(g, n, c, scale=2.0, dec=dec)
    inputs = {"input": x, "target": class_targets(g, n, c, ignore_frac, ignore_index)}
    if weighted:
        inputs["weight"] = rounded(0.1 + 1.9 * rand(g, c), 3)
    return case(name, inputs, {"ignore_index": ignore_index, "label_smoothing": ls}, "index")


def ce_random_probs(name, n, c, weighted=False, ls=0.0, onehot=False):
    g = rng(name)
    x = randn(g, n, c, scale=2.0, dec=3)
    if onehot:
        p = F.one_hot(torch.randint(0, c, (n,), generator=g), c).to(F64)
    else:
        p = rounded(torch.softmax(randn(g, n, c, scale=1.5), dim=1), 4)  # rows sum to 1 only approximately
    inputs = {"input": x, "target": p}
    if weighted:
        inputs["weight"] = rounded(0.1 + 1.9 * rand(g, c), 3)
    return case(name, inputs, {"label_smoothing": ls}, "probs")


def cases_ce():
    X = T(CE_X)
    w = T([0.2, 0.3, 0.5])
    P = T(CE_P)
    idx = lambda *a, **k: case(*a, kind="index", **k)
    prb = lambda *a, **k: case(*a, kind="probs", **k)
    cs = [
        idx("spec §5", {"input": X, "target": I([0, 1, 2])}),
        idx("spec §5 weight", {"input": X, "target": I([0, 1, 2]), "weight": w}),
        idx("spec §5 label_smoothing=0.1", {"input": X, "target": I([2, 0, 1])}, {"label_smoothing": 0.1}),
        idx("spec §5 weight + ignored row + label_smoothing=0.1", {"input": X, "target": I([0, -100, 2]), "weight": w}, {"label_smoothing": 0.1}),
        idx("ignore_index without weight", {"input": X, "target": I([0, -100, 2])}),
        idx("ignore_index with weight", {"input": X, "target": I([0, -100, 2]), "weight": w}),
        idx("ignore_index is a valid class (2)", {"input": X, "target": I([0, 2, 2])}, {"ignore_index": 2}),
        idx("ignore_index valid class + smoothing + weight", {"input": X, "target": I([0, 1, 2]), "weight": w}, {"ignore_index": 1, "label_smoothing": 0.3}),
        idx("label_smoothing=1.0", {"input": X, "target": I([0, 1, 2]), "weight": w}, {"label_smoothing": 1.0}),
        idx("label_smoothing<0 treated as 0", {"input": X, "target": I([0, 1, 2])}, {"label_smoothing": -0.5}),
        idx("all ignored", {"input": X, "target": I([-100, -100, -100])}),
        idx("all ignored with weight + smoothing", {"input": X, "target": I([-100, -100, -100]), "weight": w}, {"label_smoothing": 0.2}),
        idx("logits +-1000", {"input": T([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]]), "target": I([1, 0, 2])}),
        idx("logits +-1000 smoothing", {"input": T([[1000.0, 0.0, -1000.0]]), "target": I([1])}, {"label_smoothing": 0.1}),
        idx("nan logit in row", {"input": T([[1.0, NAN, 3.0], [1.0, 2.0, 3.0]]), "target": I([0, 1])}),
        idx("nan logit only row, ignored -> all ignored", {"input": T([[1.0, NAN, 3.0]]), "target": I([-100])}),
        idx("nan logit in ignored row with smoothing", {"input": T([[1.0, NAN, 3.0], [1.0, 2.0, 3.0]]), "target": I([-100, 1])}, {"label_smoothing": 0.2}),
        idx("+inf logit -> nan row", {"input": T([[INF, 0.0, 1.0], [0.5, 0.2, 0.1]]), "target": I([0, 1])}),
        idx("-inf logit on target -> inf", {"input": T([[-INF, 0.0, 1.0]]), "target": I([0])}),
        idx("-inf logit on non-target, no smoothing", {"input": T([[-INF, 0.0, 1.0]]), "target": I([2])}),
        idx("-inf logit on non-target, smoothing -> inf", {"input": T([[-INF, 0.0, 1.0]]), "target": I([2])}, {"label_smoothing": 0.1}),
        idx("C=1", {"input": T([[3.0], [-2.0]]), "target": I([0, 0])}),
        idx("empty", {"input": torch.zeros(0, 3, dtype=F64), "target": I([])}),
        idx("error label_smoothing>1", {"input": X, "target": I([0, 1, 2])}, {"label_smoothing": 1.5}),
        idx("error target out of bounds", {"input": X, "target": I([0, 3, 2])}),
        idx("error negative target", {"input": X, "target": I([0, -5, 2])}),
        idx("error weight of wrong length", {"input": X, "target": I([0, 1, 2]), "weight": T([1.0, 2.0])}),
        prb("spec §5 probs", {"input": X, "target": P}),
        prb("spec §5 probs weight + smoothing 0.2", {"input": X, "target": P, "weight": w}, {"label_smoothing": 0.2}),
        prb("probs weight", {"input": X, "target": P, "weight": w}),
        prb("probs smoothing", {"input": X, "target": P}, {"label_smoothing": 0.3}),
        prb("one-hot probs with weight (not weight-normalised)", {"input": X, "target": T([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]), "weight": w}),
        prb("unnormalised and negative targets", {"input": X, "target": T([[2.0, -0.5, 0.0], [0.1, 0.1, 0.1], [0.0, 0.0, 0.0]])}),
        prb("t=0 where lp=-inf -> nan", {"input": T([[-INF, 0.0, 1.0]]), "target": T([[0.0, 0.5, 0.5]])}),
        prb("probs logits +-1000", {"input": T([[1000.0, 0.0, -1000.0]]), "target": T([[0.0, 1.0, 0.0]])}),
        prb("probs empty", {"input": torch.zeros(0, 3, dtype=F64), "target": torch.zeros(0, 3, dtype=F64)}),
        prb("error probs with non-negative ignore_index", {"input": X, "target": P}, {"ignore_index": 0}),
        prb("error probs label_smoothing>1", {"input": X, "target": P}, {"label_smoothing": 1.5}),
    ]
    for (n, c) in [(1, 2), (7, 3), (257, 10), (30, 100), (3000, 2)]:
        cs.append(ce_random("random N={} C={}".format(n, c), n, c))
    cs.append(ce_random("random full-precision N=257 C=3", 257, 3, dec=None))
    cs.append(ce_random("random N=50 C=1000", 50, 1000, ignore_frac=0.1, dec=2))
    for (n, c) in [(7, 3), (100, 10)]:
        cs.append(ce_random("random weighted N={} C={}".format(n, c), n, c, weighted=True))
        cs.append(ce_random("random weighted unignored N={} C={}".format(n, c), n, c, weighted=True, ignore_frac=0.0))
        cs.append(ce_random("random weighted smoothing=0.1 N={} C={}".format(n, c), n, c, weighted=True, ls=0.1))
        cs.append(ce_random("random smoothing=0.2 N={} C={}".format(n, c), n, c, ls=0.2))
    cs.append(ce_random("random ignore_index=1 weighted smoothing=0.05 N=257 C=4", 257, 4, weighted=True, ignore_frac=0.2, ls=0.05, ignore_index=1))
    for (n, c) in [(7, 3), (257, 10), (20, 100)]:
        cs.append(ce_random_probs("random probs N={} C={}".format(n, c), n, c))
    cs.append(ce_random_probs("random probs weighted N=100 C=10", 100, 10, weighted=True))
    cs.append(ce_random_probs("random probs smoothing=0.1 N=100 C=10", 100, 10, ls=0.1))
    cs.append(ce_random_probs("random probs weighted smoothing=0.1 N=100 C=10", 100, 10, weighted=True, ls=0.1))
    cs.append(ce_random_probs("random one-hot probs weighted N=257 C=3", 257, 3, weighted=True, onehot=True))
    return cs


BCE_X = [0.1, 0.6, 0.95, 0.5]
BCE_Y = [0.0, 1.0, 1.0, 0.3]


def bce_random(name, n, c, weight_shape=None, soft=False, full=False):
    g = rng(name)
    logits = randn(g, n, c, scale=2.5)
    x = torch.sigmoid(logits) if full else rounded(torch.sigmoid(logits), 4)
    if soft:
        y = rounded(rand(g, n, c), 2)
    else:
        y = (rand(g, n, c) < torch.sigmoid(logits * 1.5)).to(F64)
    inputs = {"input": x, "target": y}
    if weight_shape is not None:
        inputs["weight"] = rounded(0.1 + 2 * rand(g, *weight_shape), 2)
    return case(name, inputs)


def cases_bce():
    X22, Y22 = T([[0.1, 0.6], [0.95, 0.5]]), T([[0.0, 1.0], [1.0, 0.3]])
    X23, Y23 = T([[0.1, 0.6, 0.3], [0.95, 0.5, 0.01]]), T([[0.0, 1.0, 1.0], [1.0, 0.3, 0.0]])
    cs = [
        case("spec §5", {"input": T(BCE_X), "target": T(BCE_Y)}),
        case("spec §5 2x2 weight per column (C,)", {"input": X22, "target": Y22, "weight": T([2.0, 0.5])}),
        case("spec §5 2x2 weight per row (N,1)", {"input": X22, "target": Y22, "weight": T([[3.0], [1.0]])}),
        case("2x3 weight per column (C,) [1,2,3]", {"input": X23, "target": Y23, "weight": T([1.0, 2.0, 3.0])}),
        case("2x3 weight per column (1,C)", {"input": X23, "target": Y23, "weight": T([[1.0, 2.0, 3.0]])}),
        case("2x3 weight per row (N,1)", {"input": X23, "target": Y23, "weight": T([[0.5], [4.0]])}),
        case("2x3 weight element-wise (N,C)", {"input": X23, "target": Y23, "weight": T([[1.0, 0.0, 2.0], [0.5, 3.0, -1.0]])}),
        case("2x3 weight scalar ()", {"input": X23, "target": Y23, "weight": T(2.5)}),
        case("2x3 weight scalar (1,)", {"input": X23, "target": Y23, "weight": T([0.25])}),
        case("trap: (N,) weight with N == C is per column", {"input": T([[0.2, 0.7], [0.9, 0.4]]), "target": T([[0.0, 1.0], [1.0, 1.0]]), "weight": T([1.0, 3.0])}),
        case("log clamp x=0,y=1 x=1,y=0 x=1e-50,y=1", {"input": T([0.0, 1.0, 1e-50]), "target": T([1.0, 0.0, 1.0])}),
        case("log clamp x=0,y=0.5 and exact 0/1", {"input": T([0.0, 1.0, 0.0, 1.0]), "target": T([0.5, 0.5, 0.0, 1.0])}),
        case("2.x log1p: x=1e-17,1e-10 y=0", {"input": T([1e-17, 1e-10, 5e-324, 0.9999999999999999]), "target": T([0.0, 0.0, 0.0, 0.0])}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}),
        case("error input > 1", {"input": T([1.5, 0.5]), "target": T([1.0, 0.0])}),
        case("error input < 0", {"input": T([0.5, -1e-300]), "target": T([1.0, 0.0])}),
        case("error nan input", {"input": T([0.5, NAN]), "target": T([1.0, 0.0])}),
        case("error (2.x) target > 1", {"input": T([0.5, 0.5]), "target": T([1.0, 2.0])}),
        case("error (2.x) target < 0", {"input": T([0.5, 0.5]), "target": T([-0.5, 1.0])}),
        case("error (2.x) nan target", {"input": T([0.5, 0.5]), "target": T([NAN, 1.0])}),
        case("error weight (N,) with N != C", {"input": X23, "target": Y23, "weight": T([1.0, 2.0])}),
        case("error weight (1,N,C) enlarges", {"input": X23, "target": Y23, "weight": T([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])}),
        case("error weight (C,1) with C != N", {"input": X23, "target": Y23, "weight": T([[1.0], [2.0], [3.0]])}),
        case("error target shape differs", {"input": T([0.5, 0.5]), "target": T([[1.0, 0.0]])}),
    ]
    for (n, c) in [(1, 1), (7, 3), (257, 2), (3000, 1)]:
        cs.append(bce_random("random N={} C={}".format(n, c), n, c))
    cs.append(bce_random("random soft targets N=257 C=3", 257, 3, soft=True))
    cs.append(bce_random("random weight per column N=100 C=10", 100, 10, weight_shape=(10,)))
    cs.append(bce_random("random weight per row N=257 C=3", 257, 3, weight_shape=(257, 1)))
    cs.append(bce_random("random weight element-wise N=100 C=3", 100, 3, weight_shape=(100, 3)))
    cs.append(bce_random("random weight scalar N=100 C=3", 100, 3, weight_shape=()))
    cs.append(bce_random("random N=20 C=100", 20, 100))
    cs.append(bce_random("random full-precision sigmoid N=30 C=3", 30, 3, full=True))
    return cs


BCEL_X = [[-1.5, 0.0, 2.0], [3.0, -0.5, 0.25]]
BCEL_Y = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]]


def bcel_random(name, n, c, weight_shape=None, pos_shape=None, soft=False):
    g = rng(name)
    x = randn(g, n, c, scale=3.0, dec=4)
    if soft:
        y = rounded(rand(g, n, c), 2)
    else:
        y = (rand(g, n, c) < torch.sigmoid(x * 1.2)).to(F64)
    inputs = {"input": x, "target": y}
    if weight_shape is not None:
        inputs["weight"] = rounded(0.1 + 2 * rand(g, *weight_shape), 2)
    if pos_shape is not None:
        inputs["pos_weight"] = rounded(0.2 + 5 * rand(g, *pos_shape), 2)
    return case(name, inputs)


def cases_bcel():
    X, Y = T(BCEL_X), T(BCEL_Y)
    cs = [
        case("spec §5", {"input": X, "target": Y}),
        case("spec §5 pos_weight per column (C,)", {"input": X, "target": Y, "pos_weight": T([1.0, 2.0, 3.0])}),
        case("spec §5 weight (N,1) pos_weight (N,1)", {"input": X, "target": Y, "weight": T([[1.0], [2.0]]), "pos_weight": T([[0.5], [4.0]])}),
        case("pos_weight element-wise (N,C)", {"input": X, "target": Y, "pos_weight": T([[1.0, 2.0, 0.5], [3.0, 0.0, 10.0]])}),
        case("weight per column (C,)", {"input": X, "target": Y, "weight": T([2.0, 0.5, 1.0])}),
        case("weight element-wise (N,C) + pos_weight (C,)", {"input": X, "target": Y, "weight": T([[1.0, 0.0, 2.0], [0.5, 3.0, -1.0]]), "pos_weight": T([1.0, 2.0, 3.0])}),
        case("weight scalar ()", {"input": X, "target": Y, "weight": T(0.75)}),
        case("weight scalar (1,)", {"input": X, "target": Y, "weight": T([3.0])}),
        case("large |x|: 40,800,-800,37", {"input": T([[40.0, 800.0, -800.0, 37.0], [-40.0, 800.0, -800.0, 1e-20]]),
                                           "target": T([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.5]])}),
        case("spec §5 infinities", {"input": T([INF, -INF, INF, -INF]), "target": T([1.0, 0.0, 0.0, 1.0])}),
        case("nan input / nan target", {"input": T([NAN, 1.0, 0.5]), "target": T([1.0, NAN, 0.5])}),
        case("soft and out-of-range targets", {"input": T([0.3, -2.0, 1.0]), "target": T([0.25, 2.0, -1.0])}),
        case("empty", {"input": torch.zeros(0, 3, dtype=F64), "target": torch.zeros(0, 3, dtype=F64)}),
        case("error pos_weight (N,) with N != C", {"input": X, "target": Y, "pos_weight": T([1.0, 2.0])}),
        case("error pos_weight enlarges (2,N,C)", {"input": X, "target": Y, "pos_weight": torch.ones(2, 2, 3, dtype=F64)}),
        case("error weight (N,) with N != C", {"input": X, "target": Y, "weight": T([1.0, 2.0])}),
        case("error target shape differs", {"input": T([0.5, 0.5]), "target": T([[1.0, 0.0]])}),
    ]
    for (n, c) in [(1, 1), (7, 3), (257, 2), (3000, 1)]:
        cs.append(bcel_random("random N={} C={}".format(n, c), n, c))
    cs.append(bcel_random("random soft targets N=257 C=3", 257, 3, soft=True))
    cs.append(bcel_random("random pos_weight per column N=100 C=10", 100, 10, pos_shape=(10,)))
    cs.append(bcel_random("random soft targets pos_weight per column N=257 C=3", 257, 3, pos_shape=(3,), soft=True))
    cs.append(bcel_random("random pos_weight per row N=257 C=3", 257, 3, pos_shape=(257, 1)))
    cs.append(bcel_random("random pos_weight element-wise N=100 C=3", 100, 3, pos_shape=(100, 3)))
    cs.append(bcel_random("random weight per column + pos_weight per column N=257 C=3", 257, 3, weight_shape=(3,), pos_shape=(3,)))
    cs.append(bcel_random("random weight per row N=100 C=3", 100, 3, weight_shape=(100, 1)))
    cs.append(bcel_random("random weight element-wise N=100 C=3", 100, 3, weight_shape=(100, 3)))
    cs.append(bcel_random("random weight scalar N=100 C=3", 100, 3, weight_shape=()))
    cs.append(bcel_random("random N=20 C=100", 20, 100))
    return cs


KL_X = [[-1.2, -0.5, -2.0], [-0.1, -3.0, -1.0]]
KL_P = [[0.2, 0.5, 0.3], [0.0, 0.9, 0.1]]


def kl_random(name, n, c, log_target=False, sparse=False, dec=4):
    g = rng(name)
    x = torch.log_softmax(randn(g, n, c, scale=1.5), dim=1)
    p = torch.softmax(randn(g, n, c, scale=2.0), dim=1)
    if dec is not None:
        x, p = rounded(x, dec), rounded(p, dec)
    if sparse:
        p = p * (rand(g, n, c) < 0.5)
        p = p / p.sum(dim=1, keepdim=True).clamp_min(1e-300)
    t = torch.log(p) if log_target else p
    return case(name, {"input": x, "target": t}, {"log_target": log_target})


def cases_kl():
    X, P = T(KL_X), T(KL_P)
    cs = [
        case("spec §5", {"input": X, "target": P}),
        case("spec §5 log_target", {"input": X, "target": torch.log(T([[0.2, 0.5, 0.3], [0.4, 0.5, 0.1]]))}, {"log_target": True}),
        case("spec §5 -inf input with p=0 and p>0", {"input": T([-INF, -1.0]), "target": T([0.0, 0.5])}),
        case("p=0 with finite, nan input", {"input": T([-3.0, NAN, 5.0]), "target": T([0.0, 0.0, 0.0])}),
        case("p<0 -> nan, p nan -> nan", {"input": T([-1.0, -1.0, -1.0]), "target": T([-0.5, NAN, 0.5])}),
        case("-inf input with p>0 -> inf", {"input": T([-INF, -0.5]), "target": T([0.25, 0.75])}),
        case("log_target -inf target -> nan", {"input": T([-1.0, -0.5]), "target": T([-INF, 0.0])}, {"log_target": True}),
        case("log_target large target overflow", {"input": T([-1.0, 0.0]), "target": T([710.0, -1.0])}, {"log_target": True}),
        case("1-D input (batchmean divides by length)", {"input": T([-0.2, -1.7, -3.0, -0.9]), "target": T([0.5, 0.1, 0.1, 0.3])}),
        case("empty", {"input": torch.zeros(0, 3, dtype=F64), "target": torch.zeros(0, 3, dtype=F64)}),
    ]
    for (n, c) in [(1, 2), (7, 3), (100, 10), (20, 100), (1000, 2)]:
        cs.append(kl_random("random N={} C={}".format(n, c), n, c))
    cs.append(kl_random("random sparse targets N=257 C=3", 257, 3, sparse=True))
    cs.append(kl_random("random log_target N=100 C=10", 100, 10, log_target=True))
    cs.append(kl_random("random full-precision N=20 C=3", 20, 3, dec=None))
    cs.append(kl_random("random log_target N=7 C=3", 7, 3, log_target=True))
    return cs


def poisson_random(name, n, c, log_input=True, full=False, eps=1e-8):
    g = rng(name)
    rate = torch.exp(randn(g, n, c, scale=1.0))
    y = torch.poisson(rate * 2.0, generator=g)
    if log_input:
        x = rounded(torch.log(rate * 2.0) + randn(g, n, c, scale=0.3), 4)
    else:
        x = rounded(rate * 2.0 * torch.exp(randn(g, n, c, scale=0.3)), 4)
    return case(name, {"input": x, "target": y}, {"log_input": log_input, "full": full, "eps": eps})


def cases_poisson():
    X, Y = T([0.5, -1.0, 2.0, 0.1]), T([1.0, 0.0, 3.0, 2.0])
    cs = [
        case("spec §5 log_input", {"input": X, "target": Y}, {"log_input": True}),
        case("spec §5 log_input full", {"input": X, "target": Y}, {"log_input": True, "full": True}),
        case("spec §5 log_input=False", {"input": T([0.5, 1.0, 2.0, 0.0]), "target": Y}, {"log_input": False}),
        case("log_input=False full", {"input": T([0.5, 1.0, 2.0, 0.0]), "target": Y}, {"log_input": False, "full": True}),
        case("spec §5 full, x=0, y in {0,1,1.5,2}", {"input": T([0.0, 0.0, 0.0, 0.0]), "target": T([0.0, 1.0, 1.5, 2.0])}, {"full": True}),
        case("log_input=False x=0 -> -y*log(eps)", {"input": T([0.0, 0.0]), "target": T([1.0, 2.5])}, {"log_input": False}),
        case("log_input=False x < -eps -> nan", {"input": T([-1e-6, -1e-9, -1e-8]), "target": T([1.0, 1.0, 1.0])}, {"log_input": False}),
        case("log_input=False eps=0 x=0 y>0 -> inf", {"input": T([0.0, 0.0, 1.0]), "target": T([1.0, 0.0, 1.0])}, {"log_input": False, "eps": 0.0}),
        case("log_input=False eps=0.5", {"input": T([0.0, 0.25, 3.0]), "target": T([1.0, 2.0, 4.0])}, {"log_input": False, "eps": 0.5}),
        case("log_input exp overflow x=710 -> inf", {"input": T([710.0, -710.0, 709.0]), "target": T([1.0, 1.0, 0.0])}),
        case("full with y nan / y=1 boundary", {"input": T([0.3, 0.3, 0.3]), "target": T([NAN, 1.0, 1.0000000000000002])}, {"full": True}),
        case("non-integer targets", {"input": T([0.3, -0.2]), "target": T([2.7, 0.4])}, {"full": True}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}),
    ]
    for (n, c) in [(1, 1), (7, 3), (257, 2), (1000, 1)]:
        cs.append(poisson_random("random log_input N={} C={}".format(n, c), n, c))
    cs.append(poisson_random("random log_input full N=257 C=3", 257, 3, full=True))
    cs.append(poisson_random("random rate N=257 C=3", 257, 3, log_input=False))
    cs.append(poisson_random("random rate full N=257 C=3", 257, 3, log_input=False, full=True))
    cs.append(poisson_random("random rate full eps=1e-3 N=100 C=10", 100, 10, log_input=False, full=True, eps=1e-3))
    return cs


def gaussian_random(name, n, k, var_kind, full=False, eps=1e-6):
    g = rng(name)
    y = randn(g, n, k, scale=2.0, dec=3)
    sd = torch.exp(randn(g, n, k, scale=0.5))
    x = rounded(y + randn(g, n, k) * sd, 3)
    if var_kind == "elementwise":
        var = rounded(sd * sd, 4)
    elif var_kind == "row":
        var = rounded(torch.exp(randn(g, n, 1, scale=0.5)), 4)
    else:  # (N,)
        var = rounded(torch.exp(randn(g, n, scale=0.5)), 4)
    return case(name, {"input": x, "target": y, "var": var}, {"full": full, "eps": eps})


def cases_gaussian():
    X, Y = T([[1.0, 2.0], [0.0, -1.0], [3.0, 3.0]]), T([[1.5, 2.0], [1.0, -1.0], [2.0, 5.0]])
    cs = [
        case("spec §5 var element-wise", {"input": X, "target": Y, "var": T([[0.5, 1.0], [2.0, 0.1], [1.0, 4.0]])}),
        case("spec §5 var per row (N,1) full", {"input": X, "target": Y, "var": T([[0.5], [2.0], [1.0]])}, {"full": True}),
        case("spec §5 var per row (N,)", {"input": X, "target": Y, "var": T([0.5, 2.0, 1.0])}),
        case("spec §5 var 0 and 1e-9 clamped to eps", {"input": T([1.0, 1.0]), "target": T([1.0, 2.0]), "var": T([0.0, 1e-9])}),
        case("eps=0.1 clamp", {"input": T([1.0, 1.0, 1.0]), "target": T([1.0, 2.0, 0.0]), "var": T([0.0, 0.05, 0.5])}, {"eps": 0.1}),
        case("eps=0.1 clamp full", {"input": T([1.0, 1.0, 1.0]), "target": T([1.0, 2.0, 0.0]), "var": T([0.0, 0.05, 0.5])}, {"eps": 0.1, "full": True}),
        case("trap: (K,) var with K == N is per row", {"input": T([[1.0, 2.0], [0.0, 1.0]]), "target": T([[0.0, 2.0], [1.0, 1.0]]), "var": T([0.5, 2.0])}),
        case("nan var / inf input", {"input": T([1.0, INF, 1.0]), "target": T([0.0, 0.0, NAN]), "var": T([NAN, 1.0, 1.0])}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64), "var": torch.zeros(0, 2, dtype=F64)}),
        case("error negative var", {"input": X, "target": Y, "var": T([[0.5, 1.0], [-2.0, 0.1], [1.0, 4.0]])}),
        case("error var (K,) with K != N", {"input": X, "target": Y, "var": T([1.0, 2.0])}),
        case("error var scalar tensor", {"input": X, "target": Y, "var": T(1.0)}),
    ]
    for (n, k) in [(1, 1), (7, 3), (257, 2)]:
        cs.append(gaussian_random("random var element-wise N={} C={}".format(n, k), n, k, "elementwise"))
    cs.append(gaussian_random("random var per row (N,1) full N=257 C=3", 257, 3, "row", full=True))
    cs.append(gaussian_random("random var (N,) N=257 C=3", 257, 3, "vector"))
    cs.append(gaussian_random("random var element-wise full eps=0.5 N=100 C=3", 100, 3, "elementwise", full=True, eps=0.5))
    cs.append(gaussian_random("random var per row N=1000 C=1", 1000, 1, "row"))
    return cs


def margin_random(g, n, k):
    x = randn(g, n, k, scale=2.0, dec=4)
    y = torch.where(rand(g, n, k) < 0.5, -1.0, 1.0).to(F64)
    return {"input": x, "target": y}


def cases_soft_margin():
    cs = [
        case("spec §5", {"input": T([0.5, -1.0, 2.0, -0.3]), "target": T([1.0, 1.0, -1.0, -1.0])}),
        case("spec §5 overflow -800 -> inf", {"input": T([-800.0, 1.0]), "target": T([1.0, 1.0])}),
        case("y*x = 40 tiny (2.x log1p)", {"input": T([40.0, -40.0, 37.0, 709.0, -709.0]), "target": T([1.0, -1.0, 1.0, -1.0, 1.0])}),
        case("non +-1 targets", {"input": T([0.5, 0.5, 2.0, 1.0]), "target": T([0.0, 2.5, -0.25, NAN])}),
        case("nan/inf inputs", {"input": T([NAN, INF, -INF, INF]), "target": T([1.0, 1.0, 1.0, 0.0])}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}),
    ]
    return cs + random_elementwise("+-1", REG_SHAPES, margin_random)


def mlsm_random(name, n, c, weight_shape=None):
    g = rng(name)
    x = randn(g, n, c, scale=2.0, dec=4)
    y = (rand(g, n, c) < torch.sigmoid(x)).to(F64)
    inputs = {"input": x, "target": y}
    if weight_shape is not None:
        inputs["weight"] = rounded(0.1 + 2 * rand(g, *weight_shape), 2)
    return case(name, inputs)


def cases_mlsm():
    X, Y = T([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]]), T([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    cs = [
        case("spec §5", {"input": X, "target": Y}),
        case("spec §5 weight per class", {"input": X, "target": Y, "weight": T([1.0, 2.0, 3.0])}),
        case("weight per row (N,1)", {"input": X, "target": Y, "weight": T([[0.5], [2.0]])}),
        case("weight element-wise (N,C)", {"input": X, "target": Y, "weight": T([[1.0, 0.0, 2.0], [0.5, 3.0, -1.0]])}),
        case("large |x| 40, -800, 800", {"input": T([[40.0, -800.0, 800.0], [-40.0, 800.0, -800.0]]), "target": T([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])}),
        case("target -1 and soft", {"input": X, "target": T([[-1.0, 0.5, 1.0], [2.0, 0.25, 0.0]])}),
        case("nan/inf inputs", {"input": T([[NAN, 1.0], [INF, -INF]]), "target": T([[1.0, 0.0], [1.0, 0.0]])}),
        case("C=1", {"input": T([[0.3], [-2.0]]), "target": T([[1.0], [0.0]])}),
        case("empty", {"input": torch.zeros(0, 3, dtype=F64), "target": torch.zeros(0, 3, dtype=F64)}),
    ]
    for (n, c) in [(1, 2), (7, 3), (100, 10), (20, 100), (1000, 1)]:
        cs.append(mlsm_random("random N={} C={}".format(n, c), n, c))
    cs.append(mlsm_random("random weight per class N=100 C=10", 100, 10, weight_shape=(10,)))
    cs.append(mlsm_random("random weight element-wise N=100 C=3", 100, 3, weight_shape=(100, 3)))
    return cs


def hinge_random(name, n, k, margin):
    g = rng(name)
    y = torch.where(rand(g, n, k) < 0.5, -1.0, 1.0).to(F64)
    x = rounded(torch.abs(randn(g, n, k, scale=1.5)), 4)  # distances are non-negative
    return case(name, {"input": x, "target": y}, {"margin": margin})


def cases_hinge():
    X, Y = T([0.3, 2.0, -0.5, 0.3, 1.5]), T([1.0, 1.0, -1.0, -1.0, -1.0])
    cs = [
        case("spec §5 margin=1.0", {"input": X, "target": Y}, {"margin": 1.0}),
        case("spec §5 margin=0.5", {"input": X, "target": Y}, {"margin": 0.5}),
        case("spec §5 y in {0,2}", {"input": T([0.3, 2.0]), "target": T([0.0, 2.0])}),
        case("y in {0, 0.5, nan, 2, -2}", {"input": T([0.3, 0.5, 0.5, -1.0, 3.0]), "target": T([0.0, 0.5, NAN, 2.0, -2.0])}),
        case("nan/inf x", {"input": T([NAN, NAN, INF, INF, -INF]), "target": T([1.0, -1.0, 1.0, -1.0, -1.0])}),
        case("negative margin", {"input": T([0.3, -2.0, 1.0]), "target": T([-1.0, -1.0, 1.0])}, {"margin": -1.0}),
        case("empty", {"input": torch.zeros(0, 2, dtype=F64), "target": torch.zeros(0, 2, dtype=F64)}),
    ]
    for (n, k) in REG_SHAPES:
        cs.append(hinge_random("random N={} C={}".format(n, k), n, k, 1.0))
    cs.append(hinge_random("random margin=2.5 N=257 C=3", 257, 3, 2.5))
    return cs


def mm_random(name, n, c, p=1, margin=1.0, weighted=False):
    g = rng(name)
    x = randn(g, n, c, scale=1.5, dec=4)
    inputs = {"input": x, "target": class_targets(g, n, c)}
    if weighted:
        inputs["weight"] = rounded(0.1 + 1.9 * rand(g, c), 3)
    return case(name, inputs, {"p": p, "margin": margin}, "index")


def cases_mm():
    X = T([[0.1, 0.2, 0.4, 0.8], [1.0, -1.0, 0.5, 0.0]])
    t = I([3, 0])
    idx = lambda *a, **k: case(*a, kind="index", **k)
    cs = [
        idx("spec §5 p=1 margin=1.0", {"input": X, "target": t}),
        idx("spec §5 p=2 margin=1.5", {"input": X, "target": t}, {"p": 2, "margin": 1.5}),
        idx("spec §5 weight", {"input": X, "target": t, "weight": T([1.0, 2.0, 3.0, 4.0])}),
        idx("weight p=2", {"input": X, "target": t, "weight": T([1.0, 2.0, 3.0, 4.0])}, {"p": 2}),
        idx("spec §5 nan input contributes 0", {"input": T([[NAN, 0.0, 1.0]]), "target": I([2])}),
        idx("nan in target column contributes 0", {"input": T([[0.0, 1.0, NAN], [NAN, NAN, NAN]]), "target": I([2, 0])}),
        idx("+inf -> inf, -inf non-target -> 0", {"input": T([[INF, 0.0, 1.0], [-INF, 0.0, 1.0]]), "target": I([2, 2])}),
        idx("negative margin", {"input": X, "target": t}, {"margin": -0.5}),
        idx("C=1", {"input": T([[0.3], [2.0]]), "target": I([0, 0])}),
        idx("empty (torch mean/sum uninitialised)", {"input": torch.zeros(0, 3, dtype=F64), "target": I([])}),
        idx("error p=3", {"input": X, "target": t}, {"p": 3}),
        idx("error 2-D weight", {"input": X, "target": t, "weight": T([[1.0, 2.0, 3.0, 4.0]])}),
        idx("error target out of range", {"input": X, "target": I([4, 0])}),
        idx("error negative target", {"input": X, "target": I([-1, 0])}),
    ]
    for (n, c) in [(1, 2), (7, 3), (100, 10), (20, 100), (1000, 2)]:
        cs.append(mm_random("random N={} C={}".format(n, c), n, c))
    cs.append(mm_random("random p=2 margin=0.5 N=100 C=10", 100, 10, p=2, margin=0.5))
    cs.append(mm_random("random weighted N=100 C=10", 100, 10, weighted=True))
    cs.append(mm_random("random weighted p=2 N=100 C=3", 100, 3, p=2, weighted=True))
    return cs


def mr_random(name, n, margin, real_y=False):
    g = rng(name)
    x1, x2 = randn(g, n, scale=2.0, dec=4), randn(g, n, scale=2.0, dec=4)
    # real-valued y (PyTorch uses any y): −y·(x1 − x2) then rounds differently from −y·x1 + y·x2
    y = randn(g, n, scale=1.5, dec=3) if real_y else torch.where(rand(g, n) < 0.5, -1.0, 1.0).to(F64)
    return case(name, {"input": x1, "input2": x2, "target": y}, {"margin": margin})


def cases_mr():
    X1, X2, Y = T([1.0, 2.0, 3.0, -1.0]), T([2.0, 2.0, 1.0, 0.0]), T([1.0, -1.0, -1.0, 1.0])
    cs = [
        case("spec §5 margin=0", {"input": X1, "input2": X2, "target": Y}),
        case("spec §5 margin=0.5", {"input": X1, "input2": X2, "target": Y}, {"margin": 0.5}),
        case("y=0 and non +-1 y", {"input": T([1.0, 1.0, 2.0]), "input2": T([0.0, 0.0, 0.0]), "target": T([0.0, 0.5, -3.0])}, {"margin": 0.25}),
        case("nan / inf", {"input": T([NAN, 1.0, INF, INF]), "input2": T([0.0, NAN, INF, 0.0]), "target": T([1.0, 1.0, 1.0, -1.0])}),
        case("empty", {"input": torch.zeros(0, dtype=F64), "input2": torch.zeros(0, dtype=F64), "target": torch.zeros(0, dtype=F64)}),
    ]
    for n in [1, 7, 257, 1000]:
        cs.append(mr_random("random N={}".format(n), n, 0.0))
    cs.append(mr_random("random margin=1.0 N=257", 257, 1.0))
    cs.append(mr_random("random real-valued y margin=0.3 N=257", 257, 0.3, real_y=True))
    return cs


def cos_random(name, n, d, margin):
    g = rng(name)
    x1 = randn(g, n, d, dec=4)
    x2 = rounded(x1 * 0.5 + randn(g, n, d), 4)
    y = torch.where(rand(g, n) < 0.5, -1.0, 1.0).to(F64)
    return case(name, {"input": x1, "input2": x2, "target": y}, {"margin": margin}, "row")


def cases_cos():
    X1 = T([[1.0, 2.0, 3.0], [1.0, 0.0, 1.0], [0.5, -1.0, 2.0]])
    X2 = T([[1.0, 2.0, 3.5], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    Y = T([1.0, -1.0, -1.0])
    row = lambda *a, **k: case(*a, kind="row", **k)
    cs = [
        row("spec §5 margin=0", {"input": X1, "input2": X2, "target": Y}),
        row("spec §5 margin=0.2", {"input": X1, "input2": X2, "target": Y}, {"margin": 0.2}),
        row("spec §5 margin=-0.5", {"input": X1, "input2": X2, "target": Y}, {"margin": -0.5}),
        row("spec §5 tiny vectors", {"input": T([[1e-7, 0.0]]), "input2": T([[1e-7, 0.0]]), "target": T([1.0])}),
        row("zero vectors", {"input": T([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0]]), "input2": T([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]), "target": T([1.0, -1.0, 1.0])}),
        row("tiny vectors 1e-6, 1e-5, y=-1", {"input": T([[1e-6, 1e-6], [1e-5, 0.0]]), "input2": T([[1e-6, 1e-6], [1e-5, 0.0]]), "target": T([-1.0, -1.0])}),
        row("y not +-1 (0, 2, nan, 0.5)", {"input": X1[[0, 1, 2, 0]], "input2": X2[[0, 1, 2, 0]], "target": T([0.0, 2.0, NAN, 0.5])}),
        row("nan / inf components", {"input": T([[NAN, 1.0], [INF, 1.0], [1.0, 1.0]]), "input2": T([[1.0, 1.0], [1.0, 1.0], [NAN, 1.0]]), "target": T([1.0, 1.0, 0.0])}),
        row("large vectors (norm overflow)", {"input": T([[1e200, 1e200]]), "input2": T([[1e200, -1e200]]), "target": T([-1.0])}),
        row("D=1", {"input": T([[2.0], [-3.0]]), "input2": T([[0.5], [4.0]]), "target": T([1.0, -1.0])}),
        row("empty", {"input": torch.zeros(0, 3, dtype=F64), "input2": torch.zeros(0, 3, dtype=F64), "target": torch.zeros(0, dtype=F64)}),
        row("error 2-D target", {"input": X1, "input2": X2, "target": T([[1.0], [-1.0], [1.0]])}),
    ]
    for (n, d) in [(1, 2), (7, 3), (100, 10), (1000, 2)]:
        cs.append(cos_random("random N={} D={}".format(n, d), n, d, 0.0))
    cs.append(cos_random("random margin=0.3 N=257 D=3", 257, 3, 0.3))
    return cs


# ---------------------------------------------------------------------------------------------
# the loss table


def call_kw(names):
    """fn(inputs, kwargs, reduction): positional tensors `names`, weight/pos_weight as keywords."""
    def bind(fn):
        def run(inputs, kwargs, reduction):
            args = [inputs[n] for n in names]
            kw = dict(kwargs)
            for t in ("weight", "pos_weight"):
                if t in inputs:
                    kw[t] = inputs[t]
            return fn(*args, reduction=reduction, **kw)
        return run
    return bind


XY = call_kw(["input", "target"])
GAUSS = call_kw(["input", "target", "var"])
PAIR = call_kw(["input", "input2", "target"])

# name: (callable, formula, denominator label, denominator fn, default kwargs, case builder, 1.13 fn)
LOSSES = {
    "l1_loss": (XY(F.l1_loss), "torch", "numel", den_numel, {}, cases_l1, None),
    "mse_loss": (XY(F.mse_loss), "torch", "numel", den_numel, {}, cases_mse, None),
    "smooth_l1_loss": (XY(F.smooth_l1_loss), "torch", "numel", den_numel, {"beta": 1.0}, cases_smooth_l1, None),
    "huber_loss": (XY(F.huber_loss), "torch", "numel", den_numel, {"delta": 1.0}, cases_huber, None),
    "nll_loss": (XY(F.nll_loss), "torch", "sum_w_y", den_sum_w_y, {"ignore_index": -100}, cases_nll, None),
    "cross_entropy": (XY(F.cross_entropy), "torch", None, None, {"ignore_index": -100, "label_smoothing": 0.0}, cases_ce, None),
    "binary_cross_entropy": (XY(bce_2x), "2.x", "numel", den_numel, {}, cases_bce, XY(F.binary_cross_entropy)),
    "binary_cross_entropy_with_logits": (XY(bce_with_logits_2x), "2.x", "numel", den_numel, {}, cases_bcel,
                                         XY(F.binary_cross_entropy_with_logits)),
    "kl_div": (XY(F.kl_div), "torch", "numel", den_numel, {"log_target": False}, cases_kl, None),
    "poisson_nll_loss": (XY(F.poisson_nll_loss), "torch", "numel", den_numel,
                         {"log_input": True, "full": False, "eps": 1e-8}, cases_poisson, None),
    "gaussian_nll_loss": (GAUSS(F.gaussian_nll_loss), "torch", "numel", den_numel, {"full": False, "eps": 1e-6},
                          cases_gaussian, None),
    "soft_margin_loss": (XY(soft_margin_2x), "2.x", "numel", den_numel, {}, cases_soft_margin, XY(F.soft_margin_loss)),
    "multilabel_soft_margin_loss": (XY(F.multilabel_soft_margin_loss), "torch", "N", den_rows, {}, cases_mlsm, None),
    "hinge_embedding_loss": (XY(F.hinge_embedding_loss), "torch", "numel", den_numel, {"margin": 1.0}, cases_hinge, None),
    "multi_margin_loss": (XY(F.multi_margin_loss), "torch", "N", den_rows, {"p": 1, "margin": 1.0}, cases_mm, None),
    "margin_ranking_loss": (PAIR(F.margin_ranking_loss), "torch", "numel", den_numel, {"margin": 0.0}, cases_mr, None),
    "cosine_embedding_loss": (PAIR(F.cosine_embedding_loss), "torch", "N", den_rows, {"margin": 0.0}, cases_cos, None),
}


# ---------------------------------------------------------------------------------------------
# evaluation of one case


def err_text(e):
    return "{}: {}".format(type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")


def evaluate(loss, c, check_stats):
    fn, formula, den_label, den_fn, defaults, _, torch113 = LOSSES[loss]
    kwargs = dict(defaults)
    kwargs.update(c["kwargs"])
    if loss == "cross_entropy":  # the mode decides the denominator
        den_label, den_fn = ("N", den_rows) if c["target_kind"] == "probs" else ("sum_w_y", den_sum_w_y)
    reductions = ["none", "mean", "sum"] + (["batchmean"] if loss == "kl_div" else [])

    rec = {
        "name": c["name"],
        "kwargs": {k: jsonable(v) for k, v in kwargs.items()},
        "inputs": {k: tolist(v) for k, v in c["inputs"].items()},
        "shapes": {k: list(v.shape) for k, v in c["inputs"].items()},
        "target_kind": c["target_kind"],
        "formula": formula,
    }
    results, error = {}, None
    for r in reductions:
        try:
            results[r] = fn(c["inputs"], kwargs, r)
        except Exception as e:  # noqa: BLE001 -- we record whatever PyTorch raises
            error = err_text(e)
            break
    if error is not None:
        rec.update({"none": None, "mean": None, "sum": None, "torch_mean": None, "torch_sum": None,
                    "denominator": den_label, "error": error, "ref": None})
        return rec

    none = results["none"]
    terms = none.reshape(-1).tolist()
    total, q = exact_sum(terms)
    den = den_fn(c, none)
    rec["none"] = tolist(none)
    rec["mean"] = fmt(exact_mean(total, q, den))
    rec["sum"] = fmt(total)
    uninitialised = loss == "multi_margin_loss" and c["inputs"]["input"].shape[0] == 0
    rec["torch_mean"] = None if uninitialised else fmt(results["mean"].item())
    rec["torch_sum"] = None if uninitialised else fmt(results["sum"].item())
    if loss == "kl_div":
        inp = c["inputs"]["input"]
        rec["batchmean"] = fmt(exact_mean(total, q, Fraction(inp.shape[0] if inp.dim() > 0 else 1)))
        rec["torch_batchmean"] = fmt(results["batchmean"].item())
    rec["denominator"] = den_label
    rec["denominator_value"] = fmt(to_float(den))
    rec["error"] = None
    rec["ref"] = reference(loss, c, kwargs, terms, den)

    if check_stats is not None and torch113 is not None:
        compare_with_113(loss, c, kwargs, torch113, none, check_stats)
    return rec


def hexbits(v):
    """The float64's bit pattern as 16 hex digits (every NaN as 7ff8000000000000)."""
    return "7ff8000000000000" if math.isnan(v) else "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]


def reference(loss, c, kwargs, torch_terms, den):
    """The independent reference of losseval's results (test/golden/README.md, field `ref`), or None
    where losseval refuses the case: its terms (refterms.py: losseval's operation order, correctly
    rounded log/log1p/exp), stored as the flat indices where they differ from torch's `none`, and
    the exact sum / mean (/ batchmean) of those terms, each rounded once, as bit patterns (an exact
    zero sum is +0, so its mean is +0 over a positive denominator and -0 over a negative one)."""
    got = refterms.terms(loss, c["inputs"], kwargs, c["target_kind"])
    if got is None:
        return None
    terms, den_terms = got
    assert len(terms) == len(torch_terms), (loss, c["name"])
    if den_terms is not None:  # nll / cross_entropy class-index mode: Σ w[y] of the kept rows
        den_ref = sum((Fraction(d) for d in den_terms), Fraction(0))
        assert den_ref == den, (loss, c["name"], den_ref, den)
    diff = [[i, fmt(r)] for i, (r, t) in enumerate(zip(terms, torch_terms)) if hexbits(r) != hexbits(t)]
    total, q = exact_sum(terms)
    if q == 0:  # losseval: an exact zero sum is +0, even of -0.0 terms (as PyTorch, whose sums start from +0)
        total = 0.0
    ref = {"diff": diff, "sum": hexbits(total), "mean": hexbits(exact_mean(total, q, den))}
    if loss == "kl_div":
        inp = c["inputs"]["input"]
        ref["batchmean"] = hexbits(exact_mean(total, q, Fraction(inp.shape[0] if inp.dim() > 0 else 1)))
    return ref


def compare_with_113(loss, c, kwargs, fn113, none, stats):
    """--check: how far the 2.x formula is from torch 1.13's kernel (expected: <= a few ulp, or the
    documented 1.13 underflows/log(1-x) differences). Printed to stderr only."""
    try:
        ref = fn113(c["inputs"], kwargs, "none")
    except Exception as e:  # noqa: BLE001
        stats.append((loss, c["name"], "1.13 raised: " + err_text(e)))
        return
    a, b = none.reshape(-1), ref.reshape(-1)
    same = (a == b) | (torch.isnan(a) & torch.isnan(b))
    if bool(same.all()):
        return
    diff = (a - b).abs()[~same]
    rel = (diff / b.abs()[~same]).max().item()
    stats.append((loss, c["name"], "{} of {} differ, max rel {:.3g}".format(int((~same).sum()), a.numel(), rel)))


def main():
    check = "--check" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stats = [] if check else None
    total_bytes = 0
    for loss, spec in LOSSES.items():
        if only and loss not in only:
            continue
        cases = spec[5]()
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), "duplicate case names in " + loss
        doc = {"loss": loss, "torch": torch.__version__, "cases": [evaluate(loss, c, stats) for c in cases]}
        text = json.dumps(doc, indent=None, separators=(",", ":"), ensure_ascii=False)
        # one case per line keeps diffs readable
        text = text.replace(',"cases":[{', ',"cases":[\n{').replace('},{"name":', '},\n{"name":')
        path = OUT_DIR / (loss + ".json")
        path.write_text(text + "\n", encoding="utf-8")
        total_bytes += len(text) + 1
        n_err = sum(1 for r in doc["cases"] if r["error"])
        print("{:34s} {:3d} cases ({:2d} errors) {:8d} bytes".format(loss, len(cases), n_err, len(text) + 1),
              file=sys.stderr)
    print("total {} bytes".format(total_bytes), file=sys.stderr)
    if check:
        for row in stats:
            print("  2.x vs 1.13:", *row, file=sys.stderr)


if __name__ == "__main__":
    main()
