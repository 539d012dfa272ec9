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
  pgrad.<name>       the parameters' gradients (torchvision's names).
"""
import torch
from torchvision.models import VisionTransformer

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
write_safetensors("vit_reference.safetensors", tensors)
print(f"{len(tensors)} tensors -> vit_reference.safetensors")
