"""Shared by the make_*_reference.py scripts: writes a safetensors file (atomically: temp file, then rename)."""
import json
import os
import struct

import torch

DTYPES = {torch.float64: ("F64", "d"), torch.float32: ("F32", "f"), torch.int64: ("I64", "q"), torch.bool: ("BOOL", "?")}


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        code, fmt = DTYPES[t.dtype]
        data = struct.pack("<%d%s" % (t.numel(), fmt), *t.reshape(-1).tolist())
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(chunks))
    os.replace(path + ".tmp", path)
