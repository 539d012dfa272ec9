"""Resampling fixtures for NiftiResampleTests (run with /usr/bin/python3: nibabel 5.0, SciPy 1.10, NumPy).

Writes resample_source.nii (an oblique float32 volume) and resample_fixtures.json: for each case the target grid
(shape, affine) and the voxels nibabel.processing.resample_from_to computes on it (order 1 = trilinear, order 0 =
nearest; mode "nearest" = VolumePadding.Border, mode "constant" with cval 0 = VolumePadding.Zeros), x-fastest.
The "spacing" cases use the grid MONAI's Spacing gives (scale_extent=False): the voxel axes keep their directions and
voxel (0, 0, 0) its position, and axis n gets round((N - 1) * s / s' + 1) voxels.

    cd tests/MedVision.Nets.Tests/Fixtures/nifti && /usr/bin/python3 make_resample_fixtures.py
"""
import json

import nibabel as nib
import numpy as np
from nibabel.processing import resample_from_to

rng = np.random.default_rng(7)
shape = (7, 6, 5)
data = rng.uniform(-50, 200, size=shape).astype(np.float32)
# Oblique: rotate by 20 degrees about z and 10 about x, voxel sizes 1.2 x 0.9 x 2.5 mm.
a, b = np.deg2rad(20), np.deg2rad(10)
rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
affine = np.eye(4)
affine[:3, :3] = rz @ rx @ np.diag([1.2, 0.9, 2.5])
affine[:3, 3] = [-4.0, 3.5, 10.25]
img = nib.Nifti1Image(data, affine)
img.set_sform(affine, code=1)
img.set_qform(affine, code=1)
nib.save(img, "resample_source.nii")
# What the .NET reader gets is the file's float32 sform, so the targets are built from the affine as stored.
stored = nib.load("resample_source.nii")
src_affine = stored.affine
sizes = np.sqrt((src_affine[:3, :3] ** 2).sum(axis=0))

cases = []


def add(name, target_shape, target_affine, order, mode, spacing=None):
    out = resample_from_to(stored, (tuple(int(s) for s in target_shape), target_affine), order=order, mode=mode, cval=0.0)
    case = {
        "name": name,
        "shape": [int(s) for s in target_shape],
        "affine": target_affine.tolist(),
        "interpolation": "Linear" if order == 1 else "Nearest",
        "padding": "Border" if mode == "nearest" else "Zeros",
        "voxels": np.asarray(out.dataobj, dtype=np.float64).ravel(order="F").tolist(),
    }
    if spacing is not None:
        case["spacing"] = list(spacing)
    cases.append(case)


for spacing in ([2.0, 1.5, 1.0], [0.7, 0.7, 0.7]):
    new = np.array(spacing)
    factors = new / sizes
    target_shape = np.maximum(1, np.round((np.array(shape) - 1) / factors + 1.0)).astype(int)
    target = src_affine.copy()
    target[:3, :3] = src_affine[:3, :3] * factors
    add(f"spacing {spacing} linear", target_shape, target, 1, "nearest", spacing)
    add(f"spacing {spacing} nearest", target_shape, target, 0, "nearest", spacing)

# An axis-aligned RAS 1.5 mm grid over part of the oblique volume (and beyond it).
ref = np.eye(4)
ref[:3, :3] = np.diag([1.5, 1.5, 1.5])
ref[:3, 3] = [-6.0, 0.0, 8.0]
for order, mode in ((1, "constant"), (1, "nearest"), (0, "constant")):
    add(f"reference order {order} {mode}", (8, 7, 6), ref, order, mode)

with open("resample_fixtures.json", "w") as f:
    json.dump({"source": "resample_source.nii", "cases": cases}, f)
print(f"{len(cases)} cases")
