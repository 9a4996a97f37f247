#!/usr/bin/env bash
# bench/profile.sh [vdemesh-tap|vdemesh-vde]: where vswitchd spends its time while it carries one
# TCP stream between two guests (the topology of bench/run.sh; default vdemesh-tap), and prints
# the top functions.
#
#   perf       when `perf stat -e instructions true` counts instructions (a hardware PMU):
#              `perf record -g` on both daemons during the run;
#   perf-soft  when there is no PMU (most VMs) but perf works: the same with the software
#              cpu-clock event (a sampling profile, no call graph through frame-less code);
#   callgrind  otherwise: host PROFILE_HOST's vswitchd (default 1, the encrypting side) under
#              `valgrind --tool=callgrind` (some 50x slower: the figures are proportions).
# PROFILE_TOOL=perf|perf-soft|callgrind forces one; PROFILE_SECONDS (default 5) is the length of
# the iperf3 run; PROFILE_TOP (default 25) the number of functions shown; PROFILE_OUT=PREFIX
# keeps the raw profile as PREFIX.perf.data or PREFIX.callgrind. Needs root; bounded in
# time; stops everything it starts by PID and deletes its namespaces. BENCH_NO_BUILD=1 as in
# run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)

system=${1:-vdemesh-tap}
case $system in vdemesh-tap | vdemesh-vde) ;; *) echo "usage: $0 [vdemesh-tap|vdemesh-vde]" >&2; exit 1 ;; esac
seconds=${PROFILE_SECONDS:-5}
top=${PROFILE_TOP:-25}
profile_host=${PROFILE_HOST:-1}
start_timeout=${BENCH_START_TIMEOUT:-60}
build=${BUILD_DIR:-build}
[[ $build == /* ]] || build=$repo/$build
vswitchd=$build/vswitchd/vswitchd
vswitchctl=$build/tools/vswitchctl

((EUID == 0)) || { echo "profile.sh must run as root" >&2; exit 1; }
[[ ${BENCH_NO_INSTALL:-0} == 1 ]] || ./bench/install-bench-deps.sh
if [[ ${BENCH_NO_BUILD:-0} != 1 && $build == "$repo/build" ]]; then
  ./tools/install-deps.sh >/dev/null && ./tools/build.sh >/dev/null
fi

tool=${PROFILE_TOOL:-auto}
if [[ $tool == auto ]]; then
  if command -v perf >/dev/null && perf stat -x, -e instructions true 2>&1 | grep -Eq '^[0-9]+,'; then
    tool=perf
  elif command -v perf >/dev/null && timeout 10 perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    tool=perf-soft
  else
    tool=callgrind
  fi
fi
echo "profile: $system, tool $tool, ${seconds}s of TCP"

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
take_lock || exit 1
tmp=$(mktemp -d /tmp/vdemesh-profile.XXXXXX)
sysdir=$tmp/sys
mkdir -p "$sysdir"
stop_timeout=30  # valgrind writes its profile on exit
trap 'teardown; rm -rf "$tmp"; drop_lock' EXIT
for ns in bh1 bh2 bg1 bg2; do ip netns del "$ns" 2>/dev/null || true; done
trap 'exit 130' INT
trap 'exit 143' TERM

out=${PROFILE_OUT:-$tmp/profile}
[[ $out == /* ]] || out=$repo/$out
if [[ $tool == callgrind ]]; then
  command -v valgrind >/dev/null || { echo "profile: valgrind is missing" >&2; exit 1; }
  declare -n wrap=vswitchd_wrap$profile_host
  wrap=(valgrind --tool=callgrind "--callgrind-out-file=$out.callgrind" --dump-instr=no)
  unset -n wrap
fi

hosts_up
guests_up
"sys_${system//-/_}"
wait_for ip netns exec bg1 ping -n -c 1 -W 1 10.93.0.2
ip netns exec bg1 ping -n -q -c 10 -i 0.05 -W 1 10.93.0.2 >/dev/null || true

perf_pid=
if [[ $tool == perf || $tool == perf-soft ]]; then
  event=()
  [[ $tool == perf ]] || event=(-e cpu-clock)
  pids=$(pids_of daemon | paste -sd,)
  timeout $((seconds + 30)) perf record -q "${event[@]}" -F 999 -g -p "$pids" -o "$out.perf.data" \
    -- sleep $((seconds + 1)) >"$tmp/perf.log" 2>&1 &
  perf_pid=$!
  sleep 0.5
fi
if iperf_run tcp; then
  echo "profile: TCP $(json_get "$sysdir/tcp.json" 'round(j["end"]["sum_received"]["bits_per_second"]/1e6)') Mbit/s during the profile"
fi
if [[ -n $perf_pid ]]; then
  wait "$perf_pid" || { cat "$tmp/perf.log" >&2; exit 1; }
  echo "profile: top functions by self time (both daemons)"
  timeout 120 perf report -i "$out.perf.data" --stdio --no-children -g none --sort comm,dso,symbol \
    --percent-limit 0.5 2>/dev/null | grep -E "^ +[0-9]" | sed -E "s/[[:space:]]+-[[:space:]]+-[[:space:]]*$//" | head -n "$top"
else
  teardown  # vswitchd writes the callgrind profile as it exits
  echo "profile: top functions by instructions (host $profile_host's vswitchd)"
  timeout 120 callgrind_annotate --inclusive=no "$out.callgrind" 2>/dev/null |
    grep -E '^ *[0-9,]+ ' | head -n "$top"
fi
