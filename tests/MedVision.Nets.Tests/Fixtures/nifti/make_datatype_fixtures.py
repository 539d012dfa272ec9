"""Writes small NIfTI-1 volumes of the integer data types beyond uint8/int16/int32 with nibabel, scaled by
scl_slope/scl_inter, and records the values nibabel reads back (get_fdata, x-fastest).

Run with Debian's python3 and python3-nibabel (5.0): /usr/bin/python3 make_datatype_fixtures.py
Output (committed): dtype_*.nii and datatype_fixtures.json beside this script.
"""
import json
import os
import struct

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)
cases = {}
for name, dtype, low, high, endian in [
    ("int8", np.int8, -128, 128, "<"),
    ("uint16", np.uint16, 0, 65536, ">"),
    ("uint32", np.uint32, 0, 2**32, "<"),
    ("int64", np.int64, -(2**40), 2**40, "<"),
]:
    raw = rng.integers(low, high, size=(3, 2, 2), dtype=np.int64).astype(dtype)
    header = nib.Nifti1Header(endianness=endian)
    header.set_data_dtype(raw.dtype)
    img = nib.Nifti1Image(raw, np.diag([1.0, 1.0, 1.0, 1.0]), header=header)
    path = os.path.join(HERE, f"dtype_{name}.nii")
    nib.save(img, path)
    # nibabel chooses its own scaling on save; store the raw integers and set scl_slope = 0.5, scl_inter = -3 in the
    # header bytes (offsets 112 and 116), then let nibabel read the scaled values.
    with open(path, "r+b") as f:
        f.seek(112)
        f.write(struct.pack(endian + "ff", 0.5, -3.0))
    back = nib.load(path)
    assert back.get_data_dtype() == np.dtype(dtype).newbyteorder(endian) or back.get_data_dtype().kind == np.dtype(dtype).kind
    cases[name] = {
        "file": os.path.basename(path),
        "datatype": int(back.header["datatype"]),
        "big_endian": back.header.endianness == ">",
        "raw": np.asarray(back.dataobj.get_unscaled()).flatten(order="F").tolist(),
        "values": back.get_fdata().flatten(order="F").tolist(),
    }

with open(os.path.join(HERE, "datatype_fixtures.json"), "w") as f:
    json.dump({"nibabel": nib.__version__, "cases": cases}, f, indent=1)
print("wrote", len(cases), "cases")
