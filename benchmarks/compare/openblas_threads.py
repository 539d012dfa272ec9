#!/usr/bin/python3
"""Matrix products through libtorch's BLAS (Debian's OpenBLAS) at OpenBLAS's own thread count.

Run with the system Python (torch 1.13, Debian's libtorch and OpenBLAS), once per OpenBLAS setting:

    for t in "" 1 2; do OPENBLAS_NUM_THREADS=$t /usr/bin/python3 benchmarks/compare/openblas_threads.py; done

libtorch runs with 2 intra-op threads; for each product (m x k) by (k x n): milliseconds per torch.mm (mean of 20
calls after 3 warm-up calls) and the rate; then a batched product of attention's shape (96 heads x 50 tokens x 64).
docs/architecture.md ("Linear layers") quotes it.
"""
import time

import torch

torch.set_num_threads(2)


def bench(f, n=20):
    for _ in range(3):
        f()
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n * 1e3


for m, k, n in [(2048, 2048, 2048), (512, 512, 512), (1450, 192, 576), (1450, 768, 192)]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    t = bench(lambda: a.mm(b))
    print(f"{m}x{k}x{n}: {t:.3f} ms {2 * m * k * n / t / 1e6:.1f} GFLOP/s")
q, kt = torch.randn(96, 50, 64), torch.randn(96, 64, 50)
print(f"bmm 96x50x64x50: {bench(lambda: q.bmm(kt), 200):.3f} ms")
