"""Reference warps of RandomElasticDeformation: an image sampled at (voxel + displacement), trilinear (bilinear for 2-D),
outside positions reflected at the image's border, as MONAI's Rand2DElastic/Rand3DElastic resample (torch's grid_sample,
mode "bilinear", padding_mode "reflection", align_corners=False), for a fixed displacement field that reaches beyond the
border. Computed with PyTorch 1.13's grid_sample; the tests need no Python.

Run with /usr/bin/python3 from this folder:  /usr/bin/python3 make_elastic_fixture.py
"""
import json

import torch

torch.manual_seed(20261204)
cases = {}
for name, spatial in (("volume", (5, 6, 7)), ("image", (6, 7))):
    rank = len(spatial)
    image = torch.rand((2,) + spatial, dtype=torch.float64) * 10 - 3
    displacement = (torch.rand((rank,) + spatial, dtype=torch.float64) * 2 - 1) * 2.5   # voxels, per axis in array order
    # Sampling positions in voxel indices, then grid_sample's normalised coordinates (align_corners=False).
    index = torch.stack(torch.meshgrid(*[torch.arange(s, dtype=torch.float64) for s in spatial], indexing="ij"))
    position = index + displacement
    normalised = torch.stack([(2 * position[a] + 1) / spatial[a] - 1 for a in range(rank)])
    grid = normalised.flip(0).movedim(0, -1).unsqueeze(0)   # (1, *spatial, rank) with x (the last axis) first
    out = torch.nn.functional.grid_sample(image.unsqueeze(0), grid, mode="bilinear", padding_mode="reflection", align_corners=False)[0]
    cases[name] = {
        "image": {"shape": list(image.shape), "values": image.flatten().tolist()},
        "displacement": {"shape": list(displacement.shape), "values": displacement.flatten().tolist()},
        "output": {"shape": list(out.shape), "values": out.flatten().tolist()},
    }
with open("elastic_fixture.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print("wrote elastic_fixture.json with torch", torch.__version__)
