#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has PyTorch 2.x, CMake and a compiler but no .NET:
# the .NET runtime (host + Microsoft.NETCore.App, no SDK), DeviceCheck (runs the [CudaFact]/[CudaTheory] tests) and
# the benchmarks, framework-dependent, into .device/bundle.tar.xz (git-ignored; about 40 MB, within the 64 MiB that
# travels with the working tree). Run here, then on the GPU machine (carrying .device): bash scripts/gpu-check.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dotnet publish tests/DeviceCheck -c Release -o "$stage/check" -v quiet -nologo
dotnet publish benchmarks/MedVision.Benchmarks -c Release -o "$stage/bench" -v quiet -nologo
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime="$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -1)"
fxr="$(ls -d "$dotnet_root"/host/fxr/* | sort -V | tail -1)"
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/host/fxr"
cp "$dotnet_root/dotnet" "$stage/dotnet/"
cp -r "$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"
cp -r "$fxr" "$stage/dotnet/host/fxr/"
# the shim built here is for Debian's libtorch 1.13; gpu-check.sh builds one against the GPU machine's libtorch
find "$stage/check" "$stage/bench" -name 'libmedvision_torch.so' -delete
mkdir -p .device
tar -C "$stage" -cJf .device/bundle.tar.xz dotnet check bench
ls -la .device/bundle.tar.xz
