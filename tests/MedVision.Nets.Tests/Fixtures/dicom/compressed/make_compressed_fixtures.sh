#!/usr/bin/env bash
# JPEG-LS and JPEG 2000 DICOM fixtures, each with the uncompressed reference another decoder makes from it
# (*.raw.dcm): JPEG-LS encoded by DCMTK's dcmcjpls and GDCM's gdcmconv, decoded by DCMTK's dcmdjpls; JPEG 2000 encoded
# and decoded by GDCM's gdcmconv, and (colour transforms, which gdcmconv does not write, and a JP2 file) by OpenJPEG's
# opj_compress/opj_decompress wrapped into DICOM with pydicom; High-Throughput JPEG 2000 encoded by OpenJPH's
# ojph_compress and decoded by its ojph_expand (an independent implementation). The lossless ones must also give back
# their sources' values (the tests check both). The sources (*.source.dcm → mr16.dcm, ct12.dcm, mr12_2f.dcm, rgb.dcm)
# stay beside them. Needs Debian's dcmtk, libgdcm-tools, libopenjp2-tools, openjph-tools and python3-pydicom. Run in
# this folder:
#   bash make_compressed_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")"
src=..
/usr/bin/python3 - <<'PY'
# Sources: gdcmconv's JPEG 2000 encoder crashes on images smaller than 16×16, and a 16-bit image larger than one 64×64
# code block exercises more of the codec: a 16-bit unsigned 130×70 MR-like image using the whole range (gradient,
# noise, a 0 → 65535 edge), a signed 12-bit 40×33 CT-like image with a rescale, a two-frame 12-bit 24×20 image and a
# 72×40 RGB photograph-like image.
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

rng = np.random.default_rng(11)


def save(name, image, photometric, bits, signed=False, frames=1, sop="1.2.840.10008.5.1.4.1.1.4", modality="MR"):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = sop, meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    shape = image.shape[1:] if frames > 1 else image.shape
    ds.Rows, ds.Columns = shape[:2]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1 if len(shape) == 2 else shape[2]
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    allocated = 8 if bits <= 8 else 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = allocated, bits, bits - 1, int(signed)
    if modality == "CT":
        ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.PixelData = image.tobytes()
    ds.save_as(name, write_like_original=False)


y, x = np.mgrid[0:70, 0:130]
mr = (x * 400 + y * 150 + rng.normal(0, 1500, size=x.shape)).clip(0, 65535).astype(np.uint16)
mr[30:40, 60] = 0
mr[30:40, 61] = 65535
save("mr16.source.dcm", mr, "MONOCHROME2", 16)
y, x = np.mgrid[0:33, 0:40]
ct = (np.hypot(x - 20, y - 16) < 12) * 1000 - 900 + rng.normal(0, 40, size=x.shape)
ct[5, 5], ct[5, 6] = -2048, 2047
save("ct12.source.dcm", ct.clip(-2048, 2047).astype(np.int16), "MONOCHROME2", 12, signed=True, sop="1.2.840.10008.5.1.4.1.1.2", modality="CT")
frames = rng.integers(0, 4096, size=(2, 20, 24)).astype(np.uint16)
save("mr12_2f.source.dcm", frames, "MONOCHROME2", 12, frames=2)
y, x = np.mgrid[0:40, 0:72]
rgb = (np.stack([x * 3 + y, 200 - y * 4, (x * y) % 256], axis=-1) + rng.normal(0, 6, size=(40, 72, 3))).clip(0, 255).astype(np.uint8)
save("rgb.source.dcm", rgb, "RGB", 8, sop="1.2.840.10008.5.1.4.1.1.7", modality="OT")
with open("rgb.ppm", "wb") as f:  # for opj_compress, which wants the header on three lines
    f.write(b"P6\n72 40\n255\n" + rgb.tobytes())
with open("mr16.pgm", "wb") as f:  # for ojph_compress: 16-bit PGM samples are big-endian
    f.write(b"P5\n130 70\n65535\n" + mr.astype(">u2").tobytes())
PY
jls() { # name dcmcjpls-options... source
  local name=$1; shift
  dcmcjpls "$@" "$name.dcm"
  dcmdjpls "$name.dcm" "$name.raw.dcm"
}
jls ls_ct "$src/ct_explicit.dcm"                        # 12-bit signed, rescaled
jls ls_mr_2f "$src/mr_implicit_2f.dcm"                  # two frames
jls ls_mono1 "$src/mono1.dcm"                           # 8-bit
jls ls_mr16 mr16.source.dcm                             # 16 bits, the whole range
jls ls_rgb_line +il rgb.source.dcm                      # colour, each interleave mode
jls ls_rgb_sample +is rgb.source.dcm
jls ls_rgb_none +in rgb.source.dcm
jls ls_near +en +md 3 mr16.source.dcm                   # near-lossless: every sample within 3 of the source
gdcmconv --jpegls mr16.source.dcm ls_gdcm.dcm           # another encoder
dcmdjpls ls_gdcm.dcm ls_gdcm.raw.dcm
j2k() { # name source gdcmconv-options...
  local name=$1 source=$2; shift 2
  gdcmconv --j2k "$@" "$source" "$name.dcm"
  gdcmconv --raw "$name.dcm" "$name.raw.dcm"
}
j2k j2k_ct ct12.source.dcm                              # 12-bit signed, rescaled
j2k j2k_mr_2f mr12_2f.source.dcm                        # two frames
j2k j2k_mr16 mr16.source.dcm                            # 16 bits, several code blocks
j2k j2k_rgb rgb.source.dcm                              # colour without a colour transform (RGB)
j2k j2k_mr16_lossy mr16.source.dcm --lossy --irreversible -q 40 >/dev/null # lossy (9/7 wavelet, PSNR 40 dB)
# Colour through the reversible (YBR_RCT, lossless) and irreversible (YBR_ICT, lossy) component transforms, and a JP2
# file rather than a bare codestream, from OpenJPEG; the lossy reference is what opj_decompress makes of it.
opj_compress -i rgb.ppm -o rct.j2k -mct 1 >/dev/null
opj_compress -i rgb.ppm -o ict.j2k -mct 1 -I -r 8 >/dev/null
opj_compress -i rgb.ppm -o rgb.jp2 >/dev/null
opj_decompress -i ict.j2k -o ict.ppm >/dev/null
# High-Throughput JPEG 2000 from OpenJPH: lossless grey and colour (reversible colour transform), and lossy grey, whose
# reference is what ojph_expand makes of it.
ojph_compress -i mr16.pgm -o ht_mr16.j2c -reversible true >/dev/null
ojph_compress -i rgb.ppm -o ht_rgb.j2c -reversible true >/dev/null
ojph_compress -i mr16.pgm -o ht_lossy.j2c -qstep 0.002 >/dev/null
ojph_expand -i ht_lossy.j2c -o ht_lossy.pgm >/dev/null
/usr/bin/python3 - <<'PY'
# Wraps the codestreams into DICOM files with the sources' attributes, and the decoders' lossy outputs into references.
import numpy as np, pydicom
import pydicom._uid_dict
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, JPEG2000, generate_uid

# pydicom 2.3 does not know the HTJ2K UIDs: register them as compressed transfer syntaxes.
HTJ2KLossless, HTJ2K = "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.203"
for uid, name in ((HTJ2KLossless, "HTJ2KLossless"), (HTJ2K, "HTJ2K")):
    pydicom._uid_dict.UID_dictionary.setdefault(uid, (name, "Transfer Syntax", "", "", name))


def wrap(name, source, codestream, syntax, photometric):
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PhotometricInterpretation = photometric
    ds.PixelData = encapsulate([open(codestream, "rb").read()])
    ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    ds.save_as(name, write_like_original=False)


def reference(name, source, decoded, dtype):
    ds = pydicom.dcmread(source)
    size = ds.Rows * ds.Columns * ds.SamplesPerPixel * np.dtype(dtype).itemsize
    ds.PixelData = np.frombuffer(open(decoded, "rb").read()[-size:], dtype).astype(dtype.replace(">", "<")).tobytes()
    ds.save_as(name, write_like_original=False)


wrap("j2k_rgb_rct.dcm", "rgb.source.dcm", "rct.j2k", JPEG2000Lossless, "YBR_RCT")
wrap("j2k_rgb_ict.dcm", "rgb.source.dcm", "ict.j2k", JPEG2000, "YBR_ICT")
wrap("j2k_rgb_jp2.dcm", "rgb.source.dcm", "rgb.jp2", JPEG2000Lossless, "RGB")
reference("j2k_rgb_ict.raw.dcm", "rgb.source.dcm", "ict.ppm", "u1")
wrap("ht_mr16.dcm", "mr16.source.dcm", "ht_mr16.j2c", HTJ2KLossless, "MONOCHROME2")
wrap("ht_rgb.dcm", "rgb.source.dcm", "ht_rgb.j2c", HTJ2KLossless, "YBR_RCT")
wrap("ht_lossy.dcm", "mr16.source.dcm", "ht_lossy.j2c", HTJ2K, "MONOCHROME2")
reference("ht_lossy.raw.dcm", "mr16.source.dcm", "ht_lossy.pgm", ">u2")  # 16-bit PGM samples are big-endian
PY
rm rgb.ppm mr16.pgm rct.j2k ict.j2k rgb.jp2 ict.ppm ht_mr16.j2c ht_rgb.j2c ht_lossy.j2c ht_lossy.pgm
for f in *.source.dcm; do mv "$f" "${f%.source.dcm}.dcm"; done
for f in *.dcm; do printf '%-24s %s\n' "$f" "$(dcmdump -q +P 0002,0010 +P 0028,0004 "$f" | awk '{print $3}' | tr '\n' ' ')"; done
