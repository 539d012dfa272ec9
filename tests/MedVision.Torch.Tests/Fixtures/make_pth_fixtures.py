#!/usr/bin/python3
"""Writes the torch.save fixtures of PyTorchFileTests into pth/.

Run with the system Python (torch 1.13):  /usr/bin/python3 make_pth_fixtures.py
The tests only read the files; Python is not needed to run them.

  state_dict.pth     torch.save(model.state_dict()) of a small conv/batch-norm/linear model (zip format)
  checkpoint.pth     a training checkpoint: numbers and strings, a "module."-prefixed state dict, an Adam state dict,
                     strided views (transposed, a row, a narrowed slice, two views of one storage), every dtype,
                     a list and a tuple
  tensor.pth         torch.save(one tensor)
  legacy.pth         the state dict in PyTorch's legacy (pre-1.6) format
  checkpoint_legacy.pth  checkpoint.pth in the legacy format
  checkpoint_protocol4.pth, checkpoint_protocol5.pth  checkpoint.pth pickled with protocols 4 and 5
                     (torch.save(..., pickle_protocol=4/5): frames, MEMOIZE, STACK_GLOBAL, short strings)
  plain_pickle.pkl   a plain pickle (no torch.save magic number), refused
  collision.pth      {"a.b": tensor, "a": {"b": tensor}}: two tensors under one dotted key, refused
  legacy_view.pth    a legacy file whose tensor lies on a storage view (as PyTorch < 0.4 wrote them; crafted here, since
                     1.13 never writes views): {"window": elements 2..5 of the storage arange(10)}
  model_object.pth   torch.save(model): a pickled nn.Module, which a state-dict reader must refuse
  numpy.pth          a dict holding a NumPy array, refused likewise
  checkpoint_2x_layout.pth  checkpoint.pth laid out as PyTorch 2.x writes archives: root folder "archive/", a
                     "byteorder" record ("little"), ".data/serialization_id" (the pickle and data are the same)
  big_endian.pth     the same with byteorder "big", which the reader refuses
  expected.safetensors  every tensor of checkpoint.pth under its flattened key (floats as float64, integers as
                     int64, bools as bool: the hand-written safetensors writer knows those); its metadata holds
                     "dtypes" (key -> torch dtype) and "scalars" (key -> the text a reader should give)
"""
import collections
import json
import os
import zipfile

import numpy
import torch

from fixture_io import write_safetensors

torch.manual_seed(20261203)
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pth")
os.makedirs(HERE, exist_ok=True)


def path(name):
    return os.path.join(HERE, name)


def save(obj, name, **kwargs):
    torch.save(obj, path(name) + ".tmp", **kwargs)
    os.replace(path(name) + ".tmp", path(name))


model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 3))
with torch.no_grad():
    model[1].running_mean.uniform_(-1, 1)
    model[1].running_var.uniform_(0.5, 2)
    model[1].num_batches_tracked.fill_(11)
state = collections.OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
save(state, "state_dict.pth")
save(state, "legacy.pth", _use_new_zipfile_serialization=False)
save(model, "model_object.pth")
save({"weights": torch.ones(2), "counts": numpy.arange(3)}, "numpy.pth")
save(torch.arange(6, dtype=torch.float32).reshape(2, 3), "tensor.pth")

optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
model(torch.randn(4, 1, 4, 4)).sum().backward()
optimizer.step()

base = torch.randn(3, 4)
shared = torch.arange(10, dtype=torch.float32)
checkpoint = {
    "epoch": 7,
    "best_auc": 0.83125,
    "arch": "tiny",
    "big": 2 ** 70,
    "negative": -123456789012,
    "flag": True,
    "nothing": None,
    "state_dict": collections.OrderedDict(("module." + k, v) for k, v in state.items()),
    "optimizer": optimizer.state_dict(),
    "views": {
        "transposed": base.t(),
        "row": base[1],
        "narrow": base[:, 1:3],
        "every_other": shared[::2],
        "tail": shared[6:],
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    },
    "dtypes": {
        "float16": torch.randn(5).half(),
        "bfloat16": torch.randn(5).bfloat16(),
        "float64": torch.randn(5, dtype=torch.float64),
        "int32": torch.tensor([-2, 0, 2**31 - 1], dtype=torch.int32),
        "int16": torch.tensor([-300, 7], dtype=torch.int16),
        "int8": torch.tensor([-128, 127], dtype=torch.int8),
        "uint8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "int64": torch.tensor([-(2**62), 2**62]),
    },
    "list": [torch.ones(2), 3, "x"],
    "tuple": (torch.full((2,), 4.0),),
}
save(checkpoint, "checkpoint.pth")
save(checkpoint, "checkpoint_legacy.pth", _use_new_zipfile_serialization=False)
save(checkpoint, "checkpoint_protocol4.pth", pickle_protocol=4)
save(checkpoint, "checkpoint_protocol5.pth", pickle_protocol=5)
save({"a.b": torch.ones(1), "a": {"b": torch.zeros(1)}}, "collision.pth")
with open(path("plain_pickle.pkl"), "wb") as f:
    import pickle
    pickle.dump({"epoch": 3}, f, protocol=2)



def relayout(source, target, byteorder):
    """Rewrites a 1.13 archive ("checkpoint/...") with PyTorch 2.x's layout ("archive/...", byteorder, serialization id)."""
    with zipfile.ZipFile(path(source)) as zin, zipfile.ZipFile(path(target) + ".tmp", "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr("archive/" + info.filename.split("/", 1)[1], zin.read(info))
        zout.writestr("archive/byteorder", byteorder)
        zout.writestr("archive/.data/serialization_id", "0123456789")
    os.replace(path(target) + ".tmp", path(target))


relayout("checkpoint.pth", "checkpoint_2x_layout.pth", "little")
relayout("tensor.pth", "big_endian.pth", "big")



def legacy_view(name):
    """A legacy torch.save file with a storage view in its persistent id, written field by field as torch 0.3 did."""
    import io
    import pickle

    class StorageView:
        pass

    view = StorageView()

    class Rebuild:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (view, 0, (4,), (1,), False, collections.OrderedDict())

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "root", "cpu", 10, ("window", 2, 4)) if obj is view else None

    out = io.BytesIO()
    for header in (0x1950a86a20f9469cfc6c, 1001, {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump({"window": Rebuild()})
    pickle.dump(["root"], out, protocol=2)
    out.write((10).to_bytes(8, "little") + torch.arange(10, dtype=torch.float32).numpy().tobytes())
    with open(path(name) + ".tmp", "wb") as f:
        f.write(out.getvalue())
    os.replace(path(name) + ".tmp", path(name))
    assert torch.load(path(name))["window"].tolist() == [2.0, 3.0, 4.0, 5.0]


legacy_view("legacy_view.pth")

expected, dtypes, scalars = {}, {}, {}


def flatten(value, prefix):
    def join(key):
        return f"{prefix}.{key}" if prefix else str(key)
    if isinstance(value, torch.Tensor):
        dtypes[prefix] = str(value.dtype).replace("torch.", "")
        t = value.detach().contiguous()
        expected[prefix] = t.bool() if t.dtype == torch.bool else (t.double() if t.is_floating_point() else t.long())
    elif isinstance(value, dict):
        for k, v in value.items():
            flatten(v, join(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            flatten(v, join(i))
    elif isinstance(value, bool):
        scalars[prefix] = "True" if value else "False"
    elif isinstance(value, (int, str)):
        scalars[prefix] = str(value)
    elif isinstance(value, float):
        scalars[prefix] = repr(value)


flatten(checkpoint, "")
write_safetensors(path("expected.safetensors"), expected, {"dtypes": json.dumps(dtypes), "scalars": json.dumps(scalars)})
print(f"{len(expected)} tensors, {len(scalars)} scalars")
