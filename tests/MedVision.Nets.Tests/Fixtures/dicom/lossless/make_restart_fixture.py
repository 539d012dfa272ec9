"""A JPEG Lossless (process 14) DICOM file with restart intervals, which neither dcmcjpeg nor gdcmconv writes: a small
encoder (ITU-T T.81 annex H) for a 16-bit 37×21 image, predictor 7, restart interval of two rows, one 5-bit Huffman
code per difference category. make_lossless_fixtures.sh decodes it with DCMTK's dcmdjpeg and checks that the result
equals the source image, so the file is valid for an independent decoder.

Run with Debian's python3-pydicom: /usr/bin/python3 make_restart_fixture.py (writes restart_sv7.dcm and restart.source.npy)
"""
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid

rows, cols, precision, predictor = 21, 37, 16, 7
restart_rows = 2
rng = np.random.default_rng(5)
image = (np.linspace(0, 60000, cols)[None, :] + rng.normal(0, 3000, size=(rows, cols))).clip(0, 65535).astype(np.int64)
image[3, 5], image[3, 6] = 0, 32768  # difference category 16

def predict(img, y, x, first_line):
    if first_line:
        return (1 << (precision - 1)) if x == 0 else img[y, x - 1]
    if x == 0:
        return img[y - 1, 0]
    a, b, c = int(img[y, x - 1]), int(img[y - 1, x]), int(img[y - 1, x - 1])
    return [None, a, b, c, a + b - c, a + ((b - c) >> 1), b + ((a - c) >> 1), (a + b) >> 1][predictor]

class Bits:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0
    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc, self.n = 0, 0
    def flush(self):  # pad with 1-bits
        while self.n:
            self.put(1, 1)

bits = Bits()
restarts = 0
for y in range(rows):
    if y > 0 and y % restart_rows == 0:
        bits.flush()
        bits.out += bytes([0xFF, 0xD0 + restarts % 8])
        restarts += 1
    first_line = y % restart_rows == 0
    for x in range(cols):
        diff = (int(image[y, x]) - int(predict(image, y, x, first_line))) % 65536
        if diff >= 32768 and diff != 32768:
            diff -= 65536
        category = 16 if diff == 32768 else (0 if diff == 0 else abs(diff).bit_length())
        bits.put(category, 5)  # symbol k has the 5-bit code k
        if 0 < category < 16:
            bits.put(diff if diff > 0 else diff + (1 << category) - 1, category)
bits.flush()

def segment(marker, body):
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

stream = bytes([0xFF, 0xD8])
stream += segment(0xC3, bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes([1, 1, 0x11, 0]))
stream += segment(0xC4, bytes([0x00]) + bytes([0, 0, 0, 0, 17] + [0] * 11) + bytes(range(17)))
stream += segment(0xDD, (restart_rows * cols).to_bytes(2, "big"))
stream += segment(0xDA, bytes([1, 1, 0x00, predictor, 0, 0]))
stream += bytes(bits.out) + bytes([0xFF, 0xD9])

meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.57"
ds = Dataset()
ds.file_meta = meta
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
ds.Modality = "MR"
ds.Rows, ds.Columns = rows, cols
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
ds.PixelData = encapsulate([stream])
ds["PixelData"].is_undefined_length = True
ds["PixelData"].VR = "OB"
ds.save_as("restart_sv7.dcm", write_like_original=False)
np.save("restart.source.npy", image.astype(np.uint16))
print("restart_sv7.dcm:", restarts, "restart markers")
