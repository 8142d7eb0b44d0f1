#!/usr/bin/python3
"""Recomputes in PyTorch (float64) what curv's tests/reference/dump_article_cnn
wrote for the article CNN on one batch, and asserts agreement.

    crosscheck.py DUMP_DIR [--tolerance 1e-10] [--perturb none|v-sign|label]

Compared, per named parameter, as max|curv - torch| / max|torch|:
  loss   mean softmax cross-entropy                 (F.cross_entropy, mean)
  grad   its gradient                               (autograd)
  hv     Hessian times v                            (double backward: d/dw (grad . v))
  gv     Gauss-Newton times v, J^T H_z J v          (J v by the double-vjp trick, H_z from
                                                     double backward of the loss in the
                                                     logits z, J^T by one more vjp)
The flat vector w_flat.npy must equal parameters_to_vector(model) exactly.
It also asserts that the check can fail: H v and G v differ on this batch by far
more than the tolerance, and so do H v and H (-v).

--perturb changes the PyTorch side on purpose (v-sign: uses -v for H v and G v;
label: shifts the first label) to show that the check then fails (exit 1).
Exit 0: agreement; 1: disagreement; 77: torch or numpy missing.
"""
import argparse
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch.nn.utils import parameters_to_vector
except ImportError as e:  # CTest's SKIP_RETURN_CODE
    print(f"SKIPPED: {e}")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from article_cnn import PARAMETER_NAMES, load_npz_parameters, make_model, npz_vectors  # noqa: E402


def rel_err(curv, ref):
    scale = ref.abs().max().item()
    return (curv - ref).abs().max().item() / (scale if scale > 0 else 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump_dir")
    ap.add_argument("--tolerance", type=float, default=1e-10)
    ap.add_argument("--perturb", choices=["none", "v-sign", "label"], default="none")
    a = ap.parse_args()
    d = a.dump_dir
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    model = make_model(torch.float64)
    load_npz_parameters(model, os.path.join(d, "w.npz"))
    params = list(model.parameters())
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
    y_float = np.load(os.path.join(d, "y.npy"))
    if not np.array_equal(y_float, np.round(y_float)):
        raise ValueError("y.npy holds non-integer labels")
    y = torch.from_numpy(y_float.astype(np.int64))
    if a.perturb == "label":
        y[0] = (y[0] + 1) % 10
    v = npz_vectors(os.path.join(d, "v.npz"))
    if a.perturb == "v-sign":
        v = [-t for t in v]
    curv = {k: npz_vectors(os.path.join(d, f"{k}.npz")) for k in ("grad", "hv", "gv")}
    curv_loss = float(np.load(os.path.join(d, "loss.npy"))[0])
    w_flat = torch.from_numpy(np.load(os.path.join(d, "w_flat.npy")))

    # Loss, gradient and H v: double backward.
    z = model(x)
    loss = F.cross_entropy(z, y, reduction="mean")
    grad = torch.autograd.grad(loss, params, create_graph=True)
    gdotv = sum((g * t).sum() for g, t in zip(grad, v))
    hv = torch.autograd.grad(gdotv, params, retain_graph=True)

    # G v = J^T H_z J v. J v = d/du [J^T u] . v (the vjp is linear in u).
    u = torch.zeros_like(z, requires_grad=True)
    jtu = torch.autograd.grad(z, params, grad_outputs=u, create_graph=True)
    jv = torch.autograd.grad(jtu, u, grad_outputs=v, retain_graph=True)[0]
    dz = torch.autograd.grad(loss, z, create_graph=True)[0]
    hz_jv = torch.autograd.grad(dz, z, grad_outputs=jv.detach(), retain_graph=True)[0]
    gv = torch.autograd.grad(z, params, grad_outputs=hz_jv.detach())

    ref = {"grad": [g.detach() for g in grad], "hv": list(hv), "gv": list(gv)}
    print(f"torch {torch.__version__}, batch {x.shape[0]}, {sum(p.numel() for p in params)} parameters, "
          f"tolerance {a.tolerance:g}" + (f", PERTURBED: {a.perturb}" if a.perturb != "none" else ""))
    failures = []

    flat_ok = torch.equal(parameters_to_vector(params).detach(), w_flat)
    print(f"  flat order: w_flat.npy {'==' if flat_ok else '!='} parameters_to_vector(model)")
    if not flat_ok:
        failures.append("flat order")

    e = abs(curv_loss - loss.item()) / abs(loss.item())
    print(f"  loss  curv {curv_loss:.17g}  torch {loss.item():.17g}  relative error {e:.3g}")
    if not e <= a.tolerance:
        failures.append("loss")
    for k in ("grad", "hv", "gv"):
        errs = [rel_err(c, r) for c, r in zip(curv[k], ref[k])]
        worst = max(errs)
        detail = "  ".join(f"{n} {err:.2g}" for n, err in zip(PARAMETER_NAMES, errs))
        print(f"  {k:5s} max relative error {worst:.3g}   ({detail})")
        if not worst <= a.tolerance:
            failures.append(k)

    # The check discriminates: what it would report for wrong answers.
    h_vs_g = max(rel_err(c, r) for c, r in zip(curv["hv"], ref["gv"]))
    h_vs_minus = max(rel_err(-c, r) for c, r in zip(curv["hv"], ref["hv"]))
    print(f"  discrimination: curv H v against torch G v {h_vs_g:.3g}; -(curv H v) against torch H v {h_vs_minus:.3g}")
    if not (h_vs_g > 1e3 * a.tolerance and h_vs_minus > 1e3 * a.tolerance):
        failures.append("discrimination (H v, G v and -H v are not told apart)")

    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    print("PASSED: curv's loss, gradient, H v and G v of the article CNN agree with PyTorch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
