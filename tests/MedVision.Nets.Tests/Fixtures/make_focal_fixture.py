#!/usr/bin/python3
"""Reference values for the focal-loss tests (MedVision.Nets.Losses.FocalLoss).

Run with /usr/bin/python3 (torch 1.13 + torchvision 0.14) from anywhere:

    /usr/bin/python3 tests/MedVision.Nets.Tests/Fixtures/make_focal_fixture.py

Writes focal_fixture.json beside this script:
* "sigmoid": torchvision.ops.sigmoid_focal_loss on random logits (4, 3) and 0/1 targets, for several alpha
  (-1 = no weighting in torchvision, null in MedVision) / gamma / reduction settings, with the gradient of the summed
  loss with respect to the logits;
* "softmax": the softmax focal loss -w_y (1 - p_y)^gamma log p_y written with torch ops (torch has no built-in one)
  on logits (6, 4), for gamma 0 (recorded next to F.cross_entropy with the same weights, which it must equal),
  0.5 and 2, with and without class weights, each reduction, with the gradient of the summed loss.
"""
import json
import os

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss


def softmax_focal(logits, target, gamma, weight, reduction):
    log_pt = F.log_softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    loss = -(1 - log_pt.exp()) ** gamma * log_pt
    if weight is not None:
        w = weight[target]
        loss = loss * w
        if reduction == "mean":
            return loss.sum() / w.sum()
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def main():
    torch.manual_seed(2026)
    out = {"sigmoid": [], "softmax": []}
    x = (torch.randn(4, 3, dtype=torch.float64) * 2)
    t = (torch.rand(4, 3, dtype=torch.float64) > 0.5).double()
    for alpha, gamma, reduction in ((0.25, 2.0, "none"), (-1.0, 2.0, "mean"), (0.6, 0.0, "sum"), (0.25, 1.5, "mean")):
        xi = x.clone().requires_grad_(True)
        loss = sigmoid_focal_loss(xi, t, alpha=alpha, gamma=gamma, reduction=reduction)
        (grad,) = torch.autograd.grad(loss.sum(), xi)
        out["sigmoid"].append({"alpha": None if alpha < 0 else alpha, "gamma": gamma, "reduction": reduction,
                               "logits": x.tolist(), "target": t.tolist(),
                               "loss": loss.detach().flatten().tolist(), "grad": grad.flatten().tolist()})
    x = torch.randn(6, 4, dtype=torch.float64) * 2
    y = torch.tensor([0, 3, 1, 1, 2, 3])
    w = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    for gamma in (0.0, 0.5, 2.0):
        for weight in (None, w):
            for reduction in ("none", "mean", "sum"):
                xi = x.clone().requires_grad_(True)
                loss = softmax_focal(xi, y, gamma, weight, reduction)
                (grad,) = torch.autograd.grad(loss.sum(), xi)
                entry = {"gamma": gamma, "weight": None if weight is None else weight.tolist(), "reduction": reduction,
                         "logits": x.tolist(), "target": y.tolist(),
                         "loss": loss.detach().flatten().tolist(), "grad": grad.flatten().tolist()}
                if gamma == 0.0:
                    entry["cross_entropy"] = F.cross_entropy(x, y, weight=weight, reduction=reduction).flatten().tolist()
                out["softmax"].append(entry)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "focal_fixture.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(path, len(out["sigmoid"]), "sigmoid cases,", len(out["softmax"]), "softmax cases")


if __name__ == "__main__":
    main()
