"""Writes 16-bit PNGs with alpha, encoded by ImageMagick (libpng, adaptive filtering), for ImageCodecTests:

    rgba16.png, rgba16-adam7.png   13x7 RGBA, 16 bits a sample, plain and Adam7-interlaced
    ga16.png, ga16-adam7.png       13x7 grey + alpha, 16 bits a sample, plain and Adam7-interlaced
    rgba16.raw, ga16.raw           their samples, big-endian 16-bit, row by row (RGBA or grey-alpha interleaved)

The colour is smooth with noise so that the encoder uses several row filters (the script prints the filter types);
alpha cycles through 0, 1, 300, 32768, 65535 and random values, so transparent pixels carry colour too. Each PNG is
read back by ImageMagick and must give the raw samples exactly.

Needs ImageMagick 6 (apt-get install imagemagick); run with the system Python:  /usr/bin/python3 make_png16_alpha_fixtures.py
"""
import os
import random
import struct
import subprocess
import zlib

here = os.path.dirname(os.path.abspath(__file__))
random.seed(20261203)
W, H = 13, 7  # raw samples go in and come out big-endian (-endian MSB; ImageMagick's default here is the machine's order)
ALPHAS = [0, 65535, 32768, 1, 300, None]


def sample(base):
    return max(0, min(65535, base + random.randrange(-700, 700)))


rgba, ga = [], []
for y in range(H):
    for x in range(W):
        i = y * W + x
        a = ALPHAS[i % len(ALPHAS)]
        a = random.randrange(65536) if a is None else a
        rgba += [sample(4000 * x + 900 * y + 1000), sample(60000 - 3500 * x), sample(2000 + 7000 * y), a]
        ga += [sample(3000 * x + 5000 * y + 500), a]


def convert(args, name):
    subprocess.run(["/usr/bin/convert", *args, os.path.join(here, name)], check=True)


def filters(path, bytes_per_pixel, interlaced):
    data, at, idat = open(path, "rb").read(), 8, b""
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + n]
        at += 12 + n
    raw = zlib.decompress(idat)
    if interlaced:
        return sorted(set(raw[:1]))  # the first pass's first filter only; the decoder test covers the rest
    stride = W * bytes_per_pixel + 1
    return [raw[r * stride] for r in range(H)]


open(os.path.join(here, "rgba16.raw"), "wb").write(struct.pack(">%dH" % len(rgba), *rgba))
open(os.path.join(here, "ga16.raw"), "wb").write(struct.pack(">%dH" % len(ga), *ga))
# ImageMagick has no grey-alpha raw input: the grey goes in as R = G = B and the file is written as colour type 4.
grey_as_rgba = [v for k in range(0, len(ga), 2) for v in (ga[k], ga[k], ga[k], ga[k + 1])]
open(os.path.join(here, "ga16-input.tmp"), "wb").write(struct.pack(">%dH" % len(grey_as_rgba), *grey_as_rgba))
for name, raw, colour_type, channels in [("rgba16", "rgba16.raw", 6, 4), ("ga16", "ga16-input.tmp", 4, 2)]:
    for suffix, extra in [("", []), ("-adam7", ["-interlace", "PNG"])]:
        png = f"{name}{suffix}.png"
        convert(["-size", f"{W}x{H}", "-depth", "16", "-endian", "MSB", "rgba:" + os.path.join(here, raw), "-define", "png:compression-filter=5",
                 "-define", f"png:color-type={colour_type}", "-define", "png:bit-depth=16", "-strip", *extra], png)
        back = subprocess.run(["/usr/bin/convert", os.path.join(here, png), "-depth", "16", "-endian", "MSB", "rgba:-"], check=True, capture_output=True).stdout
        assert back == open(os.path.join(here, raw), "rb").read(), f"{png} does not read back as its samples"
        print(png, "filters", filters(os.path.join(here, png), 2 * channels, suffix != ""))
os.remove(os.path.join(here, "ga16-input.tmp"))
