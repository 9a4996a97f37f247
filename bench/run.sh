#!/usr/bin/env bash
# bench/run.sh: vdemesh against the anchors of issue #4, on two simulated hosts.
#
# Topology (rebuilt from nothing for every system, and deleted after it):
#
#   netns bh1 (host 1)                                   netns bh2 (host 2)
#   ul0 10.94.0.1/24  <------ veth "LAN", MTU 1500 ------>  ul0 10.94.0.2/24
#     the system under test runs here (daemons, cables)      and here
#        |                                                        |
#   netns bg1 (guest 1)                                  netns bg2 (guest 2)
#   guest interface 10.93.0.1/24                         guest interface 10.93.0.2/24
#   iperf3 client, ping                                  iperf3 server
#
# How a guest is attached (the same rule for every userspace system):
#   * the daemons and cables run in the HOST namespaces, so all their UDP crosses the underlay;
#   * a system whose guest is a TAP interface of the daemon (vde_plug tap:// udp://, tinc,
#     vswitchd -t) creates the TAP in the host namespace, and the script then moves it into
#     the guest namespace (`ip link set TAP netns bgN`): the daemon's file descriptor stays
#     valid, so the guest's kernel stack is separate from the host's, as a VM's would be;
#   * a system with VDE ports (vde_switch, vswitchd without -t) gets its guest the way QEMU
#     would: `vde_plug vde://DIR tap://tap0` runs inside the guest namespace (a VDE switch
#     directory is a file-system path, so it is reachable from any namespace).
#
# Systems (BENCH_SYSTEMS picks a subset, in any order; default: all, in this order):
#   veth            bg1 and bg2 joined by a veth: no overlay, the upper bound
#   vxlan           kernel VXLAN (id 42, port 4789, MTU 1450) bridged to a veth into each guest
#   vde_switch+udp  vde_switch on each host, a `vde_plug vde:// udp://` cable between them,
#                   guests on VDE ports (no encryption)
#   vde_plug+udp    `vde_plug tap:// udp://` on each host, nothing in between (no switch, no
#                   encryption): what that client can move at all
#   tinc            tinc 1.0 in switch mode, AES-256-CBC + SHA-256, TAP guests
#   vdemesh-tap     vswitchd with a TAP port (-t) as the guest, encrypted overlay
#   vdemesh-vde     vswitchd, guests on VDE ports through `vde_plug vde:// tap://`
#
# Measured for each system, BENCH_REPEAT times (default 3; the median is reported), in rounds:
# every round sets up, measures and tears down each system once, so that a slow spell of a
# shared machine hits all systems alike:
#   TCP    iperf3 single TCP stream guest 1 -> guest 2, BENCH_SECONDS (default 5), Mbit/s received
#   UDP64  iperf3 -u -b 0 -l 64 (64-byte UDP payload, unlimited offered rate) for BENCH_SECONDS:
#          packets the receiver got per second, kpps
#   ping   BENCH_PING_COUNT (200) pings every BENCH_PING_INTERVAL (0.01) s: median RTT, ms
#   CPU    utime+stime (/proc/PID/stat) of the system's host-side processes (vswitchd,
#          vde_switch, the vde_plug cables, tincd) over the TCP run, divided by the GB (1e9
#          bytes) received: CPU-s/GB. The guests' own vde_plug (QEMU's part) is reported apart.
#
# Results: bench/results/<date>-<host>.tsv (medians and a header describing the machine),
# <...>-raw.tsv (every repetition), <...>.png (bar charts). Also prints the table, the ratios to
# vdemesh and the issue's targets as PASS/FAIL.
#
# Everything is bounded in time (each iperf3 and ping under `timeout`, each start waits at most
# BENCH_START_TIMEOUT s) and cleaned up: every process is stopped by PID and the namespaces
# bh1 bh2 bg1 bg2 are deleted, even on failure or Ctrl-C. A system that cannot run (a missing
# package, no kernel VXLAN, a daemon that does not come up) is skipped with a message and the
# others still run. Needs root.
#
# Environment: BENCH_SYSTEMS, BENCH_REPEAT, BENCH_SECONDS, BENCH_PING_COUNT,
# BENCH_PING_INTERVAL, BENCH_START_TIMEOUT (30), BENCH_NO_BUILD=1 (use the binaries in
# ${BUILD_DIR:-build} as they are; default: tools/build.sh into ./build, incremental; another
# BUILD_DIR is never built), BENCH_NO_INSTALL=1
# (do not run bench/install-bench-deps.sh), BENCH_RESULTS (default bench/results),
# BENCH_KEEP_LOGS=1 (keep the per-system logs; their directory is printed), BENCH_VSWITCHD_ARGS
# (flags added to both vswitchd, e.g. "--busy-poll 0").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
t_start=$(date +%s)

all_systems=(veth vxlan vde_switch+udp vde_plug+udp tinc vdemesh-tap vdemesh-vde)
read -ra systems <<<"${BENCH_SYSTEMS:-${all_systems[*]}}"
repeat=${BENCH_REPEAT:-3}
seconds=${BENCH_SECONDS:-5}
ping_count=${BENCH_PING_COUNT:-200}
ping_interval=${BENCH_PING_INTERVAL:-0.01}
start_timeout=${BENCH_START_TIMEOUT:-30}
build=${BUILD_DIR:-build}
results_dir=${BENCH_RESULTS:-bench/results}

die() { echo "bench: $*" >&2; exit 1; }
((EUID == 0)) || die "must run as root: it creates network namespaces and TAP devices"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
for s in "${systems[@]}"; do
  [[ " ${all_systems[*]} " == *" $s "* ]] || die "unknown system '$s' (known: ${all_systems[*]})"
done

if [[ ${BENCH_NO_INSTALL:-0} != 1 ]]; then
  ./bench/install-bench-deps.sh
fi
for tool in ip iperf3 python3 ping ss; do
  command -v "$tool" >/dev/null || die "$tool is missing (bench/install-bench-deps.sh installs it)"
done

# The topology, the systems, the iperf3 helper and the lock.
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
bench_begin bench "sys-*/pids" bh1 bh2 bg1 bg2
mkdir -p "$tmp/out"

# vdemesh binaries. A failed build skips the vdemesh systems rather than measure stale ones.
[[ $build == /* ]] || build=$repo/$build
vswitchd=$build/vswitchd/vswitchd
vswitchctl=$build/tools/vswitchctl
build_failed=
# tools/build.sh builds ./build; another BUILD_DIR is taken as it is.
if [[ ${BENCH_NO_BUILD:-0} != 1 && $build == "$repo/build" ]]; then
  echo "bench: building vdemesh (tools/build.sh)"
  if ! { ./tools/install-deps.sh && ./tools/build.sh; } >"$tmp/build.log" 2>&1; then
    tail -n 20 "$tmp/build.log" >&2
    build_failed="tools/build.sh failed (its output is above)"
    echo "bench: the build failed; the vdemesh systems will be skipped" >&2
  fi
fi

show() {  # show VALUE DIGITS: a figure for the progress lines ("-" if missing)
  if [[ $1 == NaN ]]; then echo -; else printf "%.${2}f" "$1"; fi
}

measure() {  # measure SYSTEM REP: appends one row to $tmp/out/raw.tsv
  local sys=$1 rep=$2 tcp=NaN kpps=NaN sent_kpps=NaN p50=NaN cpu=NaN gcpu=NaN
  local -a dpids gpids
  local d0 d1 g0 g1 bytes hz
  hz=$(getconf CLK_TCK)
  mapfile -t dpids < <(pids_of daemon)
  mapfile -t gpids < <(pids_of guest)

  d0=$(cpu_ticks "${dpids[@]}")
  g0=$(cpu_ticks "${gpids[@]}")
  if iperf_run "tcp$rep"; then
    d1=$(cpu_ticks "${dpids[@]}")
    g1=$(cpu_ticks "${gpids[@]}")
    tcp=$(json_get "$sysdir/tcp$rep.json" 'j["end"]["sum_received"]["bits_per_second"]/1e6')
    bytes=$(json_get "$sysdir/tcp$rep.json" 'j["end"]["sum_received"]["bytes"]')
    if ((${#dpids[@]} > 0 && bytes > 0)); then
      cpu=$(python3 -c "print(($d1-$d0)/$hz/($bytes/1e9))")
    fi
    if ((${#gpids[@]} > 0 && bytes > 0)); then
      gcpu=$(python3 -c "print(($g1-$g0)/$hz/($bytes/1e9))")
    fi
  fi
  sleep 1
  if iperf_run "udp$rep" -u -b 0 -l 64; then
    kpps=$(json_get "$sysdir/udp$rep.json" \
      '(j["end"]["sum_received"]["packets"]-j["end"]["sum_received"]["lost_packets"])/j["end"]["sum_received"]["seconds"]/1e3')
    sent_kpps=$(json_get "$sysdir/udp$rep.json" \
      'j["end"]["sum_sent"]["packets"]/j["end"]["sum_sent"]["seconds"]/1e3')
  fi
  sleep 1
  if timeout $((ping_count + 10)) ip netns exec bg1 ping -n -c "$ping_count" -i "$ping_interval" \
    -W 1 10.93.0.2 >"$sysdir/ping$rep.txt" 2>&1 || [[ -s $sysdir/ping$rep.txt ]]; then
    p50=$(python3 - "$sysdir/ping$rep.txt" <<'EOF'
import re, statistics, sys
rtts = [float(x) for x in re.findall(r"time=([0-9.]+) ms", open(sys.argv[1]).read())]
print(statistics.median(rtts) if rtts else "NaN")
EOF
)
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$rep" "$tcp" "$kpps" "$sent_kpps" "$p50" \
    "$cpu" "$gcpu" >>"$tmp/out/raw.tsv"
  printf '  run %s: TCP %s Mbit/s, UDP64 %s kpps delivered (%s sent), ping p50 %s ms, CPU %s s/GB (guest plugs %s)\n' \
    "$rep" "$(show "$tcp" 0)" "$(show "$kpps" 1)" "$(show "$sent_kpps" 1)" "$(show "$p50" 3)" \
    "$(show "$cpu" 2)" "$(show "$gcpu" 2)"
}

run_system() {  # run_system NAME REP: sets it up, measures repetition REP, tears it down
  local sys=$1 r=$2 fn rc
  fn=sys_${sys//[-+]/_}
  sysdir=$tmp/sys-${sys//+/_}
  mkdir -p "$sysdir"
  echo "== $sys (round $r of $repeat)"
  set +e
  (
    set -e
    trap teardown EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    hosts_up
    guests_up
    "$fn"
    # Guest 1 reaches guest 2 (ARP, FDBs, sessions), then a short warm-up.
    wait_for ip netns exec bg1 ping -n -c 1 -W 1 10.93.0.2
    ip netns exec bg1 ping -n -q -c 20 -i 0.05 -W 1 10.93.0.2 >/dev/null || true
    check_alive
    measure "$sys" "$r"
    check_alive
    echo "ok	" >"$sysdir/status.$r"
  )
  rc=$?
  set -e
  if [[ ! -f $sysdir/status.$r ]]; then
    echo "failed	setup or measurement failed (exit $rc); see the messages above" >"$sysdir/status.$r"
    echo "  failed (exit $rc)"
  fi
  ((rc != 130 && rc != 143)) || exit "$rc"
}

system_status() {  # system_status NAME: ok if any round measured it, else the last failure
  local dir=$tmp/sys-${1//+/_} f last=
  for f in "$dir"/status.*; do
    [[ -f $f ]] || continue
    last=$(cat "$f")
    [[ $last != ok* ]] || { echo "$last"; return; }
  done
  echo "${last:-failed	not run}"
}

# ---------------------------------------------------------------------------------------------

echo "bench: systems: ${systems[*]}; $repeat repetition(s), ${seconds}s per iperf3 run"
printf 'system\trep\ttcp_mbps\tudp64_kpps\tudp64_sent_kpps\tping_p50_ms\tcpu_s_per_gb\tguest_cpu_s_per_gb\n' \
  >"$tmp/out/raw.tsv"
: >"$tmp/out/status.tsv"
# Rounds, not one system after another: each round sets up and measures every system once, so
# a slow spell of this shared machine falls on all of them rather than on one system's runs.
for ((round = 1; round <= repeat; round++)); do
  for sys in "${systems[@]}"; do
    run_system "$sys" "$round"
  done
done
for sys in "${systems[@]}"; do
  printf '%s\t%s\n' "$sys" "$(system_status "$sys")" >>"$tmp/out/status.tsv"
done

# Machine description, for the results' header.
stamp=$(date +%Y%m%d-%H%M%S)
host=$(hostname -s 2>/dev/null || hostname)
mkdir -p "$results_dir"
stem=$results_dir/$stamp-$host
elapsed=$(($(date +%s) - t_start))
{
  echo "date: $(date -Is)"
  echo "host: $host"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), nproc $(nproc)"
  echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "vdemesh: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown), vswitchd built $(stat -c %y "$vswitchd" 2>/dev/null | cut -d. -f1 || echo never)"
  echo "iperf3: $(iperf3 --version 2>/dev/null | head -n 1)"
  echo "tinc: $(tincd --version 2>/dev/null | head -n 1 || echo none)"
  echo "vde: vde_switch $(dpkg-query -W -f='${Version}' vde-switch 2>/dev/null || echo none), vdeplug $(dpkg-query -W -f='${Version}' vdeplug 2>/dev/null || echo none)"
  echo "settings: BENCH_REPEAT=$repeat BENCH_SECONDS=$seconds BENCH_PING_COUNT=$ping_count BENCH_PING_INTERVAL=$ping_interval"
  echo "runtime: ${elapsed}s"
} >"$tmp/out/machine.txt"

python3 "$repo/bench/summarize.py" --raw "$tmp/out/raw.tsv" --status "$tmp/out/status.tsv" \
  --machine "$tmp/out/machine.txt" --stem "$stem"

if command -v gnuplot >/dev/null; then
  if timeout 60 gnuplot "$stem.gp" >"$tmp/gnuplot.log" 2>&1; then
    echo "bench: chart $stem.png"
  else
    echo "bench: gnuplot failed: $(head -c 500 "$tmp/gnuplot.log")" >&2
  fi
  rm -f "$stem.gp"
else
  echo "bench: gnuplot not found; no chart"
fi
echo "bench: results $stem.tsv (every run: $stem-raw.tsv)"
echo "bench: total runtime $(($(date +%s) - t_start))s"
