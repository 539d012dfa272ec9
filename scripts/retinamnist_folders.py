#!/usr/bin/python3
"""Writes RetinaMNIST's splits as grade folders of PNG photographs — OUT/{train,val,test}/{0..4}/NNNN.png — the layout
of diabetic-retinopathy datasets (APTOS, EyePACS), which `fundus-folder train --labels subfolders` reads as an ordinal
grading task. Only for the experiment in docs/results.md; the tests do not run Python.

usage: /usr/bin/python3 scripts/retinamnist_folders.py [NPZ] OUT
"""
import os
import sys

import numpy as np
from PIL import Image

args = sys.argv[1:]
npz = args[0] if len(args) == 2 else os.path.join(os.path.dirname(__file__), "..", "src", "MedVision.Nets", "Data", "MedMnist", "Resources", "retinamnist.npz")
out = args[-1]
data = np.load(npz)
for split in ("train", "val", "test"):
    images, labels = data[f"{split}_images"], data[f"{split}_labels"].reshape(-1)
    for grade in range(5):
        os.makedirs(os.path.join(out, split, str(grade)), exist_ok=True)
    for i, (image, grade) in enumerate(zip(images, labels)):
        Image.fromarray(image).save(os.path.join(out, split, str(int(grade)), f"{i:04d}.png"))
    print(split, len(labels), np.bincount(labels, minlength=5).tolist())
