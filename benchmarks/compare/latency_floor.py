#!/usr/bin/python3
"""How far batch-1 ResNet-18 (28x28, small-input stem) latency can go down on this machine, in Python PyTorch 1.13.

Run with /usr/bin/python3 (Debian's torch 1.13 + torchvision 0.14), nothing else running:

    /usr/bin/python3 benchmarks/compare/latency_floor.py

Prints
  * the sustained float32 GEMM rate (torch.mm of n x n matrices, 2 threads): the machine's practical FLOP ceiling;
  * the network's multiply-accumulates (forward hooks on Conv2d/Linear, as ModelSummary.TotalMultiplyAccumulates
    counts them) and the resulting floor: 2 x MACs / GEMM rate;
  * the median batch-1 latency of the same network through each path PyTorch offers on CPU: libtorch's own
    convolution choice (what compare.py measures), channels-last, batch norm folded into the convolutions
    (torch.fx.experimental.optimization.fuse), and oneDNN with pre-packed weights
    (torch.utils.mkldnn.to_mkldnn, the input converted with .to_mkldnn()), with and without the folding.
Compare the last with MedVision's `MedVision.Benchmarks.dll --compare r18_28_infer_b1`, which routes every
convolution through oneDNN (docs/benchmarks.md).
"""
import time

import torch
import torch.fx.experimental.optimization as fx_opt
import torch.nn as nn
import torchvision
from torch.utils import mkldnn

torch.set_num_threads(2)
torch.manual_seed(0)


def median_ms(action, seconds=3.0, warmup=10):
    with torch.no_grad():
        for _ in range(warmup):
            action()
        times = []
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t = time.perf_counter()
            action()
            times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e3


def small_resnet18():
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model.eval()


def mult_adds(model, x):
    total = []

    def hook(module, inputs, output):
        per_output = module.weight.numel() // module.out_channels if isinstance(module, nn.Conv2d) else module.in_features
        total.append(output.numel() * per_output)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return sum(total)


best = 0.0
for n in (512, 1024, 2048):
    a, b = torch.randn(n, n), torch.randn(n, n)
    ms = median_ms(lambda: torch.mm(a, b), seconds=2.0, warmup=3)
    rate = 2 * n ** 3 / (ms * 1e-3) / 1e9
    best = max(best, rate)
    print(f"gemm {n}x{n}: {ms:8.2f} ms  {rate:6.1f} GFLOP/s")

model = small_resnet18()
x = torch.randn(1, 3, 28, 28)
macs = mult_adds(model, x)
print(f"resnet18 28x28 small stem: {macs / 1e9:.3f} G mult-adds = {2 * macs / 1e9:.3f} GFLOP; "
      f"floor at {best:.0f} GFLOP/s: {2 * macs / (best * 1e9) * 1e3:.2f} ms")

print(f"libtorch's choice:               {median_ms(lambda: model(x)):7.2f} ms")
cl_model = small_resnet18().to(memory_format=torch.channels_last)
cl_model.load_state_dict(model.state_dict())
x_cl = x.to(memory_format=torch.channels_last)
print(f"channels-last:                   {median_ms(lambda: cl_model(x_cl)):7.2f} ms")
folded = fx_opt.fuse(model)
print(f"batch norm folded:               {median_ms(lambda: folded(x)):7.2f} ms")
packed = mkldnn.to_mkldnn(model)
print(f"oneDNN, pre-packed weights:      {median_ms(lambda: packed(x.to_mkldnn())):7.2f} ms")
packed_folded = mkldnn.to_mkldnn(fx_opt.fuse(model))
print(f"oneDNN, pre-packed, BN folded:   {median_ms(lambda: packed_folded(x.to_mkldnn())):7.2f} ms")
