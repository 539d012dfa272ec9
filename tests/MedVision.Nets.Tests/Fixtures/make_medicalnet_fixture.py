#!/usr/bin/python3
"""Reference fixtures for MedVision.Nets' MedicalNet (Med3D) 3-D ResNets.

MedicalNet (Chen, Ma and Zheng, "Med3D: Transfer Learning for 3D Medical Image Analysis", arXiv 1904.00625;
github.com/Tencent/MedicalNet, MIT licence) publishes 3-D ResNet-10/18/34/50/101/152/200 weights pretrained on 23
medical segmentation data sets. Its network differs from torchvision's: one input channel; a 7x7x7 stride-2 stem and a
3x3x3 stride-2 max pool; layer2 halves the resolution, layer3 and layer4 keep it and dilate *every* 3x3x3 convolution of
the stage by 2 and 4 (torchvision's replace_stride_with_dilation leaves the stage's first block at the previous
dilation); the basic block is dilated too; ResNet-18/34 use the parameter-free shortcut of He et al.'s option A (strided
identity, new channels zero; MedicalNet's setting "--resnet_shortcut A"), the other depths the 1x1 projection (B); a
segmentation head "conv_seg" follows layer4. The network below is written from that description; the weights are
random. MedicalNet's and MONAI's option-A shortcut concatenate `out.data`, which stops the gradient through the
shortcut; the one here (and MedVision's) passes it, as the paper's identity shortcut does; forward values are the same.

Run with /usr/bin/python3 (torch 1.13) from this folder:

    /usr/bin/python3 make_medicalnet_fixture.py

Writes
  medicalnet_state_dict_shapes.json   {depth: [[key, [shape...]], ...]} of the full-size backbone of every depth
                                      (conv_seg left out), in state-dict order, with the parameter count
  medicalnet_tiny_resnet10.pth        widths 4/8/16/32, basic blocks [1, 1, 1, 1], projection shortcut
  medicalnet_tiny_resnet18a.pth       widths 3/6/12/24, basic blocks [2, 2, 2, 2], zero-padding shortcut (A)
  medicalnet_tiny_resnet50.pth        widths 2/4/8/16, bottlenecks [1, 1, 1, 1], projection shortcut
      each as MedicalNet's train.py leaves its checkpoints: torch.save({"ecpoch" (sic), "batch_id", "state_dict" and,
      for resnet10, "optimizer"}) of an nn.DataParallel model ("module." before every key, conv_seg included; the
      optimizer state after one SGD step), in the legacy (non-zip) format that the published files (PyTorch 0.4) have
  medicalnet_tiny_expected.safetensors  per model: "<name>.input" (2, 1, 20, 20, 20), "<name>.features" (eval-mode
      layer4 output averaged over D, H, W: the pooled embedding of a MedVision backbone), "<name>.weights" (random
      (2, C)) and "<name>.input_grad", the gradient of sum(features * weights) with respect to the input
"""
import collections
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


def dilated_conv(cin, cout, stride=1, dilation=1):
    return nn.Conv3d(cin, cout, kernel_size=3, stride=stride, padding=dilation, dilation=dilation, bias=False)


class ZeroPadShortcut(nn.Module):
    """He et al.'s option A: take every stride-th voxel, append zero channels up to `channels`."""

    def __init__(self, channels, stride):
        super().__init__()
        self.channels, self.stride = channels, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, 0, 0, self.channels - x.shape[1]))


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride, dilation, shortcut):
        super().__init__()
        self.conv1 = dilated_conv(cin, planes, stride, dilation)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = dilated_conv(planes, planes, 1, dilation)
        self.bn2 = nn.BatchNorm3d(planes)
        self.shortcut = shortcut

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class Bottle(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, dilation, shortcut):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = dilated_conv(planes, planes, stride, dilation)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.shortcut = shortcut

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class MedicalNetResNet(nn.Module):
    def __init__(self, block, layers, widths, shortcut_type, seg_classes=2):
        super().__init__()
        self.conv1 = nn.Conv3d(1, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(widths[0])
        self.maxpool = nn.MaxPool3d(kernel_size=3, stride=2, padding=1)
        channels = widths[0]
        for i, (blocks, planes, stride, dilation) in enumerate(zip(layers, widths, (1, 2, 1, 1), (1, 1, 2, 4))):
            out = planes * block.expansion
            stage = []
            for b in range(blocks):
                shortcut = None
                if b == 0 and (stride != 1 or channels != out):
                    if shortcut_type == "A":
                        shortcut = ZeroPadShortcut(out, stride)
                    else:
                        shortcut = nn.Sequential(nn.Conv3d(channels, out, 1, stride=stride, bias=False), nn.BatchNorm3d(out))
                stage.append(block(channels, planes, stride if b == 0 else 1, dilation, shortcut))
                channels = out
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.conv_seg = nn.Sequential(
            nn.ConvTranspose3d(channels, 32, 2, stride=2), nn.BatchNorm3d(32), nn.ReLU(inplace=True),
            nn.Conv3d(32, 32, 3, padding=1, bias=False), nn.BatchNorm3d(32), nn.ReLU(inplace=True),
            nn.Conv3d(32, seg_classes, 1, bias=False))

    def backbone(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        return self.conv_seg(self.backbone(x))

    def medicalnet_state_dict(self):
        # MedicalNet names the projection "downsample" (downsample.0 conv, downsample.1 BN), as torchvision does.
        return collections.OrderedDict((k.replace(".shortcut.", ".downsample."), v) for k, v in self.state_dict().items())


DEPTHS = {
    10: (Basic, (1, 1, 1, 1), "B"),
    18: (Basic, (2, 2, 2, 2), "A"),
    34: (Basic, (3, 4, 6, 3), "A"),
    50: (Bottle, (3, 4, 6, 3), "B"),
    101: (Bottle, (3, 4, 23, 3), "B"),
    152: (Bottle, (3, 8, 36, 3), "B"),
    200: (Bottle, (3, 24, 36, 3), "B"),
}


def randomise_batch_norms(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(11)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def main():
    shapes = {}
    for depth, (block, layers, shortcut) in DEPTHS.items():
        model = MedicalNetResNet(block, layers, (64, 128, 256, 512), shortcut)
        state = [(k, list(v.shape)) for k, v in model.medicalnet_state_dict().items() if not k.startswith("conv_seg.")]
        params = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("conv_seg."))
        shapes[str(depth)] = {"shortcut": shortcut, "parameters": params, "state_dict": state}
        print(f"resnet{depth}: {params} backbone parameters, {len(state)} tensors")
        del model
    with open("medicalnet_state_dict_shapes.json.tmp", "w") as f:
        json.dump(shapes, f, separators=(",", ":"))
    os.replace("medicalnet_state_dict_shapes.json.tmp", "medicalnet_state_dict_shapes.json")

    expected = collections.OrderedDict()
    for seed, (name, block, layers, widths, shortcut) in enumerate([
            ("resnet10", Basic, (1, 1, 1, 1), (4, 8, 16, 32), "B"),
            ("resnet18a", Basic, (2, 2, 2, 2), (3, 6, 12, 24), "A"),
            ("resnet50", Bottle, (1, 1, 1, 1), (2, 4, 8, 16), "B")]):
        torch.manual_seed(seed)
        model = MedicalNetResNet(block, layers, widths, shortcut)
        randomise_batch_norms(model)
        # One step of MedicalNet's optimizer (SGD, momentum 0.9, weight decay 1e-3) first, so that the ResNet-10 checkpoint
        # carries an optimizer state as MedicalNet's train.py saves it (the other two leave it out, to keep them small).
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-3)
        model(torch.randn(2, 1, 20, 20, 20)).mean().backward()
        optimizer.step()
        model.eval()
        x = torch.randn(2, 1, 20, 20, 20, requires_grad=True)
        features = model.backbone(x).mean(dim=(2, 3, 4))
        weights = torch.randn(features.shape)
        (features * weights).sum().backward()
        expected[f"{name}.input"] = x.detach()
        expected[f"{name}.features"] = features.detach()
        expected[f"{name}.weights"] = weights
        expected[f"{name}.input_grad"] = x.grad
        state = collections.OrderedDict(("module." + k, v) for k, v in model.medicalnet_state_dict().items())
        path = f"medicalnet_tiny_{name}.pth"
        checkpoint = {"ecpoch": 7, "batch_id": 0, "state_dict": state}
        if name == "resnet10":
            checkpoint["optimizer"] = optimizer.state_dict()
        torch.save(checkpoint, path + ".tmp", _use_new_zipfile_serialization=False)
        os.replace(path + ".tmp", path)
        print(path, sum(p.numel() for p in model.parameters()), "parameters, features", tuple(features.shape))
    write_safetensors("medicalnet_tiny_expected.safetensors", expected)


if __name__ == "__main__":
    main()
