#!/usr/bin/python3
"""Compares a curv-train SCG log with train_article_cnn.py's, iteration by iteration.

    compare_logs.py CURV.csv TORCH.csv [--columns train_loss,val_loss,...] [--models CURV.npz TORCH.npz]
                    [--max-relative TOL]

Prints |curv - torch| / |torch| per iteration for each column, and with
--models the relative difference max|w_curv - w_torch| / max|w_torch| of the
final parameters, per parameter. With --max-relative, exits 1 unless both logs
have the same iterations and every printed relative difference is <= TOL.
"""
import argparse
import csv
import math
import sys

DEFAULT = "train_loss,val_loss,val_accuracy,lambda,delta,alpha,comparison,grad_norm"


def read(path):
    with open(path) as f:
        return {int(r["epoch"]): r for r in csv.DictReader(f)}


def rel(a, b):
    if math.isnan(a) and math.isnan(b):
        return 0.0
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("curv")
    ap.add_argument("torch")
    ap.add_argument("--columns", default=DEFAULT)
    ap.add_argument("--models", nargs=2, metavar=("CURV_NPZ", "TORCH_NPZ"))
    ap.add_argument("--max-relative", type=float, metavar="TOL")
    a = ap.parse_args()
    c, t = read(a.curv), read(a.torch)
    cols = a.columns.split(",")
    epochs = sorted(set(c) & set(t))
    failures = []
    if set(c) != set(t):
        failures.append(f"iterations differ: curv {sorted(c)}, torch {sorted(t)}")
    print("iter  " + "  ".join(f"{k:>12s}" for k in cols) + "   (relative difference |curv - torch| / |torch|)")
    worst = {k: 0.0 for k in cols}
    for e in epochs:
        cells = []
        for k in cols:
            d = rel(float(c[e][k]), float(t[e][k]))
            worst[k] = max(worst[k], d)
            cells.append(f"{d:12.2e}")
        print(f"{e:4d}  " + "  ".join(cells))
    print("max   " + "  ".join(f"{worst[k]:12.2e}" for k in cols))
    if a.max_relative is not None:
        failures += [f"{k} {worst[k]:.3g}" for k in cols if not worst[k] <= a.max_relative]
    print("train_loss  curv / torch per iteration:")
    for e in epochs:
        print(f"  {e:3d}  {float(c[e]['train_loss']):.15g}  {float(t[e]['train_loss']):.15g}"
              f"  success {c[e].get('success', '-')}/{t[e].get('success', '-')}")
    if a.models:
        import numpy as np
        with np.load(a.models[0]) as mc, np.load(a.models[1]) as mt:
            for n in mt.files:
                x, y = mc[n].astype(np.float64), mt[n].astype(np.float64)
                d = np.abs(x - y).max() / np.abs(y).max()
                print(f"final {n:13s} max|w_curv - w_torch| / max|w_torch| = {d:.2e}")
                if a.max_relative is not None and not d <= a.max_relative:
                    failures.append(f"final {n} {d:.3g}")
    if a.max_relative is not None:
        if failures:
            print(f"FAILED (tolerance {a.max_relative:g}): " + "; ".join(failures))
            return 1
        print(f"PASSED: every relative difference <= {a.max_relative:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
