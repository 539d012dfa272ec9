#!/usr/bin/python3
"""Writes full-size torchvision checkpoints for TorchvisionFilesTests (not committed: 240 MB), which run when
MEDVISION_TORCHVISION_FILES names the folder and are skipped otherwise:

    /usr/bin/python3 tests/MedVision.Nets.Tests/Fixtures/make_torchvision_files.py /tmp/tv-files
    MEDVISION_TORCHVISION_FILES=/tmp/tv-files dotnet test tests/MedVision.Nets.Tests -c Release --filter TorchvisionFilesTests

  resnet50.pth           torch.save(torchvision.models.resnet50().state_dict()), random weights and batch-norm statistics
  resnet50_io.pth        {"x": a (2, 3, 64, 64) batch, "y": the model's logits in evaluation mode}
  r3d_18-<sha256[:8]>.pth  torch.save(torchvision.models.video.r3d_18().state_dict()), named as download.pytorch.org
                         names its files, so that PretrainedWeights.R3D18Kinetics400V1 can be pointed at it
  r3d_18_io.pth          {"x": a (2, 3, 8, 32, 32) clip batch, "y": the logits}
"""
import hashlib
import os
import sys

import torch
import torchvision


def randomise(model, norm):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, norm):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    return model.eval()


def main(folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(1)
    resnet = randomise(torchvision.models.resnet50(), torch.nn.BatchNorm2d)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.save({"x": x, "y": resnet(x)}, os.path.join(folder, "resnet50_io.pth"))
    torch.save(resnet.state_dict(), os.path.join(folder, "resnet50.pth"))

    torch.manual_seed(3)
    r3d = randomise(torchvision.models.video.r3d_18(), torch.nn.BatchNorm3d)
    x = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        torch.save({"x": x, "y": r3d(x)}, os.path.join(folder, "r3d_18_io.pth"))
    temporary = os.path.join(folder, "r3d_18.tmp")
    torch.save(r3d.state_dict(), temporary)
    digest = hashlib.sha256(open(temporary, "rb").read()).hexdigest()[:8]
    for old in os.listdir(folder):
        if old.startswith("r3d_18-") and old.endswith(".pth"):
            os.remove(os.path.join(folder, old))
    os.replace(temporary, os.path.join(folder, f"r3d_18-{digest}.pth"))
    print("written to", folder)


if __name__ == "__main__":
    main(sys.argv[1])
