#!/usr/bin/env bash
# Packs MedVision.Torch and MedVision.Nets with a unique version into a local folder feed, then builds and runs
# tests/PackageConsumer against those packages only (isolated package cache), as a user's project would.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version="0.1.0-ci.$(date +%s)"
feed="$PWD/artifacts/packages"
cache="$PWD/artifacts/consumer-packages"
rm -rf "$cache"; mkdir -p "$feed"
dotnet pack src/MedVision.Nets/MedVision.Nets.csproj -c Release -nologo -v q -p:Version="$version" -o "$feed"
dotnet pack src/MedVision.Torch/MedVision.Torch.csproj -c Release -nologo -v q -p:Version="$version" -o "$feed"
for f in "$feed"/MedVision.*."$version".nupkg; do
  printf '%s: %s KiB\n' "$(basename "$f")" "$(( $(stat -c %s "$f") / 1024 ))"
done
dotnet run --project tests/PackageConsumer -c Release -p:MedVisionVersion="$version" \
  -p:RestorePackagesPath="$cache" -p:RestoreAdditionalProjectSources="$feed"
rm -f "$feed"/MedVision.*."$version".*nupkg
