#!/usr/bin/python3
"""Python PyTorch reference numbers for AttentionBenchmarks (run with /usr/bin/python3, Debian's torch 1.13).

A ViT-Tiny-sized nn.TransformerEncoderLayer (E 192, 3 heads, MLP 768, pre-norm, GELU, batch first, dropout 0) on
(32, 50, 192), 2 threads: inference (eval, torch.no_grad; PyTorch 1.13 may take its fused fast path here) and a
forward + backward of sum(output) in training mode. Prints medians of repeated timings in milliseconds.
"""
import statistics
import timeit

import torch
import torch.nn as nn


def median_ms(stmt, number, repeat=15):
    return statistics.median(timeit.repeat(stmt, number=number, repeat=repeat)) / number * 1e3


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    layer = nn.TransformerEncoderLayer(192, 3, dim_feedforward=768, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    x = torch.randn(32, 50, 192)

    def inference():
        layer.eval()
        with torch.no_grad():
            return layer(x).sum().item()

    def forward_backward():
        layer.train()
        layer.zero_grad(set_to_none=True)
        loss = layer(x).sum()
        loss.backward()
        return loss.item()

    for f in (inference, forward_backward):
        f()
    print(f"torch {torch.__version__}")
    print(f"inference: {median_ms(inference, 20):.2f} ms")
    print(f"forward+backward: {median_ms(forward_backward, 10):.2f} ms")


if __name__ == "__main__":
    main()
