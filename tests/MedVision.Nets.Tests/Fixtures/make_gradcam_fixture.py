#!/usr/bin/python3
"""Reference class-activation maps for the GradCam tests, computed with PyTorch autograd and forward hooks.

Run with /usr/bin/python3 (torch 1.13 + torchvision 0.14) from this folder, after make_resnet_fixture.py:

    /usr/bin/python3 make_gradcam_fixture.py

Reads the tiny torchvision-block ResNets of make_resnet_fixture.py (their weights; basic_small also its 2-image
28x28 "input", whose layer4 map is 4x4; bottleneck_imagenet gets a new seeded 2x3x72x72 input, stored as
bottleneck_imagenet.input, so that its layer4 map is 3x3 rather than 1x1) and writes gradcam_reference.safetensors
with, for each network NET in {basic_small, bottleneck_imagenet}:
  NET.gradcam.classes / NET.gradcam.raw / NET.gradcam.final      Grad-CAM of the predicted (arg-max) classes
  NET.gradcampp.classes / NET.gradcampp.raw / NET.gradcampp.final  Grad-CAM++ of classes [4, 0]
"raw" is the rectified weighted channel sum at layer4's resolution; "final" is it resized to the input with
bilinear interpolation (align_corners=False) and min-max scaled to [0, 1] per sample.

The formulas are the papers' as pytorch-grad-cam computes them (Grad-CAM: w = spatial mean of dS/dA;
Grad-CAM++: alpha = g^2 / (2 g^2 + sum(A) g^3), 0/0 -> 0, w = sum(alpha * relu(g))), written out here so that the
fixture needs nothing beyond torch.
"""
import json
import struct

import torch
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck

from make_resnet_fixture import TinyResNet, write_safetensors


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=dtypes[meta["dtype"]])
        out[name] = t.reshape(meta["shape"]).clone()
    return out


def cam(model, x, classes, plus_plus):
    captured = {}
    handle = model.layer4.register_forward_hook(lambda m, i, o: captured.__setitem__("a", o))
    logits = model(x.clone().requires_grad_(True))
    handle.remove()
    a = captured["a"]
    if classes is None:
        classes = logits.argmax(1)
    scores = logits.gather(1, classes.view(-1, 1)).flatten()
    (g,) = torch.autograd.grad(scores.sum(), a)
    a, g = a.detach(), g.detach()
    if plus_plus:
        g2, g3 = g.pow(2), g.pow(3)
        denominator = 2 * g2 + a.sum(dim=(2, 3), keepdim=True) * g3
        denominator = torch.where(denominator != 0, denominator, torch.ones_like(denominator))
        weights = (g2 / denominator * F.relu(g)).sum(dim=(2, 3), keepdim=True)
    else:
        weights = g.mean(dim=(2, 3), keepdim=True)
    raw = F.relu((weights * a).sum(1, keepdim=True))
    up = F.interpolate(raw, size=x.shape[2:], mode="bilinear", align_corners=False)
    lo = up.amin(dim=(1, 2, 3), keepdim=True)
    rng = up.amax(dim=(1, 2, 3), keepdim=True) - lo
    final = (up - lo) / torch.where(rng > 0, rng, torch.ones_like(rng))
    return classes, raw, final


def main():
    out = {}
    for net, block, widths, small in (("basic_small", BasicBlock, [8, 16, 32, 64], True),
                                       ("bottleneck_imagenet", Bottleneck, [4, 8, 16, 32], False)):
        tensors = read_safetensors(f"resnet_tiny_{net}.safetensors")
        model = TinyResNet(block, [1, 1, 1, 1], widths, num_classes=5, small_input=small)
        model.load_state_dict({k: v for k, v in tensors.items() if k not in ("input", "expected")})
        model.eval()
        if small:
            x = tensors["input"]
        else:
            torch.manual_seed(11)
            x = torch.randn(2, 3, 72, 72)
            out[f"{net}.input"] = x
        for key, classes, plus_plus in (("gradcam", None, False), ("gradcampp", torch.tensor([4, 0]), True)):
            c, raw, final = cam(model, x, classes, plus_plus)
            out[f"{net}.{key}.classes"] = c
            out[f"{net}.{key}.raw"] = raw
            out[f"{net}.{key}.final"] = final
            print(net, key, "classes", c.tolist(), "raw", tuple(raw.shape), "max", float(raw.max()))
    write_safetensors("gradcam_reference.safetensors", out)


if __name__ == "__main__":
    main()
