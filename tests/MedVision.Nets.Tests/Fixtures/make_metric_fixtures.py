#!/usr/bin/python3
"""Generate scikit-learn reference values for the MedVision.Nets metric tests.

Run with Debian's Python (python3-sklearn, python3-numpy):

    /usr/bin/python3 tests/MedVision.Nets.Tests/Fixtures/make_metric_fixtures.py

It writes metric_fixtures.json beside this script. The C# tests read that file; they need no Python.

Every expected value comes from scikit-learn (roc_auc_score, accuracy_score, confusion_matrix,
precision_recall_fscore_support, recall_score, balanced_accuracy_score, cohen_kappa_score,
mean_absolute_error, roc_curve, precision_recall_curve) or numpy (quantile). The MedMNIST AUC/ACC are
computed by get_auc/get_acc below, which copy the logic of medmnist.evaluator.getAUC/getACC.

Conventions recorded in the fixture:
* Multi-class metrics pass labels=range(K) so absent classes keep their rows (and kappa weights use
  class indices), and zero_division=0.
* roc_curve: scikit-learn >= 1.3 puts +inf as the first threshold; older versions (Debian bookworm ships 1.2)
  put thresholds[1] + 1. The library follows the current convention, so for older versions the first
  threshold is replaced by +inf here. All other points are scikit-learn's own.
* Where medmnist's getAUC raises (a class with one outcome), "medmnist_raises" is true and the expected
  summary AUC is the mean over the defined per-class AUCs, which is the library's documented behaviour.
* Non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity".
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    mean_absolute_error,
    precision_recall_curve,
    precision_recall_fscore_support,
    recall_score,
    roc_auc_score,
    roc_curve,
)

warnings.simplefilter("ignore")
SKLEARN_INF_THRESHOLD = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 3)


# ---- medmnist.evaluator logic (getAUC / getACC), verbatim apart from task names -----------------
def get_auc(y_true, y_score, task):
    y_true = y_true.squeeze()
    y_score = y_score.squeeze()
    if task == "multi-label, binary-class":
        auc = 0
        for i in range(y_score.shape[1]):
            auc += roc_auc_score(y_true[:, i], y_score[:, i])
        return auc / y_score.shape[1]
    if task == "binary-class":
        if y_score.ndim == 2:
            y_score = y_score[:, -1]
        return roc_auc_score(y_true, y_score)
    auc = 0
    for i in range(y_score.shape[1]):
        y_true_binary = (y_true == i).astype(float)
        auc += roc_auc_score(y_true_binary, y_score[:, i])
    return auc / y_score.shape[1]


def get_acc(y_true, y_score, task, threshold=0.5):
    y_true = y_true.squeeze()
    y_score = y_score.squeeze()
    if task == "multi-label, binary-class":
        y_pre = y_score > threshold
        acc = 0
        for label in range(y_true.shape[1]):
            acc += accuracy_score(y_true[:, label], y_pre[:, label])
        return acc / y_true.shape[1]
    if task == "binary-class":
        if y_score.ndim == 2:
            y_score = y_score[:, -1]
        return accuracy_score(y_true, y_score > threshold)
    return accuracy_score(y_true, np.argmax(y_score, axis=-1))


MEDMNIST_TASK = {
    "Binary": "binary-class",
    "MultiClass": "multi-class",
    "OrdinalRegression": "ordinal-regression",
    "MultiLabel": "multi-label, binary-class",
}


# ---- helpers ------------------------------------------------------------------------------------
def auc_or_nan(y, s):
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def roc(y, s, drop):
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=drop)
    thr = thr.astype(float)
    if not SKLEARN_INF_THRESHOLD:
        thr[0] = math.inf
    return {"drop_intermediate": drop, "fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr.tolist()}


def pr(y, s):
    p, r, t = precision_recall_curve(y, s)
    return {"precision": p.tolist(), "recall": r.tolist(), "thresholds": t.astype(float).tolist()}


def clinical(y, p, k):
    labels = list(range(k))
    out = {"accuracy": accuracy_score(y, p),
           "confusion_matrix": confusion_matrix(y, p, labels=labels).tolist()}
    prec, rec, f1, support = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    support = np.asarray(support).astype(int)  # sklearn returns floats when every score is 0
    out.update(precision=prec.tolist(), recall=rec.tolist(), f1=f1.tolist(), support=support.tolist())
    for avg in ("macro", "weighted"):
        pa, ra, fa, _ = precision_recall_fscore_support(y, p, labels=labels, average=avg, zero_division=0)
        out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = pa, ra, fa
    # Specificity of class c = recall of the negative outcome of the one-vs-rest problem.
    spec = np.array([recall_score((y == c).astype(int), (p == c).astype(int), pos_label=0, zero_division=0)
                     for c in labels])
    out["specificity"] = spec.tolist()
    out["specificity_macro"] = float(spec.mean())
    out["specificity_weighted"] = float(np.average(spec, weights=support)) if support.sum() else 0.0
    out["balanced_accuracy"] = balanced_accuracy_score(y, p)
    for name, w in (("kappa", None), ("kappa_linear", "linear"), ("kappa_quadratic", "quadratic")):
        with np.errstate(all="ignore"):
            out[name] = float(cohen_kappa_score(y, p, labels=labels, weights=w))
    out["mae"] = mean_absolute_error(y, p)
    return out


def single_label_case(name, task, y, scores, curve_classes=None, drop_classes=(0,)):
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    k_cols = scores.shape[1]
    k = 2 if task == "Binary" else k_cols
    exp = {}
    if task == "Binary":
        comps = [(y, scores[:, -1])]
        pred = (scores[:, -1] > 0.5).astype(int)
    else:
        comps = [((y == c).astype(int), scores[:, c]) for c in range(k_cols)]
        pred = np.argmax(scores, axis=-1)
    per = [auc_or_nan(t, s) for t, s in comps]
    exp["per_class_auc"] = per
    try:
        exp["medmnist_auc"] = float(get_auc(y, scores, MEDMNIST_TASK[task]))
        exp["medmnist_raises"] = False
    except ValueError:
        exp["medmnist_raises"] = True
        defined = [a for a in per if not math.isnan(a)]
        exp["medmnist_auc"] = float(np.mean(defined)) if defined else float("nan")
    exp["medmnist_acc"] = float(get_acc(y, scores, MEDMNIST_TASK[task]))
    exp["predicted"] = pred.tolist()
    exp.update(clinical(y, pred, k))
    curve_classes = range(len(comps)) if curve_classes is None else curve_classes
    exp["roc_curves"] = []
    exp["pr_curves"] = []
    for c in curve_classes:
        t, s = comps[c]
        for drop in ((False, True) if c in drop_classes else (False,)):
            exp["roc_curves"].append(dict(component=c, **roc(t, s, drop)))
        exp["pr_curves"].append(dict(component=c, **pr(t, s)))
    return {"name": name, "task": task, "labels": y.tolist(), "scores": scores.tolist(), "expected": exp}


def multi_label_case(name, y, scores, curve_labels=(0, 1)):
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    per = [auc_or_nan(y[:, j], scores[:, j]) for j in range(y.shape[1])]
    exp = {"per_class_auc": per}
    try:
        exp["medmnist_auc"] = float(get_auc(y, scores, MEDMNIST_TASK["MultiLabel"]))
        exp["medmnist_raises"] = False
    except ValueError:
        exp["medmnist_raises"] = True
        defined = [a for a in per if not math.isnan(a)]
        exp["medmnist_auc"] = float(np.mean(defined)) if defined else float("nan")
    exp["medmnist_acc"] = float(get_acc(y, scores, MEDMNIST_TASK["MultiLabel"]))
    exp["roc_curves"] = [dict(component=j, **roc(y[:, j], scores[:, j], False)) for j in curve_labels]
    exp["pr_curves"] = [dict(component=j, **pr(y[:, j], scores[:, j])) for j in curve_labels]
    return {"name": name, "task": "MultiLabel", "multi_labels": y.tolist(), "scores": scores.tolist(), "expected": exp}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def noisy_probs(rng, y, k, signal, decimals):
    z = rng.normal(size=(len(y), k))
    z[np.arange(len(y)), y] += signal
    return np.round(softmax(z), decimals)


def main():
    rng = np.random.default_rng(20260522)
    cases = []

    # Binary (two columns, and a single column), rounded so that ties occur.
    y = rng.integers(0, 2, size=150)
    cases.append(single_label_case("binary_random", "Binary", y, noisy_probs(rng, y, 2, 1.0, 2)))
    y = rng.integers(0, 2, size=80)
    s = np.round(np.clip(0.5 + 0.25 * (y - 0.5) + rng.normal(scale=0.25, size=80), 0, 1), 1)[:, None]
    cases.append(single_label_case("binary_single_column_heavy_ties", "Binary", y, s))
    y = rng.integers(0, 2, size=40)
    cases.append(single_label_case("binary_all_ties", "Binary", y, np.full((40, 2), 0.5)))
    y = rng.integers(0, 2, size=40)
    p1 = np.round(np.where(y == 1, rng.uniform(0.6, 1, 40), rng.uniform(0, 0.4, 40)), 3)
    cases.append(single_label_case("binary_perfect", "Binary", y, np.stack([1 - p1, p1], axis=1)))
    cases.append(single_label_case("binary_inverted", "Binary", y, np.stack([p1, 1 - p1], axis=1)))

    # Five classes like RetinaMNIST (ordinal grades), and the same as multi-class with float32 scores.
    y = rng.choice(5, size=120, p=[0.4, 0.15, 0.2, 0.15, 0.1])
    cases.append(single_label_case("ordinal_retina_like_5", "OrdinalRegression", y, noisy_probs(rng, y, 5, 1.5, 2)))
    y = rng.integers(0, 5, size=100)
    s32 = noisy_probs(rng, y, 5, 1.0, 8).astype(np.float32).astype(np.float64)
    case = single_label_case("multiclass_5_float32", "MultiClass", y, s32, curve_classes=[0, 3])
    case["float32"] = True
    cases.append(case)

    # Adversarial multi-class sets.
    y = rng.choice([0, 1, 3], size=60)  # class 2 of 4 absent
    cases.append(single_label_case("multiclass_absent_class", "MultiClass", y, noisy_probs(rng, y, 4, 1.0, 2),
                                   curve_classes=[1, 2], drop_classes=(2,)))
    y = rng.integers(0, 4, size=30)
    cases.append(single_label_case("multiclass_all_ties", "MultiClass", y, np.full((30, 4), 0.25),
                                   curve_classes=[0]))
    y = rng.integers(0, 5, size=50)
    perfect = np.round(softmax(np.eye(5)[y] * 6 + rng.normal(scale=0.3, size=(50, 5))), 3)
    cases.append(single_label_case("ordinal_perfect", "OrdinalRegression", y, perfect, curve_classes=[0]))
    inverted = np.round(softmax(-np.eye(5)[y] * 6 + rng.normal(scale=0.3, size=(50, 5))), 3)
    cases.append(single_label_case("ordinal_inverted", "OrdinalRegression", y, inverted, curve_classes=[0]))
    y = np.array([0, 0, 0, 0, 0, 0])
    cases.append(single_label_case("multiclass_single_class", "MultiClass", y, np.round(rng.uniform(size=(6, 3)), 2),
                                   curve_classes=[0, 1]))

    # Multi-label, 14 labels like ChestMNIST.
    n, k = 120, 14
    y = (rng.uniform(size=(n, k)) < rng.uniform(0.1, 0.5, size=k)).astype(int)
    s = np.round(np.clip(0.3 * y + rng.uniform(size=(n, k)) * 0.7, 0, 1), 3)
    cases.append(multi_label_case("multilabel_14", y, s))
    n = 40
    y = (rng.uniform(size=(n, k)) < 0.3).astype(int)
    y[:, 5] = 0  # label 5 never positive
    y[:, 7] = 1  # label 7 always positive
    s = np.round(np.clip(0.3 * y + rng.uniform(size=(n, k)) * 0.7, 0, 1), 2)
    cases.append(multi_label_case("multilabel_14_absent_outcomes", y, s, curve_labels=(0, 5)))

    values = rng.normal(size=37)
    qs = [0.0, 0.025, 0.5, 0.975, 1.0]
    quantiles = {"values": values.tolist(), "q": qs, "expected": np.quantile(values, qs).tolist()}

    doc = {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
           "roc_first_threshold": "+inf (scikit-learn >= 1.3 convention)",
           "cases": cases, "quantiles": quantiles}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metric_fixtures.json")
    with open(path, "w") as f:
        json.dump(encode(doc), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {os.path.getsize(path)} bytes, {len(cases)} cases")


def encode(x):
    if isinstance(x, dict):
        return {key: encode(v) for key, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [encode(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x
    return x


if __name__ == "__main__":
    main()
