#!/usr/bin/env bash
# Installs what MedVision.Nets needs on a fresh Debian/Ubuntu machine that has the .NET SDK:
# libtorch (CPU, Debian's libtorch-dev), CMake and g++ for the native shim, and OpenBLAS so that libtorch's
# BLAS calls do not fall back to the reference BLAS. Installs only what is missing; uses sudo when not root.
set -euo pipefail

packages=(libtorch-dev libgloo-dev cmake g++ make libopenblas0-pthread libturbojpeg0 libpng16-16 patchelf librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET SDK (10.0 or later) is required: https://learn.microsoft.com/dotnet/core/install/linux" >&2
  exit 1
fi
