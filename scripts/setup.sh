#!/usr/bin/env bash
# Installs what MedVision.Nets needs on a fresh Debian/Ubuntu machine that has the .NET SDK:
# libtorch (CPU, Debian's libtorch-dev), CMake and g++ for the native shim, and OpenBLAS so that libtorch's
# BLAS calls do not fall back to the reference BLAS; the image codecs the data loaders call (libjpeg-turbo, libpng,
# CharLS for JPEG-LS and OpenJPEG for JPEG 2000 DICOM files). Installs only what is missing; uses sudo when not root.
set -euo pipefail

# "a|b": either package will do (Debian 13 and Ubuntu 24.04 renamed some libraries for the 64-bit time_t transition).
# Debian 13's CUDA build of libtorch (contrib: libtorch-cuda-dev, with libgloo-cuda-dev) conflicts with libtorch-dev
# and libgloo-dev and serves as well.
packages=("libtorch-dev|libtorch-cuda-dev" "libgloo-dev|libgloo-cuda-dev" cmake g++ make libopenblas0-pthread libturbojpeg0 "libpng16-16t64|libpng16-16" libcharls2 libopenjp2-7 patchelf zip unzip librsvg2-bin)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# With the CUDA libtorch, Gloo's headers must come from its CUDA build too (libgloo-dev's library conflicts with it).
if installed libtorch-cuda-dev; then packages[1]="libgloo-cuda-dev|libgloo-dev"; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Which entries have none of their packages installed.
absent=()
for entry in "${packages[@]}"; do
  IFS='|' read -r -a choices <<<"$entry"
  found=""
  for p in "${choices[@]}"; do installed "$p" && found="$p" && break; done
  [ -n "$found" ] || absent+=("$entry")
done
if [ ${#absent[@]} -gt 0 ]; then
  # The package lists first: on a fresh machine they are empty and apt-cache knows no package at all.
  $SUDO apt-get update -qq
  missing=()
  for entry in "${absent[@]}"; do
    IFS='|' read -r -a choices <<<"$entry"
    # The first choice this machine's sources offer; if none is offered, the first, so apt-get names it as missing.
    pick=""
    for p in "${choices[@]}"; do
      if [ -n "$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)')" ]; then pick="$p"; break; fi
    done
    missing+=("${pick:-${choices[0]}}")
  done
  echo "setup: installing ${missing[*]}"
  # --no-remove: never take away what is installed (such as a CUDA libtorch) to make room; fail and say so instead.
  $SUDO apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" >/dev/null
fi
if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET SDK (10.0 or later) is required: https://learn.microsoft.com/dotnet/core/install/linux" >&2
  exit 1
fi
