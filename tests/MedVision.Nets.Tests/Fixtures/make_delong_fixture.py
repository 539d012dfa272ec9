#!/usr/bin/python3
"""Reference values for the DeLong and McNemar tests (MedVision.Nets.Metrics.DeLong, McNemar).

Run with Debian's Python (python3-numpy, python3-scipy, python3-statsmodels):

    /usr/bin/python3 tests/MedVision.Nets.Tests/Fixtures/make_delong_fixture.py

Writes delong_fixture.json beside this script. Computed independently of the C# code, by brute force over every
(positive, negative) pair rather than by sorting:
* per AUC component (binary: the last score column; multi-class: class k against the rest; multi-label: label k),
  the kernel psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise for each positive score x and negative score y;
  V10 = row means (one per positive), V01 = column means (one per negative), AUC = mean of psi;
* DeLong's (co)variances of components r and s on the same positives and negatives (two models on one class):
  cov(V10_r, V10_s)/m + cov(V01_r, V01_s)/n with numpy's unbiased covariance (DeLong 1988, eq. for S10, S01);
* for the MedMNIST mean of K AUCs, the covariance of components with different positives (class k and class l)
  from each sample's structural components: sum over samples of d_r(i) d_s(i), where d(i) = (V10(i) - AUC)/sqrt(m(m-1))
  for a positive of the component and (V01(i) - AUC)/sqrt(n(n-1)) for a negative (for equal partitions this is exactly
  the covariance above, which the script asserts), and Var(mean) = w' C w with w = 1/K;
* the paired test: z = (AUC_A - AUC_B) / sqrt(Var A + Var B - 2 Cov(A, B)), two-sided p = 2 * norm.sf(|z|);
  the intervals at 95%: estimate -/+ norm.ppf(0.975) * SE (an AUC's clipped to [0, 1]);
* McNemar: statsmodels.stats.contingency_tables.mcnemar(table, exact=True) on the 2x2 table of right/wrong answers
  (arg-max for single-label, last column > 0.5 for binary).
"resampled_ttest": Nadeau and Bengio's corrected resampled t-test of per-fold differences d (J folds, ratio
n_test/n_train): t = mean(d) / sqrt((1/J + ratio) * var(d, ddof=1)), two-sided p = 2 * scipy.stats.t.sf(|t|, J - 1),
interval mean -/+ t.ppf(0.975, J - 1) * SE.
"""
import json
import os

import numpy as np
from scipy.stats import norm, t as student_t
from statsmodels.stats.contingency_tables import mcnemar


def components(task, labels, scores):
    n, k = scores.shape
    if task == "binary":
        return [("class 1", np.asarray(labels) == 1, scores[:, k - 1])]
    if task == "multilabel":
        labels = np.asarray(labels)
        return [(f"label {j}", labels[:, j] == 1, scores[:, j]) for j in range(k)]
    labels = np.asarray(labels)
    return [(f"class {j}", labels == j, scores[:, j]) for j in range(k)]


def structural(positive, score):
    x = score[positive]
    y = score[~positive]
    m, n = len(x), len(y)
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    auc = psi.mean()
    d = np.zeros(len(score))
    d[positive] = (v10 - auc) / np.sqrt(m * (m - 1))
    d[~positive] = (v01 - auc) / np.sqrt(n * (n - 1))
    return auc, v10, v01, d


def delong_cov(a, b):
    """DeLong's covariance of two AUCs on the same positives and negatives."""
    _, v10a, v01a, _ = a
    _, v10b, v01b, _ = b
    m, n = len(v10a), len(v01a)
    return np.cov(v10a, v10b)[0, 1] / m + np.cov(v01a, v01b)[0, 1] / n


def case(name, task, labels, scores_a, scores_b):
    z975 = norm.ppf(0.975)
    comps_a = components(task, labels, scores_a)
    comps_b = components(task, labels, scores_b)
    per_class = []
    da, db = [], []
    auc_a, auc_b = [], []
    for (cname, positive, sa), (_, _, sb) in zip(comps_a, comps_b):
        a = structural(positive, sa)
        b = structural(positive, sb)
        var_a = delong_cov(a, a)
        var_b = delong_cov(b, b)
        cov = delong_cov(a, b)
        # The structural-component form equals DeLong's on one partition.
        assert np.isclose(np.sum(a[3] ** 2), var_a, rtol=1e-12, atol=0)
        assert np.isclose(np.sum(a[3] * b[3]), cov, rtol=1e-12, atol=1e-300)
        se = np.sqrt(var_a + var_b - 2 * cov)
        diff = a[0] - b[0]
        z = diff / se
        per_class.append({
            "name": cname,
            "auc_a": a[0], "auc_b": b[0],
            "se_a": np.sqrt(var_a), "se_b": np.sqrt(var_b),
            "difference": diff, "se_difference": se, "z": z, "p": 2 * norm.sf(abs(z)),
            "correlation": cov / np.sqrt(var_a * var_b),
            "interval_a": [max(0.0, a[0] - z975 * np.sqrt(var_a)), min(1.0, a[0] + z975 * np.sqrt(var_a))],
            "interval_difference": [diff - z975 * se, diff + z975 * se],
        })
        da.append(a[3])
        db.append(b[3])
        auc_a.append(a[0])
        auc_b.append(b[0])
    result = {"name": name, "task": task, "labels": np.asarray(labels).tolist(),
              "scores_a": scores_a.tolist(), "scores_b": scores_b.tolist(), "per_class": per_class}
    k = len(da)
    da, db = np.array(da), np.array(db)
    w = np.full(k, 1.0 / k)
    caa, cbb, cab = da @ da.T, db @ db.T, da @ db.T
    var_a, var_b, cov = w @ caa @ w, w @ cbb @ w, w @ cab @ w
    mean_a, mean_b = float(np.mean(auc_a)), float(np.mean(auc_b))
    se = np.sqrt(var_a + var_b - 2 * cov)
    z = (mean_a - mean_b) / se
    result.update({
        "auc_a": mean_a, "auc_b": mean_b, "se_a": np.sqrt(var_a), "se_b": np.sqrt(var_b),
        "difference": mean_a - mean_b, "se_difference": se, "z": z, "p": 2 * norm.sf(abs(z)),
        "correlation": cov / np.sqrt(var_a * var_b),
        "interval_a": [max(0.0, mean_a - z975 * np.sqrt(var_a)), min(1.0, mean_a + z975 * np.sqrt(var_a))],
        "interval_difference": [mean_a - mean_b - z975 * se, mean_a - mean_b + z975 * se],
    })
    if task != "multilabel":
        if task == "binary":
            right_a = (scores_a[:, -1] > 0.5).astype(int) == labels
            right_b = (scores_b[:, -1] > 0.5).astype(int) == labels
        else:
            right_a = scores_a.argmax(axis=1) == labels
            right_b = scores_b.argmax(axis=1) == labels
        table = [[int(np.sum(right_a & right_b)), int(np.sum(right_a & ~right_b))],
                 [int(np.sum(~right_a & right_b)), int(np.sum(~right_a & ~right_b))]]
        result["mcnemar"] = {"table": table, "p": float(mcnemar(table, exact=True).pvalue)}
    return result


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


rng = np.random.default_rng(20261205)
cases = []

# Binary, 30 samples, scores rounded to one decimal: many ties within and across the outcomes.
y = rng.integers(0, 2, 30)
a = np.round(np.clip(0.5 + 0.25 * (2 * y - 1) + rng.normal(0, 0.25, 30), 0, 1), 1)
b = np.round(np.clip(0.5 + 0.15 * (2 * y - 1) + rng.normal(0, 0.25, 30), 0, 1), 1)
cases.append(case("binary_ties", "binary", y, np.stack([1 - a, a], 1), np.stack([1 - b, b], 1)))

# Binary, 200 samples, two correlated continuous models (one score column).
y = rng.integers(0, 2, 200)
shared = rng.normal(0, 1, 200)
a = 1.2 * y + shared + rng.normal(0, 0.6, 200)
b = 0.9 * y + shared + rng.normal(0, 0.6, 200)
cases.append(case("binary_correlated", "binary", y, (1 / (1 + np.exp(-a)))[:, None], (1 / (1 + np.exp(-b)))[:, None]))

# Five classes (RetinaMNIST-like proportions), 150 samples, probabilities with ties in a rounded copy.
y = rng.choice(5, 150, p=[0.43, 0.12, 0.21, 0.17, 0.07])
base = rng.normal(0, 1, (150, 5))
la = base + 1.5 * np.eye(5)[y] + rng.normal(0, 0.7, (150, 5))
lb = base + 1.1 * np.eye(5)[y] + rng.normal(0, 0.7, (150, 5))
cases.append(case("multiclass_5", "multiclass", y, softmax(la), np.round(softmax(lb), 2)))

# Three labels, 80 samples.
y = (rng.random((80, 3)) < [0.3, 0.5, 0.2]).astype(int)
la = 1.4 * y + rng.normal(0, 1, (80, 3))
lb = 1.0 * y + 0.5 * la + rng.normal(0, 1, (80, 3))
cases.append(case("multilabel_3", "multilabel", y, 1 / (1 + np.exp(-la)), 1 / (1 + np.exp(-lb))))


def ttest(name, differences, ratio):
    d = np.asarray(differences, dtype=np.float64)
    j = len(d)
    se = np.sqrt((1 / j + ratio) * np.var(d, ddof=1))
    statistic = d.mean() / se
    half = student_t.ppf(0.975, j - 1) * se
    return {"name": name, "differences": d.tolist(), "ratio": ratio, "mean": d.mean(), "se": se, "t": statistic,
            "p": 2 * student_t.sf(abs(statistic), j - 1), "interval": [d.mean() - half, d.mean() + half]}


ttests = [
    ttest("five_folds", [0.012, 0.031, -0.004, 0.027, 0.018], 0.25),
    ttest("ten_folds_uncorrected", list(rng.normal(0.01, 0.02, 10)), 0.0),
    ttest("three_folds_negative", [-0.05, -0.01, -0.035], 0.5),
]


def plain(o):
    if isinstance(o, dict):
        return {k: plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [plain(v) for v in o]
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return o


path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "delong_fixture.json")
with open(path + ".tmp", "w") as f:
    json.dump({"delong": plain(cases), "resampled_ttest": plain(ttests)}, f, indent=1)
os.replace(path + ".tmp", path)
print(f"wrote {path}: {len(cases)} cases")
