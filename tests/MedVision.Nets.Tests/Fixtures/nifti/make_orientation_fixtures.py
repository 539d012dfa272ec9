"""Writes small NIfTI-1 files with nibabel and records what nibabel reads from them: the best affine (sform when
sform_code > 0, else qform), its axis codes, and the voxels and affine after reorientation to RAS and to LPS.

Run with Debian's python3 and python3-nibabel (5.0): /usr/bin/python3 make_orientation_fixtures.py
Output (committed): orient_*.nii and orientation_fixtures.json beside this script.
"""
import json
import os

import nibabel as nib
import numpy as np
from nibabel.orientations import aff2axcodes, axcodes2ornt, io_orientation, ornt_transform

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
shape = (4, 3, 2)
data = rng.integers(0, 1000, size=shape).astype(np.float32)


def rotation(axis, degrees):
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    r = {"x": [[1, 0, 0], [0, c, -s], [0, s, c]], "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]], "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]]}[axis]
    return np.array(r)


def affine(r, zooms, offset):
    a = np.eye(4)
    a[:3, :3] = np.array(r) @ np.diag(zooms)
    a[:3, 3] = offset
    return a


cases = {}


def case(name, qform=None, sform=None, qcode=1, scode=1):
    img = nib.Nifti1Image(data, None)
    if qform is not None:
        img.set_qform(qform, code=qcode)
    else:
        img.set_qform(None, code=0)
    if sform is not None:
        img.set_sform(sform, code=scode)
    else:
        img.set_sform(None, code=0)
    path = os.path.join(HERE, f"orient_{name}.nii")
    nib.save(img, path)
    back = nib.load(path)
    best = back.affine
    entry = {
        "file": os.path.basename(path),
        "qform_code": int(back.header["qform_code"]),
        "sform_code": int(back.header["sform_code"]),
        "affine": best[:3].tolist(),
        "axcodes": "".join(aff2axcodes(best)),
        "reoriented": {},
    }
    for target in ("RAS", "LPS", "SPL"):
        t = ornt_transform(io_orientation(best), axcodes2ornt(tuple(target)))
        r = back.as_reoriented(t)
        entry["reoriented"][target] = {
            "shape": list(r.shape),
            # x-fastest, as NIfTI stores voxels
            "voxels": np.asarray(r.dataobj).flatten(order="F").tolist(),
            "affine": r.affine[:3].tolist(),
        }
    cases[name] = entry


# qform only: LPS-like (x and y flipped) with a rotation about z and a negative qfac axis.
case("qform_lps", qform=affine(rotation("z", 10) @ np.diag([-1, -1, 1]), [1.5, 2.0, 3.0], [90, 120, -60]))
# qform only with an improper rotation (third axis reversed: qfac = -1 in the file).
case("qform_qfac", qform=affine(np.diag([1, 1, -1]), [0.8, 0.8, 2.5], [-10, -20, 30]))
# sform only, permuted axes (voxel i runs superior, j anterior, k left) with a shear nibabel cannot store as a qform.
case("sform_sheared", sform=np.array([[0, 0, -2.0, 50], [0.1, 1.2, 0, -30], [3.0, 0, 0.2, 10], [0, 0, 0, 1]]), scode=2)
# both: the sform wins.
case("both", qform=affine(np.eye(3), [1, 1, 1], [0, 0, 0]), sform=affine(rotation("x", 90), [1, 1, 2], [5, 6, 7]), qcode=1, scode=4)
# neither: orientation unknown.
case("none")

with open(os.path.join(HERE, "orientation_fixtures.json"), "w") as f:
    json.dump({"nibabel": nib.__version__, "cases": cases}, f, indent=1)
print("wrote", len(cases), "cases")
