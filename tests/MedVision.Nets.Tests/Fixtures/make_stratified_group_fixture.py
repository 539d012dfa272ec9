"""Reference folds of scikit-learn's StratifiedGroupKFold (shuffle=False) for DataSplitsTests.

Run with Debian's python3-sklearn (1.2.1 when written): /usr/bin/python3 make_stratified_group_fixture.py
Writes stratified_group_fixture.json beside this script: for each case the labels, the groups and, per fold,
the sorted validation indices scikit-learn gives.
"""
import json
import os
import warnings

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold


def case(name, labels, groups, folds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the least populated class may have fewer members than folds
        splits = StratifiedGroupKFold(n_splits=folds, shuffle=False).split(np.zeros(len(labels)), labels, groups)
        validation = [sorted(int(i) for i in test) for _, test in splits]
    return {"name": name, "folds": folds, "labels": [int(x) for x in labels], "groups": [str(g) for g in groups], "validation": validation}


rng = np.random.default_rng(20261205)
cases = []
# Patients with 1-4 images each, five imbalanced grades (RetinaMNIST-like).
n = 300
patients = rng.integers(0, 110, n)
grades = rng.choice(5, n, p=[0.45, 0.12, 0.2, 0.17, 0.06])
cases.append(case("five_grades_patients", grades, [f"p{p:03d}" for p in patients], 5))
# Binary, a group's images usually share the label (two eyes of one person).
persons = np.repeat(np.arange(60), 2)
label = (rng.random(60) < 0.3).astype(int)
flip = rng.random(120) < 0.1
cases.append(case("binary_eyes", np.where(flip, 1 - label[persons], label[persons]), [f"s{p}" for p in persons], 4))
# Many equal groups (ties everywhere): every group one sample, three balanced classes.
cases.append(case("singletons_ties", np.arange(30) % 3, [f"g{i:02d}" for i in range(30)], 3))
# Groups of very different sizes, labels with a gap (classes 0, 2, 7), ten folds.
sizes = rng.integers(1, 12, 40)
groups = np.repeat(np.arange(40), sizes)
labels = rng.choice([0, 2, 7], len(groups), p=[0.6, 0.3, 0.1])
cases.append(case("uneven_groups_gap_labels", labels, [f"G{g}" for g in groups], 10))
# Group names whose ordinal order differs from their numeric order.
g = rng.integers(0, 25, 80)
cases.append(case("ordinal_names", rng.integers(0, 2, 80), [str(x) for x in g], 3))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stratified_group_fixture.json")
with open(path, "w") as f:
    json.dump({"sklearn": __import__("sklearn").__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(cases)} cases")
