#!/usr/bin/env bash
# Runs the README's test command (scripts/test.sh) on Debian 13 (trixie), whose libtorch-dev is 2.6.0: the shim is
# built against libtorch 2.6 and the whole suite runs on it. For a Debian 12 developer machine as root: it makes a
# minimal trixie root with debootstrap (once, in $MEDVISION_TRIXIE_ROOT, default /srv/trixie), lends it this machine's
# .NET SDK, NuGet cache and CA certificates through bind mounts, clones the current commit into it and runs
# scripts/test.sh there (which installs what is missing with apt-get, as on any fresh machine).
# Needs root (debootstrap, chroot, mount) and the network (deb.debian.org, NuGet). Not part of scripts/test.sh.
# Usage: sudo bash scripts/test-debian13.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${MEDVISION_TRIXIE_ROOT:-/srv/trixie}"
dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
[ "$(id -u)" -eq 0 ] || { echo "error: run as root (debootstrap, chroot and mount need it)"; exit 1; }
if [ ! -x "$target/usr/bin/g++" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase \
    --include=libtorch-dev,cmake,g++,make,libgloo-dev,libopenblas0-pthread,libpng16-16t64,libicu76,libssl3t64,ca-certificates,git \
    trixie "$target" http://deb.debian.org/debian
fi
mkdir -p "$target/usr/local/share/ca-certificates" "$target$dotnet_dir" "$target/root/.nuget" "$target/work"
cp /usr/local/share/ca-certificates/*.crt "$target/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$target/etc/resolv.conf"
cp /etc/hosts "$target/etc/hosts"
chroot "$target" update-ca-certificates >/dev/null
mounted=()
bind() { mountpoint -q "$target$2" || { mount --bind "$1" "$target$2"; mounted=("$target$2" "${mounted[@]}"); }; }
cleanup() { for m in "${mounted[@]}"; do umount "$m" || true; done; }
trap cleanup EXIT
for m in /proc /sys /dev /dev/pts; do bind "$m" "$m"; done
bind "$dotnet_dir" "$dotnet_dir"
bind /root/.nuget /root/.nuget
rm -rf "$target/work/medvision"
git clone -q "$repo" "$target/work/medvision"
chroot "$target" dpkg-query -W -f='${Package} ${Version}\n' libtorch-dev
chroot "$target" /usr/bin/env -i PATH="$dotnet_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root \
  DOTNET_ROOT="$dotnet_dir" NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-online}" TERM=dumb \
  /bin/bash -c 'cd /work/medvision && bash scripts/test.sh; status=$?; dotnet build-server shutdown >/dev/null 2>&1; exit $status'
