#!/usr/bin/env python3
"""Summarises `medmnist faithfulness --csv` files (one per model): per method, the mean deletion and insertion areas
of each file, and how many images of all files beat the random map (lower deletion, higher insertion area).
--first N uses only each file's first N images (to compare runs of different lengths on the same images).

usage: scripts/summarize_faithfulness.py [--first N] runs/faithfulness-*-seed0.csv runs/faithfulness-*-seed1.csv ...
"""
import csv
import sys


def main(args):
    first = None
    if args[:1] == ["--first"]:
        first, args = int(args[1]), args[2:]
    tables = []
    for path in args:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        tables.append(rows[:first] if first else rows)
    methods = [c[: -len(" deletion")] for c in tables[0][0] if c.endswith(" deletion")]
    images = sum(len(t) for t in tables)
    print(f"| map | deletion area per file | insertion area per file | images beating the random map, of {images:,}: deletion · insertion |")
    print("| --- | ---: | ---: | ---: |")
    for m in methods:
        deletion = " / ".join(f"{sum(float(r[m + ' deletion']) for r in t) / len(t):.3f}" for t in tables)
        insertion = " / ".join(f"{sum(float(r[m + ' insertion']) for r in t) / len(t):.3f}" for t in tables)
        if m == "random":
            wins = "—"
        else:
            d = sum(float(r[m + " deletion"]) < float(r["random deletion"]) for t in tables for r in t)
            i = sum(float(r[m + " insertion"]) > float(r["random insertion"]) for t in tables for r in t)
            wins = f"{d:,} · {i:,}"
        print(f"| {m} | {deletion} | {insertion} | {wins} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
