"""Writes small NIfTI-2 files with nibabel and records what nibabel reads from them: the scaled voxels (get_fdata, x
fastest), the voxel sizes, the best affine (sform when sform_code > 0, else qform) and its codes.

Run with Debian's python3 and python3-nibabel (5.0): /usr/bin/python3 make_nifti2_fixtures.py
Output (committed): nifti2_*.nii[.gz] and nifti2_fixtures.json beside this script.

  nifti2_sform.nii      int16, scl_slope 0.5 / scl_inter -100, an oblique sform (code 2) and a qform (code 1)
  nifti2_qform.nii.gz   float32, gzip-compressed, qform only (code 1) with qfac -1 (a flipped third axis)
  nifti2_bigendian.nii  uint16, big-endian, no orientation (codes 0)
"""
import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261207)
cases = {}


def rotation(degrees):
    t = np.deg2rad(degrees)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])


def affine(r, zooms, offset):
    a = np.eye(4)
    a[:3, :3] = np.asarray(r) @ np.diag(zooms)
    a[:3, 3] = offset
    return a


def record(name, img):
    path = os.path.join(HERE, name)
    nib.save(img, path)
    back = nib.load(path)
    assert isinstance(back, nib.Nifti2Image), type(back)
    header = back.header
    cases[name] = {
        "shape": list(back.shape),
        "zooms": [float(z) for z in header.get_zooms()],
        "datatype": int(header["datatype"]),
        "qform_code": int(header["qform_code"]),
        "sform_code": int(header["sform_code"]),
        "affine": back.affine[:3].tolist(),
        "values": np.asarray(back.get_fdata(), dtype=np.float64).reshape(-1, order="F").tolist(),
    }


# int16 with scaling, sform and qform
data = rng.integers(-500, 500, size=(4, 3, 5)).astype(np.int16)
img = nib.Nifti2Image(data, None)
img.header.set_data_dtype(np.int16)
img.header.set_slope_inter(0.5, -100)
img.set_qform(affine(rotation(10), [1.5, 2.0, 2.5], [-30, 20, 10]), code=1)
sheared = affine(rotation(25), [1.5, 2.0, 2.5], [5, -7, 12])
sheared[0, 1] += 0.3
img.set_sform(sheared, code=2)
record("nifti2_sform.nii", img)

# float32, gzip, qform with qfac -1
data = rng.normal(size=(3, 4, 2)).astype(np.float32)
img = nib.Nifti2Image(data, None)
img.set_qform(affine(np.diag([1, 1, -1]), [0.8, 0.9, 3.0], [1, 2, 3]), code=1)
img.set_sform(None, code=0)
record("nifti2_qform.nii.gz", img)

# uint16, big-endian, no orientation
data = rng.integers(0, 60000, size=(2, 3, 4)).astype(np.uint16)
header = nib.Nifti2Header(endianness=">")
img = nib.Nifti2Image(data, None, header)
img.header.set_zooms((0.5, 0.75, 1.25))
img.set_qform(None, code=0)
img.set_sform(None, code=0)
record("nifti2_bigendian.nii", img)
with open(os.path.join(HERE, "nifti2_bigendian.nii"), "rb") as f:
    assert f.read(4) == (540).to_bytes(4, "big"), "the file must be big-endian"

with open(os.path.join(HERE, "nifti2_fixtures.json"), "w") as f:
    json.dump({"nibabel": nib.__version__, "cases": cases}, f, indent=0)
print("wrote", sorted(cases))
