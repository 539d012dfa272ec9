#!/usr/bin/python3
"""Reference values for the segmentation losses, metrics and connected components.

Run with /usr/bin/python3 (torch 1.13, numpy, scipy) from this folder:

    /usr/bin/python3 make_segmentation_fixture.py

Writes segmentation_fixture.json:

  dice_loss   MONAI's DiceLoss formula written out in PyTorch (monai is not installed here):
              f = 1 - (2 sum(p g) + smooth_nr) / (sum(g) + sum(p) + smooth_dr) per sample and class (or per class
              with batch=True; squared sums with squared_pred; denominator 2 (den - I) with jaccard), softmax or
              sigmoid first, one-hot targets from class indices, background channel dropped when
              include_background=False; then mean, sum or none. "grad" is d(mean loss)/d(logits) by autograd.
              dice_ce adds torch.nn.functional.cross_entropy (MONAI's DiceCELoss with lambda weights).
  surface     masks from thresholded smoothed noise, 2-D and 3-D, anisotropic spacing; the surface is
              mask XOR scipy.ndimage.binary_erosion(mask) (default cross structure, border outside), distances by
              scipy.ndimage.distance_transform_edt(~other_surface, sampling=spacing) at each surface voxel; HD is
              the max of the two directed maxima, HD95 the max of the two np.percentile(…, 95); ASSD the mean of
              both lists concatenated; surface Dice at tolerance tau (both within-tau counts over both sizes).
  tversky     MONAI's TverskyLoss: 1 - (TP + nr) / (TP + alpha FP + beta FN + dr), TP = sum(p g), FP = sum(p (1 - g)),
              FN = sum((1 - p) g); generalized: MONAI's GeneralizedDiceLoss (w_type "square"): w = 1 / sum(g)^2, infinite
              weights set to the largest finite one of the image (of the batch with batch=True), then
              1 - (2 sum_c w I + nr) / (sum_c w (G + P) + dr); values and autograd gradients.
  components  scipy.ndimage.label with generate_binary_structure(rank, connectivity).
"""
import json

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage


def dice_reference(logits, target, activation, include_background, squared, jaccard, batch, smooth_nr, smooth_dr, reduction):
    p, g = probabilities_and_labels(logits, target, activation, include_background)
    axes = list(range(2, logits.dim()))
    if batch:
        axes = [0] + axes
    inter = (p * g).sum(axes)
    den = ((g * g).sum(axes) + (p * p).sum(axes)) if squared else (g.sum(axes) + p.sum(axes))
    if jaccard:
        den = 2.0 * (den - inter)
    f = 1.0 - (2.0 * inter + smooth_nr) / (den + smooth_dr)
    return {"mean": f.mean(), "sum": f.sum(), "none": f}[reduction]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def dice_cases():
    cases = []
    configs = [
        dict(shape=(2, 3, 5, 6), activation="softmax", include_background=True, squared=False, jaccard=False, batch=False, reduction="mean", target="index"),
        dict(shape=(2, 3, 5, 6), activation="softmax", include_background=False, squared=False, jaccard=False, batch=False, reduction="none", target="index"),
        dict(shape=(2, 3, 4, 3, 5), activation="softmax", include_background=True, squared=True, jaccard=False, batch=True, reduction="none", target="index1"),
        dict(shape=(3, 4, 6, 5), activation="softmax", include_background=False, squared=False, jaccard=True, batch=False, reduction="sum", target="index"),
        dict(shape=(2, 1, 6, 7), activation="sigmoid", include_background=True, squared=False, jaccard=False, batch=False, reduction="mean", target="index1"),
        dict(shape=(2, 2, 4, 4, 4), activation="sigmoid", include_background=True, squared=True, jaccard=False, batch=True, reduction="mean", target="float"),
        dict(shape=(2, 3, 5, 5), activation="none", include_background=True, squared=False, jaccard=False, batch=False, reduction="mean", target="float", probabilities=True),
        dict(shape=(2, 3, 5, 6), activation="softmax", include_background=True, squared=False, jaccard=False, batch=False, reduction="mean", target="index", smooth_nr=0.0, smooth_dr=1.0),
    ]
    g = torch.Generator().manual_seed(5)
    for i, cfg in enumerate(configs):
        shape = cfg["shape"]
        n, c = shape[0], shape[1]
        logits = torch.randn(*shape, generator=g)
        if cfg.get("probabilities"):
            logits = logits.softmax(1)
        logits.requires_grad_(True)
        spatial = shape[2:]
        if cfg["target"] == "float":
            target = torch.rand(*shape, generator=g).round()
            target_out = {"kind": "float", "values": flat(target)}
        else:
            high = 2 if c == 1 else c
            idx = torch.randint(0, high, (n,) + tuple(spatial), generator=g)
            target = idx.unsqueeze(1) if cfg["target"] == "index1" else idx
            target_out = {"kind": cfg["target"], "values": [int(v) for v in target.reshape(-1).tolist()], "shape": list(target.shape)}
        nr, dr = cfg.get("smooth_nr", 1e-5), cfg.get("smooth_dr", 1e-5)
        loss = dice_reference(logits, target, cfg["activation"], cfg["include_background"], cfg["squared"], cfg["jaccard"], cfg["batch"], nr, dr, cfg["reduction"])
        grad, = torch.autograd.grad(loss.sum() if cfg["reduction"] == "none" else loss, logits)
        cases.append({"name": f"dice{i}", "shape": list(shape), "logits": flat(logits), "target": target_out,
                      "activation": cfg["activation"], "include_background": cfg["include_background"], "squared": cfg["squared"],
                      "jaccard": cfg["jaccard"], "batch": cfg["batch"], "reduction": cfg["reduction"], "smooth_nr": nr, "smooth_dr": dr,
                      "loss": flat(loss), "loss_shape": list(loss.shape), "grad": flat(grad)})
    return cases


def probabilities_and_labels(logits, target, activation, include_background):
    c = logits.shape[1]
    p = logits.softmax(1) if activation == "softmax" else logits.sigmoid() if activation == "sigmoid" else logits
    if target.dtype == torch.int64:
        t = target.squeeze(1) if target.dim() == logits.dim() else target
        g = t.unsqueeze(1).float() if c == 1 else F.one_hot(t, c).movedim(-1, 1).float()
    else:
        g = target
    if not include_background:
        p, g = p[:, 1:], g[:, 1:]
    return p, g


def tversky_reference(logits, target, alpha, beta, activation, include_background, batch, reduction, nr=1e-5, dr=1e-5):
    p, g = probabilities_and_labels(logits, target, activation, include_background)
    axes = ([0] if batch else []) + list(range(2, logits.dim()))
    tp = (p * g).sum(axes)
    fp = (p * (1 - g)).sum(axes)
    fn = ((1 - p) * g).sum(axes)
    f = 1 - (tp + nr) / (tp + alpha * fp + beta * fn + dr)
    return {"mean": f.mean(), "sum": f.sum(), "none": f}[reduction]


def generalized_reference(logits, target, activation, include_background, batch, reduction, nr=1e-5, dr=1e-5):
    p, g = probabilities_and_labels(logits, target, activation, include_background)
    axes = ([0] if batch else []) + list(range(2, logits.dim()))
    inter = (p * g).sum(axes)
    ground = g.sum(axes)
    den = ground + p.sum(axes)
    w = 1.0 / (ground.float() * ground.float())
    infs = torch.isinf(w)
    if batch:
        w[infs] = 0.0
        w = w + infs * torch.max(w)
    else:
        w[infs] = 0.0
        w = w + infs * torch.max(w, dim=1)[0].unsqueeze(1)
    dim = 0 if batch else 1
    numer = 2.0 * (inter * w).sum(dim, keepdim=True) + nr
    denom = (den * w).sum(dim, keepdim=True) + dr
    f = 1.0 - numer / denom
    return {"mean": f.mean(), "sum": f.sum(), "none": f}[reduction]


def overlap_cases():
    cases = []
    g = torch.Generator().manual_seed(21)
    configs = [
        ("tversky", dict(shape=(2, 3, 5, 6), alpha=0.3, beta=0.7, activation="softmax", include_background=True, batch=False, reduction="mean")),
        ("tversky", dict(shape=(2, 3, 4, 3, 5), alpha=0.5, beta=0.5, activation="softmax", include_background=False, batch=True, reduction="none")),
        ("tversky", dict(shape=(2, 1, 6, 7), alpha=0.1, beta=0.9, activation="sigmoid", include_background=True, batch=False, reduction="sum")),
        ("generalized", dict(shape=(2, 4, 5, 6), activation="softmax", include_background=True, batch=False, reduction="none", absent=3)),
        ("generalized", dict(shape=(3, 3, 4, 3, 4), activation="softmax", include_background=False, batch=True, reduction="mean", absent=2)),
        ("generalized", dict(shape=(2, 3, 5, 5), activation="softmax", include_background=True, batch=False, reduction="mean", absent=None)),
    ]
    for i, (kind, cfg) in enumerate(configs):
        shape = cfg["shape"]
        n, c = shape[0], shape[1]
        logits = torch.randn(*shape, generator=g, requires_grad=True)
        high = 2 if c == 1 else c
        idx = torch.randint(0, high, (n,) + tuple(shape[2:]), generator=g)
        if cfg.get("absent") is not None:
            # a class absent from the first image (infinite weight there)
            idx[0][idx[0] == cfg["absent"]] = 0
        if kind == "tversky":
            loss = tversky_reference(logits, idx, cfg["alpha"], cfg["beta"], cfg["activation"], cfg["include_background"], cfg["batch"], cfg["reduction"])
        else:
            loss = generalized_reference(logits, idx, cfg["activation"], cfg["include_background"], cfg["batch"], cfg["reduction"])
        grad, = torch.autograd.grad(loss.sum(), logits)
        case = {"name": f"{kind}{i}", "kind": kind, "shape": list(shape), "logits": flat(logits), "target": [int(v) for v in idx.reshape(-1).tolist()],
                "activation": cfg["activation"], "include_background": cfg["include_background"], "batch": cfg["batch"], "reduction": cfg["reduction"],
                "loss": flat(loss), "loss_shape": list(loss.shape), "grad": flat(grad)}
        if kind == "tversky":
            case["alpha"], case["beta"] = cfg["alpha"], cfg["beta"]
        cases.append(case)
    return cases


def dice_ce_cases():
    cases = []
    g = torch.Generator().manual_seed(11)
    for i, (shape, wd, wc, include_background, weighted) in enumerate([((2, 3, 5, 6), 1.0, 1.0, True, False), ((2, 4, 3, 4, 5), 0.7, 0.3, False, True)]):
        logits = torch.randn(*shape, generator=g, requires_grad=True)
        idx = torch.randint(0, shape[1], (shape[0],) + tuple(shape[2:]), generator=g)
        weight = torch.rand(shape[1], generator=g) + 0.5 if weighted else None
        dice = dice_reference(logits, idx, "softmax", include_background, False, False, False, 1e-5, 1e-5, "mean")
        loss = wd * dice + wc * F.cross_entropy(logits, idx, weight=weight)
        grad, = torch.autograd.grad(loss, logits)
        cases.append({"name": f"dice_ce{i}", "shape": list(shape), "logits": flat(logits), "target": [int(v) for v in idx.reshape(-1).tolist()],
                      "dice_weight": wd, "ce_weight": wc, "include_background": include_background,
                      "class_weight": None if weight is None else flat(weight), "loss": float(loss), "grad": flat(grad)})
    return cases


def blob(rng, shape, threshold, sigma):
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return noise > threshold


def surface(mask):
    return mask ^ ndimage.binary_erosion(mask)


def surface_case(name, pred, truth, spacing, tau):
    sp, st = surface(pred), surface(truth)
    case = {"name": name, "shape": list(pred.shape), "spacing": spacing, "tolerance": tau,
            "prediction": "".join("1" if v else "0" for v in pred.reshape(-1)),
            "truth": "".join("1" if v else "0" for v in truth.reshape(-1))}
    inter, pv, tv = int((pred & truth).sum()), int(pred.sum()), int(truth.sum())
    case["dice"] = None if tv == 0 else 2 * inter / (pv + tv)
    case["iou"] = None if tv == 0 else inter / (pv + tv - inter)
    if tv == 0 or pv == 0:
        return case
    d_pt = ndimage.distance_transform_edt(~st, sampling=spacing)[sp]
    d_tp = ndimage.distance_transform_edt(~sp, sampling=spacing)[st]
    case["hausdorff"] = float(max(d_pt.max(), d_tp.max()))
    case["hausdorff95"] = float(max(np.percentile(d_pt, 95), np.percentile(d_tp, 95)))
    case["directed95"] = float(np.percentile(d_pt, 95))
    case["assd"] = float(np.concatenate([d_pt, d_tp]).mean())
    case["surface_dice"] = float(((d_pt <= tau).sum() + (d_tp <= tau).sum()) / (len(d_pt) + len(d_tp)))
    case["prediction_to_truth"] = sorted(float(v) for v in d_pt)
    return case


def surface_cases():
    rng = np.random.default_rng(3)
    cases = []
    truth = blob(rng, (24, 20), 0.05, 2.5)
    pred = ndimage.binary_dilation(truth) & ~blob(rng, (24, 20), 0.3, 1.0)
    cases.append(surface_case("blob2d", pred, truth, [1.0, 1.0], 1.0))
    cases.append(surface_case("blob2d_aniso", pred, truth, [0.7, 1.3], 1.5))
    truth3 = blob(rng, (12, 10, 14), 0.02, 2.0)
    pred3 = blob(rng, (12, 10, 14), 0.05, 2.0) | (truth3 & blob(rng, (12, 10, 14), 0.0, 1.5))
    cases.append(surface_case("blob3d_aniso", pred3, truth3, [2.5, 0.8, 0.9], 2.0))
    one = np.zeros((7, 9), bool); one[3, 4] = True
    far = np.zeros((7, 9), bool); far[0, 0] = True; far[6, 8] = True
    cases.append(surface_case("single_voxels", far, one, [1.0, 1.0], 3.0))
    full = np.ones((5, 6), bool)
    half = np.zeros((5, 6), bool); half[:, :3] = True
    cases.append(surface_case("touching_border", half, full, [1.0, 2.0], 0.0))
    empty = np.zeros((5, 6), bool)
    cases.append(surface_case("empty_prediction", empty, half, [1.0, 1.0], 1.0))
    cases.append(surface_case("empty_truth", half, empty, [1.0, 1.0], 1.0))
    return cases


def component_cases():
    rng = np.random.default_rng(9)
    cases = []
    for name, shape, connectivity, density in [("2d_face", (15, 17), 1, 0.35), ("2d_full", (15, 17), 2, 0.3), ("3d_face", (6, 7, 8), 1, 0.25),
                                               ("3d_edge", (6, 7, 8), 2, 0.1), ("3d_full", (6, 7, 8), 3, 0.06)]:
        mask = rng.random(shape) < density
        labels, count = ndimage.label(mask, structure=ndimage.generate_binary_structure(len(shape), connectivity))
        cases.append({"name": name, "shape": list(shape), "connectivity": connectivity,
                      "mask": "".join("1" if v else "0" for v in mask.reshape(-1)),
                      "labels": [int(v) for v in labels.reshape(-1)], "count": int(count)})
    return cases


with open("segmentation_fixture.json", "w") as f:
    json.dump({"dice_loss": dice_cases(), "dice_ce": dice_ce_cases(), "overlap_losses": overlap_cases(), "surface": surface_cases(), "components": component_cases()}, f)
print("segmentation_fixture.json written")
