#!/usr/bin/python3
"""Correctly rounded log, log1p and exp for the fixture generators (mpmath, rounded once).

Imported by scripts/math-fixtures.py (losseval's math tables and fixtures) and scripts/golden.py
(the reference terms of every loss). Needs mpmath (`apt-get install -y python3-mpmath`).

Every result is mpmath's value at 300 bits, rounded to the nearest binary64 (ties to even,
subnormals on the 2^-1074 grid, overflow to infinity) with exact integer arithmetic: never
`float(mpf)`, so there is one rounding only. Special values follow IEEE / C99 Annex F.

    /usr/bin/python3 scripts/crmath.py verify [HARDCASE_DIR]

checks every published hard-to-round case in HARDCASE_DIR (default ../shared/data/cr-hardcases:
log.txt.gz, log1p.txt.gz, exp.txt.gz; lines "argument result" as C99 hex floats) against these
functions and exits 1 on any disagreement.
"""
import gzip
import math
import os
import sys

import mpmath
from mpmath import mp, mpf

PREC = 300
mp.prec = PREC


def cr(v):
    """Round an mpf to the nearest double (ties to even), subnormals and overflow included."""
    if mpmath.isnan(v):
        return float('nan')
    if mpmath.isinf(v):
        return float(v)
    if v == 0:
        return 0.0
    sign, man, exp, bc = v._mpf_
    man = int(man)
    top = exp + bc - 1              # exponent of the leading bit
    grid = -1074 if top < -1022 else top - 52
    shift = grid - exp
    if shift <= 0:
        q = man << (-shift)
    else:
        q = man >> shift
        rem = man - (q << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and (q & 1)):
            q += 1
    # q * 2^grid; overflow when >= 2^1024
    if q.bit_length() + grid > 1024:
        r = float('inf')
    else:
        r = math.ldexp(q, grid)
    return -r if sign else r


def log(x):
    if math.isnan(x) or x < 0:
        return float('nan')
    if x == 0:
        return float('-inf')
    if math.isinf(x):
        return x
    if x == 1:
        return 0.0
    return cr(mpmath.log(mpf(x)))


def log1p(x):
    if math.isnan(x) or x < -1:
        return float('nan')
    if x == -1:
        return float('-inf')
    if math.isinf(x):
        return x
    if x == 0:
        return x
    return cr(mpmath.log1p(mpf(x)))


def exp(x):
    if math.isnan(x):
        return x
    if math.isinf(x):
        return 0.0 if x < 0 else x
    if x == 0:
        return 1.0
    if x > 710:
        return float('inf')
    if x < -746:
        return 0.0
    return cr(mpmath.exp(mpf(x)))


FUNCTIONS = {'log': log, 'log1p': log1p, 'exp': exp}


def verify(hard_dir):
    """Every hard case of every function; returns the number of disagreements."""
    bad = 0
    for name, fn in FUNCTIONS.items():
        n = 0
        with gzip.open(os.path.join(hard_dir, name + '.txt.gz'), 'rt') as fh:
            for line in fh:
                if line.startswith('#') or not line.strip():
                    continue
                a, r = line.split()
                x, want = float.fromhex(a), float.fromhex(r)
                got = fn(x)
                n += 1
                if got.hex() != want.hex():
                    bad += 1
                    print('mismatch', name, a, 'published', r, 'crmath', got.hex())
        print('{}: {} hard cases checked'.format(name, n))
    return bad


if __name__ == '__main__':
    if len(sys.argv) >= 2 and sys.argv[1] == 'verify':
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        d = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, '..', 'shared', 'data', 'cr-hardcases')
        errors = verify(d)
        print('disagreements:', errors)
        sys.exit(1 if errors else 0)
    sys.exit('usage: crmath.py verify [HARDCASE_DIR]')
