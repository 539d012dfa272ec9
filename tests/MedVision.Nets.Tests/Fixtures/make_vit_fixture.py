#!/usr/bin/python3
"""Reference outputs of torchvision's VisionTransformer for the VisionTransformer tests.

Run with /usr/bin/python3 (torch 1.13 + torchvision 0.14) from this folder:

    /usr/bin/python3 make_vit_fixture.py

Builds torchvision.models.VisionTransformer(image_size=28, patch_size=7, num_layers=2, num_heads=2, hidden_dim=16,
mlp_dim=32, num_classes=5), replaces its zero-initialised head (and the class token) with random values so that they
matter, and writes vit_reference.safetensors with
  state.<name>       its state dict in torchvision's names (the C# test maps them to MedVision.Nets' names),
  input, logits      a 2x3x28x28 input and the evaluation-mode logits,
  w, grad.input      a random weight w and the input's gradient of sum(logits * w),
  pgrad.<name>       the parameters' gradients (torchvision's names),
  attn.<i>           layer i's self-attention weights for the input, (2, heads, 17, 17), the class token first,
  rollout.<fusion>[.discard50]  attention rollout (Abnar & Zuidema 2020, as jacobgil's vit-explain computes it, each
                     sample's weakest weights discarded per sample): the class token's row over the 16 patches, (2, 4, 4),
                     neither resized nor normalised; heads fused by mean, max or min; ".discard50" with half of each
                     layer's fused weights set to zero,
  interp.pos_embedding, interp.input, interp.logits  the state dict resized to 42x42 inputs (a 6x6 patch grid) with
                     torchvision's interpolate_embeddings (bicubic, corners aligned), a 2x3x42x42 input and the logits
                     of the network of that size with those weights,
  gradrollout.predicted, gradrollout.class3  gradient-weighted attention rollout (Chefer, Gur and Wolf, ICCV 2021)
                     of the predicted classes and of class 3, (2, 4, 4), neither resized nor normalised: the gradients
                     of the class logits with respect to each layer's attention probabilities, from torchvision's
                     forward pass written out with the probabilities kept in the graph.
"""
import torch
from torchvision.models import VisionTransformer
from torchvision.models.vision_transformer import interpolate_embeddings

from make_resnet_fixture import write_safetensors

torch.manual_seed(20261206)
model = VisionTransformer(image_size=28, patch_size=7, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=5)
with torch.no_grad():
    model.heads.head.weight.normal_(0, 0.5)
    model.heads.head.bias.normal_(0, 0.5)
    model.class_token.normal_(0, 0.5)
model.eval()
tensors = {f"state.{k}": v.detach().clone() for k, v in model.state_dict().items()}
x = torch.randn(2, 3, 28, 28, requires_grad=True)
logits = model(x)
w = torch.randn(logits.shape)
(logits * w).sum().backward()
tensors.update({"input": x.detach(), "logits": logits.detach(), "w": w, "grad.input": x.grad})
for k, p in model.named_parameters():
    tensors[f"pgrad.{k}"] = p.grad


def attention_weights(model, x):
    """Each encoder layer's attention weights, per head, as torchvision's EncoderBlock computes them."""
    tokens = model._process_input(x)
    tokens = torch.cat([model.class_token.expand(x.shape[0], -1, -1), tokens], dim=1) + model.encoder.pos_embedding
    weights = []
    for block in model.encoder.layers:
        y = block.ln_1(tokens)
        _, w = block.self_attention(y, y, y, need_weights=True, average_attn_weights=False)
        weights.append(w)
        tokens = block(tokens)
    return weights


def rollout(weights, fusion, discard_ratio):
    n, _, t, _ = weights[0].shape
    result = torch.eye(t).expand(n, t, t)
    for w in weights:
        fused = {"mean": w.mean(1), "max": w.max(1).values, "min": w.min(1).values}[fusion]
        flat = fused.reshape(n, -1).clone()
        k = int(flat.size(-1) * discard_ratio)
        if k > 0:
            _, lowest = flat.topk(k, dim=-1, largest=False)
            for i in range(n):
                drop = lowest[i][lowest[i] != 0]
                flat[i, drop] = 0
        a = (flat.reshape(n, t, t) + torch.eye(t)) / 2
        a = a / a.sum(dim=-1, keepdim=True)
        result = a @ result
    return result[:, 0, 1:].reshape(n, 4, 4)


with torch.no_grad():
    weights = attention_weights(model, x.detach())
    torch.testing.assert_close(model.heads(model.encoder(torch.cat([model.class_token.expand(2, -1, -1), model._process_input(x.detach())], 1))[:, 0]), logits.detach())
for i, w in enumerate(weights):
    tensors[f"attn.{i}"] = w
for fusion in ("mean", "max", "min"):
    tensors[f"rollout.{fusion}"] = rollout(weights, fusion, 0)
tensors["rollout.max.discard50"] = rollout(weights, "max", 0.5)

resized_state = interpolate_embeddings(42, 7, model.state_dict())
bigger = VisionTransformer(image_size=42, patch_size=7, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=5)
bigger.load_state_dict(resized_state)
bigger.eval()
x42 = torch.randn(2, 3, 42, 42)
with torch.no_grad():
    tensors.update({"interp.pos_embedding": resized_state["encoder.pos_embedding"], "interp.input": x42, "interp.logits": bigger(x42)})


def forward_with_probabilities(model, x):
    """torchvision's forward pass written out, keeping each layer's attention probabilities (N, heads, T, T) in the graph."""
    n = x.shape[0]
    tokens = model._process_input(x)
    tokens = torch.cat([model.class_token.expand(n, -1, -1), tokens], dim=1) + model.encoder.pos_embedding
    probabilities = []
    for block in model.encoder.layers:
        y = block.ln_1(tokens)
        mha = block.self_attention
        t, e, h = y.shape[1], y.shape[2], mha.num_heads
        d = e // h
        q, k, v = (z.reshape(n, t, h, d).transpose(1, 2) for z in torch.nn.functional.linear(y, mha.in_proj_weight, mha.in_proj_bias).chunk(3, -1))
        a = torch.softmax((q / d ** 0.5) @ k.transpose(-2, -1), dim=-1)
        probabilities.append(a)
        tokens = tokens + mha.out_proj((a @ v).transpose(1, 2).reshape(n, t, e))
        tokens = tokens + block.mlp(block.ln_2(tokens))
    return model.heads(model.encoder.ln(tokens)[:, 0]), probabilities


def gradient_rollout(model, x, targets):
    """Chefer, Gur and Wolf (ICCV 2021), as their ViT notebook computes it: R = I; per layer R += mean_h((dy/dA * A)^+) @ R."""
    logits, probabilities = forward_with_probabilities(model, x)
    grads = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), probabilities)
    n, _, t, _ = probabilities[0].shape
    r = torch.eye(t).expand(n, t, t)
    for a, g in zip(probabilities, grads):
        r = r + (g * a).clamp(min=0).mean(1) @ r
    return r[:, 0, 1:].reshape(n, 4, 4).detach()


check_logits, check_probabilities = forward_with_probabilities(model, x.detach())
torch.testing.assert_close(check_logits, logits.detach())
for a, w in zip(check_probabilities, weights):
    torch.testing.assert_close(a, w)
predicted = logits.detach().argmax(1)
tensors["gradrollout.predicted"] = gradient_rollout(model, x.detach(), predicted)
tensors["gradrollout.class3"] = gradient_rollout(model, x.detach(), torch.tensor([3, 3]))
write_safetensors("vit_reference.safetensors", tensors)
print(f"{len(tensors)} tensors -> vit_reference.safetensors")
