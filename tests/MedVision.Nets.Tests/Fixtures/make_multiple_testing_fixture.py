"""Reference adjusted p-values from statsmodels' multipletests for MultipleTestingTests.

Run with Debian's python3-statsmodels: /usr/bin/python3 make_multiple_testing_fixture.py
Writes multiple_testing_fixture.json beside this script: for each case the p-values (null for NaN) and, per method,
the adjusted values. NaN p-values are left out of the family, as R's p.adjust does: statsmodels adjusts the others.
"""
import json
import math
import os

import numpy as np
from statsmodels.stats.multitest import multipletests

rng = np.random.default_rng(7)
cases = {
    "five_grades": [0.038, 0.21, 0.0009, 0.47, 0.012],
    "ties": [0.01, 0.01, 0.04, 0.04, 0.2, 0.2],
    "one": [0.03],
    "capped": [0.4, 0.6, 0.9, 0.95],
    "uniform_30": [float(x) for x in rng.random(30)],
    "small_20": [float(x) for x in rng.random(20) ** 4],
    "with_nan": [0.02, float("nan"), 0.01, 0.3, float("nan")],
    "zeros_and_ones": [0.0, 1.0, 0.0, 0.5],
}
methods = {"Holm": "holm", "Bonferroni": "bonferroni", "BenjaminiHochberg": "fdr_bh"}
out = []
for name, p in cases.items():
    p = np.array(p, dtype=float)
    made = ~np.isnan(p)
    entry = {"name": name, "p": [None if math.isnan(x) else x for x in p]}
    for ours, theirs in methods.items():
        adjusted = np.full(len(p), np.nan)
        adjusted[made] = multipletests(p[made], method=theirs)[1]
        entry[ours] = [None if math.isnan(x) else float(x) for x in adjusted]
    out.append(entry)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiple_testing_fixture.json")
with open(path, "w") as f:
    json.dump({"cases": out}, f, indent=1)
    f.write("\n")
print(f"wrote {path}: {len(out)} cases")
