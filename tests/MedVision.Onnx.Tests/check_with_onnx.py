#!/usr/bin/env python3
"""Runs ONNX's own checker (full check: schema and shape inference) over exported graphs.

Not part of the test suite (tests need no Python). Usage:
    MEDVISION_ONNX_DUMP=/tmp/onnx-dump dotnet test tests/MedVision.Onnx.Tests -c Release
    /usr/bin/python3 tests/MedVision.Onnx.Tests/check_with_onnx.py /tmp/onnx-dump
Needs Debian's python3-onnx.
"""
import pathlib
import sys

import onnx


def main(folder: str) -> int:
    files = sorted(pathlib.Path(folder).glob("*.onnx"))
    if not files:
        print(f"no .onnx files in {folder}", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            model = onnx.load(str(path))
            onnx.checker.check_model(model, full_check=True)
            inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
            outputs = ", ".join(
                f"{o.name}[{','.join(d.dim_param or str(d.dim_value) for d in o.type.tensor_type.shape.dim)}]"
                for o in inferred.graph.output)
            print(f"ok    {path.name}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, {outputs}")
        except Exception as error:  # report every file, then fail
            failed += 1
            print(f"FAIL  {path.name}: {error}")
    print(f"onnx {onnx.__version__}: {len(files) - failed} of {len(files)} graphs pass the checker")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/onnx-dump"))
