#!/usr/bin/python3
"""Writes optim_reference.json: parameter trajectories of torch.optim optimizers and schedulers, for OptimReferenceTests.

Each case starts from the same float64 parameters w (3, 4) and b (4) and takes 8 steps on
    loss = sum(c * (x @ w + b - y)^2) + 0.1 * sum(w^4)
(zero_grad, backward, optional clip_grad_norm_, optimizer.step, optional scheduler.step), recording the parameters and
every group's learning rate after each step. The C# test repeats the steps with MedVision.Torch and compares.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_optim_reference.py
The tests only read the JSON; Python is not needed to run them.
"""
import json
import math
import os

import torch
from torch.optim import SGD, Adam, AdamW
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, MultiStepLR, SequentialLR, StepLR

torch.manual_seed(20261204)
torch.set_default_dtype(torch.float64)
STEPS = 8
x, y, c = torch.randn(5, 3), torch.randn(5, 4), torch.rand(5, 4) + 0.5
w0, b0 = torch.randn(3, 4), torch.randn(4)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def run(name, make_optimizer, make_scheduler=None, clip=None, steps=STEPS):
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = make_optimizer(w, b)
    sched = make_scheduler(opt) if make_scheduler else None
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (c * (x @ w + b - y) ** 2).sum() + 0.1 * (w ** 4).sum()
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_([w, b], clip)) if clip else None
        opt.step()
        if sched:
            sched.step()
        trajectory.append({"w": flat(w), "b": flat(b), "lr": [g["lr"] for g in opt.param_groups], "norm": norm})
    CASES[name] = {"trajectory": trajectory}


CASES = {}
run("sgd", lambda w, b: SGD([w, b], lr=0.01))
run("sgd_momentum_dampening_decay", lambda w, b: SGD([w, b], lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.01))
run("sgd_nesterov", lambda w, b: SGD([w, b], lr=0.01, momentum=0.8, weight_decay=0.001, nesterov=True))
run("adam", lambda w, b: Adam([w, b], lr=0.01))
run("adam_amsgrad_decay_betas", lambda w, b: Adam([w, b], lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.01, amsgrad=True))
run("adamw", lambda w, b: AdamW([w, b], lr=0.02, weight_decay=0.1))
run("adamw_amsgrad", lambda w, b: AdamW([w, b], lr=0.02, amsgrad=True))
run("sgd_groups", lambda w, b: SGD([{"params": [w], "lr": 0.02, "momentum": 0.9}, {"params": [b], "weight_decay": 0.1}], lr=0.005))
run("adam_groups", lambda w, b: Adam([{"params": [w], "lr": 0.01}, {"params": [b], "lr": 0.05, "weight_decay": 0.01}]))
run("sgd_clip", lambda w, b: SGD([w, b], lr=0.01, momentum=0.9), clip=0.5)
run("adam_step_lr", lambda w, b: Adam([w, b], lr=0.05), lambda o: StepLR(o, step_size=2, gamma=0.5))
run("sgd_multistep_lr", lambda w, b: SGD([w, b], lr=0.01), lambda o: MultiStepLR(o, milestones=[1, 3, 4], gamma=0.3))
run("adamw_cosine", lambda w, b: AdamW([w, b], lr=0.05), lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.001), steps=12)
run("sgd_warmup_cosine", lambda w, b: SGD([w, b], lr=0.01, momentum=0.5),
    lambda o: SequentialLR(o, [LinearLR(o, start_factor=1 / 3, total_iters=3), CosineAnnealingLR(o, T_max=4)], milestones=[3]), steps=10)
run("adam_groups_step_lr", lambda w, b: Adam([{"params": [w], "lr": 0.01}, {"params": [b], "lr": 0.05}]), lambda o: StepLR(o, step_size=3, gamma=0.1))

doc = {
    "generator": "make_optim_reference.py",
    "torch": torch.__version__,
    "x": flat(x), "y": flat(y), "c": flat(c), "w0": flat(w0), "b0": flat(b0),
    "cases": CASES,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_reference.json")
with open(out + ".tmp", "w") as f:
    json.dump(doc, f)
os.replace(out + ".tmp", out)
print(f"{len(CASES)} cases -> {out} ({os.path.getsize(out)} bytes)")
