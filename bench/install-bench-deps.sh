#!/usr/bin/env bash
# install-bench-deps.sh: the Debian packages that bench/run.sh (and bench/profile.sh) need on top
# of vdemesh's own, installed by tools/install-deps.sh only when missing.
set -euo pipefail

packages=(
  iperf3 tinc vde2 vdeplug gnuplot-nox jq python3 iproute2 iputils-ping procps kmod
  coreutils util-linux git
)
# bench/profile.sh only: perf, with valgrind as the fallback. BENCH_PROFILE_DEPS=0 skips them.
if [[ ${BENCH_PROFILE_DEPS:-1} == 1 ]]; then
  packages+=(linux-perf valgrind)
fi
exec "$(dirname "$0")/../tools/install-deps.sh" "${packages[@]}"
