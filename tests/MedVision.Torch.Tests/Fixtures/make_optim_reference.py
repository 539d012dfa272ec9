#!/usr/bin/python3
"""Writes optim_reference.json: parameter trajectories of torch.optim optimizers and schedulers, for OptimReferenceTests.

Each case starts from the same float64 parameters w (3, 4) and b (4) and takes 8 steps on
    loss = sum(c * (x @ w + b - y)^2) + 0.1 * sum(w^4)
(zero_grad, backward, optional clip_grad_norm_, optimizer.step, optional scheduler.step), recording the parameters and
every group's learning rate after each step. The C# test repeats the steps with MedVision.Torch and compares.
"swa" records an AveragedModel's average along one run; "update_bn" the batch-norm statistics update_bn computes;
"warm_restarts_fractional" the learning rates of CosineAnnealingWarmRestarts stepped to fractional epochs.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_optim_reference.py
The tests only read the JSON; Python is not needed to run them.
"""
import json
import math
import os

import torch
from torch.optim import SGD, Adagrad, Adam, AdamW, NAdam, RAdam, RMSprop
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.optim.lr_scheduler import (CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR, LambdaLR, LinearLR,
                                      MultiStepLR, OneCycleLR, PolynomialLR, SequentialLR, StepLR)

torch.manual_seed(20261204)
torch.set_default_dtype(torch.float64)
STEPS = 8
x, y, c = torch.randn(5, 3), torch.randn(5, 4), torch.rand(5, 4) + 0.5
w0, b0 = torch.randn(3, 4), torch.randn(4)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def run(name, make_optimizer, make_scheduler=None, clip=None, steps=STEPS, swa_from=None):
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = make_optimizer(w, b)
    sched = make_scheduler(opt) if make_scheduler else None
    holder = torch.nn.Module()
    holder.w, holder.b = torch.nn.Parameter(w.detach()), torch.nn.Parameter(b.detach())  # shares w and b's storage
    swa = AveragedModel(holder) if swa_from is not None else None
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (c * (x @ w + b - y) ** 2).sum() + 0.1 * (w ** 4).sum()
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_([w, b], clip)) if clip else None
        opt.step()
        if sched:
            sched.step()
        entry = {"w": flat(w), "b": flat(b), "lr": [g["lr"] for g in opt.param_groups], "norm": norm}
        # The momentum a schedule may cycle: SGD's and RMSprop's momentum, the Adam family's beta1.
        entry["momentum"] = [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]
        if swa is not None and len(trajectory) >= swa_from:
            swa.update_parameters(holder)
            entry["swa_w"], entry["swa_b"] = flat(swa.module.w), flat(swa.module.b)
        trajectory.append(entry)
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
run("rmsprop", lambda w, b: RMSprop([w, b], lr=0.01))
run("rmsprop_centered_momentum_decay", lambda w, b: RMSprop([w, b], lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.8, centered=True))
run("adagrad", lambda w, b: Adagrad([w, b], lr=0.1))
run("adagrad_decay_accumulator", lambda w, b: Adagrad([w, b], lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.5, eps=1e-8))
run("nadam", lambda w, b: NAdam([w, b], lr=0.01))
run("nadam_decay", lambda w, b: NAdam([w, b], lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.01, momentum_decay=0.01))
# beta2 = 0.999: the rectified step starts after 6 steps (SGD with momentum before); beta2 = 0.9 from step 3.
run("radam", lambda w, b: RAdam([w, b], lr=0.01), steps=12)
run("radam_decay_betas", lambda w, b: RAdam([w, b], lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.01))
run("sgd_exponential_lr", lambda w, b: SGD([w, b], lr=0.01), lambda o: ExponentialLR(o, gamma=0.8))
run("adam_linear_lr", lambda w, b: Adam([w, b], lr=0.02), lambda o: LinearLR(o, start_factor=0.25, end_factor=0.5, total_iters=5))
run("sgd_polynomial_lr", lambda w, b: SGD([w, b], lr=0.01, momentum=0.9), lambda o: PolynomialLR(o, total_iters=6, power=0.9), steps=10)
run("adam_lambda_lr", lambda w, b: Adam([w, b], lr=0.02), lambda o: LambdaLR(o, lambda e: 1.0 / (1 + e) ** 0.5))
run("sgd_warm_restarts", lambda w, b: SGD([w, b], lr=0.01), lambda o: CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.001), steps=16)
run("adamw_warm_restarts", lambda w, b: AdamW([w, b], lr=0.02), lambda o: CosineAnnealingWarmRestarts(o, T_0=3), steps=10)
run("sgd_sequential_linear_exponential", lambda w, b: SGD([w, b], lr=0.01, momentum=0.5),
    lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.1, total_iters=3), ExponentialLR(o, gamma=0.7)], milestones=[3]), steps=10)
run("adam_sequential_three", lambda w, b: Adam([w, b], lr=0.02),
    lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.5, total_iters=2), StepLR(o, step_size=2, gamma=0.5), PolynomialLR(o, total_iters=3)], milestones=[2, 6]), steps=12)
run("sgd_one_cycle", lambda w, b: SGD([w, b], lr=0.01, momentum=0.9), lambda o: OneCycleLR(o, max_lr=0.05, total_steps=10), steps=10)
run("adam_one_cycle_three_phase_linear", lambda w, b: Adam([w, b], lr=0.01),
    lambda o: OneCycleLR(o, max_lr=0.03, total_steps=12, pct_start=0.25, anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0), steps=12)
run("rmsprop_one_cycle_groups", lambda w, b: RMSprop([{"params": [w]}, {"params": [b], "momentum": 0.5}], lr=0.01, momentum=0.9),
    lambda o: OneCycleLR(o, max_lr=[0.02, 0.005], total_steps=9, pct_start=0.4, base_momentum=0.8, max_momentum=0.9), steps=9)
run("adamw_one_cycle_no_momentum", lambda w, b: AdamW([w, b], lr=0.01),
    lambda o: OneCycleLR(o, max_lr=0.04, total_steps=8, cycle_momentum=False), steps=8)
run("sgd_swalr", lambda w, b: SGD([w, b], lr=0.05, momentum=0.9), lambda o: SWALR(o, swa_lr=0.01, anneal_epochs=3), swa_from=2)
run("adam_groups_swalr_linear", lambda w, b: Adam([{"params": [w], "lr": 0.02}, {"params": [b], "lr": 0.05}]),
    lambda o: SWALR(o, swa_lr=[0.005, 0.01], anneal_epochs=4, anneal_strategy="linear"), steps=10, swa_from=0)
run("sgd_swalr_no_anneal", lambda w, b: SGD([w, b], lr=0.05), lambda o: SWALR(o, swa_lr=0.02, anneal_epochs=0))


def update_bn_case():
    """update_bn on a small float64 network whose batch-norm statistics start away from their defaults."""
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.Conv2d(3, 2, 1),
                              torch.nn.BatchNorm2d(2, momentum=0.3))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.num_batches_tracked.fill_(7)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    state = {k: {"shape": list(v.shape), "values": flat(v)} for k, v in net.state_dict().items()}
    batches = [torch.randn(n, 2, 6, 6) * 2 + 1 for n in (4, 3, 5)]
    net.eval()
    update_bn(batches, net)
    return {
        "state": state,
        "batches": [{"shape": list(t.shape), "values": flat(t)} for t in batches],
        "expected": {k: flat(v) for k, v in net.state_dict().items() if "running" in k or "num_batches" in k},
        "training_after": net.training,
        "momentum_after": [m.momentum for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)],
    }


def warm_restarts_fractional():
    """CosineAnnealingWarmRestarts stepped to fractional epochs (step(epoch)) and on from there with step()."""
    cases = []
    for t0, t_mult, eta_min, calls in [
        (2, 2, 0.001, [0.25, 0.5, 1.75, 2.0, 2.5, None, None, 5.9, 6.0, 6.1, 13.99, 14.0, None, 3.3, 29.5]),
        (3, 1, 0.0, [0.5, 2.999, 3.0, 4.5, None, None, 100.25, 1.0]),
        (1, 3, 0.0, [0.5, 1.5, 3.9, 4.0, 12.5, 13.0, 121.0, 120.5]),
    ]:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = SGD([p], lr=0.01)
        sched = CosineAnnealingWarmRestarts(opt, T_0=t0, T_mult=t_mult, eta_min=eta_min)
        steps = []
        for e in calls:
            if e is None:
                sched.step()
            else:
                sched.step(e)
            steps.append({"epoch": e, "lr": opt.param_groups[0]["lr"], "last_epoch": sched.last_epoch})
        cases.append({"t0": t0, "t_mult": t_mult, "eta_min": eta_min, "base_lr": 0.01, "steps": steps})
    return cases


doc = {
    "generator": "make_optim_reference.py",
    "torch": torch.__version__,
    "x": flat(x), "y": flat(y), "c": flat(c), "w0": flat(w0), "b0": flat(b0),
    "cases": CASES,
    "update_bn": update_bn_case(),
    "warm_restarts_fractional": warm_restarts_fractional(),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_reference.json")
with open(out + ".tmp", "w") as f:
    json.dump(doc, f)
os.replace(out + ".tmp", out)
print(f"{len(CASES)} cases -> {out} ({os.path.getsize(out)} bytes)")
