#!/usr/bin/python3
"""A TorchScript classifier of an architecture MedVision.Nets does not define, with its model card inside, for the
Predictor tests (Inference/TorchScriptPredictorTests.cs).

Run with /usr/bin/python3 (torch 1.13 + numpy) from this folder:

    /usr/bin/python3 make_torchscript_classifier_fixture.py

Writes
  tiny_torchscript_classifier.pt      torch.jit.script of a small CNN (depthwise-separable convolutions, a
                                      squeeze-and-excitation gate, GELU) for 3x28x28 RetinaMNIST images, 5 grades; the
                                      model card travels as the extra file "medvision.model_card"
  torchscript_classifier_fixture.json PyTorch's softmax probabilities for RetinaMNIST test images 0-3, preprocessed as
                                      the card says ((pixel / 255 - 0.5) / 0.5, no resize at 28x28)
The tests only read these files; Python is not needed to run them.
"""
import io
import json
import os
import zipfile

import numpy as np
import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
npz = os.path.join(here, "..", "..", "..", "src", "MedVision.Nets", "Data", "MedMnist", "Resources", "retinamnist.npz")
torch.manual_seed(20261201)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // 2, 1)
        self.fc2 = nn.Conv2d(channels // 2, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))


class SeparableNet(nn.Module):
    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pointwise = nn.Conv2d(8, 16, 1)
        self.norm = nn.BatchNorm2d(16)
        self.gate = SqueezeExcite(16)
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.gelu(self.stem(x))
        x = self.gate(nn.functional.gelu(self.norm(self.pointwise(self.depthwise(x)))))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


net = SeparableNet()
with torch.no_grad():
    net.norm.running_mean.copy_(torch.randn(16) * 0.1)
    net.norm.running_var.copy_(torch.rand(16) + 0.5)
    net.classifier.weight.mul_(8)  # confident enough that the probabilities differ clearly between images
net.eval()
scripted = torch.jit.script(net)

card = {
    "format_version": 1,
    "architecture": "torchscript",
    "preprocessing": {"input_size": [28, 28], "channels": 3, "mean": [0.5], "std": [0.5], "resize": "linear"},
    "class_names": ["grade 0", "grade 1", "grade 2", "grade 3", "grade 4"],
    "task": "OrdinalRegression",
    "library_version": "torch " + torch.__version__,
    "temperature": 1.0,
    "metrics": {},
}
torch.jit.save(scripted, os.path.join(here, "tiny_torchscript_classifier.pt"), _extra_files={"medvision.model_card": json.dumps(card)})

with zipfile.ZipFile(npz) as z:
    images = np.load(io.BytesIO(z.read("test_images.npy")))[:4]  # (4, 28, 28, 3) uint8
x = torch.from_numpy(images.astype(np.float32) / 255.0).permute(0, 3, 1, 2)
x = (x - 0.5) / 0.5
with torch.no_grad():
    probabilities = torch.softmax(scripted(x), dim=1)
with open(os.path.join(here, "torchscript_classifier_fixture.json"), "w") as f:
    json.dump({"torch": torch.__version__, "test_images": [0, 1, 2, 3], "probabilities": probabilities.tolist()}, f, indent=1)
print(probabilities)
