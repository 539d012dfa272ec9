#!/usr/bin/python3
"""Reference multiply-accumulate counts for ModelSummary, computed with torchvision models and forward hooks.

Run with /usr/bin/python3 (torch 1.13 + torchvision 0.14) from this folder:

    /usr/bin/python3 make_mult_adds_fixture.py

Writes mult_adds.json: {case: {"macs": total, "conv_macs": [...per Conv2d call...], "linear_macs": int}}.
Counted as ModelSummary counts them (and as torchinfo's "mult-adds" does for these layers): a Conv2d call costs
output elements x weight elements / out_channels, a Linear call output elements x in_features; bias additions,
batch norm, activations and pooling are not counted.

Cases: torchvision resnet18 / resnet50 with 1000 classes at 1x3x224x224 (ImageNet stem), and the MedMNIST
small-input variant used by the samples (conv1 3x3 stride 1 padding 1, maxpool = Identity, 5 classes) at 1x3x28x28.
"""
import json

import torch
import torch.nn as nn
import torchvision


def count(model, shape):
    conv, linear = [], []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            conv.append(output.numel() * (module.weight.numel() // module.out_channels))
        elif isinstance(module, nn.Linear):
            linear.append(output.numel() * module.in_features)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(shape))
    for h in handles:
        h.remove()
    return {"macs": sum(conv) + sum(linear), "conv_macs": conv, "linear_macs": sum(linear)}


def small_input(model):
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model


cases = {
    "resnet18_imagenet_224": count(torchvision.models.resnet18(num_classes=1000), (1, 3, 224, 224)),
    "resnet50_imagenet_224": count(torchvision.models.resnet50(num_classes=1000), (1, 3, 224, 224)),
    "resnet18_small_28": count(small_input(torchvision.models.resnet18(num_classes=5)), (1, 3, 28, 28)),
    "resnet50_small_28": count(small_input(torchvision.models.resnet50(num_classes=5)), (1, 3, 28, 28)),
}
with open("mult_adds.json", "w") as f:
    json.dump(cases, f, indent=1)
for k, v in cases.items():
    print(k, v["macs"], len(v["conv_macs"]))
