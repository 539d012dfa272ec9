#!/usr/bin/env bash
# Configures (once) and builds the native shim. Usage: build.sh BUILD_DIR [BUILD_TYPE] [LIBTORCH_DIR]
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?build dir}"; type="${2:-Release}"; torch="${3:-}"
mkdir -p "$build"
exec 9>"$build/.lock"
flock 9
if ! command -v cmake >/dev/null; then
  echo "error MVT001: cmake is not installed. Install it with: sudo apt-get install -y cmake g++ libtorch-dev" >&2; exit 1
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  args=(-S "$src" -B "$build" -DCMAKE_BUILD_TYPE="$type")
  [ -n "$torch" ] && args+=(-DMEDVISION_LIBTORCH="$torch")
  if ! cmake "${args[@]}" >"$build/configure.log" 2>&1; then
    cat "$build/configure.log" >&2
    rm -f "$build/CMakeCache.txt"
    echo "error MVT002: configuring the native shim failed (is libtorch installed? sudo apt-get install -y libtorch-dev, or set MEDVISION_LIBTORCH)" >&2
    exit 1
  fi
fi
cmake --build "$build" -j "$(nproc)"
