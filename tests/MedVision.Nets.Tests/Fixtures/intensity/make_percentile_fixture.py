"""Percentile intensity scaling as MONAI's ScaleIntensityRangePercentiles(lower, upper, b_min=0, b_max=1, clip=True)
computes it (NumPy 1.24 np.percentile, linear interpolation), for ScaleIntensity.FromPercentiles.

    cd tests/MedVision.Nets.Tests/Fixtures/intensity && /usr/bin/python3 make_percentile_fixture.py

MONAI is not installed here; its transform is, for these arguments, (x - p_lower) / (p_upper - p_lower) clipped to
[0, 1] with the percentiles of the whole image (channel_wise=False), which is what this script computes.
"""
import json

import numpy as np

rng = np.random.default_rng(5)
cases = []


def add(name, values, lower, upper):
    values = np.asarray(values, dtype=np.float32)
    lo, hi = np.percentile(values, [lower, upper])
    scaled = np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1) if hi > lo else np.clip(values.astype(np.float64) - lo, 0, 1)
    cases.append({"name": name, "lower": lower, "upper": upper, "values": values.tolist(),
                  "low": float(lo), "high": float(hi), "expected": scaled.tolist()})


mri = rng.gamma(2.0, 100.0, size=300).astype(np.float32)
mri[:4] = [5000, 7000, 0, 0]  # a few very bright voxels and background
add("mri-like 0.5-99.5", mri, 0.5, 99.5)
add("mri-like 2-98", mri, 2, 98)
add("mri-like 0-100", mri, 0, 100)
add("ties 25-75", [1, 1, 1, 2, 2, 3, 3, 3, 3, 10], 25, 75)
add("two values 10-90", [0, 4], 10, 90)
add("constant 1-99", [3, 3, 3, 3], 1, 99)
with open("percentile_fixture.json", "w") as f:
    json.dump({"cases": cases}, f)
print(len(cases), "cases")
