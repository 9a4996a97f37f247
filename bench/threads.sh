#!/usr/bin/env bash
# bench/threads.sh: do two networks on one vswitchd use two cores? Two hosts (network
# namespaces joined by a veth), each running one vswitchd with two encrypted networks, red and
# blue, each with a TAP port moved into a guest namespace. One iperf3 TCP stream per network,
# both at once, with --threads 1 and then --threads 2, alternating in rounds on the same
# machine. Prints the summed throughput, the daemons' CPU per GB, and how the datapath
# threads shared the work, as medians; the TSV goes to bench/results/.
#
#   sudo bench/threads.sh            # BENCH_REPEAT=3 rounds of 5 s streams
#   BENCH_SECONDS=10 BENCH_REPEAT=5 BENCH_NO_BUILD=1 sudo -E bench/threads.sh
#
# Needs root, iperf3 and a built tree (tools/build.sh, unless BENCH_NO_BUILD=1). Every wait is
# bounded; processes are stopped by PID and the namespaces deleted on every exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
seconds=${BENCH_SECONDS:-5}
repeat=${BENCH_REPEAT:-3}
start_timeout=20
build=${BUILD_DIR:-$repo/build}

if [[ $(id -u) != 0 ]]; then
  echo "bench/threads.sh: needs root (network namespaces)" >&2
  exit 1
fi
command -v iperf3 >/dev/null || { echo "bench/threads.sh: iperf3 is missing (bench/install-bench-deps.sh)" >&2; exit 1; }
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || "$repo/tools/build.sh" >/dev/null
vswitchd=$build/vswitchd/vswitchd
vswitchctl=$build/tools/vswitchctl

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
bench_begin threads "t*/pids" bh1 bh2 bg1 bg2 bg3 bg4

# Guests 1 (host 1) and 2 (host 2) are on red, 3 (host 1) and 4 (host 2) on blue.
two_network_hosts() {  # two_network_hosts THREADS
  local n net
  hosts_up
  for n in 1 2 3 4; do new_ns "bg$n"; done
  for net in red blue; do (umask 077 && "$vswitchctl" netkey >"$sysdir/$net.key"); done
  for n in 1 2; do
    {
      echo "threads = $1"
      echo "host-key = $sysdir/host$n.key"
      echo "control = $sysdir/ctl$n.sock"
      echo "log-level = warn"
      for net in red blue; do
        echo "[network $net]"
        echo "sock = $sysdir/$net$n"
        echo "tap = vdm$net"
        echo "network-key = $sysdir/$net.key"
        ((n == 1)) || echo "peer = 10.94.0.1"
      done
    } >"$sysdir/host$n.conf"
    start daemon "vswitchd$n" "bh$n" "$vswitchd" --config "$sysdir/host$n.conf"
    wait_for test -S "$sysdir/ctl$n.sock"
  done
  for n in 1 2; do
    for net in red blue; do
      wait_for sh -c "timeout 5 '$vswitchctl' --control '$sysdir/ctl$n.sock' --json --network $net peers | grep -Eq '\"state\": ?\"up\"'"
    done
  done
  # host N's red TAP -> guest N (10.93.0.N), its blue TAP -> guest N+2 (10.92.0.N)
  for n in 1 2; do
    for net in red blue; do
      local g=$n subnet=10.93.0
      [[ $net == red ]] || g=$((n + 2)) subnet=10.92.0
      wait_for ip -n "bh$n" link show "vdm$net"
      sleep 0.2
      ip -n "bh$n" link set "vdm$net" netns "bg$g"
      ip -n "bg$g" addr add "$subnet.$n/24" dev "vdm$net"
      ip -n "bg$g" link set "vdm$net" up
    done
  done
  wait_for ip netns exec bg1 ping -c 1 -W 1 10.93.0.2
  wait_for ip netns exec bg3 ping -c 1 -W 1 10.92.0.2
}

dp_ticks() {  # dp_ticks PID: "name=ticks ..." for the datapath threads
  local t comm stat
  local -a f
  for t in /proc/"$1"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    [[ $comm == vdemesh-dp* ]] || continue
    stat=$(cat "$t/stat") && stat=${stat##*) } && read -ra f <<<"$stat"
    echo "$comm=$((f[11] + f[12]))"
  done
}

# One round for THREADS: both streams at once; prints "Mbit/s CPU-s/GB share" where share is
# the busiest datapath thread's part of all datapath CPU (1.0: one thread did everything).
measure() {
  local threads=$1 pids daemons before after hz bytes ticks busiest total
  sysdir=$tmp/t$threads && rm -rf "$sysdir" && mkdir -p "$sysdir"
  two_network_hosts "$threads" >"$sysdir/setup.log" 2>&1 || {
    echo "bench: setup failed; see below" >&2
    tail -n 20 "$sysdir"/*.log >&2
    return 1
  }
  daemons=$(pids_of daemon)
  ip netns exec bg2 timeout $((seconds + 30)) iperf3 -s -1 -B 10.93.0.2 -p 5301 >/dev/null 2>&1 &
  local s1=$!
  ip netns exec bg4 timeout $((seconds + 30)) iperf3 -s -1 -B 10.92.0.2 -p 5302 >/dev/null 2>&1 &
  local s2=$!
  wait_for ip netns exec bg2 sh -c 'ss -Hltn "sport = :5301" | grep -q .'
  wait_for ip netns exec bg4 sh -c 'ss -Hltn "sport = :5302" | grep -q .'
  before=$(cpu_ticks $daemons)
  local -A dp0=()
  for p in $daemons; do for kv in $(dp_ticks "$p"); do dp0[$p.${kv%=*}]=${kv#*=}; done; done
  timeout $((seconds + 20)) ip netns exec bg1 iperf3 -c 10.93.0.2 -p 5301 -t "$seconds" -J >"$sysdir/red.json" 2>/dev/null &
  local c1=$!
  timeout $((seconds + 20)) ip netns exec bg3 iperf3 -c 10.92.0.2 -p 5302 -t "$seconds" -J >"$sysdir/blue.json" 2>/dev/null &
  local c2=$!
  wait "$c1" "$c2" || true
  after=$(cpu_ticks $daemons)
  busiest=0 total=0
  local -A per=()
  for p in $daemons; do
    for kv in $(dp_ticks "$p"); do
      local used=$((${kv#*=} - ${dp0[$p.${kv%=*}]:-0}))
      per[${kv%=*}]=$((${per[${kv%=*}]:-0} + used))
      total=$((total + used))
    done
  done
  for k in "${!per[@]}"; do ((per[$k] > busiest)) && busiest=${per[$k]}; done
  wait "$s1" "$s2" 2>/dev/null || true
  hz=$(getconf CLK_TCK)
  bytes=$(python3 -c 'import json,sys; print(sum(json.load(open(f))["end"]["sum_received"]["bytes"] for f in sys.argv[1:]))' "$sysdir/red.json" "$sysdir/blue.json")
  python3 -c 'import sys
b,s,t,hz,busy,total=map(float,sys.argv[1:])
print("%.0f %.2f %.2f" % (b*8/s/1e6, (t/hz)/(b/1e9), busy/total if total else 1))' \
    "$bytes" "$seconds" "$((after - before))" "$hz" "$busiest" "$total"
  teardown
  for ns in bg3 bg4; do ip netns del "$ns" 2>/dev/null || true; done
  sysdir=
}

mkdir -p "$repo/bench/results"
out=$repo/bench/results/$(date +%Y%m%d-%H%M%S)-threads.tsv
{
  echo "# bench/threads.sh $(date -Is), $(nproc) CPUs, $(uname -r), ${seconds}s streams, $repeat rounds"
  echo "# vdemesh $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
  printf 'round\tthreads\tmbit_s\tcpu_s_per_gb\tbusiest_thread_share\n'
} >"$out"
for ((r = 1; r <= repeat; r++)); do
  for threads in 1 2; do
    result=$(measure "$threads") || result="NaN NaN NaN"
    read -r mbit cpu share <<<"$result"
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$threads" "$mbit" "$cpu" "$share" >>"$out"
    echo "round $r, --threads $threads: $mbit Mbit/s summed, $cpu CPU-s/GB, busiest datapath thread did $share of the datapath work"
  done
done
python3 - "$out" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader((l for l in open(sys.argv[1]) if not l.startswith('#')), delimiter='\t')]
print("\n| --threads | TCP Mbit/s, two streams summed | CPU-s/GB | busiest datapath thread's share |")
print("|---|---|---|---|")
med = {}
for t in ("1", "2"):
    vals = [r for r in rows if r["threads"] == t and r["mbit_s"] != "NaN"]
    if not vals:
        print(f"| {t} | NaN | NaN | NaN |"); continue
    m = [statistics.median(float(r[k]) for r in vals) for k in ("mbit_s", "cpu_s_per_gb", "busiest_thread_share")]
    med[t] = m
    print(f"| {t} | {m[0]:.0f} | {m[1]:.2f} | {m[2]:.2f} |")
if "1" in med and "2" in med and med["1"][0] > 0:
    print(f"\n--threads 2 / --threads 1: {med['2'][0] / med['1'][0]:.2f}x throughput")
EOF
echo "results: $out"
