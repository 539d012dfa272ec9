#!/usr/bin/env bash
# Compiles every translation unit of the native shim against libtorch 2.x headers, on this Debian 12 machine that
# only has libtorch 1.13: it downloads Debian 13 (trixie)'s libtorch-dev 2.6.0 from the Debian archive, checks the
# package's SHA-256, unpacks it into a cache folder (nothing is installed) and runs g++ -fsyntax-only on each source
# with those headers first on the include path. It fails when a file does not compile, or when any ATen/c10/torch
# header was taken from the system's 1.13 instead of the 2.6 tree.
#
# This checks the source compatibility the foundation issue asks for (1.13 and 2.x). It does not link or run: the
# 2.6 libraries need glibc 2.38. Building, linking and running against a 2.x libtorch is what scripts/gpu-check.sh
# does on a machine with PyTorch 2.x. The NCCL code path (MVT_HAVE_NCCL) needs CUDA headers and is not compiled here.
# Needs the network (deb.debian.org), so it is a developer check, not part of scripts/test.sh.
# Usage: bash scripts/check-libtorch2.sh   (MEDVISION_CACHE overrides the cache folder, default ~/.cache/medvision)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deb="libtorch-dev_2.6.0+dfsg-7_amd64.deb"
sha256="d63886ac7482184e96d38cbbbb346430f1cc3a68b59319eb2ca1ababd501535b" # from trixie's main/binary-amd64/Packages
cache="${MEDVISION_CACHE:-$HOME/.cache/medvision}/libtorch-dev-2.6"
mkdir -p "$cache"
if [ ! -f "$cache/root/usr/include/torch/csrc/api/include/torch/version.h" ]; then
  tmp="$cache/$deb.part"
  curl -fsS -o "$tmp" "http://deb.debian.org/debian/pool/main/p/pytorch/$deb"
  echo "$sha256  $tmp" | sha256sum -c --quiet - || { rm -f "$tmp"; echo "error: $deb does not match its SHA-256"; exit 1; }
  rm -rf "$cache/root.part" && dpkg-deb -x "$tmp" "$cache/root.part" && mv "$cache/root.part" "$cache/root.new"
  rm -rf "$cache/root" && mv "$cache/root.new" "$cache/root" && rm -f "$tmp"
fi
inc="$cache/root/usr/include"
version="$(awk '/define TORCH_VERSION_(MAJOR|MINOR|PATCH) /{printf "%s%s", sep, $3; sep="."}' "$inc/torch/csrc/api/include/torch/version.h")"
echo "libtorch headers $version (Debian trixie libtorch-dev), g++ $(g++ -dumpversion)"
defs=(-DMVT_BUILDING=1)
if [ -f /usr/include/gloo/config.h ]; then defs+=(-DMVT_HAVE_GLOO=1 -DUSE_C10D_GLOO=1); echo "with the Gloo backend (libgloo-dev)"; fi
native="$root/src/MedVision.Torch/native"
status=0
for src in "$native"/src/*.cpp; do
  name="$(basename "$src")"
  deps="$cache/$name.d"
  start=$(date +%s)
  if g++ -std=c++17 -fsyntax-only -Wall -Wno-unused-parameter -Werror "${defs[@]}" -I"$native/include" -I"$inc" \
       -I"$inc/torch/csrc/api/include" -MD -MF "$deps" "$src"; then
    stray="$(tr ' \\' '\n\n' < "$deps" | grep -E '^/usr/include/(ATen|c10|torch|caffe2)/' || true)"
    if [ -n "$stray" ]; then
      echo "FAIL $name: headers taken from the system libtorch instead of 2.6:"; echo "$stray" | head; status=1
    else
      echo "ok   $name ($(( $(date +%s) - start )) s)"
    fi
  else
    echo "FAIL $name does not compile against libtorch 2.6"; status=1
  fi
done
exit $status
