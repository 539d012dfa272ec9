#!/usr/bin/env bash
# JPEG Lossless (process 14) DICOM fixtures, encoded by two independent encoders (DCMTK's dcmcjpeg and GDCM's
# gdcmconv), each with the uncompressed reference DCMTK's dcmdjpeg decodes from it (*.raw.dcm).
# Needs Debian's dcmtk, libgdcm-tools and python3-pydicom (for the 16-bit source image). Run in this folder:
#   bash make_lossless_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")"
src=..
/usr/bin/python3 - <<'PY'
# A 16-bit unsigned 40×24 image using the whole range, with a 0 → 32768 step (difference category 16) and noise.
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
rng = np.random.default_rng(3)
image = (np.linspace(0, 65535, 40)[None, :] + rng.normal(0, 2000, size=(24, 40))).clip(0, 65535).astype(np.uint16)
image[5, 10], image[5, 11] = 0, 32768
image[6, :4] = [65535, 0, 65535, 0]
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
ds.Modality = "MR"
ds.Rows, ds.Columns = image.shape
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
ds.PixelData = image.tobytes()
ds.save_as("mr16.source.dcm", write_like_original=False)
PY
encode() { # name encoder-command...
  local name=$1; shift
  "$@" "$name.dcm"
  dcmdjpeg "$name.dcm" "$name.raw.dcm"
}
encode ct_sv1 dcmcjpeg +e1 "$src/ct_explicit.dcm"                 # 12-bit signed, rescaled, selection value 1
encode ct_sv4_pt2 dcmcjpeg +el +sv 4 +pt 2 "$src/ct_explicit.dcm" # selection value 4, point transform 2 (lossy)
encode mr_sv6 dcmcjpeg +el +sv 6 "$src/mr_implicit_2f.dcm"        # two frames
encode rgb_sv7 dcmcjpeg +el +sv 7 "$src/rgb_planar.dcm"           # three interleaved components
encode mr16_sv5 dcmcjpeg +el +sv 5 mr16.source.dcm                # 16 bits, the whole range
encode mr16_sv1 dcmcjpeg +e1 mr16.source.dcm
encode ct_gdcm gdcmconv --jpeg "$src/ct_explicit.dcm"             # another encoder
rm mr16.source.dcm
# Restart intervals (RSTn markers), which neither encoder writes: make_restart_fixture.py encodes them; DCMTK decodes
# the file back to the source image exactly, or this script stops.
/usr/bin/python3 make_restart_fixture.py
dcmdjpeg restart_sv7.dcm restart_sv7.raw.dcm
/usr/bin/python3 -c "
import numpy as np, pydicom
assert (pydicom.dcmread('restart_sv7.raw.dcm').pixel_array == np.load('restart.source.npy')).all(), 'dcmdjpeg disagrees'"
rm restart.source.npy
ls -l
