#!/usr/bin/python3
"""PALETTE COLOR DICOM files written by pydicom, and the RGB values pydicom's apply_color_lut gives for them, for
Data/PaletteDicomTests.cs. The tests need no Python.

Run with the system Python (Debian: python3-pydicom python3-numpy) from this folder:

    /usr/bin/python3 make_palette_fixtures.py

Writes (tiny; content invented):
  us_palette16.dcm    an ultrasound-like 8-bit index image, 256-entry palettes with 16-bit entries (the usual
                      encoding), two frames, Explicit VR Little Endian
  palette_first10.dcm 8-bit indices, 200-entry palettes with 8-bit entries (LUT data one byte per entry) whose first
                      mapped value is 10: indices below 10 take the first entry, above 209 the last (PS3.3 C.7.6.3.1.5)
  palette_signed.dcm  16-bit signed indices (pixel representation 1), 64-entry palettes starting at -32
  palette_segmented.dcm
                      8-bit indices, segmented 16-bit palettes (PS3.3 C.7.9.2: discrete, linear and indirect segments)
  palette_rle.dcm     the first file's first frame, RLE Lossless
  palette_fixtures.json
                      per file and frame: pydicom's apply_color_lut output as RGB, (H, W, 3), and the same mapped to
                      0-255 as the library gives colour (16-bit entries: round(v / 257), as PNG readers map 16-bit
                      samples; 8-bit entries as they are)
"""
import json
import os

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import apply_color_lut
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261205)
out = {}


def base(rows, cols, frames, bits, signed):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("palette", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.Rows, ds.Columns = rows, cols
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    return ds


def palettes(ds, entries, first, bits, red, green, blue):
    descriptor = [entries if entries < 65536 else 0, first, bits]
    ds.RedPaletteColorLookupTableDescriptor = descriptor
    ds.GreenPaletteColorLookupTableDescriptor = descriptor
    ds.BluePaletteColorLookupTableDescriptor = descriptor
    dtype = np.uint8 if bits == 8 else np.uint16
    ds.RedPaletteColorLookupTableData = np.asarray(red, dtype=dtype).tobytes()
    ds.GreenPaletteColorLookupTableData = np.asarray(green, dtype=dtype).tobytes()
    ds.BluePaletteColorLookupTableData = np.asarray(blue, dtype=dtype).tobytes()
    if signed_descriptor(ds):
        for name in ("Red", "Green", "Blue"):
            ds[f"{name}PaletteColorLookupTableDescriptor"].VR = "SS"


def signed_descriptor(ds):
    return ds.PixelRepresentation == 1


def record(name, ds):
    path = os.path.join(here, name)
    ds.save_as(path, write_like_original=False)
    back = pydicom.dcmread(path)
    arr = back.pixel_array
    frames = arr if getattr(back, "NumberOfFrames", 1) > 1 else arr[np.newaxis]
    rgb = [apply_color_lut(f, back) for f in frames]
    sixteen = rgb[0].dtype == np.uint16
    out[name] = {
        "shape": [len(frames), int(back.Rows), int(back.Columns), 3],
        "lut_bits": 16 if sixteen else 8,
        "rgb": [np.asarray(r, dtype=np.int64).reshape(-1).tolist() for r in rgb],
        "rgb255": [np.asarray(np.round(r.astype(np.float64) / 257) if sixteen else r, dtype=np.int64).reshape(-1).tolist() for r in rgb],
    }


# An ultrasound-like palette: 16-bit entries, 256 of them, two frames.
x = np.arange(256)
red = np.clip(x * 257 + 100, 0, 65535)
green = (np.sin(x / 40.0) * 0.5 + 0.5) * 65535
blue = 65535 - x * 257
frames = rng.integers(0, 256, size=(2, 5, 7)).astype(np.uint8)
ds = base(5, 7, 2, 8, False)
palettes(ds, 256, 0, 16, red, green, blue)
ds.PixelData = frames.tobytes()
record("us_palette16.dcm", ds)
us = ds

# 8-bit entries, 200 of them, first mapped value 10.
ds = base(6, 6, 1, 8, False)
x = np.arange(200)
palettes(ds, 200, 10, 8, x, 199 - x, (x * 7) % 256)
ds.PixelData = rng.integers(0, 256, size=(6, 6)).astype(np.uint8).tobytes()
record("palette_first10.dcm", ds)

# Signed 16-bit indices, 64 entries from -32.
ds = base(4, 5, 1, 16, True)
x = np.arange(64)
palettes(ds, 64, -32, 16, x * 1000, 65535 - x * 1000, np.full(64, 30000))
ds.PixelData = rng.integers(-50, 50, size=(4, 5)).astype(np.int16).tobytes()
record("palette_signed.dcm", ds)

# Segmented palettes (16-bit): red discrete then linear; green linear ramps; blue with an indirect segment that repeats
# its own first two segments (offset 0, where an offset in bytes and one in words — pydicom's reading — agree).
ds = base(4, 6, 1, 8, False)
descriptor = [256, 0, 16]
for name in ("Red", "Green", "Blue"):
    setattr(ds, f"Segmented{name}PaletteColorLookupTableData", b"")
    ds[f"{name}PaletteColorLookupTableDescriptor"] = pydicom.DataElement(
        pydicom.datadict.tag_for_keyword(f"{name}PaletteColorLookupTableDescriptor"), "US", descriptor)
red_segments = [0, 4, 0, 1000, 2000, 3000, 1, 100, 60000, 1, 152, 0]        # 4 + 100 + 152 = 256 entries
green_segments = [0, 1, 65535, 1, 255, 0]                                    # 1 + 255
blue_segments = [0, 1, 5, 1, 100, 40000, 2, 2, 0, 0, 1, 54, 20000]          # 1 + 100 + (1 + 100) + 54
for name, segments in (("Red", red_segments), ("Green", green_segments), ("Blue", blue_segments)):
    ds[f"Segmented{name}PaletteColorLookupTableData"] = pydicom.DataElement(
        pydicom.datadict.tag_for_keyword(f"Segmented{name}PaletteColorLookupTableData"), "OW",
        np.asarray(segments, dtype=np.uint16).tobytes())
ds.PixelData = rng.integers(0, 256, size=(4, 6)).astype(np.uint8).tobytes()
record("palette_segmented.dcm", ds)

# RLE Lossless: the ultrasound file's first frame.
ds = base(5, 7, 1, 8, False)
palettes(ds, 256, 0, 16, red, green, blue)
ds.compress(RLELossless, frames[0])
record("palette_rle.dcm", ds)

with open(os.path.join(here, "palette_fixtures.json"), "w") as f:
    json.dump({"pydicom": pydicom.__version__, "files": out}, f, indent=0)
print("wrote", sorted(out))
