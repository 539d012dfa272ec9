#!/usr/bin/python3
"""Moves ResNet weights between Python PyTorch (torchvision) and MedVision.Nets through safetensors.

  export  --out DIR            build a torchvision ResNet-18 (5 classes, small-input stem for 28x28) and write
                               DIR/torchvision.safetensors + DIR/torchvision.json (the model card MedVision.Nets reads)
  import  --model FILE         load a MedVision.Nets model file (e.g. runs/quickstart/model.safetensors) into torchvision
                               and print its prediction for one RetinaMNIST test image
  script  --out DIR [--arch A] torch.jit.script a torchvision model of an architecture MedVision.Nets does not define
                               (default regnet_y_400mf, 5 classes, 28x28 input) and write DIR/A.pt with its model
                               card inside (extra file "medvision.model_card"), DIR/test0.png (RetinaMNIST test image 0)
                               and PyTorch's probabilities for that image; MedVision.Nets' Predictor (and the MedMnist
                               sample's predict/evaluate commands) run the .pt file directly

Needs only numpy and torch/torchvision (Debian: python3-torch python3-torchvision; run with /usr/bin/python3); the
safetensors format is read and written by hand (8-byte little-endian header length, JSON header, raw bytes).
Not run by the test suite (tests need no Python); tests/MedVision.Nets.Tests/Inference/PredictorTests.cs covers the
.NET side of both directions.
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
import torchvision

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        code = {np.float32: "F32", np.float64: "F64", np.int64: "I64", np.int32: "I32", np.uint8: "U8"}[a.dtype.type]
        blob = a.tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {k: torch.from_numpy(np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).copy())
               for k, v in header.items()}
    return tensors, meta


def torchvision_resnet(card):
    r = card["resnet"]
    block = torchvision.models.resnet.BasicBlock if r["block"] == "basic" else torchvision.models.resnet.Bottleneck
    if r["widths"] != [64, 128, 256, 512]:
        raise SystemExit("torchvision's ResNet class has fixed widths 64..512; this card has " + str(r["widths"]))
    model = torchvision.models.resnet.ResNet(block, r["layers"], num_classes=r["num_classes"])
    if r["in_channels"] != 3 or r["stem"] == "small_input":
        k, s, p = (3, 1, 1) if r["stem"] == "small_input" else (7, 2, 3)
        model.conv1 = torch.nn.Conv2d(r["in_channels"], 64, k, s, p, bias=False)
    if r["stem"] == "small_input":
        model.maxpool = torch.nn.Identity()
    return model


def export(out):
    os.makedirs(out, exist_ok=True)
    card = {"format_version": 1, "architecture": "resnet",
            "resnet": {"block": "basic", "layers": [2, 2, 2, 2], "widths": [64, 128, 256, 512], "in_channels": 3,
                       "spatial_dims": 2, "stem": "small_input", "num_classes": 5, "dropout": 0.0},
            "preprocessing": {"input_size": [28, 28], "channels": 3, "mean": [0.5], "std": [0.5], "resize": "linear"},
            "class_names": ["0", "1", "2", "3", "4"], "task": "OrdinalRegression", "library_version": "torchvision " + torchvision.__version__, "metrics": {}}
    torch.manual_seed(0)
    model = torchvision_resnet(card)
    write_safetensors(os.path.join(out, "torchvision.safetensors"), model.state_dict(), {"format": "pt"})
    with open(os.path.join(out, "torchvision.json"), "w") as f:
        json.dump(card, f, indent=2)
    print("wrote", os.path.join(out, "torchvision.safetensors"), "and its card torchvision.json")


def script(out, arch):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(num_classes=5).eval()
    with torch.no_grad():  # untrained: widen the classifiers so that the probabilities are not all 0.2
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, std=0.5)
    card = {"format_version": 1, "architecture": "torchscript",
            "preprocessing": {"input_size": [28, 28], "channels": 3, "mean": [0.5], "std": [0.5], "resize": "linear"},
            "class_names": ["0", "1", "2", "3", "4"], "task": "OrdinalRegression",
            "library_version": "torchvision " + torchvision.__version__, "temperature": 1.0, "metrics": {}}
    path = os.path.join(out, arch + ".pt")
    torch.jit.save(torch.jit.script(model), path, _extra_files={"medvision.model_card": json.dumps(card)})
    data = np.load(os.path.join(os.path.dirname(__file__), "../../src/MedVision.Nets/Data/MedMnist/Resources/retinamnist.npz"))
    image = data["test_images"][0]
    from PIL import Image
    Image.fromarray(image).save(os.path.join(out, "test0.png"))
    x = torch.from_numpy(image[None]).permute(0, 3, 1, 2).float() / 255
    x = (x - 0.5) / 0.5
    with torch.no_grad():
        p = model(x).softmax(1)
    print("wrote", path, "(", sum(t.numel() for t in model.parameters()), "parameters ) and", os.path.join(out, "test0.png"))
    print("PyTorch probabilities of test image 0:", [round(v, 4) for v in p[0].tolist()])


def import_(path):
    tensors, meta = read_safetensors(path)
    card = json.loads(meta["medvision.model_card"])
    model = torchvision_resnet(card)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    data = np.load(os.path.join(os.path.dirname(__file__), "../../src/MedVision.Nets/Data/MedMnist/Resources/retinamnist.npz"))
    x = torch.from_numpy(data["test_images"][:1]).permute(0, 3, 1, 2).float() / 255
    x = (x - 0.5) / 0.5
    with torch.no_grad():
        p = model(x).softmax(1)
    print("loaded", path, "into torchvision; probabilities of test image 0:", [round(v, 4) for v in p[0].tolist()])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--out", required=True)
    i = sub.add_parser("import")
    i.add_argument("--model", required=True)
    s = sub.add_parser("script")
    s.add_argument("--out", required=True)
    s.add_argument("--arch", default="regnet_y_400mf")
    a = ap.parse_args()
    if a.cmd == "export":
        export(a.out)
    elif a.cmd == "script":
        script(a.out, a.arch)
    else:
        import_(a.model)
