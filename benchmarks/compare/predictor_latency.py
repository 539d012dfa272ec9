#!/usr/bin/python3
"""Python PyTorch 1.13 reference for PredictorLatencyBenchmarks (run with /usr/bin/python3, 2 threads).

  resnet18_pixels28: torchvision ResNet-18 with the small-input stem (conv1 3x3 stride 1, no max-pool), 5 classes,
                     one 28x28 RGB image from uint8 pixels: scale to [0, 1], normalise (0.5, 0.5), forward, softmax.
  resnet50_jpeg224:  torchvision ResNet-50, 2 classes, one 224x224 JPEG file (random pixels, quality 90): PIL decode,
                     resize to 224x224 (bilinear), ImageNet normalisation, forward, softmax.
Prints the median of 30 timed calls after 5 warm-up calls, in milliseconds.
"""
import os
import statistics
import tempfile
import time

import numpy as np
import torch
import torchvision
from PIL import Image


def median_ms(fn, warmup=5, repeat=30):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    r18 = torchvision.models.resnet18(num_classes=5)
    r18.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    r18.maxpool = torch.nn.Identity()
    r18.eval()
    r50 = torchvision.models.resnet50(num_classes=2).eval()
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    folder = tempfile.mkdtemp()
    jpeg = os.path.join(folder, "fundus.jpg")
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(jpeg, quality=90)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)

    def r18_pixels():
        with torch.no_grad():
            x = torch.from_numpy(pixels).permute(2, 0, 1).float().div(255).sub(0.5).div(0.5).unsqueeze(0)
            return r18(x).softmax(1).argmax().item()

    def r50_jpeg():
        with torch.no_grad():
            img = Image.open(jpeg).convert("RGB").resize((224, 224), Image.BILINEAR)
            x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div(255).sub(mean).div(std).unsqueeze(0)
            return r50(x).softmax(1).argmax().item()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"resnet18_pixels28: {median_ms(r18_pixels):.2f} ms")
    print(f"resnet50_jpeg224: {median_ms(r50_jpeg):.2f} ms")


if __name__ == "__main__":
    main()
