#!/usr/bin/python3
"""Writes shared_scripted_net.pt (a torch.jit.script module with a block held under two names and a weight tied between
two layers) and shared_scripted_fixture.json (its names, counts, an input and PyTorch's outputs before and after one SGD
step), used by Jit/ScriptModuleTests: PyTorch lists each shared parameter once, so an optimizer steps it once.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_shared_scripted_fixture.py
The tests only read the two files; Python is not needed to run them.
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(20261202)
here = os.path.dirname(os.path.abspath(__file__))


class SharedNet(nn.Module):
    """encoder applied twice (under the names encoder and again), and head.weight tied to tail.weight."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(3, 3)
        self.again = self.encoder
        self.head = nn.Linear(3, 2)
        self.tail = nn.Linear(3, 2)
        self.tail.weight = self.head.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.again(torch.tanh(self.encoder(x))))
        return self.head(h) + 0.5 * self.tail(h)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


scripted = torch.jit.script(SharedNet())
path = os.path.join(here, "shared_scripted_net.pt")
torch.jit.save(scripted, path)
scripted = torch.jit.load(path)  # what the .NET side reads

x = torch.randn(4, 3)
cases = {"x": t(x)}
cases["parameter_names"] = [n for n, _ in scripted.named_parameters()]
cases["parameter_count"] = sum(p.numel() for p in scripted.parameters())
cases["state_dict_keys"] = list(scripted.state_dict().keys())
with torch.no_grad():
    cases["forward"] = t(scripted(x))

# one SGD step (lr 0.1) on the mean squared output: every parameter once
loss = (scripted(x) ** 2).mean()
loss.backward()
with torch.no_grad():
    for p in scripted.parameters():
        p -= 0.1 * p.grad
    cases["forward_after_step"] = t(scripted(x))

with open(os.path.join(here, "shared_scripted_fixture.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
print("wrote", path, os.path.getsize(path), "bytes")
