#!/usr/bin/python3
"""Loads the torch.save files that MedVision wrote (PyTorchFile.SaveStateDict) with PyTorch itself.

Not part of the test suite (tests need no Python). Usage:
    MEDVISION_PTH_DUMP=/tmp/pth-dump dotnet test tests/MedVision.Torch.Tests -c Release --filter PyTorchFileTests
    /usr/bin/python3 tests/MedVision.Torch.Tests/Fixtures/check_dotnet_pth.py /tmp/pth-dump
Each file must load with torch.load(weights_only=True) into an OrderedDict of tensors; the values are checked against
the companion .json the test writes beside it (key -> dtype, shape and the values as float64 or int64).
"""
import json
import pathlib
import sys

import torch


def main(folder):
    files = sorted(pathlib.Path(folder).glob("*.pth"))
    if not files:
        print(f"no .pth files in {folder}", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            state = torch.load(path, weights_only=True)
            expected = json.loads(path.with_suffix(".json").read_text())
            assert list(state.keys()) == list(expected.keys()), (list(state.keys()), list(expected.keys()))
            for key, (dtype, shape, values) in expected.items():
                tensor = state[key]
                assert str(tensor.dtype) == "torch." + dtype, (key, tensor.dtype, dtype)
                assert list(tensor.shape) == shape, (key, tensor.shape, shape)
                flat = tensor.reshape(-1)
                actual = flat.tolist() if dtype == "bool" else (flat.double() if tensor.is_floating_point() else flat.long()).tolist()
                assert actual == values, (key, actual[:5], values[:5])
            print(f"ok    {path.name}: {len(state)} tensors")
        except Exception as error:  # report every file, then fail
            failed += 1
            print(f"FAIL  {path.name}: {error}")
    print(f"torch {torch.__version__}: {len(files) - failed} of {len(files)} files load")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
