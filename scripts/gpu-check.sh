#!/usr/bin/env bash
# On a GPU machine with PyTorch 2.x (its torch/share/cmake is the CUDA libtorch), CMake and g++, but no .NET SDK:
#   1. builds the native shim against that libtorch (the CUDA build of issue #2),
#   2. runs every [CudaFact]/[CudaTheory] test of both test projects through DeviceCheck,
#   3. runs the CUDA cases of the ResNet, volumetric and CDSF benchmarks in-process (BenchmarkDotNet --inProcess).
# Needs .device/bundle.tar.xz from scripts/gpu-prepare.sh (run that where the .NET SDK is). Logs go to $OUT when set.
# Usage: bash scripts/gpu-check.sh [tests|bench|all] (default all)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
what="${1:-all}"
out="${OUT:-$root/.device/out}"
mkdir -p "$out"
work=/tmp/medvision-gpu
mkdir -p "$work"
[ -d "$work/dotnet" ] || tar -C "$work" -xJf .device/bundle.tar.xz || { echo "error: .device/bundle.tar.xz missing (run scripts/gpu-prepare.sh)"; exit 1; }
# MEDVISION_LIBTORCH (a libtorch folder) wins; otherwise the libtorch inside the installed PyTorch
if [ -n "${MEDVISION_LIBTORCH:-}" ]; then torch_dir="$MEDVISION_LIBTORCH"
else torch_dir="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch" || { echo "error: no PyTorch and no MEDVISION_LIBTORCH"; exit 1; }
fi
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)' | tee "$out/torch.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$out/torch.txt"
start=$(date +%s)
if ! bash src/MedVision.Torch/native/build.sh "$work/shim" Release "$torch_dir" >"$out/shim-build.log" 2>&1; then
  tail -60 "$out/shim-build.log"; echo "error: the shim did not build against $torch_dir"; exit 1
fi
echo "shim built in $(( $(date +%s) - start )) s"
export MEDVISION_NATIVE_LIB="$(ls "$work"/shim/libmedvision_torch.so)"
export DOTNET_ROOT="$work/dotnet" PATH="$work/dotnet:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
status=0
if [ "$what" = tests ] || [ "$what" = all ]; then
  dotnet "$work/check/DeviceCheck.dll" 2>&1 | tee "$out/device-check.log"
  status=${PIPESTATUS[0]}
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  cd "$work/bench"
  MEDVISION_BENCH_DEVICES=cuda dotnet MedVision.Benchmarks.dll --inProcess --job short \
    --filter '*ResNetThroughput*' '*MixedPrecision*' '*VolumetricResNet*' '*MedicalNet*' '*CdsfBenchmarks*' '*RetinopathyModel*' 2>&1 | tee "$out/bench.log" | grep -E '^\|' || true
  cp BenchmarkDotNet.Artifacts/results/*.md "$out/" 2>/dev/null || true
fi
exit "$status"
