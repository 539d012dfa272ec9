#!/usr/bin/env bash
# Packs MedVision.Torch, MedVision.Nets and MedVision.Onnx with a unique version into a local folder feed, then builds and runs
# tests/PackageConsumer against those packages only (isolated package cache), as a user's project would:
#  1. as packed: the packaged native shim matches this machine's libtorch and is used as it is;
#  2. as a package made on a machine with another libtorch: the same packages with the shim's libtorch_cpu dependency
#     patched to a version no machine has (libtorch_cpu.so.1.99). The consumer's build must notice (ldd), build the
#     shim from the package's source against this machine's libtorch (buildTransitive/MedVision.Torch.targets) and
#     run with it.
# MEDVISION_KEEP_PACKAGE_TEST=1 keeps the packages and artifacts/consumer-mismatch/ (feed, packages, built shim) afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version="0.1.0-ci.$(date +%s)"
feed="$PWD/artifacts/packages"
cache="$PWD/artifacts/consumer-packages"
work="$PWD/artifacts/consumer-mismatch"
consumer="$PWD/tests/PackageConsumer"
rm -rf "$cache" "$work"; mkdir -p "$feed" "$work/feed"
[ -n "${MEDVISION_KEEP_PACKAGE_TEST:-}" ] || trap 'rm -f "$feed"/MedVision.*."$version".*nupkg; rm -rf "$work"' EXIT
dotnet pack src/MedVision.Nets/MedVision.Nets.csproj -c Release -nologo -v q -p:Version="$version" -o "$feed"
dotnet pack src/MedVision.Onnx/MedVision.Onnx.csproj -c Release -nologo -v q -p:Version="$version" -o "$feed"
dotnet pack src/MedVision.Torch/MedVision.Torch.csproj -c Release -nologo -v q -p:Version="$version" -o "$feed"
for f in "$feed"/MedVision.*."$version".nupkg; do
  printf '%s: %s KiB\n' "$(basename "$f")" "$(( $(stat -c %s "$f") / 1024 ))"
done

run_consumer() { # run_consumer FEED PACKAGE_CACHE LOG
  rm -rf "$consumer/bin" "$consumer/obj"
  dotnet build "$consumer" -c Release -nologo -p:MedVisionVersion="$version" \
    -p:RestorePackagesPath="$2" -p:RestoreAdditionalProjectSources="$1" 2>&1 | tee "$3"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  dotnet run --project "$consumer" -c Release --no-build -p:MedVisionVersion="$version" 2>&1 | tee -a "$3"
  return "${PIPESTATUS[0]}"
}

echo "-- 1. the packages as packed"
run_consumer "$feed" "$cache" "$work/run1.log"
grep -q "building the native shim from the package's source" "$work/run1.log" \
  && { echo "package consumer: the packaged shim matches this libtorch, yet the build rebuilt it" >&2; exit 1; }
grep -q "^native shim $consumer/bin/Release/net10.0/runtimes/linux-x64/native/libmedvision_torch.so$" "$work/run1.log" \
  || { echo "package consumer: the shim was not loaded from the build output" >&2; exit 1; }

echo "-- 2. the packages as if made against another libtorch (shim needs libtorch_cpu.so.1.99)"
cp "$feed/MedVision.Nets.$version.nupkg" "$feed/MedVision.Onnx.$version.nupkg" "$work/feed/"
mkdir "$work/unpacked"
(cd "$work/unpacked" && unzip -q "$feed/MedVision.Torch.$version.nupkg")
shim="$work/unpacked/runtimes/linux-x64/native/libmedvision_torch.so"
needed="$(patchelf --print-needed "$shim" | grep '^libtorch_cpu\.so')"
patchelf --replace-needed "$needed" libtorch_cpu.so.1.99 "$shim"
(cd "$work/unpacked" && zip -q -r -X "$work/feed/MedVision.Torch.$version.nupkg" .)
export MEDVISION_NATIVE_CACHE="$work/native-cache"
run_consumer "$work/feed" "$work/packages" "$work/run2.log"
grep -q "building the native shim from the package's source against this machine's libtorch (the packaged shim needs libtorch_cpu.so.1.99, which is not on this machine)" "$work/run2.log" \
  || { echo "package consumer: the build did not notice that the packaged shim needs another libtorch" >&2; exit 1; }
built="$(ls "$MEDVISION_NATIVE_CACHE"/*/libmedvision_torch.so)"
cmp -s "$built" "$consumer/bin/Release/net10.0/runtimes/linux-x64/native/libmedvision_torch.so" \
  || { echo "package consumer: the build output does not carry the shim built from source ($built)" >&2; exit 1; }
rm -rf "$consumer/bin" "$consumer/obj"
echo "package consumer: both runs OK"
