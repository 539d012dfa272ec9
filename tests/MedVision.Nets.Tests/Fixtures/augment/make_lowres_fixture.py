"""Reference outputs of RandomSimulateLowResolution: MONAI's RandSimulateLowResolution for a given zoom factor, i.e.
torch.nn.functional.interpolate to max(1, round(size * zoom)) per spatial axis (NumPy's round: halves to even) with
mode "nearest", then back to the size with "trilinear" (volumes) or "bilinear" (images), align_corners=False — on the
inputs of augment_fixture.json. The tests need no Python.

Run with /usr/bin/python3 (PyTorch 1.13) from this folder, after make_augment_fixtures.py:  /usr/bin/python3 make_lowres_fixture.py
"""
import json

import numpy as np
import torch
import torch.nn.functional as F

with open("augment_fixture.json") as f:
    inputs = json.load(f)


def array(entry):
    return np.asarray(entry["values"], dtype=np.float32).reshape(entry["shape"])


def simulate(img, zoom):
    shape = img.shape[1:]
    target = tuple(max(1, int(np.round(s * zoom))) for s in shape)
    t = torch.from_numpy(img).unsqueeze(0)
    down = F.interpolate(t, size=target, mode="nearest")
    up = F.interpolate(down, size=shape, mode="trilinear" if len(shape) == 3 else "bilinear", align_corners=False)
    return target, up.squeeze(0).numpy()


cases = {}
# 0.5 on (5, 6, 7): 2.5 → 2 (half to even), 3, 3.5 → 4; 0.6: 3, 3.6 → 4, 4.2 → 4; 0.15: every axis to 1.
for zoom in (0.5, 0.6, 0.15):
    for name in ("volume", "image"):
        target, out = simulate(array(inputs[name]), zoom)
        cases[f"lowres_{name}_{zoom}"] = {"zoom": zoom, "target": list(target),
                                          "output": {"shape": list(out.shape), "values": [float(v) for v in out.ravel()]}}

with open("lowres_fixture.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(len(cases), "cases")
