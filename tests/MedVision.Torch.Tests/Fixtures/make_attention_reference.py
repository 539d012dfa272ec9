#!/usr/bin/python3
"""Writes attention_reference.safetensors: attention, transformer and embedding layers of torch.nn, for
AttentionReferenceTests.

Each module case builds the torch.nn module with PyTorch's own random initialisation and records
    "<case>.state.<name>"                 its state dict,
    "<case>.query", ".key", ".value"      the inputs (".src" for the encoder cases), and the masks it is given,
    "<case>.out", "<case>.weights"        the outputs (attention weights when the module returns them),
    "<case>.w"                            a random weight w, and
    "<case>.grad.<input>", "<case>.pgrad.<name>"   the gradients of sum(out * w).
Everything runs with gradients enabled (so PyTorch takes its reference path, not the fused inference kernels) and in
the mode the case names. The scaled-dot-product cases record softmax(Q Kᵀ · scale + mask) V computed in float64: PyTorch
1.13 has no F.scaled_dot_product_attention (PyTorch 2 defines it by that formula).

Run with the system Python (torch 1.13):  /usr/bin/python3 make_attention_reference.py
The tests only read the .safetensors file; Python is not needed to run them.
"""
import json
import math
import os

import torch
import torch.nn as nn

from fixture_io import write_safetensors

torch.manual_seed(20261206)
T = {}
CASES = []


def record_state(name, module):
    for k, v in module.state_dict().items():
        T[f"{name}.state.{k}"] = v.detach().clone()


def grads(name, out, inputs, module):
    w = torch.randn(out.shape)
    (out * w).sum().backward()
    T[f"{name}.w"] = w
    for key, x in inputs.items():
        T[f"{name}.grad.{key}"] = x.grad.clone()
    for k, p in module.named_parameters():
        T[f"{name}.pgrad.{k}"] = p.grad.clone()


def mha_case(name, module, query, key, value, train=False, **kwargs):
    record_state(name, module)
    module.train(train)
    q = query.clone().requires_grad_()
    k = q if key is query else key.clone().requires_grad_()
    v = q if value is query else (k if value is key else value.clone().requires_grad_())
    out, weights = module(q, k, v, **kwargs)
    T[f"{name}.query"] = query
    if key is not query:
        T[f"{name}.key"] = key
    if value is not query and value is not key:
        T[f"{name}.value"] = value
    for m in ("key_padding_mask", "attn_mask"):
        if kwargs.get(m) is not None:
            T[f"{name}.{m}"] = kwargs[m]
    T[f"{name}.out"] = out.detach()
    if weights is not None:
        T[f"{name}.weights"] = weights.detach()
    inputs = {"query": q}
    if k is not q:
        inputs["key"] = k
    if v is not q and v is not k:
        inputs["value"] = v
    grads(name, out, inputs, module)
    CASES.append({"name": name, "kind": "mha", "embed_dim": module.embed_dim, "num_heads": module.num_heads,
                  "bias": module.in_proj_bias is not None, "batch_first": module.batch_first,
                  "need_weights": kwargs.get("need_weights", True), "average": kwargs.get("average_attn_weights", True),
                  "key_is_query": key is query, "value_is_key": value is key or value is query})


def encoder_case(name, module, src, layer_options, num_layers=None, train=False, **kwargs):
    record_state(name, module)
    module.train(train)
    x = src.clone().requires_grad_()
    out = module(x, **kwargs)
    T[f"{name}.src"] = src
    for m in ("src_key_padding_mask", "src_mask", "mask"):
        if kwargs.get(m) is not None:
            T[f"{name}.{m}"] = kwargs[m]
    T[f"{name}.out"] = out.detach()
    grads(name, out, {"src": x}, module)
    CASES.append({"name": name, "kind": "encoder" if num_layers else "encoder_layer", "layers": num_layers or 0, **layer_options})


# ---------------------------------------------------------------- multi-head attention
E = 8
x = torch.randn(5, 2, E)
mha_case("mha_self", nn.MultiheadAttention(E, 2), x, x, x)
q, kv = torch.randn(2, 4, E), torch.randn(2, 6, E)
padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
additive = torch.randn(4, 6) * 0.5
mha_case("mha_cross_masks_per_head", nn.MultiheadAttention(E, 4, batch_first=True), q, kv, kv,
         key_padding_mask=padding, attn_mask=additive, average_attn_weights=False)
unbatched = torch.randn(4, E)
causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)   # True: not allowed
mha_case("mha_unbatched_causal_no_bias", nn.MultiheadAttention(E, 2, bias=False), unbatched, unbatched, unbatched, attn_mask=causal)
q3, k3, v3 = torch.randn(3, 2, E), torch.randn(5, 2, E), torch.randn(5, 2, E)
mha_case("mha_separate_kv_no_weights", nn.MultiheadAttention(E, 2), q3, k3, v3, need_weights=False)

# ---------------------------------------------------------------- transformer encoder layers (dropout 0 in training,
# the default 0.1 compared in evaluation mode)
src = torch.randn(5, 2, E)
encoder_case("encoder_layer_relu_post_norm", nn.TransformerEncoderLayer(E, 2, dim_feedforward=16, dropout=0.0), src,
             {"d_model": E, "nhead": 2, "ff": 16, "dropout": 0.0, "activation": "relu", "batch_first": False, "norm_first": False}, train=True)
src_bf = torch.randn(2, 6, E)
encoder_case("encoder_layer_gelu_norm_first_padding", nn.TransformerEncoderLayer(E, 4, dim_feedforward=12, activation="gelu", batch_first=True, norm_first=True), src_bf,
             {"d_model": E, "nhead": 4, "ff": 12, "dropout": 0.1, "activation": "gelu", "batch_first": True, "norm_first": True},
             src_key_padding_mask=padding)
layer = nn.TransformerEncoderLayer(E, 2, dim_feedforward=16, dropout=0.1)
encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(E), enable_nested_tensor=False)
encoder_case("encoder_two_layers_norm_mask", encoder, src,
             {"d_model": E, "nhead": 2, "ff": 16, "dropout": 0.1, "activation": "relu", "batch_first": False, "norm_first": False, "final_norm": True},
             num_layers=2, mask=torch.triu(torch.full((5, 5), float("-inf")), diagonal=1))

# ---------------------------------------------------------------- embeddings
for name, kwargs in (("embedding_padding", {"padding_idx": 0}), ("embedding_freq", {"padding_idx": -1, "scale_grad_by_freq": True})):
    emb = nn.Embedding(10, 4, **kwargs)
    record_state(name, emb)
    idx = torch.tensor([[0, 3, 3, 9, 1], [9, 0, 2, 3, 3]])
    out = emb(idx)
    T[f"{name}.indices"] = idx
    T[f"{name}.out"] = out.detach()
    grads(name, out, {}, emb)
    CASES.append({"name": name, "kind": "embedding", "num": 10, "dim": 4, "padding_idx": emb.padding_idx, "scale_grad_by_freq": emb.scale_grad_by_freq})

# ---------------------------------------------------------------- scaled dot-product attention (float64 formula)
def sdpa(q, k, v, mask=None, causal=False, scale=None):
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal:
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


q, k, v = torch.randn(2, 3, 4, 8, dtype=torch.float64), torch.randn(2, 3, 6, 8, dtype=torch.float64), torch.randn(2, 3, 6, 5, dtype=torch.float64)
keep = torch.rand(4, 6) > 0.3
keep[:, 0] = True
float_mask = torch.randn(2, 1, 4, 6, dtype=torch.float64)
for name, kwargs in (("sdpa_plain", {}), ("sdpa_bool_mask", {"mask": keep}), ("sdpa_float_mask_scale", {"mask": float_mask, "scale": 0.3})):
    T[f"{name}.out"] = sdpa(q, k, v, **kwargs)
    if "mask" in kwargs:
        T[f"{name}.mask"] = kwargs["mask"]
    CASES.append({"name": name, "kind": "sdpa", "scale": kwargs.get("scale")})
qc, kc = torch.randn(2, 5, 8, dtype=torch.float64), torch.randn(2, 5, 8, dtype=torch.float64)
T["sdpa_causal.out"] = sdpa(qc, kc, kc, causal=True)
CASES.append({"name": "sdpa_causal", "kind": "sdpa_causal"})
T["sdpa.q"], T["sdpa.k"], T["sdpa.v"], T["sdpa_causal.q"], T["sdpa_causal.k"] = q, k, v, qc, kc

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention_reference.safetensors")
write_safetensors(out, T, {"generator": "make_attention_reference.py", "torch": torch.__version__, "cases": json.dumps(CASES)})
print(f"{len(CASES)} cases, {len(T)} tensors -> {out} ({os.path.getsize(out)} bytes)")
