"""Reference operating points, referral risks and decision curves for ClinicalMetricsTests.

Run with Debian's Python: /usr/bin/python3 make_clinical_fixture.py (numpy, scikit-learn, statsmodels).
Writes clinical_fixture.json beside this script.
  referral    labels grade >= r and risks sum(p[:, r:]) (numpy).
  points      from scikit-learn's roc_curve(drop_intermediate=False) on the fitting images: the highest threshold with
              tpr >= s; the lowest with 1 - fpr >= s (scikit-learn's first point, above every score, is "refer none":
              null); the first (highest) threshold of the largest tpr - fpr. Then counts on the test images
              (refer when risk >= threshold) and statsmodels' Clopper-Pearson ("beta") 95% intervals.
  bound       the highest fitting threshold whose one-sided Clopper-Pearson lower bound of sensitivity (statsmodels'
              "beta" interval at alpha = 2 delta) reaches the value; null (refer every image) when none does.
  decision    net benefit TP/N - FP/N * t/(1 - t) and refer-all prevalence - (1 - prevalence) * t/(1 - t) (numpy).
"""
import json
import os

import numpy as np
from sklearn.metrics import roc_curve
from statsmodels.stats.proportion import proportion_confint

rng = np.random.default_rng(2006)


def draw(n, k, sharp):
    p = rng.dirichlet(np.full(k, 0.8), size=n)
    grades = np.array([rng.choice(k, p=(row ** sharp) / (row ** sharp).sum()) for row in p])
    return p, grades


def outcome(labels, risks, threshold):
    refer = risks >= (np.inf if threshold is None else threshold)
    tp = int(((labels == 1) & refer).sum()); fn = int(((labels == 1) & ~refer).sum())
    tn = int(((labels == 0) & ~refer).sum()); fp = int(((labels == 0) & refer).sum())
    sens = proportion_confint(tp, tp + fn, alpha=0.05, method="beta") if tp + fn else (None, None)
    spec = proportion_confint(tn, tn + fp, alpha=0.05, method="beta") if tn + fp else (None, None)
    return {"tp": tp, "fn": fn, "tn": tn, "fp": fp, "sensitivity_ci": [float(x) for x in sens], "specificity_ci": [float(x) for x in spec]}


cases = []
for name, n_fit, n_test, k, r, sharp, rounding in [("grades_5", 150, 300, 5, 2, 3.0, None), ("grades_5_rounded", 120, 200, 5, 2, 2.0, 2), ("binary", 100, 100, 2, 1, 4.0, None), ("grades_3", 80, 90, 3, 1, 1.0, 1)]:
    fit_p, fit_g = draw(n_fit, k, sharp)
    test_p, test_g = draw(n_test, k, sharp)
    if rounding is not None:
        # Rounded probabilities tie many risks.
        for p in (fit_p, test_p):
            p[:] = np.round(p, rounding)
            p[:, 0] += 1 - p.sum(axis=1)
            bad = p[:, 0] < 0
            p[bad] = 1.0 / k
    fit_y = (fit_g >= r).astype(int); test_y = (test_g >= r).astype(int)
    fit_risk = fit_p[:, r:].sum(axis=1); test_risk = test_p[:, r:].sum(axis=1)
    fpr, tpr, thr = roc_curve(fit_y, fit_risk, drop_intermediate=False)
    points = []
    for rule, value in [("sensitivity", 0.8), ("sensitivity", 0.95), ("sensitivity", 1.0), ("specificity", 0.8), ("specificity", 0.5), ("specificity", 1.0), ("youden", None)]:
        if rule == "sensitivity":
            idx = [i for i in range(1, len(thr)) if tpr[i] >= value]
            i = max(idx, key=lambda j: thr[j])
        elif rule == "specificity":
            idx = [i for i in range(len(thr)) if 1 - fpr[i] >= value]
            i = min(idx, key=lambda j: thr[j])
        else:
            i = int(np.argmax(tpr - fpr))
        threshold = None if i == 0 else float(thr[i])
        points.append({"rule": rule, "value": value, "threshold": threshold, "fitted": outcome(fit_y, fit_risk, threshold), "test": outcome(test_y, test_risk, threshold)})
    # Guaranteed sensitivity: the highest threshold (a fitting score) whose one-sided Clopper-Pearson lower bound at
    # confidence 1 - delta (statsmodels' two-sided "beta" interval at alpha = 2 delta) reaches the value; null when
    # none does: refer every image (threshold -inf).
    positives = int(fit_y.sum())
    for value, delta in [(0.8, 0.05), (0.7, 0.1), (0.95, 0.05), (0.6, 0.01)]:
        feasible = []
        for i in range(1, len(thr)):
            tp = int(((fit_y == 1) & (fit_risk >= thr[i])).sum())
            lower = proportion_confint(tp, positives, alpha=2 * delta, method="beta")[0] if tp > 0 else 0.0
            if lower >= value:
                feasible.append(float(thr[i]))
        threshold = max(feasible) if feasible else None
        at = -np.inf if threshold is None else threshold
        points.append({"rule": "bound", "value": value, "delta": delta, "threshold": threshold, "fitted": outcome(fit_y, fit_risk, at), "test": outcome(test_y, test_risk, at)})
    ts = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7])
    nb, all_ = [], []
    for t in ts:
        refer = test_risk >= t
        tp = ((test_y == 1) & refer).sum(); fp = ((test_y == 0) & refer).sum()
        nb.append(float(tp / n_test - fp / n_test * t / (1 - t)))
        prev = test_y.mean()
        all_.append(float(prev - (1 - prev) * t / (1 - t)))
    cases.append({"name": name, "classes": k, "referable_from": r,
                  "fit_probabilities": fit_p.tolist(), "fit_grades": fit_g.tolist(), "test_probabilities": test_p.tolist(), "test_grades": test_g.tolist(),
                  "fit_risks": fit_risk.tolist(), "test_risks": test_risk.tolist(), "points": points,
                  "decision": {"thresholds": ts.tolist(), "net_benefit": nb, "refer_all": all_}})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clinical_fixture.json")
with open(path, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
