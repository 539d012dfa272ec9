#!/usr/bin/python3
"""Writes torchvision_weights.json: torchvision's own metadata of the ResNet weights that PretrainedWeights lists (name,
URL, parameter count, data set, classes, accuracies, evaluation resize and crop), which PretrainedWeightsTests compares
with MedVision's table; torchvision_vit_weights.json, the same of the ViT-B and ViT-L weights with each network's size
(PretrainedVisionTransformerWeightsTests); and r3d_18_state_dict_shapes.txt, the keys and shapes of torchvision's R3D-18 state dict.

Run with /usr/bin/python3 (torchvision 0.14) from this folder. Needs no network: the metadata ships with torchvision.
"""
import json
import os

import torchvision
from torchvision.models import resnet, vision_transformer
from torchvision.models.video import resnet as video

rows = []
for module, enum_name in [(resnet, n) for n in ("ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights")] + [(video, "R3D_18_Weights")]:
    weights = getattr(module, enum_name)
    for w in weights:
        (dataset, metrics), = w.meta["_metrics"].items()
        resize = w.transforms.keywords.get("resize_size", 256)
        crop = w.transforms.keywords["crop_size"]
        rows.append({
            "name": f"{enum_name}.{w.name}",
            "url": w.url,
            "num_params": w.meta["num_params"],
            "dataset": dataset,
            "num_classes": len(w.meta["categories"]),
            "acc1": metrics["acc@1"],
            "acc5": metrics["acc@5"],
            "resize": list(resize) if isinstance(resize, (tuple, list)) else [resize],
            "crop": list(crop) if isinstance(crop, (tuple, list)) else [crop, crop],
            "default": weights.DEFAULT == w,
        })
with open("torchvision_weights.json.tmp", "w") as f:
    json.dump(rows, f, indent=1)
os.replace("torchvision_weights.json.tmp", "torchvision_weights.json")
vit_rows = []
for enum_name, patch, builder in (("ViT_B_16_Weights", 16, "vit_b_16"), ("ViT_B_32_Weights", 32, "vit_b_32"),
                                  ("ViT_L_16_Weights", 16, "vit_l_16"), ("ViT_L_32_Weights", 32, "vit_l_32")):
    w = getattr(vision_transformer, enum_name).IMAGENET1K_V1
    (dataset, metrics), = w.meta["_metrics"].items()
    model = getattr(vision_transformer, builder)()  # the architecture the weights belong to (random weights)
    vit_rows.append({
        "name": f"{enum_name}.{w.name}",
        "url": w.url,
        "num_params": w.meta["num_params"],
        "patch": patch,
        "image_size": w.meta["min_size"][0],
        "num_classes": len(w.meta["categories"]),
        "acc1": metrics["acc@1"],
        "acc5": metrics["acc@5"],
        "resize": w.transforms.keywords.get("resize_size", 256),
        "crop": w.transforms.keywords["crop_size"],
        "hidden": model.hidden_dim,
        "layers": len(model.encoder.layers),
        "heads": model.encoder.layers[0].self_attention.num_heads,
        "mlp": model.mlp_dim,
    })
    del model
with open("torchvision_vit_weights.json.tmp", "w") as f:
    json.dump(vit_rows, f, indent=1)
os.replace("torchvision_vit_weights.json.tmp", "torchvision_vit_weights.json")
with open("r3d_18_state_dict_shapes.txt", "w") as f:
    for key, value in torchvision.models.video.r3d_18().state_dict().items():
        f.write(key + " " + ",".join(str(d) for d in value.shape) + "\n")
print(len(rows), "weights")
