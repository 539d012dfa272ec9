#!/usr/bin/python3
"""Writes tiny_scripted_net.pt (a torch.jit.script module) and torchscript_fixture.json (its inputs and PyTorch's
outputs), used by Jit/ScriptModuleTests.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_torchscript_fixture.py
The tests only read the two files; Python is not needed to run them.
"""
import json
import os
from typing import Tuple

import torch
import torch.nn as nn

torch.manual_seed(20261201)
here = os.path.dirname(os.path.abspath(__file__))


class TinyScriptedNet(nn.Module):
    """conv-BN-ReLU features, global average pooling and a linear head, with extra exported methods."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:  # control flow: a single image is batched (needs scripting, not tracing)
            x = x.unsqueeze(0)
        return self.head(self.embed(x))

    @torch.jit.export
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.features(x)), 1)

    @torch.jit.export
    def both(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        f = self.embed(x)
        return self.head(f), f

    @torch.jit.export
    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.pairwise_distance(self.embed(a), self.embed(b))

    @torch.jit.export
    def count(self, x: torch.Tensor) -> int:
        return x.size(0)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


net = TinyScriptedNet()
with torch.no_grad():  # non-trivial running statistics, so evaluation differs from training
    net.features[1].running_mean.copy_(torch.randn(4) * 0.1)
    net.features[1].running_var.copy_(torch.rand(4) + 0.5)
scripted = torch.jit.script(net)
scripted.eval()

x = torch.randn(2, 3, 5, 5)
b = torch.randn(2, 3, 5, 5)
cases = {"x": t(x), "b": t(b)}
cases["state_dict_keys"] = list(net.state_dict().keys())
cases["parameter_names"] = [n for n, _ in net.named_parameters()]
cases["parameter_count"] = sum(p.numel() for p in net.parameters())

with torch.no_grad():
    cases["eval_forward"] = t(scripted(x))
    cases["eval_single_image"] = t(scripted(x[0]))
    cases["eval_embed"] = t(scripted.embed(x))
    cases["eval_distance"] = t(scripted.distance(x, b))

# the file is written in evaluation mode, before the training-mode checks change the running statistics
path = os.path.join(here, "tiny_scripted_net.pt")
torch.jit.save(scripted, path, _extra_files={"note.txt": "written by PyTorch " + torch.__version__})

# one SGD step (lr 0.1) on the mean squared output, in evaluation mode
out = scripted(x)
loss = (out ** 2).mean()
loss.backward()
cases["loss"] = float(loss)
cases["grad_head_weight"] = t(scripted.head.weight.grad)
cases["grad_conv_weight"] = t(scripted.features[0].weight.grad)
with torch.no_grad():
    for p in scripted.parameters():
        p -= 0.1 * p.grad
    cases["eval_forward_after_step"] = t(scripted(x))

# training mode: batch statistics, running statistics updated (momentum 0.1)
scripted.train()
with torch.no_grad():
    cases["train_forward_after_step"] = t(scripted(x))
    cases["running_mean_after_train_forward"] = t(scripted.features[1].running_mean)

with open(os.path.join(here, "torchscript_fixture.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
print("wrote", path, os.path.getsize(path), "bytes")
