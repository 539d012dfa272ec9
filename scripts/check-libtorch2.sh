#!/usr/bin/env bash
# Compiles every translation unit of the native shim against the libtorch 2.x headers of a newer Debian, on this
# Debian 12 machine that only has libtorch 1.13: it reads the suite's package index from the Debian archive, downloads
# that suite's libtorch-dev, checks the package's SHA-256 against the index, unpacks it into a cache folder (nothing
# is installed) and runs g++ -fsyntax-only on each source with those headers first on the include path, in the C++
# standard the shim's CMakeLists.txt picks for that libtorch. It fails when a file does not compile, or when any ATen/c10/torch
# header was taken from the system's 1.13 instead of the downloaded tree.
#
# Suites: trixie (Debian 13: libtorch 2.6), sid (unstable: the newest Debian has, 2.14 on 2026-11-26).
# This checks source compatibility only; scripts/test-debian13.sh builds and runs the whole suite on libtorch 2.6, and
# scripts/gpu-check.sh builds against a CUDA PyTorch 2.x. The NCCL code path (MVT_HAVE_NCCL) needs CUDA headers and
# nccl.h and is not compiled here. Needs the network (deb.debian.org), so it is a developer check, not a test.
# Usage: bash scripts/check-libtorch2.sh [trixie|sid ...]   (default: trixie sid; MEDVISION_CACHE moves the cache)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
native="$root/src/MedVision.Torch/native"
defs=(-DMVT_BUILDING=1)
if [ -f /usr/include/gloo/config.h ]; then defs+=(-DMVT_HAVE_GLOO=1 -DUSE_C10D_GLOO=1); fi
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie sid)
status=0
for s in "${suites[@]}"; do
  cache="${MEDVISION_CACHE:-$HOME/.cache/medvision}/libtorch-dev-$s"
  mkdir -p "$cache"
  curl -fsS -o "$cache/Packages.xz" "http://deb.debian.org/debian/dists/$s/main/binary-amd64/Packages.xz"
  entry="$(xz -dc "$cache/Packages.xz" | awk '/^Package: libtorch-dev$/{p=1} p&&/^(Version|Filename|SHA256):/{print $2} p&&/^$/{p=0}')"
  read -r version file sha256 <<<"$(echo $entry)"
  [ -n "${sha256:-}" ] || { echo "error: no libtorch-dev in Debian $s"; status=1; continue; }
  if [ "$(cat "$cache/version" 2>/dev/null)" != "$version" ]; then
    tmp="$cache/download.part"
    curl -fsS -o "$tmp" "http://deb.debian.org/debian/$file"
    echo "$sha256  $tmp" | sha256sum -c --quiet - || { rm -f "$tmp"; echo "error: $file does not match its SHA-256"; status=1; continue; }
    rm -rf "$cache/root.new" && dpkg-deb -x "$tmp" "$cache/root.new"
    rm -rf "$cache/root" && mv "$cache/root.new" "$cache/root" && rm -f "$tmp" && echo "$version" >"$cache/version"
  fi
  inc="$cache/root/usr/include"
  # The standard CMakeLists.txt picks: C++17, or the torch target's CXX_STANDARD when that is newer.
  torch_std="$(sed -n 's/^ *CXX_STANDARD \([0-9]*\).*/\1/p' "$cache"/root/usr/lib/*/cmake/Torch/TorchConfig.cmake | head -1)"
  std=17; [ -n "$torch_std" ] && [ "$torch_std" -gt 17 ] && std="$torch_std"
  echo "Debian $s: libtorch-dev $version, g++ $(g++ -dumpversion), -std=c++$std${defs[1]:+, with Gloo}"
  # onednn_conv.cpp twice: as CMake builds it when its check links (the oneDNN backward pass, with the x86-64 kernel
  # set), and without it (the fallback).
  for unit in "$native"/src/*.cpp "$native/src/onednn_conv.cpp:backward"; do
    src="${unit%%:*}"
    extra=(); [ "$unit" != "$src" ] && extra=(-DMVT_HAVE_ONEDNN_CONV_BACKWARD=1 -DHAVE_AVX512_CPU_DEFINITION -DHAVE_AVX2_CPU_DEFINITION)
    name="$(basename "$src")${extra[0]:+ (oneDNN backward)}"
    deps="$cache/$(basename "$src").d"
    start=$(date +%s)
    if g++ -std=c++"$std" -fsyntax-only -Wall -Wno-unused-parameter -Werror "${defs[@]}" ${extra[@]+"${extra[@]}"} -I"$native/include" -I"$inc" \
         -I"$inc/torch/csrc/api/include" -MD -MF "$deps" "$src"; then
      stray="$(tr ' \\' '\n\n' < "$deps" | grep -E '^/usr/include/(ATen|c10|torch|caffe2)/' || true)"
      if [ -n "$stray" ]; then
        echo "FAIL $name: headers taken from the system libtorch instead of $version:"; echo "$stray" | head; status=1
      else
        echo "ok   $name ($(( $(date +%s) - start )) s)"
      fi
    else
      echo "FAIL $name does not compile against libtorch $version"; status=1
    fi
  done
done
exit $status
