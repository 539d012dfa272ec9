"""Reference near-duplicates of the shipped RetinaMNIST, by brute force, for NearDuplicateTests.

Run with Debian's numpy: /usr/bin/python3 make_near_duplicate_fixture.py [path/to/retinamnist.npz]
(default: the copy shipped in src/MedVision.Nets/Data/MedMnist/Resources). Every pair of the 1,600 images (train, val
and test pooled) is compared by the mean absolute difference of its pixel values scaled to [0, 1], in float64.
Writes near_duplicate_fixture.json beside this script: the pairs at or below 0.02 (split, index, split, index,
difference), and for every val and test image its nearest training image (index, difference).
"""
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
default = os.path.join(here, "..", "..", "..", "src", "MedVision.Nets", "Data", "MedMnist", "Resources", "retinamnist.npz")
data = np.load(sys.argv[1] if len(sys.argv) > 1 else default)
splits = ["train", "val", "test"]
images = {s: data[f"{s}_images"].reshape(len(data[f"{s}_images"]), -1).astype(np.float64) / 255.0 for s in splits}
names = [(s, i) for s in splits for i in range(len(images[s]))]
pool = np.concatenate([images[s] for s in splits])


def differences(a, b):
    out = np.empty((len(a), len(b)))
    for start in range(0, len(a), 64):
        out[start:start + 64] = np.abs(a[start:start + 64, None, :] - b[None, :, :]).mean(axis=2)
    return out


d = differences(pool, pool)
limit = 0.02
pairs = []
for i in range(len(pool)):
    for j in np.nonzero(d[i, i + 1:] <= limit)[0] + i + 1:
        pairs.append([names[i][0], names[i][1], names[j][0], names[j][1], float(d[i, j])])
nearest = {}
for s in ["val", "test"]:
    to_train = differences(images[s], images["train"])
    nearest[s] = [[int(k), float(to_train[q, k])] for q, k in enumerate(to_train.argmin(axis=1))]
path = os.path.join(here, "near_duplicate_fixture.json")
with open(path, "w") as f:
    json.dump({"limit": limit, "pairs": pairs, "nearest_to_train": nearest}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(pairs)} pairs at or below {limit}")
