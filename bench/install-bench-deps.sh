#!/usr/bin/env bash
# install-bench-deps.sh: installs the Debian packages that bench/run.sh (and bench/profile.sh)
# need, and only those that are missing, so a second run does nothing and needs no network.
# The build dependencies of vdemesh itself come from tools/install-deps.sh.
set -euo pipefail

packages=(
  iperf3 tinc vde2 vdeplug gnuplot-nox jq python3 iproute2 iputils-ping procps kmod
  coreutils util-linux git
)
# bench/profile.sh only: perf, with valgrind as the fallback. BENCH_PROFILE_DEPS=0 skips them.
if [[ ${BENCH_PROFILE_DEPS:-1} == 1 ]]; then
  packages+=(linux-perf valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-bench-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-bench-deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "install-bench-deps: missing packages and not root (no sudo): ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
timeout 900 "${sudo[@]}" apt-get update -q
timeout 1800 "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
