"""Writes dtypes.npz (uncompressed, numpy.savez) and dtypes.json: one array of every element type NpyFormat reads,
with the extremes of each, a 0-d scalar and an empty array, as NumPy writes them. The tests compare what the C# reader
gives with the values listed in the JSON; they need no Python.

Run with /usr/bin/python3 (Debian's NumPy) from this folder:  /usr/bin/python3 make_npy_fixtures.py
"""
import json

import numpy as np

arrays = {
    "bool": np.array([[True, False, True], [False, False, True]]),
    "int8": np.array([-128, -1, 0, 127], dtype=np.int8),
    "uint8": np.array([0, 1, 255], dtype=np.uint8),
    "int16": np.array([-32768, -2, 32767], dtype=np.int16),
    "uint16": np.array([0, 40000, 65535], dtype=np.uint16),
    "int32": np.array([[-2147483648, 7], [2147483647, -9]], dtype=np.int32),
    "uint32": np.array([0, 3000000000, 4294967295], dtype=np.uint32),
    "int64": np.array([-(2 ** 63), -5, 2 ** 40], dtype=np.int64),
    "uint64_small": np.array([0, 2 ** 63 - 1], dtype=np.uint64),
    "uint64_large": np.array([1, 2 ** 64 - 1], dtype=np.uint64),
    "float32": np.array([[-0.25, 3.0e38], [1e-40, 1.0 / 3.0]], dtype=np.float32),
    "float64": np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7,
    "scalar": np.float64(2.5),
    "empty": np.zeros((0, 3), dtype=np.float32),
}
np.savez("dtypes.npz", **arrays)
with np.load("dtypes.npz") as check:  # what a reader of the file sees
    expected = {
        name: {
            "descr": check[name].dtype.str,
            "shape": list(check[name].shape),
            # exact decimal text of each value as a double (uint64 beyond 2^53 rounds, as the C# conversion does)
            "values": [float(v) for v in check[name].ravel()],
        }
        for name in arrays
    }
with open("dtypes.json", "w") as f:
    json.dump({"numpy": np.__version__, "arrays": expected}, f)
print("wrote dtypes.npz and dtypes.json with NumPy", np.__version__)
