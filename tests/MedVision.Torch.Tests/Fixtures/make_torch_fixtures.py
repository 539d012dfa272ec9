#!/usr/bin/python3
"""Writes torch_fixtures.json: inputs and PyTorch's outputs for a few ops, used by PythonFixtureTests.

Run with the system Python (torch 1.13 + numpy):  /usr/bin/python3 make_torch_fixtures.py
The tests only read the JSON; Python is not needed to run them.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240601)
torch.set_default_dtype(torch.float64)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def it(x):
    return {"shape": list(x.shape), "data": [int(v) for v in x.reshape(-1).tolist()]}


cases = {}

# conv2d with stride, padding and groups
x = torch.randn(2, 4, 7, 6)
w = torch.randn(6, 2, 3, 3)
b = torch.randn(6)
cases["conv2d"] = {"x": t(x), "w": t(w), "b": t(b), "stride": 2, "padding": 1, "groups": 2,
                   "y": t(F.conv2d(x, w, b, stride=2, padding=1, groups=2))}

# batch_norm in training mode: output and the updated running statistics
x = torch.randn(4, 3, 3, 2) * 2 + 0.5
rm = torch.randn(3)
rv = torch.rand(3) + 0.5
g = torch.randn(3)
b = torch.randn(3)
rm0, rv0 = rm.clone(), rv.clone()
y = F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.2, eps=1e-4)
cases["batch_norm_train"] = {"x": t(x), "running_mean": t(rm0), "running_var": t(rv0), "weight": t(g), "bias": t(b),
                             "momentum": 0.2, "eps": 1e-4, "y": t(y),
                             "running_mean_after": t(rm), "running_var_after": t(rv)}

# cross_entropy with label smoothing, class weights and an ignored sample
logits = torch.randn(7, 5)
target = torch.tensor([0, 4, 2, -100, 1, 1, 3])
weight = torch.rand(5) + 0.25
loss = F.cross_entropy(logits, target, weight=weight, ignore_index=-100, label_smoothing=0.15)
cases["cross_entropy"] = {"logits": t(logits), "target": it(target), "weight": t(weight), "label_smoothing": 0.15,
                          "ignore_index": -100, "loss": float(loss)}

# bilinear interpolation, align_corners=False, up and down
x = torch.randn(1, 2, 5, 4)
cases["interpolate_bilinear"] = {"x": t(x), "size_up": [9, 7], "y_up": t(F.interpolate(x, size=(9, 7), mode="bilinear", align_corners=False)),
                                 "size_down": [3, 3], "y_down": t(F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=False))}

# layer_norm over the two trailing dims with affine parameters
x = torch.randn(3, 4, 5)
g = torch.randn(4, 5)
b = torch.randn(4, 5)
cases["layer_norm"] = {"x": t(x), "normalized_shape": [4, 5], "weight": t(g), "bias": t(b), "eps": 1e-5,
                       "y": t(F.layer_norm(x, [4, 5], g, b, 1e-5))}

# group_norm with 3 groups of 2 channels
x = torch.randn(2, 6, 3, 3)
g = torch.randn(6)
b = torch.randn(6)
cases["group_norm"] = {"x": t(x), "groups": 3, "weight": t(g), "bias": t(b), "eps": 1e-5,
                       "y": t(F.group_norm(x, 3, g, b, 1e-5))}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_fixtures.json")
with open(out, "w") as f:
    json.dump({"generator": "make_torch_fixtures.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
print(out, os.path.getsize(out), "bytes")
