#!/usr/bin/python3
"""Python half of benchmarks/compare/run.sh (run with /usr/bin/python3: Debian's torch 1.13 + torchvision 0.14).

The same workloads as the C# CompareRunner (benchmarks/MedVision.Benchmarks/CompareRunner.cs), timed the same way
(median of repeated timed calls after warm-up), printed as "RESULT name median_seconds items" lines:

  r18_28_train_b128  torchvision ResNet-18 with the small-input stem (conv1 3x3 stride 1 pad 1, maxpool = Identity),
                     10 classes, 28x28, batch 128: forward + cross-entropy + backward + Adam step, train mode
  r18_28_infer_b128  the same model, eval mode, no_grad, batch 128
  r18_28_infer_b1    the same, batch 1 (latency)
  add_4x4            20,000 4x4 float32 adds per timed call, one thread (as tensor_overhead.py)
and, generally, r{18|50}_{28|224}_{train|infer}_b{batch}: torchvision resnet18/resnet50 with 10 classes, the
small-input stem at 28x28 or torchvision's own (ImageNet) stem at 224x224; training: median of 3 steps after 1 (15
after 3 at batch 1), inference: median of 10 batches after 2 (300 after 20 at batch 1). The first three names above are instances.
Two intra-op threads except for add_4x4.
"""
import re
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

THREADS = 2
# --amp: forward passes (and the loss) under torch.autocast("cpu", dtype=torch.bfloat16), as MedVision's --amp.
AMP = False
WORKLOADS = ["r18_28_train_b128", "r18_28_infer_b128", "r18_28_infer_b1", "add_4x4"]


def resnet(depth, size):
    model = {18: torchvision.models.resnet18, 50: torchvision.models.resnet50}[depth](num_classes=10)
    if size == 28:
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


def training(depth, size, batch, warmup, repeat):
    torch.set_num_threads(THREADS)
    model = resnet(depth, size).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(batch, 3, size, size)
    labels = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=AMP):
            loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        loss.item()

    return median(warmup, repeat, step), batch


def inference(depth, size, batch, warmup, repeat):
    torch.set_num_threads(THREADS)
    model = resnet(depth, size).eval()
    images = torch.randn(batch, 3, size, size)

    def forward():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=AMP):
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
    global AMP
    AMP = "--amp" in names
    names = [n for n in names if n != "--amp"]
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, autocast bfloat16 {AMP}")
    for name in names or WORKLOADS:
        torch.manual_seed(0)
        m = re.fullmatch(r"r(18|50)_(28|224)_(train|infer)_b([1-9][0-9]*)", name)
        if name == "add_4x4":
            seconds, items = add_overhead()
        elif m and m.group(3) == "train":
            batch = int(m.group(4))
            seconds, items = training(int(m.group(1)), int(m.group(2)), batch, 3 if batch == 1 else 1, 15 if batch == 1 else 3)
        elif m:
            batch = int(m.group(4))
            seconds, items = inference(int(m.group(1)), int(m.group(2)), batch, 20 if batch == 1 else 2, 300 if batch == 1 else 10)
        else:
            raise SystemExit(f"unknown workload {name}; known: add_4x4, r{{18|50}}_{{28|224}}_{{train|infer}}_b{{batch}}")
        print(f"RESULT {name} {seconds:.6e} {items}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
