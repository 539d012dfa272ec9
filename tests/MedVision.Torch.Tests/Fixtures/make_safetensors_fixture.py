#!/usr/bin/env python3
"""Writes fixture.safetensors by hand (no `safetensors` package): an 8-byte little-endian header length,
a space-padded JSON header, then the raw little-endian row-major tensor bytes.

Run with /usr/bin/python3 (numpy + torch 1.13): python3 make_safetensors_fixture.py
SafeTensorsInteropTests checks the values written here.
"""
import json
import os
import struct

import numpy as np
import torch


def bf16_bytes(values):
    # torch gives the exact bfloat16 bit patterns; numpy has no bfloat16.
    return torch.tensor(values, dtype=torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()


tensors = [
    ("weight", "F32", [2, 3], np.array([1.5, -2.0, 3.25, 0.0, 1e-3, -7.0], dtype="<f4").tobytes()),
    ("index", "I64", [3], np.array([-1, 0, 9007199254740993], dtype="<i8").tobytes()),
    ("half", "F16", [2, 2], np.array([0.5, -1.5, 65504.0, 2.0 ** -10], dtype="<f2").tobytes()),
    ("bf", "BF16", [3], bf16_bytes([1.0, -2.5, 3.140625])),
    ("mask", "BOOL", [2, 2], np.array([True, False, False, True], dtype=np.bool_).tobytes()),
    ("scalar", "F64", [], np.array(2.718281828459045, dtype="<f8").tobytes()),
    ("empty", "F32", [0, 3], b""),
    ("bytes", "U8", [4], np.array([0, 1, 128, 255], dtype=np.uint8).tobytes()),
    ("small", "I8", [3], np.array([-128, 0, 127], dtype=np.int8).tobytes()),
    ("short", "I16", [2], np.array([-32768, 32767], dtype="<i2").tobytes()),
    ("int", "I32", [2, 1], np.array([-2147483648, 123456789], dtype="<i4").tobytes()),
]

header = {"__metadata__": {"format": "pt", "source": "make_safetensors_fixture.py"}}
buffer = b""
for name, dtype, shape, data in tensors:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(buffer), len(buffer) + len(data)]}
    buffer += data

text = json.dumps(header, separators=(",", ":")).encode("utf-8")
text += b" " * (-len(text) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    f.write(buffer)
print(f"wrote {out}: {8 + len(text) + len(buffer)} bytes")
