#!/usr/bin/python3
"""Python half of benchmarks/compare/run.sh (run with /usr/bin/python3: Debian's torch 1.13 + torchvision 0.14).

The same workloads as the C# CompareRunner (benchmarks/MedVision.Benchmarks/CompareRunner.cs), timed the same way
(median of repeated timed calls after warm-up), printed as "RESULT name median_seconds items" lines:

  r18_28_train_b128  torchvision ResNet-18 with the small-input stem (conv1 3x3 stride 1 pad 1, maxpool = Identity),
                     10 classes, 28x28, batch 128: forward + cross-entropy + backward + Adam step, train mode
  r18_28_infer_b128  the same model, eval mode, no_grad, batch 128
  r18_28_infer_b1    the same, batch 1 (latency)
  add_4x4            20,000 4x4 float32 adds per timed call, one thread (as tensor_overhead.py)
Two intra-op threads except for add_4x4.
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

THREADS = 2
WORKLOADS = ["r18_28_train_b128", "r18_28_infer_b128", "r18_28_infer_b1", "add_4x4"]


def small_resnet18():
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = torch.nn.Identity()
    return model


def median(warmup, repeat, action):
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training(batch, warmup, repeat):
    torch.set_num_threads(THREADS)
    model = small_resnet18().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(batch, 3, 28, 28)
    labels = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        loss.item()

    return median(warmup, repeat, step), batch


def inference(batch, warmup, repeat):
    torch.set_num_threads(THREADS)
    model = small_resnet18().eval()
    images = torch.randn(batch, 3, 28, 28)

    def forward():
        with torch.no_grad():
            model(images).size(0)

    return median(warmup, repeat, forward), batch


def add_overhead():
    torch.set_num_threads(1)
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    number = 20000

    def adds():
        for _ in range(number):
            a + b

    seconds = median(1, 15, adds)
    torch.set_num_threads(THREADS)
    return seconds, number


def main(names):
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    for name in names or WORKLOADS:
        torch.manual_seed(0)
        if name == "r18_28_train_b128":
            seconds, items = training(128, 1, 3)
        elif name == "r18_28_infer_b128":
            seconds, items = inference(128, 2, 10)
        elif name == "r18_28_infer_b1":
            seconds, items = inference(1, 20, 300)
        elif name == "add_4x4":
            seconds, items = add_overhead()
        else:
            raise SystemExit(f"unknown workload {name}; known: {', '.join(WORKLOADS)}")
        print(f"RESULT {name} {seconds:.6e} {items}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
