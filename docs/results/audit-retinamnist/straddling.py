"""How cross-validation folds split the near-duplicate pairs of RetinaMNIST's pooled training and validation images,
and how those images' out-of-fold predictions fared: an image whose near-copy sat in another fold was predicted by a
model that had trained on that copy. Standard library only.

usage: python3 straddling.py near-duplicates.csv CV_FOLDER [CV_FOLDER ...]
(near-duplicates.csv from `medmnist audit`; each CV_FOLDER holds the out-of-fold.csv of `medmnist cross-validate`,
whose rows are the pooled images: the 1,080 training images, then the 120 validation images.) With two or more
folders, the first is compared with each other one on the images of the pairs, by McNemar's exact test.
"""
import csv
import math
import sys

TRAIN = 1080


def pooled(split, index):
    return int(index) if split == "train" else TRAIN + int(index)


def read(folder):
    fold, correct = {}, {}
    with open(f"{folder}/out-of-fold.csv") as f:
        for row in csv.DictReader(f):
            i = int(row["index"])
            fold[i] = int(row["fold"])
            scores = [float(row[f"score_{k}"]) for k in range(5)]
            correct[i] = max(range(5), key=lambda k: scores[k]) == int(row["label"])
    return fold, correct


def acc(correct, images):
    images = list(images)
    right = sum(correct[i] for i in images)
    return f"{right / len(images):.3f} ({right}/{len(images)})" if images else "n/a"


def mcnemar_exact(b, c):
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(0, min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


pairs = []
with open(sys.argv[1]) as f:
    for row in csv.DictReader(f):
        if row["first_split"] in ("train", "val") and row["second_split"] in ("train", "val"):
            pairs.append((pooled(row["first_split"], row["first_index"]), pooled(row["second_split"], row["second_index"])))
members = sorted({i for p in pairs for i in p})
print(f"{len(pairs)} near-duplicate pairs in the pooled training and validation images ({len(members)} images)")
runs = [(folder, *read(folder)) for folder in sys.argv[2:]]
for folder, fold, correct in runs:
    split = [(a, b) for a, b in pairs if fold[a] != fold[b]]
    apart = sorted({i for p in split for i in p})
    others = [i for i in fold if i not in set(members)]
    print(f"{folder}: {len(split)} of {len(pairs)} pairs in different folds; out-of-fold ACC of the {len(members)} pair images "
          f"{acc(correct, members)}, of those whose copy was in another fold {acc(correct, apart)}, of the other "
          f"{len(others)} images {acc(correct, others)}")
for folder, fold, correct in runs[1:]:
    first, _, reference = runs[0]
    b = sum(1 for i in members if reference[i] and not correct[i])
    c = sum(1 for i in members if correct[i] and not reference[i])
    print(f"pair images, {first} against {folder}: right only in the first {b}, only in the second {c}, McNemar exact p = {mcnemar_exact(b, c):.4f}")
