#!/usr/bin/env bash
# float32 and float16 ONNX exports (medmnist export [--float16]) of trained RetinaMNIST models, each evaluated on the
# test split by ONNX Runtime on the CPU (medmnist evaluate --model FILE.onnx): file size and test metrics side by side.
# Usage: bash benchmarks/compare/onnx_float16.sh RUN_FOLDER…   (folders holding model.safetensors, as train writes them)
# The table in docs/onnx.md ("Half precision") came from the 20-epoch ResNet-18 and 100-epoch ViT-Tiny runs of
# docs/results.md (runs/r18-28-e20-plain-seed{0,1,2}, runs/vit-tiny-28-e100-adamw-seed{0,1,2}).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
medmnist=samples/MedMnist/bin/Release/net10.0/medmnist
[ -x "$medmnist" ] || dotnet build samples/MedMnist -c Release -nologo -v q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for run in "$@"; do
  name=$(basename "$run")
  for bits in 32 16; do
    flag=""; [ "$bits" = 16 ] && flag="--float16"
    NO_COLOR=1 "$medmnist" export --model "$run/model.safetensors" --output "$work/$name-$bits.onnx" $flag > /dev/null
    line=$(NO_COLOR=1 "$medmnist" evaluate --model "$work/$name-$bits.onnx" --threads 2 --output "$work/eval-$name-$bits" | grep '^EVALUATION')
    echo "$name float$bits bytes=$(stat -c %s "$work/$name-$bits.onnx") $(grep -oE 'test_auc=[0-9.]+ test_acc=[0-9.]+ test_ece=[0-9.]+ test_brier=[0-9.]+ test_nll=[0-9.]+' <<< "$line")"
  done
done
