#!/usr/bin/python3
"""Small DICOM files written by pydicom, and the pixel values pydicom reads back from them (modality LUT applied),
for Data/DicomTests.cs.

Run with the system Python (Debian: python3-pydicom python3-numpy python3-pil) from this folder:

    /usr/bin/python3 make_dicom_fixtures.py

Writes (all tiny; patient data are invented):
  ct_explicit.dcm      CT slice, Explicit VR Little Endian, int16 with 12 bits stored, rescale -1024 / 1, a window,
                       and a nested sequence of undefined length before the pixel data
  mr_implicit_2f.dcm   MR, Implicit VR Little Endian, uint16, two frames
  rgb_planar.dcm       secondary-capture RGB photograph, 8-bit, planar configuration 1 (RRR…GGG…BBB)
  mono1.dcm            CR, MONOCHROME1 (high values dark), 8-bit
  ct_rle.dcm           the CT slice's pixels, RLE Lossless
  rgb_jpeg.dcm         an RGB fundus-like photograph, JPEG baseline (encapsulated, YBR_FULL_422)
  ct_deflate.dcm       the CT slice, Deflated Explicit VR Little Endian
  jpeg2000.dcm         JPEG 2000 cut off after its SIZ marker (the decoder must say so)
  mpeg2.dcm            the same header under MPEG2 video (unsupported: the reader must say so)
  series/              four CT slices of one series (file names not in slice order, positions 2.5 mm apart along an
                       oblique normal) and one slice of another series
  dicom_fixtures.json  what pydicom reads: shape, values (after rescale) and key attributes
"""
import io
import json
import os

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixel_data_handlers.util import apply_modality_lut
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit, RLELossless,
                         DeflatedExplicitVRLittleEndian, JPEG2000Lossless, generate_uid)

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261201)
out = {}


def base(path, sop_class, syntax, modality):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientID = "PHANTOM-001"
    ds.PatientName = "Phantom^Test"
    ds.is_little_endian = True
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    return ds


def mono(ds, pixels, bits_stored, signed):
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = pixels.tobytes()


def record(name, ds):
    path = os.path.join(here, name)
    ds.save_as(path, write_like_original=False)
    back = pydicom.dcmread(path)
    arr = back.pixel_array
    values = apply_modality_lut(arr, back) if back.SamplesPerPixel == 1 else arr
    out[name] = {
        "shape": list(values.shape),
        "values": np.asarray(values, dtype=np.float64).reshape(-1).tolist(),
        "transfer_syntax": str(back.file_meta.TransferSyntaxUID),
        "photometric": str(back.PhotometricInterpretation),
    }
    return back


# CT slice: 12 bits stored in 16, signed, HU = stored - 1024
ct = (rng.integers(-1024, 2048, size=(6, 8))).astype(np.int16)
ds = base("ct", "1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian, "CT")
mono(ds, ct, 12, True)
ds.RescaleIntercept = "-1024"
ds.RescaleSlope = "1"
ds.WindowCenter = "40"
ds.WindowWidth = "400"
ds.PixelSpacing = ["0.5", "0.75"]
ds.SliceThickness = "2.5"
ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1"
item = Dataset()
item.CodeValue = "T-A0100"
item.CodingSchemeDesignator = "SRT"
inner = Dataset()
inner.CodeMeaning = "nested"
item.ConceptNameCodeSequence = Sequence([inner])
ds.AnatomicRegionSequence = Sequence([item])
ds["AnatomicRegionSequence"].is_undefined_length = True  # sequence and item delimited, not counted
item.is_undefined_length_sequence_item = True
record("ct_explicit.dcm", ds)
ct_ds = ds

# MR, implicit VR, two frames of uint16
mr = rng.integers(0, 4096, size=(2, 5, 7)).astype(np.uint16)
ds = base("mr", "1.2.840.10008.5.1.4.1.1.4", ImplicitVRLittleEndian, "MR")
mono(ds, mr, 12, False)
ds.NumberOfFrames = 2
record("mr_implicit_2f.dcm", ds)

# RGB photograph, planar configuration 1
rgb = rng.integers(0, 256, size=(4, 5, 3)).astype(np.uint8)
ds = base("rgb", "1.2.840.10008.5.1.4.1.1.7", ExplicitVRLittleEndian, "OT")
ds.SamplesPerPixel = 3
ds.PhotometricInterpretation = "RGB"
ds.PlanarConfiguration = 1
ds.Rows, ds.Columns = 4, 5
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
ds.PixelData = np.transpose(rgb, (2, 0, 1)).tobytes()
record("rgb_planar.dcm", ds)

# MONOCHROME1 radiograph
cr = rng.integers(0, 256, size=(3, 4)).astype(np.uint8)
ds = base("cr", "1.2.840.10008.5.1.4.1.1.1", ExplicitVRLittleEndian, "CR")
mono(ds, cr, 8, False)
ds.PhotometricInterpretation = "MONOCHROME1"
record("mono1.dcm", ds)

# RLE Lossless CT
ds = base("ctrle", "1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian, "CT")
mono(ds, ct, 12, True)
ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
ds.compress(RLELossless, ct)
record("ct_rle.dcm", ds)

# JPEG baseline RGB (smooth content so that JPEG keeps it close)
yy, xx = np.mgrid[0:16, 0:24]
photo = np.stack([(xx * 10) % 256, (yy * 15) % 256, ((xx + yy) * 5) % 256], axis=-1).astype(np.uint8)
buffer = io.BytesIO()
Image.fromarray(photo).save(buffer, format="JPEG", quality=95, subsampling=0)
ds = base("jpeg", "1.2.840.10008.5.1.4.1.1.77.1.5.1", JPEGBaseline8Bit, "OP")
ds.SamplesPerPixel = 3
ds.PhotometricInterpretation = "YBR_FULL_422"
ds.PlanarConfiguration = 0
ds.Rows, ds.Columns = 16, 24
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
ds.PixelData = encapsulate([buffer.getvalue()])
ds["PixelData"].is_undefined_length = True
ds["PixelData"].VR = "OB"
path = os.path.join(here, "rgb_jpeg.dcm")
ds.save_as(path, write_like_original=False)
decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
out["rgb_jpeg.dcm"] = {"shape": list(decoded.shape), "values": decoded.astype(np.float64).reshape(-1).tolist(),
                       "transfer_syntax": JPEGBaseline8Bit, "photometric": "YBR_FULL_422"}

# Deflated explicit VR little endian
ds = base("ctdeflate", "1.2.840.10008.5.1.4.1.1.2", DeflatedExplicitVRLittleEndian, "CT")
mono(ds, ct, 12, True)
ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
record("ct_deflate.dcm", ds)

# JPEG 2000 whose codestream is cut off after its SIZ marker (the decoder must say so), and the same header under a
# video transfer syntax, MPEG2 (unsupported: the reader must refuse the syntax before decoding)
for name, syntax in (("jpeg2000.dcm", JPEG2000Lossless), ("mpeg2.dcm", "1.2.840.10008.1.2.4.100")):
    ds = base("j2k", "1.2.840.10008.5.1.4.1.1.2", syntax, "CT")
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.Rows, ds.Columns = 1, "MONOCHROME2", 2, 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\0" * 12])
    ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    ds.save_as(os.path.join(here, name), write_like_original=False)

# A series of four oblique slices, 2.5 mm apart along the normal, written in shuffled order, plus another series
os.makedirs(os.path.join(here, "series"), exist_ok=True)
row = np.array([1.0, 0.0, 0.0])
col = np.array([0.0, np.cos(0.3), np.sin(0.3)])
normal = np.cross(row, col)
origin = np.array([-10.0, 20.0, 30.0])
slices = rng.integers(0, 1000, size=(4, 3, 5)).astype(np.int16)
uid = "1.2.826.0.1.3680043.8.498.2"
for k, name in zip([2, 0, 3, 1], ["a.dcm", "b.dcm", "c.dcm", "d.dcm"]):
    ds = base("s", "1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian, "CT")
    mono(ds, slices[k], 16, True)
    ds.RescaleIntercept, ds.RescaleSlope = "-1000", "2"
    ds.SeriesInstanceUID = uid
    ds.InstanceNumber = str(4 - k)  # instance numbers run against the geometry: the positions must win
    ds.ImageOrientationPatient = ["%.8f" % v for v in np.concatenate([row, col])]
    ds.ImagePositionPatient = ["%.6f" % v for v in origin + 2.5 * k * normal]
    ds.PixelSpacing = ["0.8", "0.6"]
    ds.SliceThickness = "2.5"
    ds.save_as(os.path.join(here, "series", name), write_like_original=False)
other = base("o", "1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian, "CT")
mono(other, slices[0], 16, True)
other.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.3"
other.save_as(os.path.join(here, "series", "other.dcm"), write_like_original=False)
with open(os.path.join(here, "series", "notes.txt"), "w") as f:
    f.write("not a DICOM file: the series reader skips it\n")
out["series"] = {"uid": uid, "values": (slices.astype(np.float64) * 2 - 1000).reshape(-1).tolist(),
                 "shape": [4, 3, 5], "spacing": [0.6, 0.8, 2.5]}

with open(os.path.join(here, "dicom_fixtures.json"), "w") as f:
    json.dump({"pydicom": pydicom.__version__, "files": out}, f, indent=0)
print("wrote", sorted(out))
