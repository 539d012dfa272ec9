"""Checks that nibabel reads the files MedVision.Nets' NiftiWriter wrote (written_*.nii[.gz]) as they were meant, and
records what it read for the .NET tests (NiftiWrittenFixtureTests), which need no Python.

The files and their intent (written_intended.json: format, byte order, datatype, shape, voxel sizes, scaling, affine and
its codes, and the values — as a SHA-256 of little-endian float64, volume after volume, x fastest, and as a list for
small files) come from the .NET test cases:

  MEDVISION_WRITE_NIFTI_FIXTURES=$PWD/tests/MedVision.Nets.Tests/Fixtures/nifti \\
    dotnet test tests/MedVision.Nets.Tests -c Release --filter "FullyQualifiedName~NiftiWrittenFixtureTests"

Then run with Debian's python3 and python3-nibabel (5.0): /usr/bin/python3 check_written_files.py
It asserts, for every file, that nibabel loads it as a Nifti1Image or Nifti2Image of the intended byte order and finds
no header problem (diagnose_binaryblock), the intended datatype, shape, voxel sizes, scl_slope/scl_inter, sform and
qform codes, affine (the sform) and qform (rebuilt from the quaternion), and bit-identical scaled values (get_fdata).
Output (committed): written_fixtures.json beside this script, what nibabel read.
"""
import hashlib
import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "written_intended.json")) as f:
    intended = json.load(f)["files"]

seen = {}
for name, want in sorted(intended.items()):
    img = nib.load(os.path.join(HERE, name))
    header = img.header
    cls = "Nifti1Image" if want["version"] == 1 else "Nifti2Image"
    assert type(img).__name__ == cls, f"{name}: nibabel loads a {type(img).__name__}, not a {cls}"
    problems = type(header).diagnose_binaryblock(header.binaryblock)
    assert problems == "", f"{name}: nibabel finds header problems: {problems}"
    assert header.endianness == (">" if want["big_endian"] else "<"), f"{name}: byte order {header.endianness}"
    assert int(header["datatype"]) == want["datatype"], f"{name}: datatype {header['datatype']}"
    assert list(img.shape) == want["shape"], f"{name}: shape {img.shape}, not {want['shape']}"
    zooms = [float(z) for z in header.get_zooms()]
    assert np.allclose(zooms, want["zooms"], rtol=0, atol=1e-5), f"{name}: zooms {zooms}, not {want['zooms']}"
    # nibabel moves scl_slope/scl_inter from the loaded header to the data proxy (1 and 0 when the file has none).
    slope, inter = float(img.dataobj.slope), float(img.dataobj.inter)
    expected_scaling = (1.0, 0.0) if want["slope"] == 0 else (want["slope"], want["inter"])
    assert (slope, inter) == expected_scaling, f"{name}: scaling {slope}, {inter}, not {expected_scaling}"
    assert int(header["sform_code"]) == want["sform_code"], f"{name}: sform_code {header['sform_code']}"
    assert int(header["qform_code"]) == want["qform_code"], f"{name}: qform_code {header['qform_code']}"
    tolerance = 1e-5 if want["version"] == 1 else 1e-9
    if want["affine"] is not None:
        assert np.allclose(img.affine[:3], want["affine"], rtol=0, atol=tolerance), f"{name}: affine\n{img.affine}"
    qform = header.get_qform() if want["qform_code"] > 0 else None
    if qform is not None:
        # quatern_a is rebuilt as sqrt(1 - b² - c² - d²): near a half turn (a ≈ 0) the rounding of b, c and d grows
        # to about its square root, 1e-8 in double precision.
        q_tolerance = 1e-5 if want["version"] == 1 else 1e-6
        assert np.allclose(qform[:3], want["affine"], rtol=0, atol=q_tolerance), f"{name}: qform\n{qform}"

    values = np.asarray(img.get_fdata(), dtype="<f8").reshape(-1, order="F")
    digest = hashlib.sha256(values.tobytes()).hexdigest()
    if want["values"] is not None:
        mismatch = np.flatnonzero(values != np.asarray(want["values"]))
        assert mismatch.size == 0, f"{name}: value {mismatch[0]} is {values[mismatch[0]]}, not {want['values'][mismatch[0]]}"
    assert digest == want["values_sha256"], f"{name}: the values differ (sha256 {digest})"

    seen[name] = {
        "class": type(img).__name__,
        "endianness": header.endianness,
        "datatype": int(header["datatype"]),
        "shape": list(img.shape),
        "zooms": zooms,
        "slope": slope,
        "inter": inter,
        "sform_code": int(header["sform_code"]),
        "qform_code": int(header["qform_code"]),
        "affine": img.affine[:3].tolist(),
        "qform": None if qform is None else qform[:3].tolist(),
        "values_sha256": digest,
        "values": values.tolist() if values.size <= 1000 else None,
    }
    print(f"ok {name}: {cls}, {header.endianness}, {header.get_data_dtype()}, shape {img.shape}")

with open(os.path.join(HERE, "written_fixtures.json"), "w") as f:
    json.dump({"nibabel": nib.__version__, "files": seen}, f, indent=0)
print("wrote written_fixtures.json for", len(seen), "files")
