#!/usr/bin/python3
"""Writes op_reference.safetensors: inputs, outputs and input gradients of about a hundred PyTorch ops.

Differential reference for OpReferenceTests: each case runs one op (with the arguments a PyTorch user would give it)
on small random inputs; the file holds the inputs, PyTorch's output, a random weight w and the gradients of
sum(output * w) with respect to the inputs that require gradients. The C# test runs the same op through
MedVision.Torch on the same inputs and compares outputs and gradients.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_op_reference.py
The tests only read the .safetensors file; Python is not needed to run them.

Tensor names: "<case>.in<i>", "<case>.out", "<case>.w", "<case>.grad<i>". The case list (name, number of inputs,
inputs with gradients, tolerances) is JSON in the file's metadata under "cases".
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_io import write_safetensors

torch.manual_seed(20261203)
torch.set_default_dtype(torch.float64)

CASES = []
TENSORS = {}


def case(name, inputs, fn, grad=None, rtol=1e-9, atol=1e-11):
    """Records one case; grad lists the indices of the inputs whose gradients are recorded (default: every float one)."""
    if grad is None:
        grad = [i for i, x in enumerate(inputs) if x.is_floating_point()]
    inputs = [x.detach().clone().requires_grad_(i in grad) for i, x in enumerate(inputs)]
    out = fn(*inputs)
    assert name not in {c["name"] for c in CASES}, name
    for i, x in enumerate(inputs):
        TENSORS[f"{name}.in{i}"] = x.detach()
    TENSORS[f"{name}.out"] = out.detach()
    if grad and out.is_floating_point():
        w = torch.randn(out.shape, dtype=out.dtype)
        (out * w).sum().backward()
        TENSORS[f"{name}.w"] = w
        for i in grad:
            g = inputs[i].grad
            TENSORS[f"{name}.grad{i}"] = torch.zeros_like(inputs[i]) if g is None else g
    else:
        grad = []
    CASES.append({"name": name, "inputs": len(inputs), "grad": grad, "rtol": rtol, "atol": atol})


def randn(*shape):
    return torch.randn(*shape)


def positive(*shape):
    return torch.rand(*shape) + 0.2


# ---------------------------------------------------------------- elementwise
x = randn(3, 4)
case("neg", [x], lambda a: -a)
case("abs", [x], torch.abs)
case("exp", [x], torch.exp)
case("log", [positive(3, 4)], torch.log)
case("log1p", [positive(3, 4)], torch.log1p)
case("expm1", [x], torch.expm1)
case("sqrt", [positive(3, 4)], torch.sqrt)
case("rsqrt", [positive(3, 4)], torch.rsqrt)
case("reciprocal", [positive(3, 4)], torch.reciprocal)
case("square", [x], torch.square)
case("sin", [x], torch.sin)
case("cos", [x], torch.cos)
case("erf", [x], torch.erf)
case("pow_scalar", [positive(3, 4)], lambda a: a.pow(2.5))
case("pow_tensor", [positive(3, 4), randn(3, 4)], lambda a, b: a.pow(b))
case("sigmoid", [x], torch.sigmoid)
case("tanh", [x], torch.tanh)
case("relu", [x], F.relu)
case("leaky_relu", [x], lambda a: F.leaky_relu(a, 0.2))
case("elu", [x], lambda a: F.elu(a, 0.7))
case("gelu", [x], F.gelu)
case("silu", [x], F.silu)
case("softplus", [randn(3, 4) * 4], lambda a: F.softplus(a, beta=2, threshold=5))
case("logsigmoid", [x], F.logsigmoid)
case("clamp", [x], lambda a: a.clamp(-0.5, 0.7))
case("clamp_min", [x], lambda a: a.clamp(min=-0.2))
case("add_alpha_broadcast", [randn(3, 1, 4), randn(5, 1)], lambda a, b: torch.add(a, b, alpha=0.5))
case("sub_alpha", [randn(2, 3), randn(2, 3)], lambda a, b: torch.sub(a, b, alpha=1.5))
case("mul_broadcast", [randn(2, 3, 1), randn(1, 4)], torch.mul)
case("div", [randn(2, 3), positive(2, 3)], torch.div)
case("maximum", [randn(2, 3), randn(2, 3)], torch.maximum)
case("minimum", [randn(2, 3), randn(1, 3)], torch.minimum)
case("where", [torch.rand(3, 4) > 0.5, randn(3, 4), randn(4)], torch.where)
case("scalar_ops", [x], lambda a: (a * 2.5 + 1) / 3 - 0.25)

# ---------------------------------------------------------------- reductions
y = randn(2, 3, 4)
case("sum_dim_keepdim", [y], lambda a: a.sum(1, keepdim=True))
case("mean_dims", [y], lambda a: a.mean([0, 2]))
case("std_unbiased", [y], lambda a: a.std(1))
case("var_biased_keepdim", [y], lambda a: a.var([0, 2], unbiased=False, keepdim=True))
case("std_all", [y], lambda a: a.std())
case("logsumexp", [y], lambda a: a.logsumexp(-1))
case("norm_dims", [y], lambda a: a.norm(dim=[1, 2]))
case("amax", [y], lambda a: a.amax([0]))
case("prod_dim", [y], lambda a: a.prod(1))
case("cumsum", [y], lambda a: a.cumsum(1))
case("max_dim_values", [y], lambda a: a.max(2).values)
case("argmax_dim", [y], lambda a: a.argmax(1))
case("softmax", [y], lambda a: a.softmax(1))
case("log_softmax", [y], lambda a: a.log_softmax(0))

# ---------------------------------------------------------------- linear algebra and shapes
case("matmul_broadcast", [randn(2, 3, 4), randn(4, 5)], torch.matmul)
case("matmul_vector", [randn(3, 4), randn(4)], torch.matmul)
case("bmm", [randn(2, 3, 4), randn(2, 4, 2)], torch.bmm)
case("permute", [y], lambda a: a.permute(2, 0, 1))
case("transpose", [y], lambda a: a.transpose(0, 2))
case("cat", [randn(2, 3), randn(2, 1)], lambda a, b: torch.cat([a, b], 1))
case("stack", [randn(2, 3), randn(2, 3)], lambda a, b: torch.stack([a, b], 2))
case("gather", [y, torch.tensor([[[0, 2, 1, 0]], [[2, 2, 0, 1]]])], lambda a, i: a.gather(1, i))
case("index_select", [y, torch.tensor([2, 0, 2])], lambda a, i: a.index_select(1, i))
case("narrow", [y], lambda a: a.narrow(2, 1, 2))
case("masked_fill", [y, torch.rand(3, 4) > 0.5], lambda a, m: a.masked_fill(m, -2.5))
case("expand", [randn(3, 1)], lambda a: a.expand(2, 3, 4))
case("flip", [y], lambda a: a.flip([0, 2]))
case("slice_step", [randn(7, 3)], lambda a: a[1:6:2])
case("select", [y], lambda a: a.select(1, 2))
case("reshape_noncontiguous", [y], lambda a: a.transpose(0, 1).reshape(3, 8))

# ---------------------------------------------------------------- convolutions and linear (float64: libtorch's reference
# kernels; the *_f32 cases run through oneDNN in MedVision.Torch and are compared with float32 tolerances)
case("conv1d", [randn(2, 3, 11), randn(4, 3, 3), randn(4)], lambda a, w, b: F.conv1d(a, w, b, stride=2, padding=1, dilation=2))
case("conv2d_groups", [randn(2, 4, 7, 6), randn(6, 2, 3, 3), randn(6)], lambda a, w, b: F.conv2d(a, w, b, stride=2, padding=1, groups=2))
case("conv3d", [randn(1, 2, 5, 6, 4), randn(3, 2, 3, 3, 3), randn(3)], lambda a, w, b: F.conv3d(a, w, b, padding=1))
case("conv_transpose2d", [randn(2, 3, 4, 5), randn(3, 2, 3, 3), randn(2)], lambda a, w, b: F.conv_transpose2d(a, w, b, stride=2, padding=1, output_padding=1))
case("conv_transpose3d", [randn(1, 2, 3, 4, 3), randn(2, 3, 2, 2, 2), randn(3)], lambda a, w, b: F.conv_transpose3d(a, w, b, stride=2))
f32 = dict(rtol=2e-4, atol=2e-4)
case("conv2d_f32", [randn(2, 8, 9, 9).float(), randn(16, 8, 3, 3).float(), randn(16).float()], lambda a, w, b: F.conv2d(a, w, b, stride=1, padding=1), **f32)
case("conv2d_f32_stride", [randn(1, 16, 7, 7).float(), randn(8, 16, 3, 3).float(), randn(8).float()], lambda a, w, b: F.conv2d(a, w, b, stride=2, padding=1), **f32)
case("conv3d_f32", [randn(2, 4, 6, 6, 6).float(), randn(8, 4, 3, 3, 3).float(), randn(8).float()], lambda a, w, b: F.conv3d(a, w, b, padding=1), **f32)
case("conv_transpose2d_f32", [randn(2, 8, 5, 5).float(), randn(8, 4, 4, 4).float(), randn(4).float()], lambda a, w, b: F.conv_transpose2d(a, w, b, stride=2, padding=1), **f32)
case("linear", [randn(5, 4), randn(3, 4), randn(3)], F.linear)
case("linear_3d_input", [randn(2, 5, 4), randn(3, 4)], F.linear)

# ---------------------------------------------------------------- normalisation
z = randn(4, 6, 3, 3) * 2 + 0.5
case("batch_norm_train", [z, randn(6), randn(6)], lambda a, w, b: F.batch_norm(a, torch.zeros(6), torch.ones(6), w, b, training=True, momentum=0.3, eps=1e-3))
case("batch_norm_eval", [z, positive(6), randn(6), randn(6), positive(6)], lambda a, w, b, m, v: F.batch_norm(a, m, v, w, b, training=False, eps=1e-4), grad=[0, 1, 2])
case("instance_norm", [z, randn(6), randn(6)], lambda a, w, b: F.instance_norm(a, weight=w, bias=b, eps=1e-4))
case("group_norm", [z, randn(6), randn(6)], lambda a, w, b: F.group_norm(a, 3, w, b, eps=1e-4))
case("layer_norm", [randn(3, 4, 5), randn(4, 5), randn(4, 5)], lambda a, w, b: F.layer_norm(a, [4, 5], w, b, eps=1e-4))

# ---------------------------------------------------------------- pooling
p = randn(2, 3, 9, 8)
v = randn(1, 2, 6, 5, 7)
case("max_pool2d_ceil", [p], lambda a: F.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True))
case("max_pool2d_dilation", [p], lambda a: F.max_pool2d(a, 2, stride=1, dilation=2))
case("max_pool3d", [v], lambda a: F.max_pool3d(a, 2))
case("avg_pool2d_exclude_pad", [p], lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))
case("avg_pool2d", [p], lambda a: F.avg_pool2d(a, 2))
case("avg_pool3d_pad", [v], lambda a: F.avg_pool3d(a, 2, stride=1, padding=1))
case("adaptive_avg_pool2d", [p], lambda a: F.adaptive_avg_pool2d(a, (5, 3)))
case("adaptive_avg_pool3d", [v], lambda a: F.adaptive_avg_pool3d(a, (4, 2, 3)))
case("adaptive_max_pool2d", [p], lambda a: F.adaptive_max_pool2d(a, (4, 3)))

# ---------------------------------------------------------------- resampling and padding
q = randn(1, 2, 5, 4)
case("interpolate_nearest", [q], lambda a: F.interpolate(a, size=(8, 7), mode="nearest"))
case("interpolate_bilinear", [q], lambda a: F.interpolate(a, size=(9, 6), mode="bilinear", align_corners=False))
case("interpolate_bilinear_align", [q], lambda a: F.interpolate(a, size=(3, 7), mode="bilinear", align_corners=True))
case("interpolate_bicubic", [q], lambda a: F.interpolate(a, size=(7, 9), mode="bicubic", align_corners=False))
case("interpolate_area", [q], lambda a: F.interpolate(a, size=(3, 2), mode="area"))
case("interpolate_trilinear", [v], lambda a: F.interpolate(a, size=(4, 7, 5), mode="trilinear", align_corners=False))
case("interpolate_linear", [randn(2, 3, 6)], lambda a: F.interpolate(a, size=(10,), mode="linear", align_corners=True))
case("pad_constant", [q], lambda a: F.pad(a, (1, 2, 0, 1), mode="constant", value=0.5))
case("pad_reflect", [q], lambda a: F.pad(a, (2, 1, 1, 3), mode="reflect"))
case("pad_replicate", [q], lambda a: F.pad(a, (2, 1, 3, 0), mode="replicate"))
case("pad_circular", [q], lambda a: F.pad(a, (1, 2, 2, 1), mode="circular"))
case("pad_reflect_3d", [v], lambda a: F.pad(a, (1, 1, 2, 0, 1, 2), mode="reflect"))
grid = torch.rand(1, 3, 4, 2) * 2.4 - 1.2
case("grid_sample_bilinear", [q, grid], lambda a, g: F.grid_sample(a, g, mode="bilinear", padding_mode="zeros", align_corners=False))
case("grid_sample_nearest_border", [q, grid], lambda a, g: F.grid_sample(a, g, mode="nearest", padding_mode="border", align_corners=False))
case("grid_sample_reflection_align", [q, grid], lambda a, g: F.grid_sample(a, g, mode="bilinear", padding_mode="reflection", align_corners=True))
case("grid_sample_bicubic", [q, grid], lambda a, g: F.grid_sample(a, g, mode="bicubic", padding_mode="border", align_corners=True))
case("grid_sample_3d", [v, torch.rand(1, 2, 3, 2, 3) * 2 - 1], lambda a, g: F.grid_sample(a, g, mode="bilinear", padding_mode="zeros", align_corners=False))
case("affine_grid", [randn(2, 2, 3)], lambda t: F.affine_grid(t, [2, 3, 4, 5], align_corners=False))
case("affine_grid_3d", [randn(1, 3, 4)], lambda t: F.affine_grid(t, [1, 2, 3, 4, 2], align_corners=True))

# ---------------------------------------------------------------- distances
case("pairwise_distance", [randn(4, 5), randn(4, 5)], lambda a, b: F.pairwise_distance(a, b))
case("pairwise_distance_p1_keepdim", [randn(4, 5), randn(1, 5)], lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True))
case("cosine_similarity", [randn(4, 5, 2), randn(4, 5, 2)], lambda a, b: F.cosine_similarity(a, b, dim=1))
case("normalize", [randn(4, 5)], lambda a: F.normalize(a, p=2.0, dim=1))
case("normalize_p1_dim0", [randn(4, 5)], lambda a: F.normalize(a, p=1.0, dim=0))

# ---------------------------------------------------------------- losses
logits = randn(7, 5)
target = torch.tensor([0, 4, 2, -100, 1, 1, 3])
case("cross_entropy_weighted_smoothed", [logits, target, positive(5)],
     lambda a, t, w: F.cross_entropy(a, t, weight=w, ignore_index=-100, label_smoothing=0.15), grad=[0])
case("cross_entropy_sum", [logits, torch.tensor([0, 4, 2, 3, 1, 1, 3])], lambda a, t: F.cross_entropy(a, t, reduction="sum"))
case("cross_entropy_none_2d", [randn(2, 4, 3, 3), torch.randint(0, 4, (2, 3, 3))], lambda a, t: F.cross_entropy(a, t, reduction="none"))
case("nll_loss_weighted_sum", [logits.log_softmax(1), torch.tensor([0, 4, 2, 3, 1, 1, 3]), positive(5)],
     lambda a, t, w: F.nll_loss(a, t, weight=w, reduction="sum"), grad=[0])
case("nll_loss_mean_weighted", [logits.log_softmax(1), target, positive(5)], lambda a, t, w: F.nll_loss(a, t, weight=w), grad=[0])
bt = (torch.rand(6, 3) > 0.5).double()
case("bce_with_logits_pos_weight", [randn(6, 3) * 2, bt, positive(3)],
     lambda a, t, pw: F.binary_cross_entropy_with_logits(a, t, pos_weight=pw), grad=[0])
case("bce_with_logits_weight_sum", [randn(6, 3), torch.rand(6, 3), positive(6, 3)],
     lambda a, t, w: F.binary_cross_entropy_with_logits(a, t, weight=w, reduction="sum"), grad=[0, 1])
case("bce_weight_none", [torch.rand(6, 3) * 0.9 + 0.05, bt, positive(6, 3)],
     lambda a, t, w: F.binary_cross_entropy(a, t, weight=w, reduction="none"), grad=[0])
case("mse_sum", [randn(4, 3), randn(4, 3)], lambda a, b: F.mse_loss(a, b, reduction="sum"))
case("l1_none", [randn(4, 3), randn(4, 3)], lambda a, b: F.l1_loss(a, b, reduction="none"))
case("smooth_l1_beta", [randn(4, 3), randn(4, 3)], lambda a, b: F.smooth_l1_loss(a, b, beta=0.5))
case("huber_delta_sum", [randn(4, 3) * 2, randn(4, 3)], lambda a, b: F.huber_loss(a, b, reduction="sum", delta=0.7))


# ---------------------------------------------------------------- pair and triplet losses (added 3 December 2026)
log_p = randn(4, 5).log_softmax(1)
q = randn(4, 5).softmax(1)
case("kl_div_mean", [log_p, q], lambda a, b: F.kl_div(a, b))
case("kl_div_batchmean", [log_p, q], lambda a, b: F.kl_div(a, b, reduction="batchmean"))
case("kl_div_log_target_sum", [log_p, q.log()], lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True))
case("kl_div_none", [log_p, q], lambda a, b: F.kl_div(a, b, reduction="none"))
sign = torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
case("margin_ranking", [randn(6), randn(6), sign], lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.3), grad=[0, 1])
case("margin_ranking_none", [randn(6), randn(6), sign], lambda a, b, y: F.margin_ranking_loss(a, b, y, reduction="none"), grad=[0, 1])
case("cosine_embedding", [randn(6, 4), randn(6, 4), sign], lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2), grad=[0, 1])
case("cosine_embedding_sum", [randn(6, 4), randn(6, 4), sign], lambda a, b, y: F.cosine_embedding_loss(a, b, y, reduction="sum"), grad=[0, 1])
case("triplet_margin", [randn(5, 4), randn(5, 4), randn(5, 4)], lambda a, p, n: F.triplet_margin_loss(a, p, n))
case("triplet_margin_p1_swap_none", [randn(5, 4), randn(5, 4), randn(5, 4)],
     lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=0.5, p=1, swap=True, reduction="none"))
case("triplet_margin_eps_sum", [randn(5, 4), randn(5, 4), randn(5, 4)], lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, eps=1e-3, reduction="sum"))
case("hinge_embedding", [positive(6) * 1.5, sign], lambda a, y: F.hinge_embedding_loss(a, y, margin=1.2), grad=[0])
case("soft_margin_sum", [randn(6), sign], lambda a, y: F.soft_margin_loss(a, y, reduction="sum"), grad=[0])


# ---------------------------------------------------------------- indexing and statistics (added 3 December 2026)
idx = torch.tensor([[0, 2, 1, 2], [3, 0, 0, 1]])
case("scatter", [randn(2, 5), idx, randn(2, 4)], lambda a, i, src: a.scatter(1, i, src), grad=[0, 2])
case("scatter_add", [randn(2, 5), idx, randn(2, 4)], lambda a, i, src: a.scatter_add(1, i, src), grad=[0, 2])
case("scatter_reduce_mean", [randn(2, 5), idx, randn(2, 4)], lambda a, i, src: a.scatter_reduce(1, i, src, "mean"), grad=[0, 2])
case("scatter_reduce_amax_exclude", [randn(2, 5), idx, randn(2, 4)], lambda a, i, src: a.scatter_reduce(1, i, src, "amax", include_self=False), grad=[0, 2])
case("scatter_reduce_prod", [positive(2, 5), idx, positive(2, 4)], lambda a, i, src: a.scatter_reduce(1, i, src, "prod"), grad=[0, 2])
case("tril", [randn(2, 4, 4)], lambda a: torch.tril(a))
case("triu_offset", [randn(3, 5)], lambda a: torch.triu(a, 1))
case("tril_negative", [randn(4, 3)], lambda a: torch.tril(a, -1))
case("roll_two_dims", [randn(3, 4, 5)], lambda a: torch.roll(a, (1, -2), (0, 2)))
case("roll_flat", [randn(3, 4)], lambda a: torch.roll(a, 5))
case("nonzero", [torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])], lambda a: torch.nonzero(a), grad=[])
case("unique_values", [torch.tensor([3, 1, 2, 3, 1, 5])], lambda a: torch.unique(a), grad=[])
case("unique_inverse", [torch.tensor([[3, 1], [2, 3], [1, 5]])], lambda a: torch.unique(a, return_inverse=True)[1], grad=[])
case("unique_counts", [torch.tensor([3, 1, 2, 3, 1, 5, 3])], lambda a: torch.unique(a, return_counts=True)[1], grad=[])
case("unfold_patches", [randn(2, 7, 3)], lambda a: a.unfold(1, 3, 2))
case("einsum_bmm", [randn(2, 3, 4), randn(2, 4, 5)], lambda a, b: torch.einsum("bij,bjk->bik", a, b))
case("einsum_channels", [randn(2, 3, 4, 4), randn(2, 3)], lambda a, b: torch.einsum("bchw,bc->bhw", a, b))
case("einsum_trace", [randn(4, 4)], lambda a: torch.einsum("ii", a))
case("cdist_l2", [randn(2, 5, 3), randn(2, 4, 3)], lambda a, b: torch.cdist(a, b))
case("cdist_l1", [randn(5, 3), randn(4, 3)], lambda a, b: torch.cdist(a, b, p=1.0))
case("eye_rect", [], lambda: torch.eye(3, 4), grad=[])
case("cumprod", [positive(3, 4)], lambda a: torch.cumprod(a, 1))
case("logit", [torch.rand(3, 4) * 0.9 + 0.05], lambda a: torch.logit(a))
case("logit_eps", [torch.tensor([[0.0, 0.3, 1.0], [0.5, 0.99, 0.01]])], lambda a: torch.logit(a, eps=0.05))
case("bincount", [torch.tensor([0, 2, 2, 5, 1, 2])], lambda a: torch.bincount(a), grad=[])
case("bincount_weights_minlength", [torch.tensor([0, 2, 2, 1]), positive(4)], lambda a, w: torch.bincount(a, w, minlength=6), grad=[])
case("median_all", [randn(4, 5)], lambda a: torch.median(a))
case("median_dim", [randn(4, 5)], lambda a: torch.median(a, 1).values)
case("median_dim_indices", [randn(4, 5)], lambda a: torch.median(a, 0, keepdim=True).indices, grad=[])
case("quantile_all", [randn(4, 5)], lambda a: torch.quantile(a, 0.3))
case("quantile_dim_vector", [randn(4, 5), torch.tensor([0.1, 0.5, 0.9])], lambda a, q: torch.quantile(a, q, dim=1, keepdim=True), grad=[0])
case("quantile_nearest", [randn(6, 5)], lambda a: torch.quantile(a, 0.4, dim=0, interpolation="nearest"))
case("quantile_midpoint", [randn(6, 5)], lambda a: torch.quantile(a, 0.75, dim=0, interpolation="midpoint"))


# ---------------------------------------------------------------- write
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "op_reference.safetensors")
write_safetensors(out, TENSORS, {"generator": "make_op_reference.py", "torch": torch.__version__, "cases": json.dumps(CASES)})
print(f"{len(CASES)} cases, {len(TENSORS)} tensors -> {out} ({os.path.getsize(out)} bytes)")
