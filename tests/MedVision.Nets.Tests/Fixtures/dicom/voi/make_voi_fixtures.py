#!/usr/bin/python3
"""Radiographs and CT slices whose display mapping is a VOI LUT or a non-default VOI LUT function, written by pydicom,
with what pydicom's apply_voi_lut (after apply_modality_lut) gives for them, for Data/VoiDicomTests.cs. The tests need
no Python.

Run with the system Python (Debian: python3-pydicom python3-numpy) from this folder:

    /usr/bin/python3 make_voi_fixtures.py

Writes (tiny; content invented):
  dx_voilut.dcm       12-bit DX radiograph with a VOI LUT Sequence (no window): 1,024 entries from stored value 500,
                      12-bit output, LUT data as OW; values below 500 take the first entry, above 1,523 the last
  dx_voilut_us.dcm    the same image with an 8-bit VOI LUT from stored value 900 whose data are US values (reference
                      computed here by the standard's rule: pydicom 2.3 wraps 8-bit LUT indices past 255, see below)
  dx_sigmoid.dcm      12-bit DX with a window and VOI LUT Function SIGMOID (as digital mammography uses)
  ct_linear.dcm       signed CT slice, rescale -1024, window 40/400 with the default LINEAR function
  ct_linear_exact.dcm the same with LINEAR_EXACT
  xa_modality_lut.dcm 10-bit XA whose modality values come from a Modality LUT Sequence (512 entries from stored
                      value 100, 16-bit output) instead of a rescale: pydicom's apply_modality_lut, under "modality"
  voi_fixtures.json   per file: pydicom's output scaled to [0, 1] — LUTs by 2^bits - 1 of their descriptor, windows by
                      the (y_min, y_max) range pydicom maps them into (the stored range, rescaled) — shape (H, W)
"""
import json
import os

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261206)
out = {}


def base(sop_class, modality, pixels, bits_stored, signed):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("voi", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = pixels.tobytes()
    return ds


def record(name, ds, scale, reference=None):
    path = os.path.join(here, name)
    ds.save_as(path, write_like_original=False)
    back = pydicom.dcmread(path)
    values = apply_voi_lut(apply_modality_lut(back.pixel_array, back), back)
    if reference is not None:
        values = reference(back, values)
    lo, hi = scale(back)
    out[name] = {"shape": list(values.shape),
                 "unit": ((np.asarray(values, dtype=np.float64) - lo) / (hi - lo)).reshape(-1).tolist()}


def lut_scale(ds):
    return 0.0, float(2 ** ds.VOILUTSequence[0].LUTDescriptor[2] - 1)


def window_scale(ds):
    # apply_windowing maps into the range of the stored values: unsigned 0..2^n-1, signed -2^(n-1)..2^(n-1)-1
    # (rescaled like the stored values when the file has a rescale slope and intercept)
    bits = ds.BitsStored
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if ds.PixelRepresentation == 1 else (0, 2 ** bits - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        lo, hi = (v * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for v in (lo, hi))
    return float(lo), float(hi)


dx = rng.integers(300, 1800, size=(6, 8)).astype(np.uint16)

ds = base("1.2.840.10008.5.1.4.1.1.1.1", "DX", dx, 12, False)
item = Dataset()
item.LUTDescriptor = [1024, 500, 12]
curve = np.round(4095 * (np.arange(1024) / 1023.0) ** 0.6).astype(np.uint16)
item.LUTData = curve.tobytes()
item["LUTData"].VR = "OW"
item.LUTExplanation = "gamma 0.6"
ds.VOILUTSequence = Sequence([item])
record("dx_voilut.dcm", ds, lut_scale)

ds = base("1.2.840.10008.5.1.4.1.1.1.1", "DX", dx, 12, False)
item = Dataset()
item.LUTDescriptor = [256, 900, 8]
item.LUTData = [int(v) for v in np.round(255 * np.sqrt(np.arange(256) / 255.0))]
item["LUTData"].VR = "US"
ds.VOILUTSequence = Sequence([item])


def standard_lut(back, pydicom_values):
    """pydicom 2.3 keeps the LUT index in the LUT's own 8-bit type, so stored values more than 255 past the first
    mapped one wrap around instead of taking the last entry (PS3.3 C.11.2.1.1). The reference is the standard's rule,
    computed here; pydicom agrees with it wherever its index does not wrap."""
    item = back.VOILUTSequence[0]
    entries, first, _ = item.LUTDescriptor
    lut = np.asarray(item.LUTData, dtype=np.int64)
    stored = back.pixel_array.astype(np.int64)
    values = lut[np.clip(stored - first, 0, entries - 1)]
    no_wrap = (stored - first >= 0) & (stored - first <= 255)
    assert np.array_equal(values[no_wrap], np.asarray(pydicom_values, dtype=np.int64)[no_wrap])
    assert (stored - first > 255).any(), "the file must reach past the LUT's end"
    return values


record("dx_voilut_us.dcm", ds, lut_scale, standard_lut)

ds = base("1.2.840.10008.5.1.4.1.1.1.1", "DX", dx, 12, False)
ds.WindowCenter = "1000"
ds.WindowWidth = "900"
ds.VOILUTFunction = "SIGMOID"
record("dx_sigmoid.dcm", ds, window_scale)

ct = rng.integers(0, 2048, size=(6, 8)).astype(np.int16)
for name, function in (("ct_linear.dcm", None), ("ct_linear_exact.dcm", "LINEAR_EXACT")):
    ds = base("1.2.840.10008.5.1.4.1.1.2", "CT", ct, 12, True)
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    if function:
        ds.VOILUTFunction = function
    record(name, ds, window_scale)

# XA with a Modality LUT Sequence instead of a rescale: 512 entries from stored value 100, 16-bit output (US data).
xa = rng.integers(0, 700, size=(5, 6)).astype(np.uint16)
ds = base("1.2.840.10008.5.1.4.1.1.12.1", "XA", xa, 10, False)
item = Dataset()
item.LUTDescriptor = [512, 100, 16]
item.LUTData = [int(v) for v in np.round(60000 * np.log1p(np.arange(512)) / np.log1p(511))]
item["LUTData"].VR = "US"
item.ModalityLUTType = "US"  # unspecified units
ds.ModalityLUTSequence = Sequence([item])
path = os.path.join(here, "xa_modality_lut.dcm")
ds.save_as(path, write_like_original=False)
back = pydicom.dcmread(path)
modality = apply_modality_lut(back.pixel_array, back)
assert (back.pixel_array < 100).any() and (back.pixel_array > 611).any(), "the file must reach both ends of the LUT"
out["xa_modality_lut.dcm"] = {"shape": list(modality.shape), "modality": np.asarray(modality, dtype=np.float64).reshape(-1).tolist()}

with open(os.path.join(here, "voi_fixtures.json"), "w") as f:
    json.dump({"pydicom": pydicom.__version__, "files": out}, f, indent=0)
print("wrote", sorted(out))
