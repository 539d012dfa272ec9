#!/usr/bin/python3
"""Writes resnet_tiny_basic_small.pth: the weights of resnet_tiny_basic_small.safetensors (see make_resnet_fixture.py)
as a training checkpoint that torch.save wrote, the way Python code usually leaves a model behind:

    torch.save({"epoch": 12, "arch": "resnet-tiny", "state_dict": model.state_dict()}, path)

with the keys of an nn.DataParallel-wrapped model ("module.conv1.weight", ...). The ResNet tests read it with
PyTorchFile.LoadStateDict(path, entry: "state_dict", removePrefix: "module.") and compare the forward pass with the
safetensors fixture's "expected". Run with /usr/bin/python3 (torch 1.13) from this folder.

Also writes resnet_tiny_basic_small_plain.pth: the same weights as torch.save(model.state_dict()) writes them (plain
torchvision keys), which ModelFile/Predictor load with a sidecar card (PredictorTests).
"""
import collections
import json
import os
import struct

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}

with open("resnet_tiny_basic_small.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
state = collections.OrderedDict()
for name, info in header.items():
    if name == "__metadata__" or name in ("input", "expected"):
        continue
    begin, end = info["data_offsets"]
    tensor = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    state["module." + name] = tensor.clone()
torch.save({"epoch": 12, "arch": "resnet-tiny", "state_dict": state}, "resnet_tiny_basic_small.pth.tmp")
os.replace("resnet_tiny_basic_small.pth.tmp", "resnet_tiny_basic_small.pth")
plain = collections.OrderedDict((k[len("module."):], v) for k, v in state.items())
torch.save(plain, "resnet_tiny_basic_small_plain.pth.tmp")
os.replace("resnet_tiny_basic_small_plain.pth.tmp", "resnet_tiny_basic_small_plain.pth")
print(f"{len(state)} tensors")
