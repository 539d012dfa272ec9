#!/usr/bin/python3
"""Writes torchvision_weights.json: torchvision's own metadata of its ResNet ImageNet weights (name, URL, parameter
count, accuracies, evaluation resize), which PretrainedWeightsTests compares with MedVision's table.

Run with /usr/bin/python3 (torchvision 0.14) from this folder. Needs no network: the metadata ships with torchvision.
"""
import json
import os

from torchvision.models import resnet

rows = []
for enum_name in ("ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights"):
    weights = getattr(resnet, enum_name)
    for w in weights:
        rows.append({
            "name": f"{enum_name}.{w.name}",
            "url": w.url,
            "num_params": w.meta["num_params"],
            "acc1": w.meta["_metrics"]["ImageNet-1K"]["acc@1"],
            "acc5": w.meta["_metrics"]["ImageNet-1K"]["acc@5"],
            "resize": w.transforms.keywords.get("resize_size", 256),
            "crop": w.transforms.keywords["crop_size"],
            "default": weights.DEFAULT == w,
        })
with open("torchvision_weights.json.tmp", "w") as f:
    json.dump(rows, f, indent=1)
os.replace("torchvision_weights.json.tmp", "torchvision_weights.json")
print(len(rows), "weights")
