"""Writes cmyk.jpg: an 8x8 CMYK JPEG (as print workflows and some scanners produce; Adobe APP14 marker), made with
Pillow, used by ImageCodecTests to check that such a file gets a clear NotSupportedException.

Run with the system Python:  /usr/bin/python3 make_image_fixtures.py
"""
import os

from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
image = Image.new("CMYK", (8, 8), (20, 40, 60, 10))
image.save(os.path.join(here, "cmyk.jpg"), quality=90)
