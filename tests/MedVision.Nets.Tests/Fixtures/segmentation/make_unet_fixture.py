#!/usr/bin/python3
"""Reference fixtures for the U-Net tests, computed with PyTorch.

Run with /usr/bin/python3 (torch 1.13) from this folder:

    /usr/bin/python3 make_unet_fixture.py

The network is the U-Net of Ronneberger et al. (MICCAI 2015) as MedVision.Nets builds it, written here in plain
PyTorch with the same module names (so the same state-dict keys):

  encoder{i}   (conv 3, pad 1, no bias) -> norm -> act -> (conv 3, pad 1, no bias) -> norm -> act   ("0".."5")
               level 0 on the input, level i > 0 after a 2x max pooling of level i - 1
  dropout      (no parameters) on the deepest level's output
  upsample{i}  level i -> level i - 1: ConvTranspose(f_i -> f_{i-1}, kernel 2, stride 2), or a 1x1 convolution
               (f_i -> f_{i-1}, bias) followed by 2x bilinear/trilinear interpolation (align_corners=False)
  decoder{i}   the same double convolution on cat([skip_i, upsampled], dim=1): 2 f_i -> f_i
  head         1x1 convolution f_0 -> classes, with bias

Norm: BatchNorm (eval mode, randomised running statistics) or InstanceNorm with affine=True (randomised affine).

Writes (the safetensors format by hand: an 8-byte little-endian header length, a JSON header, raw bytes):
  unet_2d_batch_transposed.safetensors     2-D, 2 input channels, features 4/8/16, 3 classes, ReLU, input 2x2x16x16
  unet_3d_instance_interp.safetensors      3-D, 1 input channel, features 4/8, 2 classes, LeakyReLU(0.1),
                                           interpolation, input 2x1x8x8x8
Each holds the state dict, "input" and "expected" (eval-mode forward).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from make_resnet_fixture import write_safetensors  # noqa: E402  (the shared writer, one folder up)


def norm(kind, dims, channels):
    if kind == "batch":
        return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm3d)(channels)
    return (nn.InstanceNorm2d if dims == 2 else nn.InstanceNorm3d)(channels, affine=True)


def act(slope):
    return nn.ReLU(inplace=True) if slope is None else nn.LeakyReLU(slope, inplace=True)


def double_conv(dims, cin, cout, kind, slope):
    conv = nn.Conv2d if dims == 2 else nn.Conv3d
    return nn.Sequential(conv(cin, cout, 3, padding=1, bias=False), norm(kind, dims, cout), act(slope),
                         conv(cout, cout, 3, padding=1, bias=False), norm(kind, dims, cout), act(slope))


class UNet(nn.Module):
    def __init__(self, dims, cin, classes, features, kind, transposed, slope):
        super().__init__()
        self.dims, self.transposed, self.levels = dims, transposed, len(features)
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        for i, f in enumerate(features):
            setattr(self, f"encoder{i}", double_conv(dims, cin if i == 0 else features[i - 1], f, kind, slope))
        for i in range(1, len(features)):
            if transposed:
                up = (nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d)(features[i], features[i - 1], 2, stride=2)
            else:
                up = conv(features[i], features[i - 1], 1)
            setattr(self, f"upsample{i}", up)
            setattr(self, f"decoder{i - 1}", double_conv(dims, 2 * features[i - 1], features[i - 1], kind, slope))
        self.head = conv(features[0], classes, 1)

    def forward(self, x):
        pool = F.max_pool2d if self.dims == 2 else F.max_pool3d
        skips = []
        for i in range(self.levels):
            if i > 0:
                x = pool(x, 2, 2)
            x = getattr(self, f"encoder{i}")(x)
            skips.append(x)
        for i in range(self.levels - 1, 0, -1):
            up = getattr(self, f"upsample{i}")(x)
            if not self.transposed:
                up = F.interpolate(up, scale_factor=2, mode="bilinear" if self.dims == 2 else "trilinear", align_corners=False)
            x = getattr(self, f"decoder{i - 1}")(torch.cat([skips[i - 1], up], dim=1))
        return self.head(x)


def randomise_norms(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm2d, nn.InstanceNorm3d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(3)


def make(path, seed, dims, cin, classes, features, kind, transposed, slope, input_shape):
    torch.manual_seed(seed)
    model = UNet(dims, cin, classes, features, kind, transposed, slope)
    randomise_norms(model)
    model.eval()
    x = torch.randn(*input_shape)
    with torch.no_grad():
        y = model(x)
    tensors = dict(model.state_dict())
    tensors["input"] = x
    tensors["expected"] = y
    write_safetensors(path, tensors)
    print(path, tuple(y.shape), sum(p.numel() for p in model.parameters()), "parameters")


make("unet_2d_batch_transposed.safetensors", 1, 2, 2, 3, [4, 8, 16], "batch", True, None, (2, 2, 16, 16))
make("unet_3d_instance_interp.safetensors", 2, 3, 1, 2, [4, 8], "instance", False, 0.1, (2, 1, 8, 8, 8))
