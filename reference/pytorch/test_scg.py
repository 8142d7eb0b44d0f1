#!/usr/bin/python3
"""scg.py on strictly convex quadratics E(w) = w'Aw/2 - b'w: with exact H v and
lambda negligible, SCG is linear CG with exact line searches, so it must reach
|g| < 1e-10 within n + 2 iterations (the property curv's optim tests assert).
Exit 0 when it does for every case, 1 otherwise."""
import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scg import SCG  # noqa: E402


class Quadratic:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def value_and_grad(self, w):
        return float(0.5 * w @ self.a @ w - self.b @ w), self.a @ w - self.b

    def hvp(self, w, v):
        loss, g = self.value_and_grad(w)
        return loss, g, self.a @ v


def main():
    ok = True
    g = torch.Generator().manual_seed(1)
    for n in (10, 50):
        for case in range(5):
            if n == 10:  # eigenvalues spread over [1, 100]: CG needs all n directions
                q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
                a = q @ torch.diag(torch.logspace(0, 2, n, dtype=torch.float64)) @ q.T
            else:  # M M' + n I, as curv's optim tests (there SCG needs 23 iterations for n = 50)
                m = torch.randn(n, n, generator=g, dtype=torch.float64)
                a = m @ m.T + n * torch.eye(n, dtype=torch.float64)
            b = torch.randn(n, generator=g, dtype=torch.float64)
            st, trace = SCG(lambda_initial=1e-15).minimize(Quadratic(a, b), torch.zeros(n, dtype=torch.float64),
                                                           max_iterations=4 * n, gradient_tolerance=1e-10)
            gnorm = float(st["r"].norm())
            good = gnorm < 1e-10 and st["iteration"] <= n + 2 and all(i["success"] for i in trace)
            ok &= good
            print(f"n={n} case {case}: {st['iteration']} iterations, |g| = {gnorm:.2e} {'ok' if good else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
