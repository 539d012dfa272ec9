"""Summarises the CONFORMAL lines of conformal.sh's outputs (stdlib only): per coverage and score, the five seeds'
mean (min–max) and the ensemble's test coverage and mean set size, calibrated on the validation split, and the mean
over the 1,000 random splits. Usage: python3 docs/results/conformal-retinamnist/summarize.py"""
import glob
import os
import re

here = os.path.dirname(os.path.abspath(__file__))
rows = {}
for path in sorted(glob.glob(os.path.join(here, "*-coverage*.txt"))):
    model, coverage = re.match(r"(seed\d|ensemble)-coverage([\d.]+)\.txt", os.path.basename(path)).groups()
    for line in open(path):
        if not line.startswith("CONFORMAL "):
            continue
        parts = line.split()
        values = dict(p.split("=") for p in parts[2:])
        rows.setdefault((coverage, parts[1]), {})[model] = {k: float(v) for k, v in values.items()}


def cell(models, key):
    seeds = [models[f"seed{s}"][key] for s in range(5)]
    return f"{sum(seeds) / 5:.3f} ({min(seeds):.3f}–{max(seeds):.3f}) | {models['ensemble'][key]:.3f}"


print("| coverage asked | score | test coverage: seeds mean (range) \\| ensemble | test mean set size: seeds \\| ensemble | random splits: coverage, seeds \\| ensemble | random splits: set size | worst-class coverage (splits, seeds) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for (coverage, score), models in sorted(rows.items(), key=lambda r: (-float(r[0][0]), r[0][1].endswith("per-class"), r[0][1])):
    worst = sum(models[f"seed{s}"]["splits_worst_class"] for s in range(5)) / 5
    print(f"| {coverage} | {score} | {cell(models, 'test_coverage')} | {cell(models, 'test_size')} | {cell(models, 'splits_coverage')} | {cell(models, 'splits_size')} | {worst:.3f} |")
