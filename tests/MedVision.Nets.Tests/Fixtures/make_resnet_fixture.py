#!/usr/bin/python3
"""Reference fixtures for the ResNet tests, computed with torchvision.

Run with /usr/bin/python3 (torch 1.13 + torchvision 0.14) from this folder:

    /usr/bin/python3 make_resnet_fixture.py

Writes
  resnet18_state_dict_keys.txt        torchvision.models.resnet18().state_dict().keys(), one per line, in order
  resnet{18,50}_state_dict_shapes.txt "key dim0,dim1,..." for every state-dict entry (full-size strict-load test)
  resnet_tiny_basic_imagenet.safetensors    BasicBlock [1, 1, 1, 1], widths 8/16/32/64, ImageNet stem, 5 classes
  resnet_tiny_basic_small.safetensors       the same with the small-input stem (3x3 stride-1 conv1, maxpool = Identity)
  resnet_tiny_bottleneck_imagenet.safetensors  Bottleneck [1, 1, 1, 1], widths 4/8/16/32, ImageNet stem, 5 classes
  resnet_tiny_bottleneck_dilated.safetensors   Bottleneck [1, 2, 2, 2], the same widths, replace_stride_with_dilation
                                               [False, True, True] (output stride 8), 5 classes

torchvision's ResNet class has fixed widths 64..512 (45 MB of weights for resnet18), so the fixtures use a
reduced-width network assembled from torchvision's own BasicBlock/Bottleneck classes by a make_layer that
mirrors torchvision's _make_layer; the block math is torchvision's. Each file holds the state dict (same keys as
torchvision), "input" and "expected" (eval-mode forward). BN weights, biases and running statistics are
randomised so that the comparison exercises them.

The safetensors format is written by hand (the pip package is not installed): an 8-byte little-endian header
length, a JSON header {name: {"dtype", "shape", "data_offsets"}}, then the raw little-endian bytes.
"""
import json
import struct

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1


class TinyResNet(nn.Module):
    """torchvision.models.resnet.ResNet with configurable widths (same module names, so the same state-dict keys)."""

    def __init__(self, block, layers, widths, num_classes, in_channels=3, small_input=False, replace_stride_with_dilation=None):
        super().__init__()
        self.inplanes = widths[0]
        self.dilation = 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        # torchvision's _make_layer, dilation included: a replaced stride doubles the dilation of the stage's later
        # blocks; its first block keeps the previous dilation.
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, dilation=previous_dilation)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, dilation=self.dilation))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def randomise_batch_norms(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)


def write_safetensors(path, tensors):
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def make_fixture(path, seed, block, widths, small_input, input_size, layers=(1, 1, 1, 1), replace_stride_with_dilation=None):
    torch.manual_seed(seed)
    model = TinyResNet(block, list(layers), widths, num_classes=5, small_input=small_input,
                       replace_stride_with_dilation=replace_stride_with_dilation)
    randomise_batch_norms(model)
    model.eval()
    x = torch.randn(2, 3, input_size, input_size)
    with torch.no_grad():
        y = model(x)
    tensors = dict(model.state_dict())
    tensors["input"] = x
    tensors["expected"] = y
    write_safetensors(path, tensors)
    print(path, sum(p.numel() for p in model.parameters()), "parameters, output", tuple(y.shape))


def main():
    with open("resnet18_state_dict_keys.txt", "w") as f:
        for key in torchvision.models.resnet18().state_dict().keys():
            f.write(key + "\n")
    for name in ("resnet18", "resnet50"):
        with open(f"{name}_state_dict_shapes.txt", "w") as f:
            for key, value in getattr(torchvision.models, name)().state_dict().items():
                f.write(key + " " + ",".join(str(d) for d in value.shape) + "\n")
    make_fixture("resnet_tiny_basic_imagenet.safetensors", 1, BasicBlock, [8, 16, 32, 64], False, 32)
    make_fixture("resnet_tiny_basic_small.safetensors", 2, BasicBlock, [8, 16, 32, 64], True, 28)
    make_fixture("resnet_tiny_bottleneck_imagenet.safetensors", 3, Bottleneck, [4, 8, 16, 32], False, 32)
    make_fixture("resnet_tiny_bottleneck_dilated.safetensors", 4, Bottleneck, [4, 8, 16, 32], False, 32,
                 layers=(1, 2, 2, 2), replace_stride_with_dilation=[False, True, True])


if __name__ == "__main__":
    main()
