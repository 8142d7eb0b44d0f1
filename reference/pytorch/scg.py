"""Scaled Conjugate Gradient in PyTorch, written from the paper:
M. F. Moller, "A scaled conjugate gradient algorithm for fast supervised
learning", Neural Networks 6(4):525-533, 1993.

An independent reference for curv (optim/include/curv/optim/scg.hpp): the same
algorithm and the same conventions, so that both, started from the same w on
the same data, should walk the same trajectory up to rounding:

* s_k = H p_k exactly (the objective's hvp, double backward), so no sigma;
* lambda_1 = 1e-6, lambda kept within [1e-15, 1e20];
* restart p = r after N successful iterations (N = dim by default; netlab's
  counter), and whenever p is no descent direction (p.r <= 0) before step 2;
* a failed step keeps w, r, p and reuses delta (rescaled by step 3);
* a non-finite trial loss is a failure with Delta = -1 in step 8;
* when E(w) - E(w + alpha p) is within 1000 machine epsilons (of the vectors'
  dtype) of |E|, the decrease is measured by the trapezoid rule on the slopes,
  alpha (mu + p.r_{k+1}) / 2, as curv does (exact for a quadratic).
Inner products and norms are taken in float64 whatever the dtype of w.

The objective is any object with
    value_and_grad(w) -> (loss: float, grad: tensor like w)
    hvp(w, v)         -> (loss: float, grad, H v)
for flat 1-D tensors w, v.
"""
import math
import time

import torch


def _dot(a, b):
    return float(torch.dot(a.double(), b.double()))


class SCG:
    def __init__(self, lambda_initial=1e-6, lambda_min=1e-15, lambda_max=1e20, restart_interval=0):
        if not (lambda_min <= lambda_initial < lambda_max):
            raise ValueError(f"SCG: lambda_initial must be in [{lambda_min:g}, {lambda_max:g}), got {lambda_initial:g}")
        self.lambda_initial = lambda_initial
        self.lambda_min = lambda_min
        self.lambda_max = lambda_max
        self.restart_interval = restart_interval

    def _clamp(self, lam):
        return min(max(lam, self.lambda_min), self.lambda_max)

    def start(self, obj, w0):
        """Step 1: w_1 = w0, p_1 = r_1 = -E'(w_1), lambda_1, lambda_bar_1 = 0, success = true."""
        loss, g = obj.value_and_grad(w0)
        if not math.isfinite(loss) or not torch.isfinite(g).all():
            raise ValueError(f"SCG.start: the objective or its gradient is not finite at w0 (E = {loss})")
        r = -g
        return {
            "w": w0.clone(), "r": r, "p": r.clone(), "loss": loss,
            "lambda": self.lambda_initial, "lambda_bar": 0.0, "delta": 0.0, "success": True,
            "iteration": 0, "restart_counter": 0, "passes": 1.0, "seconds": 0.0,
        }

    def step(self, obj, st):
        """One iteration, steps 2-8 of the paper; updates st and returns the iteration's record."""
        t0 = time.perf_counter()
        k = st["iteration"] + 1
        n_restart = self.restart_interval or st["w"].numel()
        eps = torch.finfo(st["w"].dtype).eps
        info = {"iteration": k, "restarted": False, "delta_fixed": False}

        # Step 2: curvature after a success, delta_k = p_k' H p_k (descent safeguard first).
        if st["success"]:
            if not (_dot(st["p"], st["r"]) > 0):
                st["p"] = st["r"].clone()
                info["restarted"] = True
                st["restart_counter"] = 0
            _, _, s = obj.hvp(st["w"], st["p"])
            st["passes"] += 1
            st["delta"] = _dot(st["p"], s)
            if not math.isfinite(st["delta"]):
                raise FloatingPointError(f"SCG: the curvature p'Hp is not finite at iteration {k}")
        p_norm2 = _dot(st["p"], st["p"])
        info["p_norm"] = math.sqrt(p_norm2)
        info["p_mean"] = float(st["p"].double().mean())

        # Step 3: scale, delta_k += (lambda_k - lambda_bar_k) |p_k|^2.
        st["delta"] += (st["lambda"] - st["lambda_bar"]) * p_norm2
        info["delta"] = st["delta"]

        # Step 4: make the Hessian positive definite if delta_k <= 0.
        if st["delta"] <= 0:
            info["delta_fixed"] = True
            st["lambda_bar"] = 2 * (st["lambda"] - st["delta"] / p_norm2)
            st["delta"] = -st["delta"] + st["lambda"] * p_norm2
            st["lambda"] = self._clamp(st["lambda_bar"])
        info["lambda"] = st["lambda"]
        info["lambda_bar"] = st["lambda_bar"]

        # Step 5: step size mu_k = p_k' r_k, alpha_k = mu_k / delta_k.
        mu = _dot(st["p"], st["r"])
        alpha = mu / st["delta"]
        info["mu"], info["alpha"] = mu, alpha

        # Step 6: comparison parameter Delta_k = 2 delta_k (E(w_k) - E(w_k + alpha_k p_k)) / mu_k^2.
        w_trial = st["w"] + alpha * st["p"]
        loss_trial, g_trial = obj.value_and_grad(w_trial)
        st["passes"] += 1
        finite = math.isfinite(loss_trial) and bool(torch.isfinite(g_trial).all())
        decrease = st["loss"] - loss_trial
        if (finite and abs(decrease) <= 1e3 * eps * max(abs(st["loss"]), abs(loss_trial))
                and not torch.equal(w_trial, st["w"])):
            decrease = 0.5 * alpha * (mu - _dot(st["p"], g_trial))
        comparison = 2 * st["delta"] * decrease / (mu * mu) if finite else -math.inf
        info["comparison"] = comparison

        # Step 7: a successful reduction in error if Delta_k >= 0.
        if finite and comparison >= 0:
            r_next = -g_trial
            st["restart_counter"] += 1
            restart = st["restart_counter"] >= n_restart
            if restart:
                st["restart_counter"] = 0
                st["p"] = r_next.clone()
            else:
                beta = (_dot(r_next, r_next) - _dot(r_next, st["r"])) / mu
                st["p"] = st["p"] * beta + r_next
            info["restarted"] = info["restarted"] or restart
            st["w"], st["r"], st["loss"] = w_trial, r_next, loss_trial
            st["lambda_bar"] = 0.0
            st["success"] = True
            if comparison >= 0.75:
                st["lambda"] = self._clamp(st["lambda"] / 4)
        else:
            st["lambda_bar"] = st["lambda"]
            st["success"] = False
        info["success"] = st["success"]

        # Step 8: if Delta_k < 0.25, lambda_k += delta_k (1 - Delta_k) / |p_k|^2.
        if not (comparison >= 0.25):
            effective = comparison if finite else -1.0
            st["lambda"] = self._clamp(st["lambda"] + st["delta"] * (1 - effective) / p_norm2)

        st["iteration"] = k
        st["seconds"] += time.perf_counter() - t0
        info["loss"] = st["loss"]
        info["grad_norm"] = math.sqrt(_dot(st["r"], st["r"]))
        info["grad_mean"] = -float(st["r"].double().mean())
        info["passes"] = st["passes"]
        info["seconds"] = st["seconds"]
        return info

    def minimize(self, obj, w0, max_iterations, gradient_tolerance=0.0, callback=None):
        st = self.start(obj, w0)
        trace = []
        while st["iteration"] < max_iterations:
            if math.sqrt(_dot(st["r"], st["r"])) <= gradient_tolerance:
                break
            info = self.step(obj, st)
            trace.append(info)
            if callback is not None and callback(info, st):
                break
            if st["lambda"] >= self.lambda_max:
                break
        return st, trace
