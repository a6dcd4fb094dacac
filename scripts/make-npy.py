#!/usr/bin/python3
"""Generate the NumPy fixtures in test/fixtures/npy/ (and their CSV twins).

Usage (Debian's numpy, which comes with python3-torch):

    /usr/bin/python3 scripts/make-npy.py

Every .npy here is written by numpy itself (np.save / np.lib.format.write_array / np.savez), so the
tests read what users' scripts write. Each preds file has a CSV twin holding the same values as
float64 (repr: the shortest decimal that round-trips; integers exactly), so a test can check that the
.npy evaluates bit for bit like its twin. Deterministic: fixed seeds, fixed order.

  p-<type>[-le|-be].npy / .csv    1-D preds of 40 rows, one file per dtype and byte order (f8-le: '<f8')
  targets.npy / targets.csv       1-D float64 targets for them
  v1.npy, v2.npy, v3.npy          p-f8-le saved with header versions 1.0, 2.0 and 3.0
  logits-f4-le.npy, logits-f8-be.npy  2-D (40, 5) logits ('<f4', '>f8'); logits.csv, logits-f8.csv
                                  their twins (columns a..e)
  labels-i8-le.npy / labels.csv   class indices 0..4 for them
  fortran.npy                     the logits in Fortran order (refused: column-major 2-D)
  column-f.npy                    a (40, 1) array in Fortran order (same bytes as C order: read)
  arrays.npz                      np.savez of preds and targets (refused: extract it first)
"""

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "npy"
N = 40


def csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(cell(v) for v in r) + "\n")


def cell(v):
    if isinstance(v, (int, np.integer, bool, np.bool_)):
        return str(int(v))
    return repr(float(v))


def name(dt):
    """`f8-le`, `f8-be`, `i1`: file names without < > | (awkward in shells, invalid on Windows)."""
    order = {"<": "-le", ">": "-be", "|": ""}[dt.str[0]]
    return dt.str[1:] + order


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    rng = np.random.default_rng(20261207)
    targets = rng.normal(0, 2, N)
    np.save(OUT / "targets.npy", targets)
    csv(OUT / "targets.csv", ["y"], [[t] for t in targets])

    base = rng.normal(0, 3, N)
    for code in ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]:
        orders = "|" if code[1] == "1" else "<>"
        for order in orders:
            dt = np.dtype(order + code)
            if code[0] == "f":
                a = base.astype(dt)
            elif code == "b1":
                a = (base > 0).astype(dt)
            else:
                info = np.iinfo(dt)
                a = rng.integers(int(info.min), int(info.max), N, dtype=dt.newbyteorder("="), endpoint=True)
                a[0], a[1] = info.min, info.max  # the extremes: 64-bit ones round to float64
                a = a.astype(dt)
            assert a.dtype.str == dt.str, (a.dtype.str, dt.str)
            np.save(OUT / f"p-{name(dt)}.npy", a)
            csv(OUT / f"p-{name(dt)}.csv", ["p"], [[v] for v in a.tolist()])

    p = np.load(OUT / "p-f8-le.npy")
    for version in [(1, 0), (2, 0), (3, 0)]:
        with open(OUT / f"v{version[0]}.npy", "wb") as f:
            np.lib.format.write_array(f, p, version=version)

    logits = rng.normal(0, 2, (N, 5))
    labels = rng.integers(0, 5, N).astype("<i8")
    np.save(OUT / "logits-f4-le.npy", logits.astype("<f4"))
    np.save(OUT / "logits-f8-be.npy", logits.astype(">f8"))
    csv(OUT / "logits.csv", list("abcde"), logits.astype("<f4").tolist())
    csv(OUT / "logits-f8.csv", list("abcde"), logits.tolist())
    np.save(OUT / "labels-i8-le.npy", labels)
    csv(OUT / "labels.csv", ["label"], [[v] for v in labels.tolist()])
    np.save(OUT / "fortran.npy", np.asfortranarray(logits))
    # numpy writes fortran_order False for an array that is both C and F contiguous: say True by hand
    col = np.asfortranarray(p.reshape(N, 1))
    with open(OUT / "column-f.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": True, "shape": (N, 1)})
        f.write(col.tobytes(order="F"))
    np.savez(OUT / "arrays.npz", preds=p, targets=targets)

    # numpy reads every fixture it wrote (the refused ones too: they are valid files)
    for f in sorted(OUT.glob("*.npy")):
        a = np.load(f)
        assert a.shape[0] == N, f


if __name__ == "__main__":
    main()
