#!/usr/bin/env python3
"""Summarises `medmnist sanity-check --csv` files: per method and randomisation step, the mean Spearman rank
correlation and SSIM over every image of every file (NaN correlations, from constant maps, left out and counted).

usage: scripts/summarize_sanity.py runs/sanity-*-seed0.csv runs/sanity-*-seed1.csv ...
"""
import csv
import math
import sys
from collections import OrderedDict


def main(paths):
    # (method, step) -> [block, spearman values, ssim values, undefined count]
    cells = OrderedDict()
    methods, steps = [], []
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["method"], int(row["step"]))
                if row["method"] not in methods:
                    methods.append(row["method"])
                if (int(row["step"]), row["block"]) not in steps:
                    steps.append((int(row["step"]), row["block"]))
                cell = cells.setdefault(key, [row["block"], [], [], 0])
                rank = float(row["spearman"])
                if math.isnan(rank):
                    cell[3] += 1
                else:
                    cell[1].append(rank)
                cell[2].append(float(row["ssim"]))
    steps.sort()
    methods.sort(key=lambda m: "(control)" in m)  # the control last
    print("| randomised down to | " + " | ".join(methods) + " |")
    print("| --- |" + " ---: |" * len(methods))
    for step, block in steps:
        row = []
        for m in methods:
            _, ranks, ssims, undefined = cells[(m, step)]
            text = f"{sum(ranks) / len(ranks):.2f} ({sum(ssims) / len(ssims):.2f})"
            if undefined:
                text += f" [{undefined} constant]"
            row.append(text)
        print(f"| {block} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
