"""Reference values for SelectivePredictionTests: confidence scores, risk-coverage curves and areas, and SGR thresholds.

Run with Debian's Python: /usr/bin/python3 make_selective_fixture.py (numpy, scipy). Writes selective_fixture.json.
  confidence  max probability, top-two margin, sum p log p (numpy).
  AURC        by brute force: the mean, over every order of the images that keeps confidence descending (all orders
              of each group of equal confidence, itertools.permutations), of the mean over m = 1..N of the risk of
              the first m images; cases small enough to enumerate. Larger cases without ties: one order.
  points      the risk at each distinct confidence (everything at least that confident accepted).
  SGR         Geifman and El-Yaniv's binary search (z from the sorted confidences, z = ceil((lo + hi) / 2),
              ceil(log2 n) steps) with scipy's beta.ppf(1 - delta / steps, e + 1, m - e) as the bound; the lowest
              threshold tried whose bound is below the target.
"""
import itertools
import json
import math
import os

import numpy as np
from scipy.stats import beta

rng = np.random.default_rng(2017)


def confidences(p):
    s = np.sort(p, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0)
    return {"MaxProbability": s[:, -1].tolist(), "Margin": (s[:, -1] - s[:, -2]).tolist(), "NegativeEntropy": plogp.sum(axis=1).tolist()}


def aurc_of_order(losses):
    total, area = 0.0, 0.0
    for m, l in enumerate(losses, 1):
        total += l
        area += total / m
    return area / len(losses)


def brute_aurc(conf, losses):
    groups = {}
    for c, l in zip(conf, losses):
        groups.setdefault(c, []).append(l)
    keys = sorted(groups, reverse=True)
    perms = [list(set(itertools.permutations(groups[k]))) for k in keys]
    counts = [math.factorial(len(groups[k])) for k in keys]
    # Distinct permutations of a multiset, weighted by how many orders give each.
    total, weight = 0.0, 0
    for combo in itertools.product(*[[(p, 1) for p in ps] for ps in perms]):
        order = [x for p, _ in combo for x in p]
        w = 1
        for (p, _), k in zip(combo, keys):
            # multiplicity of this arrangement among all len! orders of the group
            vals = groups[k]
            w *= math.prod(math.factorial(vals.count(v)) for v in set(vals))
        total += w * aurc_of_order(order)
        weight += w
    assert weight == math.prod(counts)
    return total / weight


def points(conf, losses):
    conf = np.asarray(conf); losses = np.asarray(losses)
    out = []
    for t in sorted(set(conf.tolist()), reverse=True):
        accepted = conf >= t
        out.append([t, float(accepted.mean()), float(losses[accepted].mean())])
    return out


def sgr(conf, errors, target, delta):
    n = len(conf)
    s = np.sort(conf)
    steps = max(1, math.ceil(math.log2(n)))
    lo, hi = 0, n - 1
    best = None
    for _ in range(steps):
        z = (lo + hi + 1) // 2
        theta = s[z]
        accepted = np.asarray(conf) >= theta
        m = int(accepted.sum()); e = int(np.asarray(errors)[accepted].sum())
        b = 1.0 if e >= m else float(beta.ppf(1 - delta / steps, e + 1, m - e))
        if b < target:
            if best is None or theta < best[0]:
                best = (float(theta), b, m, e)
            hi = z
        else:
            lo = z
    return {"target": target, "delta": delta, "steps": steps,
            "threshold": None if best is None else best[0], "bound": None if best is None else best[1],
            "accepted": 0 if best is None else best[2], "errors": 0 if best is None else best[3]}


cases = []
# Small cases with ties, enumerated exactly.
for name, n, levels in [("ties_9", 9, [0.2, 0.5, 0.9]), ("ties_8_losses", 8, [0.1, 0.6]), ("all_tied", 6, [0.5])]:
    conf = [float(rng.choice(levels)) for _ in range(n)]
    losses = [float(x) for x in (rng.integers(0, 3, n) if "losses" in name else rng.integers(0, 2, n))]
    cases.append({"name": name, "confidence": conf, "losses": losses, "aurc": brute_aurc(conf, losses), "points": points(conf, losses)})
# Larger cases from probabilities, without ties.
for name, n, k, concentration in [("grades_200", 200, 5, 0.25), ("binary_120", 120, 2, 1.5)]:
    p = rng.dirichlet(np.full(k, concentration), size=n)
    labels = np.array([rng.choice(k, p=row) for row in p])
    conf = confidences(p)
    errors = (p.argmax(axis=1) != labels).astype(float)
    order = np.argsort(-np.asarray(conf["MaxProbability"]), kind="stable")
    sgrs = [sgr(conf["MaxProbability"], errors.tolist(), t, d) for t, d in [(0.3, 0.05), (0.15, 0.1), (0.05, 0.05), (0.5, 0.01)]]
    cases.append({"name": name, "probabilities": p.tolist(), "labels": labels.tolist(), "confidence_scores": conf,
                  "losses": errors.tolist(), "aurc": aurc_of_order(errors[order].tolist()),
                  "optimal_aurc": aurc_of_order(sorted(errors.tolist())), "points": points(conf["MaxProbability"], errors.tolist()), "sgr": sgrs})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "selective_fixture.json")
with open(path, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
