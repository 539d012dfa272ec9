#!/usr/bin/env bash
# Colour DICOM fixtures in YBR_FULL and YBR_FULL_422 (ultrasound and endoscopy devices write these), each with the RGB
# that DCMTK, an independent decoder, makes of it (*.ppm, written by dcm2pnm / dcml2pnm, which convert YCbCr to RGB;
# DCMTK centres the chroma at 127.5 rather than the standard's 128, so its RGB is up to 2 off the equations'), and the
# RGB that pydicom's convert_color_space makes of the uncompressed YCbCr with the equations of PS3.3 C.7.6.3.1.2
# (ybr_full.pydicom.ppm, ybr_full_422.pydicom.ppm; the RLE and JPEG-LS files hold the same YCbCr as ybr_full.dcm).
# The source is ../compressed/rgb.dcm (72×40 RGB); its YCbCr is computed here with DICOM's YBR_FULL equations (PS3.3
# C.7.6.3.1.2), rounded to 8 bits; YBR_FULL_422 keeps one Cb and one Cr per horizontal pair of pixels (their mean).
# Uncompressed interleaved, planar and 4:2:2 files are written with pydicom; RLE and JPEG-LS files are encoded from the
# interleaved one by DCMTK's dcmcrle and dcmcjpls, which keep YBR_FULL. Needs Debian's dcmtk and python3-pydicom.
# Run in this folder:
#   bash make_ybr_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 - <<'PY'
import numpy as np, pydicom
from pydicom.uid import generate_uid

rgb = pydicom.dcmread("../compressed/rgb.dcm").pixel_array.astype(np.float64)
r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
y = 0.2990 * r + 0.5870 * g + 0.1140 * b
cb = -0.1687 * r - 0.3313 * g + 0.5000 * b + 128
cr = 0.5000 * r - 0.4187 * g - 0.0813 * b + 128
ybr = np.stack([y, cb, cr], axis=-1).round().clip(0, 255).astype(np.uint8)


def save(name, pixels, photometric, planar=0):
    ds = pydicom.dcmread("../compressed/rgb.dcm")
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PhotometricInterpretation = photometric
    ds.PlanarConfiguration = planar
    ds.PixelData = pixels.tobytes()
    ds.save_as(name, write_like_original=False)


save("ybr_full.dcm", ybr, "YBR_FULL")
save("ybr_full_planar.dcm", np.ascontiguousarray(ybr.transpose(2, 0, 1)), "YBR_FULL", planar=1)
pairs = ybr.astype(np.float64).reshape(40, 36, 2, 3)
chroma = pairs[:, :, :, 1:].mean(axis=2).round().astype(np.uint8)  # (40, 36, 2): Cb, Cr per pair
packed = np.concatenate([ybr[:, :, 0].reshape(40, 36, 2), chroma], axis=-1)  # Y1 Y2 Cb Cr per pair
save("ybr_full_422.dcm", packed, "YBR_FULL_422")

from pydicom.pixel_data_handlers.util import convert_color_space
for name in ("ybr_full", "ybr_full_422"):
    expanded = pydicom.dcmread(name + ".dcm").pixel_array  # pydicom expands 4:2:2 to full resolution
    rgb = convert_color_space(expanded, "YBR_FULL", "RGB")
    with open(name + ".pydicom.ppm", "wb") as f:
        f.write(b"P6\n72 40\n255\n" + rgb.astype(np.uint8).tobytes())
PY
dcmcrle ybr_full.dcm ybr_rle.dcm
dcmcjpls ybr_full.dcm ybr_jls.dcm
for f in ybr_full ybr_full_planar ybr_full_422 ybr_rle; do dcm2pnm --write-raw-pnm "$f.dcm" "$f.ppm"; done
dcml2pnm --write-raw-pnm ybr_jls.dcm ybr_jls.ppm
for f in *.dcm; do printf '%-22s %s\n' "$f" "$(dcmdump -q +P 0002,0010 +P 0028,0004 +P 0028,0006 "$f" | awk '{print $3}' | tr '\n' ' ')"; done
