"""Reference conformal prediction sets for ConformalTests, computed from the definitions by brute force.

Run with Debian's Python: /usr/bin/python3 make_conformal_fixture.py (numpy, scipy, statsmodels).
Writes conformal_fixture.json beside this script. For each case: calibration and test probabilities and labels, and per
recipe (score, coverage, class-conditional, RAPS's lambda and k_reg) the thresholds, the first 20 calibration images' scores,
the test images' sets, the coverage, the Clopper-Pearson 95% interval of the coverage (statsmodels) and the Beta
distribution of the coverage given the calibration (scipy).

Definitions (written independently of the C# code, by brute force over classes):
  order     classes by probability, most probable first, ties by class index; for ordinal APS the order in which an
            interval grown from the most probable grade (first of equal maxima) takes grades, towards the more probable
            neighbour, the lower grade on a tie.
  score     LAC: 1 - p_y. APS: sum of p over the classes up to and including y in the order. RAPS: APS +
            lam * max(0, rank_y - k_reg), rank 1-based. Ordinal APS: mass of the interval when y joins it.
  q         the ceil((n+1)(1-alpha))-th smallest calibration score (exact rational arithmetic), +inf when beyond n.
  set       {y : s_y <= q_y} (q_y = q unless class-conditional); for the cumulative scores (not LAC) also the first
            class of the order; a class-conditional ordinal set is the hull of that.
"""
import json
import math
import os
from fractions import Fraction

import numpy as np
from scipy.stats import beta
from statsmodels.stats.proportion import proportion_confint


def order_of(p, score):
    k = len(p)
    if score != "OrdinalAps":
        return sorted(range(k), key=lambda j: (-p[j], j))
    top = max(range(k), key=lambda j: (p[j], -j))
    low = high = top
    order = [top]
    while len(order) < k:
        left = p[low - 1] if low > 0 else -math.inf
        right = p[high + 1] if high < k - 1 else -math.inf
        if left >= right:
            low -= 1
            order.append(low)
        else:
            high += 1
            order.append(high)
    return order


def scores_of(p, score, lam, kreg):
    order = order_of(p, score)
    s = {}
    mass = 0.0
    for position, c in enumerate(order):
        mass += p[c]
        if score == "Lac":
            s[c] = 1 - p[c]
        elif score == "Raps":
            s[c] = mass + lam * max(0, position + 1 - kreg)
        else:
            s[c] = mass
    return order, s


def quantile(values, coverage):
    n = len(values)
    rank = math.ceil((n + 1) * Fraction(str(coverage)))
    return math.inf if rank > n else sorted(values)[rank - 1]


def set_of(p, score, lam, kreg, q, conditional):
    order, s = scores_of(p, score, lam, kreg)
    k = len(p)
    members = {y for y in range(k) if s[y] <= (q[y] if conditional else q[0])}
    if score != "Lac":
        members.add(order[0])
    if conditional and score == "OrdinalAps" and members:
        members = set(range(min(members), max(members) + 1))
    return sorted(members)


def draw(rng, n, k, concentration, quantize):
    p = rng.dirichlet(np.full(k, concentration), size=n)
    if quantize:
        # Probabilities on a grid of 1/20 (ties between classes and between images), renormalised to sum to 1.
        p = np.round(p * 20) / 20
        p[:, 0] += 1 - p.sum(axis=1)
        bad = p[:, 0] < 0
        p[bad] = 1.0 / k
    labels = np.array([rng.choice(k, p=row / row.sum()) for row in p])
    return [[float(x) for x in row] for row in p], [int(x) for x in labels]


rng = np.random.default_rng(2022)
cases = []
specs = [
    ("grades_5", 5, 120, 250, 0.6, False),
    ("grades_5_ties", 5, 60, 150, 0.8, True),
    ("binary", 2, 45, 100, 1.0, False),
    ("nine_classes", 9, 200, 150, 0.3, False),
    ("few", 4, 8, 30, 0.7, False),
]
recipes = []
for score in ["Lac", "Aps", "Raps", "OrdinalAps"]:
    for coverage in [0.9, 0.8, 0.5]:
        for conditional in [False, True]:
            params = [(0.01, 1), (0.2, 2), (0.0, 0)] if score == "Raps" else [(0.0, 0)]
            for lam, kreg in params:
                recipes.append((score, coverage, conditional, lam, kreg))

for name, k, n_cal, n_test, concentration, quantize in specs:
    cal_p, cal_y = draw(rng, n_cal, k, concentration, quantize)
    test_p, test_y = draw(rng, n_test, k, concentration, quantize)
    results = []
    for score, coverage, conditional, lam, kreg in recipes:
        cal_scores = [scores_of(p, score, lam, kreg)[1][y] for p, y in zip(cal_p, cal_y)]
        if conditional:
            q = [quantile([s for s, y in zip(cal_scores, cal_y) if y == c], coverage) for c in range(k)]
        else:
            q = [quantile(cal_scores, coverage)] * k
        sets = [set_of(p, score, lam, kreg, q, conditional) for p in test_p]
        covered = sum(1 for y, s in zip(test_y, sets) if y in s)
        lo, hi = proportion_confint(covered, n_test, alpha=0.05, method="beta")
        entry = {
            "score": score, "coverage": coverage, "class_conditional": conditional, "lambda": lam, "k_reg": kreg,
            "thresholds": [None if math.isinf(x) else x for x in q],
            "calibration_scores": cal_scores[:20],
            "sets": sets,
            "covered": covered,
            "mean_size": float(np.mean([len(s) for s in sets])),
            "coverage_interval": [float(lo), float(hi)],
        }
        if not conditional:
            rank = math.ceil((n_cal + 1) * Fraction(str(coverage)))
            entry["coverage_distribution_90"] = (
                [1.0, 1.0] if rank > n_cal else [float(beta.ppf(0.05, rank, n_cal + 1 - rank)), float(beta.ppf(0.95, rank, n_cal + 1 - rank))])
        results.append(entry)
    cases.append({"name": name, "classes": k, "calibration_probabilities": cal_p, "calibration_labels": cal_y,
                  "test_probabilities": test_p, "test_labels": test_y, "recipes": results})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformal_fixture.json")
with open(path, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(cases)} cases x {len(recipes)} recipes, {os.path.getsize(path)} bytes")
