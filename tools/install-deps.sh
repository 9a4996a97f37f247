#!/usr/bin/env bash
# install-deps.sh [PACKAGE...]: installs the Debian packages that vdemesh needs to build and
# test, plus any given as arguments (bench/, tools/fuzz.sh), and only those that are missing
# (so a second run does nothing and needs no network).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libsodium-dev libssl-dev libprotobuf-dev protobuf-compiler libspdlog-dev libfmt-dev
  liburing-dev
  libvdeplug-dev vdeplug vde2
  libgtest-dev googletest
  iproute2 iputils-ping iperf3 tcpdump procps kmod
  qemu-system-x86 busybox-static cpio xz-utils
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "install-deps: missing packages and not root (no sudo): ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
timeout 900 "${sudo[@]}" apt-get update -q
timeout 1800 "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
