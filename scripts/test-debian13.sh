#!/usr/bin/env bash
# Runs the README's test command (scripts/test.sh) on Debian 13 (trixie), whose libtorch-dev is 2.6.0: the shim is
# built against libtorch 2.6 and the whole suite runs on it. For a Debian 12 developer machine as root: it makes a
# minimal trixie root with debootstrap (once, in $MEDVISION_TRIXIE_ROOT, default /srv/trixie), lends it this machine's
# .NET SDK, NuGet cache and CA certificates through bind mounts, clones the current commit into it and runs
# scripts/test.sh there (which installs what is missing with apt-get, as on any fresh machine).
# Needs root (debootstrap, chroot, mount) and the network (deb.debian.org, NuGet). Not part of scripts/test.sh.
# Usage: sudo bash scripts/test-debian13.sh [--cuda | --host-packages]
#
# --host-packages: a NuGet user's case instead of the test suite. Packs MedVision.Torch and MedVision.Nets here (their
# shim built against this machine's libtorch, Debian 12's 1.13), then, in the trixie root (libtorch 2.6), builds and runs
# tests/PackageConsumer against those packages: the consumer's build must find that the packaged shim needs
# libtorch 1.13, build the shim from the package's source against 2.6 and run with it.
#
# --cuda: the same on Debian 13's CUDA build of libtorch (contrib: libtorch-cuda-dev 2.6 with CUDA 12.4, NCCL and
# libgloo-cuda-dev), in its own root (default /srv/trixie-cuda): the shim is configured, compiled and linked against
# it with both distributed backends (Gloo and NCCL), and the suite runs on a machine without a GPU — CUDA reported
# unavailable, the CUDA tests skipped, everything else on the CPU side of the CUDA build. cuDNN is not in Debian (its
# nvidia-cudnn package downloads it from NVIDIA at install time), so a placeholder package satisfies the dependency
# and a stand-in libcudnn.so.9, whose functions all return CUDNN_STATUS_NOT_INITIALIZED, lets libtorch_cuda load;
# nothing on the CPU calls it. On a machine with a GPU install NVIDIA's cuDNN instead.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cuda=0; host_packages=0
[ "${1:-}" = "--cuda" ] && cuda=1
[ "${1:-}" = "--host-packages" ] && host_packages=1
if [ $cuda -eq 1 ]; then target="${MEDVISION_TRIXIE_CUDA_ROOT:-/srv/trixie-cuda}"; else target="${MEDVISION_TRIXIE_ROOT:-/srv/trixie}"; fi
dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
[ "$(id -u)" -eq 0 ] || { echo "error: run as root (debootstrap, chroot and mount need it)"; exit 1; }
if [ ! -x "$target/usr/bin/g++" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  torch=libtorch-dev,libgloo-dev,
  [ $cuda -eq 1 ] && torch=""  # the CUDA packages come from contrib and non-free, below
  debootstrap --variant=minbase \
    --include=${torch}cmake,g++,make,libopenblas0-pthread,libpng16-16t64,libicu76,libssl3t64,ca-certificates,git \
    trixie "$target" http://deb.debian.org/debian
fi
mkdir -p "$target/usr/local/share/ca-certificates" "$target$dotnet_dir" "$target/root/.nuget" "$target/work"
cp /usr/local/share/ca-certificates/*.crt "$target/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$target/etc/resolv.conf"
cp /etc/hosts "$target/etc/hosts"
chroot "$target" update-ca-certificates >/dev/null
if [ $cuda -eq 1 ] && [ ! -e "$target/usr/include/torch/csrc/cuda/CUDAGuard.h" ]; then
  echo 'deb http://deb.debian.org/debian trixie main contrib non-free non-free-firmware' >"$target/etc/apt/sources.list"
  chroot "$target" /bin/bash -euo pipefail -c '
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends equivs binutils >/dev/null
    cd /root
    printf "%s\n" "Section: misc" "Priority: optional" "Standards-Version: 4.6.2" "Package: nvidia-cudnn" \
      "Version: 9.0.0.312~cuda12" "Description: placeholder for NVIDIA cuDNN (see scripts/test-debian13.sh)" \
      " Lets libtorch-cuda-2.6 install without downloading cuDNN; provides no library." >nvidia-cudnn.ctl
    equivs-build nvidia-cudnn.ctl >/dev/null
    dpkg -i nvidia-cudnn_*.deb >/dev/null
    apt-get install -y -qq --no-install-recommends libtorch-cuda-dev libgloo-cuda-dev libnccl-dev nvidia-cuda-toolkit >/dev/null
    # The stand-in libcudnn.so.9: every function libtorch imports from it (with its symbol version) returns 1001.
    objdump -T /usr/lib/x86_64-linux-gnu/libtorch*.so.* | grep "(libcudnn.so.9)" | awk "{print \$NF}" | sort -u \
      | awk "{print \"int \" \$1 \"(void) { return 1001; }\"}" >stub-cudnn.c
    echo "libcudnn.so.9 { global: *; };" >stub-cudnn.map
    gcc -shared -fPIC -o /usr/local/lib/libcudnn.so.9 -Wl,-soname,libcudnn.so.9 -Wl,--version-script=stub-cudnn.map stub-cudnn.c
    ldconfig'
fi
mounted=()
bind() { mountpoint -q "$target$2" || { mount --bind "$1" "$target$2"; mounted=("$target$2" "${mounted[@]}"); }; }
cleanup() { for m in "${mounted[@]}"; do umount "$m" || true; done; }
trap cleanup EXIT
for m in /proc /sys /dev /dev/pts; do bind "$m" "$m"; done
bind "$dotnet_dir" "$dotnet_dir"
bind /root/.nuget /root/.nuget
rm -rf "$target/work/medvision"
git clone -q "$repo" "$target/work/medvision"
chroot "$target" dpkg-query -W -f='${Package} ${Version}\n' "$([ $cuda -eq 1 ] && echo libtorch-cuda-dev || echo libtorch-dev)"
in_chroot() {
  chroot "$target" /usr/bin/env -i PATH="$dotnet_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root \
    DOTNET_ROOT="$dotnet_dir" NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-online}" TERM=dumb /bin/bash -c "$1"
}
if [ $host_packages -eq 1 ]; then
  version="0.1.0-host.$(date +%s)"
  feed="$target/work/host-feed"; rm -rf "$feed"; mkdir -p "$feed"
  (cd "$repo" && for p in MedVision.Torch MedVision.Nets; do
     dotnet pack "src/$p/$p.csproj" -c Release -nologo -v q -p:Version="$version" -o "$feed"; done)
  echo "packed here against libtorch $(dpkg-query -W -f='${Version}' libtorch-dev): $(ls "$feed")"
  in_chroot "set -euo pipefail; cd /work/medvision && bash scripts/setup.sh >/dev/null
    rm -rf /root/host-packages /root/.cache/medvision/native
    dotnet build tests/PackageConsumer -c Release -nologo -p:MedVisionVersion=$version \
      -p:RestorePackagesPath=/root/host-packages -p:RestoreAdditionalProjectSources=/work/host-feed 2>&1 | tee /work/host-build.log
    grep -E -q \"building the native shim from the package's source against this machine's libtorch \\(the packaged shim needs lib(torch|c10)[a-z_]*[.]so[.]1[.]13,\" /work/host-build.log
    grep -q '^ *0 Warning(s)' /work/host-build.log
    dotnet run --project tests/PackageConsumer -c Release --no-build -p:MedVisionVersion=$version
    dotnet build-server shutdown >/dev/null 2>&1"
  exit $?
fi
in_chroot 'cd /work/medvision && bash scripts/test.sh; status=$?; dotnet build-server shutdown >/dev/null 2>&1; exit $status'
