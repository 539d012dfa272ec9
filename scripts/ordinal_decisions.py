#!/usr/bin/env python3
"""Accuracy, quadratic-weighted kappa and mean absolute error of an ordinal model's test predictions under two
decisions: the most probable grade (arg-max) and the median grade (CORAL's own prediction, OrdinalDecision.Median).

Reads the predictions CSV that `fundus-folder evaluate` writes (test-predictions.csv: input = GRADE/FILE, p_0 … p_K-1),
e.g. for the CORAL runs of docs/results.md:
    /usr/bin/python3 scripts/ordinal_decisions.py runs/retina-folders-r18-coral-s{0,1,2}/test/test-predictions.csv
Needs numpy only."""
import csv
import sys

import numpy as np


def quadratic_kappa(actual, predicted, k):
    observed = np.zeros((k, k))
    for a, p in zip(actual, predicted):
        observed[a, p] += 1
    weights = np.array([[(i - j) ** 2 for j in range(k)] for i in range(k)]) / (k - 1) ** 2
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    return 1 - (weights * observed).sum() / (weights * expected).sum()


def main(paths):
    print("file,decision,acc,qwk,mae,predicted_per_grade")
    for path in paths:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        k = sum(1 for name in rows[0] if name.startswith("p_"))
        actual = np.array([int(r["input"].replace("\\", "/").split("/")[0]) for r in rows])
        probabilities = np.array([[float(r[f"p_{j}"]) for j in range(k)] for r in rows])
        most_probable = probabilities.argmax(1)
        # the lowest grade whose cumulative probability reaches 0.5 (OrdinalDecoding.MedianGrades)
        cumulative = np.cumsum(probabilities / probabilities.sum(1, keepdims=True), 1)
        median = np.array([int(np.argmax(row[:-1] >= 0.5)) if (row[:-1] >= 0.5).any() else k - 1 for row in cumulative])
        for name, predicted in (("most_probable", most_probable), ("median", median)):
            counts = " ".join(str(c) for c in np.bincount(predicted, minlength=k))
            print(f"{path},{name},{np.mean(predicted == actual):.4f},{quadratic_kappa(actual, predicted, k):.4f},"
                  f"{np.mean(np.abs(predicted - actual)):.4f},{counts}")


if __name__ == "__main__":
    main(sys.argv[1:])
