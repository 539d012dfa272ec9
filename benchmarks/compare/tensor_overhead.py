#!/usr/bin/python3
"""Python PyTorch reference numbers for benchmarks/MedVision.Benchmarks (run with /usr/bin/python3, Debian's torch 1.13).

Measures (1) the per-op overhead of a 4x4 float32 add with one thread and (2) batch-1 3x3 convolutions on small
feature maps through torch.conv2d (libtorch's heuristic) and torch.mkldnn_convolution (oneDNN), 2 threads.
Prints medians of repeated timings in microseconds.
"""
import statistics
import timeit

import torch


def median_us(stmt, number, repeat=15):
    times = timeit.repeat(stmt, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    print(f"torch {torch.__version__}")
    print(f"add 4x4 (1 thread): {median_us(lambda: a + b, 20000):.2f} us")
    print(f"chain3 (a*b+a).relu() (1 thread): {median_us(lambda: (a * b + a).relu(), 20000):.2f} us")
    torch.set_num_threads(2)
    for c, s in ((256, 7), (512, 4), (64, 28)):
        x = torch.randn(1, c, s, s)
        w = torch.randn(c, c, 3, 3)
        with torch.no_grad():
            slow = median_us(lambda: torch.conv2d(x, w, None, 1, 1), 20, 5)
            fast = median_us(lambda: torch.mkldnn_convolution(x, w, None, [1, 1], [1, 1], [1, 1], 1), 20, 5)
            diff = (torch.conv2d(x, w, None, 1, 1) - torch.mkldnn_convolution(x, w, None, [1, 1], [1, 1], [1, 1], 1)).abs().max().item()
        print(f"conv 1x{c}x{s}x{s} 3x3 (2 threads): torch.conv2d {slow:.0f} us, mkldnn_convolution {fast:.0f} us, max diff {diff:.2e}")


if __name__ == "__main__":
    main()
