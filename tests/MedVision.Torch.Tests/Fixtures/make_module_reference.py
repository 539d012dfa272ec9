#!/usr/bin/python3
"""Writes module_reference.safetensors: torch.nn modules run as a PyTorch user runs them, for ModuleReferenceTests.

Each case builds one torch.nn module (per-axis kernel sizes and strides, padding modes, pooling with tuples,
activation and resampling layers, normalisation layers with running statistics) with PyTorch's own random
initialisation, and records
    "<case>.state.<name>"      its state dict before anything runs,
    "<case>.in<i>"             the inputs; all but the last are forward passes in training mode that only update state,
    "<case>.out", "<case>.w"   the training-mode output on the last input and a random weight w,
    "<case>.grad", "<case>.pgrad.<name>"   gradients of sum(out * w) for the last input and every parameter,
    "<case>.after.<name>"      the state dict after those passes (running statistics, batches tracked),
    "<case>.eval"              the evaluation-mode output on the last input, without gradients.
The C# test builds the same module in MedVision.Torch, loads the state dict strictly, and repeats the sequence.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_module_reference.py
The tests only read the .safetensors file; Python is not needed to run them.
"""
import json
import os

import torch
import torch.nn as nn

from fixture_io import write_safetensors

torch.manual_seed(20261205)
CASES = []
TENSORS = {}


def case(name, module, *shapes, passes=1, scale=1.0, rtol=1e-4, atol=1e-5):
    inputs = [torch.randn(*shapes[min(i, len(shapes) - 1)]) * scale for i in range(passes)]
    for k, v in module.state_dict().items():
        TENSORS[f"{name}.state.{k}"] = v.detach().clone()
    module.train()
    for x in inputs[:-1]:
        module(x)
    x = inputs[-1].clone().requires_grad_()
    out = module(x)
    w = torch.randn(out.shape)
    (out * w).sum().backward()
    for i, t in enumerate(inputs):
        TENSORS[f"{name}.in{i}"] = t
    TENSORS[f"{name}.out"] = out.detach()
    TENSORS[f"{name}.w"] = w
    TENSORS[f"{name}.grad"] = x.grad
    for k, p in module.named_parameters():
        TENSORS[f"{name}.pgrad.{k}"] = p.grad
    for k, v in module.state_dict().items():
        TENSORS[f"{name}.after.{k}"] = v.detach().clone()
    module.eval()
    with torch.no_grad():
        TENSORS[f"{name}.eval"] = module(inputs[-1])
    CASES.append({"name": name, "passes": passes, "rtol": rtol, "atol": atol})


# convolutions: per-axis sizes and padding modes (float32, as users run them: oneDNN, pre-packed weights in eval)
case("conv2d_anisotropic_reflect", nn.Conv2d(3, 4, (3, 1), stride=(2, 1), padding=(1, 0), padding_mode="reflect"), (2, 3, 7, 5))
case("conv2d_replicate_dilated", nn.Conv2d(2, 4, 3, padding=2, dilation=2, padding_mode="replicate"), (2, 2, 6, 6))
case("conv2d_circular_groups", nn.Conv2d(4, 4, 3, padding=1, groups=2, padding_mode="circular", bias=False), (1, 4, 5, 6))
case("conv2d_per_axis_padding", nn.Conv2d(3, 8, (5, 3), stride=(1, 2), padding=(2, 1), dilation=(1, 2)), (2, 3, 9, 11))
case("conv3d_anisotropic", nn.Conv3d(2, 3, (3, 3, 1), stride=(1, 2, 1), padding=(1, 1, 0)), (2, 2, 5, 6, 4))
case("conv3d_reflect", nn.Conv3d(2, 2, 3, padding=1, padding_mode="reflect"), (1, 2, 4, 5, 4))
case("conv1d_reflect", nn.Conv1d(2, 3, 5, padding=2, padding_mode="reflect"), (2, 2, 9))
case("conv_transpose2d_anisotropic", nn.ConvTranspose2d(4, 2, (2, 3), stride=(2, 1), padding=(0, 1), output_padding=(1, 0)), (2, 4, 3, 5))
case("conv_transpose3d_anisotropic", nn.ConvTranspose3d(2, 2, (2, 2, 1), stride=(2, 2, 1)), (1, 2, 3, 3, 4))
case("linear_no_bias", nn.Linear(5, 3, bias=False), (4, 5))

# pooling with tuples, 1-D pooling, adaptive pooling to (H, W)
case("max_pool2d_tuple", nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=True), (2, 3, 8, 7))
case("avg_pool3d_tuple", nn.AvgPool3d((2, 2, 1), stride=(2, 1, 1), padding=(1, 0, 0), count_include_pad=False), (1, 2, 5, 4, 3))
case("avg_pool2d_tuple_ceil", nn.AvgPool2d((3, 2), stride=(2, 2), padding=(1, 1), ceil_mode=True), (2, 2, 7, 6))
case("max_pool1d", nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 10))
case("avg_pool1d_ceil", nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 10))
case("adaptive_avg_pool2d_tuple", nn.AdaptiveAvgPool2d((3, 5)), (2, 3, 7, 9))
case("adaptive_avg_pool3d_tuple", nn.AdaptiveAvgPool3d((2, 3, 1)), (1, 2, 5, 7, 4))
case("adaptive_max_pool2d", nn.AdaptiveMaxPool2d(2), (2, 3, 5, 5))
case("adaptive_max_pool3d_tuple", nn.AdaptiveMaxPool3d((2, 3, 2)), (1, 2, 4, 6, 5))

# activations
case("gelu", nn.GELU(), (3, 7))
case("silu", nn.SiLU(), (3, 7))
case("elu", nn.ELU(alpha=0.5), (3, 7))
case("softplus", nn.Softplus(beta=2, threshold=3), (3, 7), scale=3)
case("relu6", nn.ReLU6(), (3, 7), scale=5)
case("hardtanh", nn.Hardtanh(-0.5, 2.0), (3, 7), scale=2)
case("log_sigmoid", nn.LogSigmoid(), (3, 7))
case("log_softmax", nn.LogSoftmax(dim=1), (3, 7))
prelu = nn.PReLU(num_parameters=3, init=0.1)
with torch.no_grad():
    prelu.weight.copy_(torch.tensor([0.1, -0.3, 0.7]))
case("prelu_per_channel", prelu, (2, 3, 4, 4))
case("prelu_single", nn.PReLU(), (2, 3, 5))

# resampling by scale factors (the kernels use the factors themselves) and to sizes
case("upsample_nearest_2", nn.Upsample(scale_factor=2), (1, 2, 3, 4))
case("upsample_nearest_1_7", nn.Upsample(scale_factor=1.7), (1, 2, 5, 4))
case("upsample_bilinear_1_5", nn.Upsample(scale_factor=1.5, mode="bilinear"), (1, 2, 5, 4))
case("upsample_bilinear_align", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), (1, 2, 3, 4))
case("upsample_trilinear_per_axis", nn.Upsample(scale_factor=(2, 1.5, 1), mode="trilinear"), (1, 1, 3, 4, 5))
case("upsample_size_bicubic_align", nn.Upsample(size=(7, 9), mode="bicubic", align_corners=True), (1, 2, 4, 5))
case("upsample_linear_1d", nn.Upsample(scale_factor=2.5, mode="linear"), (2, 3, 4))

# normalisation with running statistics, over several training passes
case("batch_norm2d_cumulative", nn.BatchNorm2d(3, momentum=None), (4, 3, 3, 3), passes=3)
case("batch_norm3d_momentum", nn.BatchNorm3d(2, momentum=0.3, eps=1e-3), (2, 2, 3, 3, 2), passes=2)
case("batch_norm1d_2d_input", nn.BatchNorm1d(5), (6, 5), passes=2)
case("instance_norm2d_tracked", nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5), passes=2)
case("layer_norm_no_affine", nn.LayerNorm([4, 5], elementwise_affine=False), (3, 4, 5))
case("group_norm", nn.GroupNorm(2, 4), (2, 4, 3, 3))


# ---------------------------------------------------------------- write
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module_reference.safetensors")
write_safetensors(out, TENSORS, {"generator": "make_module_reference.py", "torch": torch.__version__, "cases": json.dumps(CASES)})
print(f"{len(CASES)} cases, {len(TENSORS)} tensors -> {out} ({os.path.getsize(out)} bytes)")
