"""Writes enhanced_slabs.dcm: enhanced_mr.dcm (make_enhanced_fixtures.py) turned into a file of two slabs of three
slices each, 20 mm apart along the slice normal, told apart by StackID (1, 2) and DimensionIndexValues [stack, slice]:
two volumes of one file on different grids (different regions), which a volume folder must not stack as channels.

Run with /usr/bin/python3 (pydicom 2.3) from this folder, after make_enhanced_fixtures.py:  /usr/bin/python3 make_slab_fixture.py
"""
import os

import pydicom

here = os.path.dirname(os.path.abspath(__file__))
ds = pydicom.dcmread(os.path.join(here, "enhanced_mr.dcm"))
for frame in ds.PerFrameFunctionalGroupsSequence:
    content = frame.FrameContentSequence[0]
    stack = int(content.TemporalPositionIndex)          # the second time point becomes the second slab
    del content.TemporalPositionIndex
    content.StackID = str(stack)
    content.DimensionIndexValues = [stack, int(content.InStackPositionNumber)]
    position = frame.PlanePositionSequence[0]
    x, y, z = (float(v) for v in position.ImagePositionPatient)
    position.ImagePositionPatient = [str(x), str(y), str(z + 20.0 * (stack - 1))]
ds.save_as(os.path.join(here, "enhanced_slabs.dcm"), write_like_original=False)
back = pydicom.dcmread(os.path.join(here, "enhanced_slabs.dcm"))
print("wrote enhanced_slabs.dcm:", sorted({(f.FrameContentSequence[0].StackID, float(f.PlanePositionSequence[0].ImagePositionPatient[2])) for f in back.PerFrameFunctionalGroupsSequence}))
