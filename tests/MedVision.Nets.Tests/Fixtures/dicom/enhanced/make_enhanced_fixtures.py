#!/usr/bin/python3
"""Enhanced (multi-frame functional group) DICOM files written by pydicom, and what a reader must make of them, for
Data/EnhancedDicomTests.cs. The tests need no Python.

Run with the system Python (Debian: python3-pydicom python3-numpy) from this folder:

    /usr/bin/python3 make_enhanced_fixtures.py

Writes (tiny; patient data invented):
  enhanced_ct.dcm     Enhanced CT Image Storage, Explicit VR Little Endian, five 4x6 int16 frames stored out of spatial
                      order on an oblique plane 2 mm apart. The geometry lives only in the functional groups (PS3.3
                      C.7.6.16): pixel spacing and orientation in the Shared Functional Groups Sequence, each frame's
                      position, rescale slope/intercept (different per frame) and VOI window in the Per-frame
                      Functional Groups Sequence. Some sequences and items are delimited (undefined length), the
                      others counted.
  enhanced_mr.dcm     Enhanced MR Image Storage, Implicit VR Little Endian (sequences and items of defined length, so
                      only the data dictionary tells a sequence from a value), six 3x5 uint16 frames: three slices at
                      two temporal positions, interleaved. One volume per temporal position; the file as a whole is not
                      one volume (two frames at each position).
  enhanced_fixtures.json
                      per frame: the functional-group attributes, and the modality values (stored values from
                      pydicom's pixel_array times the frame's RescaleSlope plus its RescaleIntercept, PS3.3
                      C.7.6.16.2.9); per volume: the frames in spatial order, the voxel spacing and the RAS+ affine
                      (DICOM LPS+ with x and y negated), computed here with numpy.
"""
import json
import os

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261204)
out = {}


def base(sop_class, syntax, modality, frames, pixels, signed):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset("enhanced", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientID = "PHANTOM-002"
    ds.SeriesInstanceUID = pydicom.uid.generate_uid(prefix="1.2.826.0.1.3680043.8.498.")
    ds.is_little_endian = True
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = pixels.tobytes()
    return ds


def item(**attributes):
    d = Dataset()
    for k, v in attributes.items():
        setattr(d, k, v)
    return d


def delimit(ds, keyword):
    """Writes the sequence and its items with undefined length (delimitation items) instead of counted lengths."""
    ds[keyword].is_undefined_length = True
    for i in ds[keyword].value:
        i.is_undefined_length_sequence_item = True


def ras_affine(row, col, first, last, count, spacing):
    step = (np.asarray(last) - np.asarray(first)) / (count - 1)
    lps = np.column_stack([row * spacing[0], col * spacing[1], step, first])
    return (lps * np.array([[-1], [-1], [1]])).tolist()


# ---------------------------------------------------------------- Enhanced CT
row = np.array([np.cos(0.2), np.sin(0.2), 0.0])
col = np.array([0.0, 0.0, -1.0])            # coronal-ish, tilted
normal = np.cross(row, col)
origin = np.array([12.5, -40.0, 75.0])
stored = rng.integers(-300, 1500, size=(5, 4, 6)).astype(np.int16)
slice_of_frame = [3, 0, 4, 1, 2]              # frame f holds slice slice_of_frame[f]
slopes = [1.0, 1.0, 2.0, 0.5, 1.0]
intercepts = [-1024.0, -1024.0, -2048.0, -512.0, -1000.0]
ds = base("1.2.840.10008.5.1.4.1.1.2.1", ExplicitVRLittleEndian, "CT", 5, stored, signed=True)
ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
shared = item(
    PixelMeasuresSequence=Sequence([item(PixelSpacing=["0.7", "0.9"], SliceThickness="2")]),
    PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=["%.8f" % v for v in np.concatenate([row, col])])]),
)
ds.SharedFunctionalGroupsSequence = Sequence([shared])
per_frame = []
for f, k in enumerate(slice_of_frame):
    per_frame.append(item(
        FrameContentSequence=Sequence([item(InStackPositionNumber=k + 1, StackID="1", DimensionIndexValues=[1, k + 1])]),
        PlanePositionSequence=Sequence([item(ImagePositionPatient=["%.6f" % v for v in origin + 2.0 * k * normal])]),
        PixelValueTransformationSequence=Sequence([item(RescaleIntercept="%g" % intercepts[f], RescaleSlope="%g" % slopes[f],
                                                        RescaleType="HU")]),
        FrameVOILUTSequence=Sequence([item(WindowCenter=str(40 + 10 * f), WindowWidth="400")]),
    ))
ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
delimit(ds, "PerFrameFunctionalGroupsSequence")
for p in per_frame:
    delimit(p, "PlanePositionSequence")
path = os.path.join(here, "enhanced_ct.dcm")
ds.save_as(path, write_like_original=False)

back = pydicom.dcmread(path)
arr = back.pixel_array.astype(np.float64)
frames = []
for f in range(5):
    fg = back.PerFrameFunctionalGroupsSequence[f]
    pvt = fg.PixelValueTransformationSequence[0]
    frames.append({
        "position": [float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient],
        "slope": float(pvt.RescaleSlope), "intercept": float(pvt.RescaleIntercept),
        "window": [float(fg.FrameVOILUTSequence[0].WindowCenter), float(fg.FrameVOILUTSequence[0].WindowWidth)],
        "in_stack_position": int(fg.FrameContentSequence[0].InStackPositionNumber),
        "values": (arr[f] * float(pvt.RescaleSlope) + float(pvt.RescaleIntercept)).reshape(-1).tolist(),
    })
sm = back.SharedFunctionalGroupsSequence[0]
orientation = [float(v) for v in sm.PlaneOrientationSequence[0].ImageOrientationPatient]
spacing = [float(v) for v in sm.PixelMeasuresSequence[0].PixelSpacing]  # row spacing, column spacing
order = sorted(range(5), key=lambda f: float(np.dot(frames[f]["position"], normal)))
o = np.asarray(orientation)
out["enhanced_ct.dcm"] = {
    "shape": [5, 4, 6],
    "orientation": orientation,
    "pixel_spacing": spacing,
    "slice_thickness": float(sm.PixelMeasuresSequence[0].SliceThickness),
    "frames": frames,
    "volume": {
        "order": order,
        "spacing": [spacing[1], spacing[0], 2.0],
        "values": [v for f in order for v in frames[f]["values"]],
        "affine": ras_affine(o[:3], o[3:], frames[order[0]]["position"], frames[order[-1]]["position"], 5,
                             [spacing[1], spacing[0]]),
    },
}

# ---------------------------------------------------------------- Enhanced MR, implicit VR, two temporal positions
row = np.array([1.0, 0.0, 0.0])
col = np.array([0.0, 1.0, 0.0])
normal = np.cross(row, col)
origin = np.array([-20.0, -30.0, 5.0])
stored = rng.integers(0, 4000, size=(6, 3, 5)).astype(np.uint16)
ds = base("1.2.840.10008.5.1.4.1.1.4.1", ImplicitVRLittleEndian, "MR", 6, stored, signed=False)
shared = item(
    PixelMeasuresSequence=Sequence([item(PixelSpacing=["1.25", "1.5"], SliceThickness="3", SpacingBetweenSlices="3.5")]),
    PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[str(v) for v in np.concatenate([row, col])])]),
)
ds.SharedFunctionalGroupsSequence = Sequence([shared])
layout = [(t, s) for s in [2, 0, 1] for t in [1, 2]]  # (temporal position, slice) of each frame
per_frame = []
for t, s in layout:
    per_frame.append(item(
        FrameContentSequence=Sequence([item(TemporalPositionIndex=t, InStackPositionNumber=s + 1, StackID="1",
                                            DimensionIndexValues=[1, t, s + 1])]),
        PlanePositionSequence=Sequence([item(ImagePositionPatient=[str(v) for v in origin + 3.5 * s * normal])]),
    ))
ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
path = os.path.join(here, "enhanced_mr.dcm")
ds.save_as(path, write_like_original=False)

back = pydicom.dcmread(path)
assert not back["PerFrameFunctionalGroupsSequence"].is_undefined_length, "the implicit-VR file must count its lengths"
arr = back.pixel_array.astype(np.float64)
frames = []
for f in range(6):
    fc = back.PerFrameFunctionalGroupsSequence[f].FrameContentSequence[0]
    frames.append({
        "position": [float(v) for v in back.PerFrameFunctionalGroupsSequence[f].PlanePositionSequence[0].ImagePositionPatient],
        "temporal_position": int(fc.TemporalPositionIndex),
        "dimension_index": [int(v) for v in fc.DimensionIndexValues],
        "values": arr[f].reshape(-1).tolist(),
    })
volumes = {}
for t in (1, 2):
    chosen = [f for f in range(6) if frames[f]["temporal_position"] == t]
    order = sorted(chosen, key=lambda f: float(np.dot(frames[f]["position"], normal)))
    volumes[str(t)] = {
        "order": order,
        "spacing": [1.5, 1.25, 3.5],
        "values": [v for f in order for v in frames[f]["values"]],
        "affine": ras_affine(row, col, frames[order[0]]["position"], frames[order[-1]]["position"], 3, [1.5, 1.25]),
    }
out["enhanced_mr.dcm"] = {"shape": [6, 3, 5], "frames": frames, "volumes": volumes}

with open(os.path.join(here, "enhanced_fixtures.json"), "w") as f:
    json.dump({"pydicom": pydicom.__version__, "files": out}, f, indent=0)
print("wrote", sorted(out))
