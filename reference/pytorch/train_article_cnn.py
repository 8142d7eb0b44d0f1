#!/usr/bin/python3
"""Trains the article CNN with SCG in PyTorch: the reference for curv-train.

    train_article_cnn.py --data DATA.npz --init INIT.npz [--dtype float32|float64]
                         [--iterations 30] [--batch-size 256] [--threads 2]
                         [--log LOG.csv] [--save-model OUT.npz] [--max-minutes M]

DATA.npz: train_x, val_x, test_x (N, 1, 28, 28), standardized, and train_y,
val_y, test_y (int64), as `curv-train --export-data` writes them. INIT.npz: the
initial parameters by name (conv1.weight, ...), as `curv-train --epochs 0
--save-model` writes them. `--synthetic N` replaces both by random data and a
seeded PyTorch initialization (for trying the script without curv).

The objective is E(w) = (1/N) sum_i CE(f(x_i; w), y_i) over the training split,
and its gradient and H v are accumulated over minibatches as sums (each batch's
loss with reduction='sum', its gradient and, for H v, the double backward of
grad . v), added up in float64 in batch order and divided by N once, as curv's
Accumulator does. SCG (scg.py) takes one step per pass pair over the data.
The log has curv-train's columns: epoch, passes, seconds, train_loss, val_loss,
val_accuracy, success, lambda, lambda_bar, delta, mu, alpha, comparison,
p_norm, p_mean, grad_norm, grad_mean; rows are written as iterations finish.
--max-minutes stops before an iteration that would end past the budget (judged
by the previous iteration's time) and reports the iterations done.
"""
import argparse
import csv
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from article_cnn import load_npz_parameters, make_model  # noqa: E402
from scg import SCG  # noqa: E402

LOG_COLUMNS = ["epoch", "passes", "seconds", "train_loss", "val_loss", "val_accuracy", "success", "lambda",
               "lambda_bar", "delta", "mu", "alpha", "comparison", "p_norm", "p_mean", "grad_norm", "grad_mean"]


class Objective:
    """Mean softmax cross-entropy of `model` over (x, y), accumulated minibatch by minibatch."""

    def __init__(self, model, x, y, batch_size):
        self.model = model
        self.params = list(model.parameters())
        self.x, self.y = x, y
        self.n = x.shape[0]
        self.batch_size = self.n if batch_size < 0 else batch_size

    def _batches(self):
        for i in range(0, self.n, self.batch_size):
            yield self.x[i:i + self.batch_size], self.y[i:i + self.batch_size]

    def _set(self, w):
        with torch.no_grad():
            vector_to_parameters(w, self.params)

    def _mean(self, total, like):
        return (total * (1.0 / self.n)).to(like.dtype)

    def value_and_grad(self, w):
        self._set(w)
        loss = 0.0
        g_total = torch.zeros(w.numel(), dtype=torch.float64)
        for xb, yb in self._batches():
            l_sum = F.cross_entropy(self.model(xb), yb, reduction="sum")
            g = torch.autograd.grad(l_sum, self.params)
            loss += float(l_sum)
            g_total += parameters_to_vector(g).double()
        return loss / self.n, self._mean(g_total, w)

    def hvp(self, w, v):
        self._set(w)
        vs = []
        offset = 0
        for p in self.params:
            vs.append(v[offset:offset + p.numel()].view_as(p))
            offset += p.numel()
        loss = 0.0
        g_total = torch.zeros(w.numel(), dtype=torch.float64)
        hv_total = torch.zeros(w.numel(), dtype=torch.float64)
        for xb, yb in self._batches():
            l_sum = F.cross_entropy(self.model(xb), yb, reduction="sum")
            g = torch.autograd.grad(l_sum, self.params, create_graph=True)
            gv = sum((gi * vi).sum() for gi, vi in zip(g, vs))
            hv = torch.autograd.grad(gv, self.params)
            loss += float(l_sum)
            g_total += parameters_to_vector([gi.detach() for gi in g]).double()
            hv_total += parameters_to_vector(hv).double()
        return loss / self.n, self._mean(g_total, w), self._mean(hv_total, w)

    @torch.no_grad()
    def evaluate(self, w, x, y):
        """(mean loss, accuracy) of w on (x, y)."""
        if x.shape[0] == 0:
            return math.nan, math.nan
        self._set(w)
        loss, correct = 0.0, 0
        for i in range(0, x.shape[0], self.batch_size):
            z = self.model(x[i:i + self.batch_size])
            yb = y[i:i + self.batch_size]
            loss += float(F.cross_entropy(z, yb, reduction="sum"))
            correct += int((z.argmax(dim=1) == yb).sum())
        return loss / x.shape[0], correct / x.shape[0]


def load_data(path, dtype):
    with np.load(path) as z:
        need = [f"{s}_{k}" for s in ("train", "val", "test") for k in ("x", "y")]
        missing = [k for k in need if k not in z.files]
        if missing:
            raise ValueError(f"{path}: no arrays {missing} (it has {z.files})")
        out = {}
        for k in need:
            a = np.array(z[k])
            if k.endswith("_x"):
                if a.ndim != 4 or a.shape[1:] != (1, 28, 28):
                    raise ValueError(f"{path}: {k} has shape {a.shape}, expected (N, 1, 28, 28)")
                if np.dtype(dtype).itemsize > a.dtype.itemsize:
                    print(f"note: {k} is stored as {a.dtype}, widened to {np.dtype(dtype)}")
                out[k] = torch.from_numpy(a.astype(dtype))
            else:
                if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
                    raise ValueError(f"{path}: {k} has shape {a.shape} and dtype {a.dtype}, expected 1-D integers")
                out[k] = torch.from_numpy(a.astype(np.int64))
    return out


def synthetic_data(n, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    sizes = {"train": n, "val": max(1, n // 4), "test": max(1, n // 4)}
    proto = torch.randn(10, 1, 28, 28, generator=g)  # one pattern per label, plus noise: learnable
    out = {}
    for s, m in sizes.items():
        out[f"{s}_y"] = torch.randint(0, 10, (m,), generator=g)
        out[f"{s}_x"] = (proto[out[f"{s}_y"]] + torch.randn(m, 1, 28, 28, generator=g)).to(dtype)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data")
    ap.add_argument("--init")
    ap.add_argument("--synthetic", type=int, default=0, metavar="N")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="--synthetic only")
    ap.add_argument("--max-minutes", type=float, default=0, help="wall-time budget (0: none)")
    ap.add_argument("--lambda-initial", type=float, default=1e-6, help="SCG's lambda_1 (curv-train uses 1e-6)")
    ap.add_argument("--log")
    ap.add_argument("--save-model")
    a = ap.parse_args()
    if not a.synthetic and not (a.data and a.init):
        ap.error("give --data and --init, or --synthetic N")

    torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.dtype == "float32" else torch.float64
    np_dtype = np.float32 if a.dtype == "float32" else np.float64
    model = make_model(dtype)
    if a.synthetic:
        torch.manual_seed(a.seed)
        model = make_model(dtype)
        data = synthetic_data(a.synthetic, dtype, a.seed)
    else:
        load_npz_parameters(model, a.init)
        data = load_data(a.data, np_dtype)
    w0 = parameters_to_vector(model.parameters()).detach().clone()
    print(f"torch {torch.__version__}, {a.dtype}, {a.threads} threads, train/val/test "
          f"{data['train_x'].shape[0]}/{data['val_x'].shape[0]}/{data['test_x'].shape[0]}, "
          f"batch {a.batch_size}, {w0.numel()} parameters", flush=True)

    obj = Objective(model, data["train_x"], data["train_y"], a.batch_size)
    scg = SCG(lambda_initial=a.lambda_initial)
    log_file = open(a.log, "w", newline="") if a.log else None
    log_writer = csv.DictWriter(log_file, fieldnames=LOG_COLUMNS) if log_file else None
    if log_writer:
        log_writer.writeheader()
    wall0 = time.perf_counter()
    cpu0 = time.process_time()

    def row(st, info):
        val_loss, val_acc = obj.evaluate(st["w"], data["val_x"], data["val_y"])
        r = {"epoch": st["iteration"], "passes": st["passes"], "seconds": st["seconds"], "train_loss": st["loss"],
             "val_loss": val_loss, "val_accuracy": val_acc}
        for c in LOG_COLUMNS[6:]:
            v = info.get(c, math.nan) if info else math.nan
            r[c] = int(v) if isinstance(v, bool) else v
        if log_writer:
            log_writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
            log_file.flush()
        extra = "" if not info else (f"  {'success' if info['success'] else 'fail   '} lambda={info['lambda']:.3g} "
                                     f"delta={info['delta']:.3g} alpha={info['alpha']:.3g} "
                                     f"Delta={info['comparison']:.3g} |g|={info['grad_norm']:.3g}")
        print(f"epoch {st['iteration']}/{a.iterations}  passes {st['passes']:g}  {st['seconds']:.1f}s  "
              f"train_loss {st['loss']:.10g}  val_loss {val_loss:.6f}  val_accuracy {val_acc:.4f}{extra}", flush=True)

    t0 = time.perf_counter()
    st = scg.start(obj, w0)
    st["seconds"] = time.perf_counter() - t0
    row(st, None)
    last = 0.0
    while st["iteration"] < a.iterations:
        elapsed = time.perf_counter() - wall0
        if a.max_minutes > 0 and elapsed + last > 60 * a.max_minutes:
            print(f"stopped by --max-minutes {a.max_minutes:g} after {st['iteration']} of {a.iterations} iterations")
            break
        t_it = time.perf_counter()
        info = scg.step(obj, st)
        row(st, info)
        last = time.perf_counter() - t_it
        if st["lambda"] >= scg.lambda_max:
            print("lambda reached lambda_max: no step along p decreases the loss")
            break
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    test_loss, test_acc = obj.evaluate(st["w"], data["test_x"], data["test_y"])

    if log_file:
        log_file.close()
    if a.save_model:
        with torch.no_grad():
            vector_to_parameters(st["w"], model.parameters())
        np.savez(a.save_model, **{n: p.detach().numpy() for n, p in model.named_parameters()})
    print(f"wall {wall:.1f}s (SCG {st['seconds']:.1f}s), CPU {cpu:.1f}s, {st['iteration']} iterations, "
          f"{st['passes']:g} passes")
    print(f"test_loss={test_loss:.6f} test_accuracy={test_acc:.4f}")


if __name__ == "__main__":
    main()
