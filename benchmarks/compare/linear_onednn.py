#!/usr/bin/python3
"""libtorch's linear layer on its BLAS against oneDNN's inner product, as MedVision.Torch routes it.

Run with the system Python (torch 1.13, Debian's libtorch and OpenBLAS):

    /usr/bin/python3 benchmarks/compare/linear_onednn.py [threads]

For each product (rows x in) by (in x out): milliseconds per call of torch.nn.functional.linear (BLAS), of
mkldnn_linear with the input converted to oneDNN's layout and the output back (the binding's path, weight dense), and
of the same with the weight pre-packed; the largest difference between the BLAS and the oneDNN outputs. Means of 50
calls after 3 warm-up calls.
"""
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
torch.manual_seed(0)


def bench(f, n=50):
    for _ in range(3):
        f()
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n * 1e3


print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
print("rows x in -> out        BLAS ms   oneDNN ms   oneDNN packed ms   max |diff|")
# ViT-Tiny on 29 images of 28x28 in 4x4 patches (50 tokens): qkv, MLP in, MLP out, out projection; one image's qkv;
# a ResNet-18 classifier head on a batch of 8.
for rows, i, o in [(1450, 192, 576), (1450, 192, 768), (1450, 768, 192), (1450, 192, 192), (50, 192, 576), (8, 512, 5)]:
    x, w, b = torch.randn(rows, i), torch.randn(o, i), torch.randn(o)
    packed = w.to_mkldnn()
    blas = bench(lambda: torch.nn.functional.linear(x, w, b))
    onednn = bench(lambda: torch._C._nn.mkldnn_linear(x.to_mkldnn(), w, b).to_dense())
    onednn_packed = bench(lambda: torch._C._nn.mkldnn_linear(x.to_mkldnn(), packed, b).to_dense())
    diff = (torch.nn.functional.linear(x, w, b) - torch._C._nn.mkldnn_linear(x.to_mkldnn(), w, b).to_dense()).abs().max().item()
    print(f"{rows:5d} x {i:3d} -> {o:3d}   {blas:9.3f}   {onednn:9.3f}   {onednn_packed:16.3f}   {diff:.1e}")
