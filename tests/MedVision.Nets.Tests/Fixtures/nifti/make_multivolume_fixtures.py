"""Writes NIfTI files holding several 3-D volumes with nibabel and records each volume as nibabel reads it (the scaled
voxels of img.get_fdata()[..., k], x fastest) and the affine.

Run with Debian's python3 and python3-nibabel (5.0): /usr/bin/python3 make_multivolume_fixtures.py
Output (committed): multi_*.nii[.gz] and multivolume_fixtures.json beside this script.

  multi_4d.nii.gz   NIfTI-1, int16 with scl_slope 2 / scl_inter 1, 3x4x2 voxels x 3 volumes (dim[4] = 3), an sform
                    (the layout of a multi-contrast file such as the Medical Segmentation Decathlon's BraTS images)
  multi_5d.nii      NIfTI-2, float32, 2x3x2 voxels, dim[4] = 2 and dim[5] = 2: four volumes, dimension 4 fastest
"""
import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261208)
cases = {}


def record(name, img):
    path = os.path.join(HERE, name)
    nib.save(img, path)
    back = nib.load(path)
    data = back.get_fdata()
    spatial = data.shape[:3]
    flat = data.reshape(spatial + (-1,), order="F")  # volumes in the file's order, dimension 4 fastest
    cases[name] = {
        "shape": list(spatial),
        "volumes": [flat[..., k].reshape(-1, order="F").tolist() for k in range(flat.shape[3])],
        "affine": back.affine[:3].tolist(),
    }


affine = np.array([[0, -1.2, 0, 10], [1.1, 0, 0, -5], [0, 0, 2.0, 3], [0, 0, 0, 1]])
img = nib.Nifti1Image(rng.integers(-100, 100, size=(3, 4, 2, 3)).astype(np.int16), affine)
img.header.set_slope_inter(2, 1)
record("multi_4d.nii.gz", img)

img = nib.Nifti2Image(rng.normal(size=(2, 3, 2, 2, 2)).astype(np.float32), np.diag([0.5, 0.6, 0.7, 1]))
record("multi_5d.nii", img)

with open(os.path.join(HERE, "multivolume_fixtures.json"), "w") as f:
    json.dump({"nibabel": nib.__version__, "cases": cases}, f, indent=0)
print("wrote", sorted(cases))
