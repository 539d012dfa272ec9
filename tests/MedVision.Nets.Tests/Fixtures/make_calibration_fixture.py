#!/usr/bin/python3
"""scikit-learn reference values for the calibration tests (MedVision.Nets.Metrics.Calibration).

Run with Debian's Python (python3-sklearn, python3-numpy):

    /usr/bin/python3 tests/MedVision.Nets.Tests/Fixtures/make_calibration_fixture.py

Writes calibration_fixture.json beside this script. For each case it records the inputs and
* brier: sklearn.metrics.brier_score_loss on the positive class (binary), or the multi-class Brier score
  mean_i sum_k (p_ik - [y_i = k])^2 computed with numpy (scikit-learn 1.2 has no multi-class Brier);
* nll: sklearn.metrics.log_loss (eps 1e-15, labels = range(K));
* the reliability bins: sklearn.calibration.calibration_curve(correct, confidence, n_bins, strategy="uniform")
  applied to the top-label confidence and whether the top label is right (accuracy and mean confidence of
  the non-empty bins), with the bin counts from numpy.searchsorted exactly as calibration_curve bins;
* ece / mce from those bins.
The top label is the arg-max for multi-class cases and p(class 1) > 0.5 for binary ones.

"temperature" cases: logits and labels, and the temperature T minimising the mean negative log-likelihood of
softmax(logits / T) found by scipy.optimize.minimize_scalar (bounded, on log T, xatol 1e-12), with the NLL at
T = 1 (torch.nn.functional.cross_entropy) and at the optimum.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss


def case(name, labels, probabilities, binary, n_bins):
    labels = np.asarray(labels)
    p = np.asarray(probabilities, dtype=np.float64)
    if binary:
        positive = p[:, -1]
        predicted = (positive > 0.5).astype(int)
        confidence = np.where(predicted == 1, positive, 1 - positive)
        brier = brier_score_loss(labels, positive)
        nll = log_loss(labels, positive, eps=1e-15, labels=[0, 1])
    else:
        predicted = p.argmax(axis=1)
        confidence = p.max(axis=1)
        onehot = np.eye(p.shape[1])[labels]
        brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
        nll = log_loss(labels, p, eps=1e-15, labels=list(range(p.shape[1])))
    correct = (predicted == labels).astype(int)
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], confidence)
    counts = np.bincount(ids, minlength=n_bins)
    nonempty = counts[counts > 0]
    gaps = np.abs(accuracy - mean_confidence)
    return {
        "name": name,
        "binary": binary,
        "bins": n_bins,
        "labels": labels.tolist(),
        "probabilities": p.tolist(),
        "brier": float(brier),
        "nll": float(nll),
        "counts": counts.tolist(),
        "accuracy": accuracy.tolist(),
        "mean_confidence": mean_confidence.tolist(),
        "ece": float(np.sum(nonempty / len(labels) * gaps)),
        "mce": float(gaps.max()),
    }


def temperature_case(name, logits, labels):
    z = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels)

    def nll(log_t):
        return float(F.cross_entropy(z / np.exp(log_t), y))

    best = minimize_scalar(nll, bounds=(-9, 9), method="bounded", options={"xatol": 1e-12})
    t = float(np.exp(best.x))
    return {"name": name, "logits": z.tolist(), "labels": y.tolist(), "temperature": t,
            "nll_before": nll(0.0), "nll_after": nll(best.x)}


def main():
    rng = np.random.default_rng(20261126)
    cases = []
    # Five grades, an over-confident model: sharpened Dirichlet rows, labels drawn from softer rows.
    logits = rng.normal(size=(300, 5)) * 2
    soft = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    sharp = np.exp(2 * logits) / np.exp(2 * logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(5, p=row) for row in soft])
    cases.append(case("multiclass_overconfident", labels, sharp, False, 15))
    cases.append(case("multiclass_10_bins", labels, soft, False, 10))
    # Binary, one column (sigmoid output) and two columns (softmax output).
    positive = rng.uniform(size=250)
    labels = (rng.uniform(size=250) < positive ** 1.5).astype(int)
    cases.append(case("binary_one_column", labels, positive[:, None], True, 15))
    cases.append(case("binary_two_columns", labels, np.stack([1 - positive, positive], 1), True, 5))
    # Temperature scaling: an over-confident model (logits twice too large) and an under-confident one.
    logits = rng.normal(size=(400, 4)) * 1.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(4, p=row) for row in probs])
    temperature = [temperature_case("overconfident", (2.0 * logits).tolist(), labels.tolist()),
                   temperature_case("underconfident", (0.6 * logits).tolist(), labels.tolist())]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibration_fixture.json")
    with open(path, "w") as f:
        json.dump({"calibration": cases, "temperature": temperature}, f)
    for c in temperature:
        print(c["name"], "T", round(c["temperature"], 6), "nll", round(c["nll_before"], 4), "->", round(c["nll_after"], 4))
    for c in cases:
        print(c["name"], "ece", round(c["ece"], 4), "brier", round(c["brier"], 4), "nll", round(c["nll"], 4))


if __name__ == "__main__":
    main()
