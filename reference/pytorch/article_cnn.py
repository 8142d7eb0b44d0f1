"""The article's CNN in PyTorch, with curv's parameter names and layouts.

conv1 Conv2d(1 -> 32, 3x3, 'same' padding) -> tanh -> MaxPool2d(2) -> Flatten
(32*14*14 = 6272) -> fc1 Linear(6272 -> 100) -> tanh -> fc2 Linear(100 -> 10),
softmax cross-entropy. curv's nn stores Conv2d weights as (O, C, k, k) and
Linear weights as (out, in) with y = x W^T + b, parameters in the order
conv1.weight, conv1.bias, fc1.weight, fc1.bias, fc2.weight, fc2.bias: PyTorch's
own layouts, names and parameters() order, so curv's .npz files load with
load_state_dict and curv's flat vector w is parameters_to_vector(model).
"""
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

PARAMETER_NAMES = ["conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def make_model(dtype=torch.float64):
    model = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 32, kernel_size=3, padding=1)),
        ("tanh1", nn.Tanh()),
        ("pool1", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(32 * 14 * 14, 100)),
        ("tanh2", nn.Tanh()),
        ("fc2", nn.Linear(100, 10)),
    ]))
    model = model.to(dtype)
    names = [n for n, _ in model.named_parameters()]
    assert names == PARAMETER_NAMES, names
    return model


def load_npz_parameters(model, path):
    """Loads a curv .npz (nn::save_parameters, curv-train --save-model/--init) into model, strictly."""
    dtype = next(model.parameters()).dtype
    with np.load(path) as z:
        missing = [n for n in PARAMETER_NAMES if n not in z.files]
        if missing:
            raise ValueError(f"{path}: no entries {missing} (it has {z.files})")
        state = OrderedDict((n, torch.from_numpy(np.array(z[n])).to(dtype)) for n in PARAMETER_NAMES)
    model.load_state_dict(state, strict=True)  # checks every shape


def npz_vectors(path, dtype=torch.float64):
    """The arrays of a curv .npz written with the model's names, as a list of tensors in parameters() order."""
    with np.load(path) as z:
        return [torch.from_numpy(np.array(z[n])).to(dtype) for n in PARAMETER_NAMES]
