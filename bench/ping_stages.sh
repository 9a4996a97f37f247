#!/usr/bin/env bash
# bench/ping_stages.sh [SYSTEM...]: where a ping's round trip goes, stage by stage, in the
# forwarding processes of each system (default: vdemesh-tap vde_plug+udp), on the topology of
# bench/run.sh. While BENCH_PING_COUNT pings (default 300) cross 10 ms apart, bpftrace times,
# for the forwarding threads only (vswitchd's datapath threads, vde_plug, vde_switch, tincd):
#
#   * each system call (its own time: for a send, the receiving side's kernel work runs inside);
#   * each gap between two system calls (user space, plus the kernel's way out and back in);
#   * each wake-up until the thread is on a CPU again;
#
# split into "cold" (the first work after the thread slept more than 2 ms: each ping's first
# traversal of a host) and "warm" (the rest). BENCH_REPEAT rounds (default 2), systems
# alternating; averages over all rounds, in microseconds. Only tracepoints (raw_syscalls, sched):
# it works where kprobes do not. Adds a few us per system call; compare systems, not totals.
#
# Needs root and bpftrace (Debian package; BENCH_NO_INSTALL=1 skips installing it) and a built
# tree (tools/build.sh, unless BENCH_NO_BUILD=1). Bounded in time; stops what it starts by PID
# and deletes its namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)

read -ra systems <<<"${*:-vdemesh-tap vde_plug+udp}"
rounds=${BENCH_REPEAT:-2}
count=${BENCH_PING_COUNT:-300}
start_timeout=${BENCH_START_TIMEOUT:-30}
build=${BUILD_DIR:-build}
[[ $build == /* ]] || build=$repo/$build
vswitchd=$build/vswitchd/vswitchd
vswitchctl=$build/tools/vswitchctl

die() { echo "ping_stages: $*" >&2; exit 1; }
((EUID == 0)) || die "must run as root (network namespaces, bpftrace)"
[[ $rounds =~ ^[1-9][0-9]*$ && $count =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT and BENCH_PING_COUNT must be positive integers"
if [[ ${BENCH_NO_INSTALL:-0} != 1 ]]; then
  ./bench/install-bench-deps.sh >/dev/null
  ./tools/install-deps.sh bpftrace >/dev/null
fi
command -v bpftrace >/dev/null || die "bpftrace is missing (apt-get install bpftrace)"
if [[ ${BENCH_NO_BUILD:-0} != 1 && $build == "$repo/build" ]]; then
  ./tools/install-deps.sh >/dev/null && ./tools/build.sh >/dev/null
fi

# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
for s in "${systems[@]}"; do
  declare -F "sys_${s//[-+]/_}" >/dev/null || die "unknown system '$s'"
done
bench_begin stages "*/pids" bh1 bh2 bg1 bg2

# Maps keyed by thread are few (the forwarding threads); the stage maps by (comm, cold, call ids).
cat >"$tmp/stages.bt" <<'EOF'
tracepoint:raw_syscalls:sys_enter
/strncmp(comm, "vdemesh-dp", 10) == 0 || comm == "vde_plug" || comm == "vde_switch" || comm == "tincd"/ {
  if (@exit_at[tid] != 0) {
    @gap[comm, @cold[tid], @prev[tid], args->id] = stats(nsecs - @exit_at[tid]);
    @exit_at[tid] = 0;
  }
  @enter_at[tid] = nsecs;
}
tracepoint:raw_syscalls:sys_exit
/(strncmp(comm, "vdemesh-dp", 10) == 0 || comm == "vde_plug" || comm == "vde_switch" || comm == "tincd") && @enter_at[tid] != 0/ {
  $took = nsecs - @enter_at[tid];
  // epoll_wait, epoll_pwait, poll, ppoll, select, pselect6: the sleep decides cold or warm.
  if (args->id == 232 || args->id == 281 || args->id == 7 || args->id == 271 || args->id == 23 || args->id == 270) {
    @cold[tid] = $took > 2000000 ? 1 : 0;
  } else {
    @call[comm, @cold[tid], args->id] = stats($took);
  }
  @exit_at[tid] = nsecs;
  @prev[tid] = args->id;
}
tracepoint:sched:sched_wakeup
/strncmp(args->comm, "vdemesh-dp", 10) == 0 || args->comm == "vde_plug" || args->comm == "vde_switch" || args->comm == "tincd"/ {
  @woken_at[args->pid] = nsecs;
}
tracepoint:sched:sched_switch /@woken_at[args->next_pid] != 0/ {
  @wake[args->next_comm] = stats(nsecs - @woken_at[args->next_pid]);
  delete(@woken_at[args->next_pid]);
}
END { clear(@exit_at); clear(@enter_at); clear(@prev); clear(@cold); clear(@woken_at); }
EOF

for ((r = 1; r <= rounds; r++)); do
  for sys in "${systems[@]}"; do
    sysdir=$tmp/${sys//+/_}
    mkdir -p "$sysdir"
    echo "== $sys (round $r of $rounds)"
    (
      set -e
      trap teardown EXIT
      hosts_up
      guests_up
      "sys_${sys//[-+]/_}" >/dev/null
      wait_for ip netns exec bg1 ping -n -c 1 -W 1 10.93.0.2
      ip netns exec bg1 ping -n -q -c 20 -i 0.05 -W 1 10.93.0.2 >/dev/null || true
      BPFTRACE_MAP_KEYS_MAX=512 timeout $((count / 100 + 60)) bpftrace "$tmp/stages.bt" \
        >"$sysdir/trace$r.txt" 2>"$sysdir/bpftrace$r.err" &
      tracer=$!
      # bpftrace prints "Attaching N probes..." once it is in place.
      wait_for grep -q Attaching "$sysdir/bpftrace$r.err" "$sysdir/trace$r.txt"
      timeout $((count / 100 + 30)) ip netns exec bg1 ping -n -c "$count" -i 0.01 -W 1 10.93.0.2 \
        >"$sysdir/ping$r.txt" 2>&1 || true
      kill -INT "$tracer" 2>/dev/null || true
      wait "$tracer" || { tail -n 5 "$sysdir/bpftrace$r.err" >&2; exit 1; }
      grep -E 'rtt|packet loss' "$sysdir/ping$r.txt" | sed 's/^/  /'
    )
  done
done

python3 - "$tmp" "${systems[@]}" <<'EOF'
import collections, glob, os, re, sys

tmp, systems = sys.argv[1], sys.argv[2:]
# x86_64 system call numbers of the calls these programs make; others print as numbers.
NAMES = {0: "read", 1: "write", 7: "poll", 19: "readv", 20: "writev", 23: "select", 44: "sendto",
         45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 232: "epoll_wait", 270: "pselect6",
         271: "ppoll", 281: "epoll_pwait", 299: "recvmmsg", 307: "sendmmsg", 426: "io_uring_enter"}
name = lambda i: NAMES.get(int(i), f"syscall {i}")
line = re.compile(r"^@(\w+)\[(.*)\]: count (\d+), average -?\d+, total (-?\d+)$")
for sys_name in systems:
    sums = collections.defaultdict(lambda: [0, 0])  # (kind, key) -> [count, total ns]
    for path in glob.glob(os.path.join(tmp, sys_name.replace("+", "_"), "trace*.txt")):
        for text in open(path):
            m = line.match(text.strip())
            if not m:
                continue
            kind, key, n, total = m.group(1), [k.strip() for k in m.group(2).split(",")], int(m.group(3)), int(m.group(4))
            if kind == "gap":
                label, cold = f"{name(key[2])} -> {name(key[3])}", key[1]
            elif kind == "call":
                label, cold = name(key[2]), key[1]
            elif kind == "wake":
                label, cold = "woken -> on a CPU", "-"
            else:
                continue
            s = sums[(kind, label, cold)]
            s[0] += n
            s[1] += total
    print(f"\n{sys_name}: averages in us over all rounds (count: how many)")
    if not sums:
        print("  nothing traced (did bpftrace attach? see its errors above)")
        continue
    floor = max(n for n, _ in sums.values()) // 10  # hide rare stages
    print(f"  {'stage':44s} {'cold':>14s} {'warm':>14s}")
    rows = collections.defaultdict(dict)
    for (kind, label, cold), (n, total) in sums.items():
        if n >= floor:
            rows[(kind, label)][cold] = f"{total / n / 1000:7.1f} ({n})"
    order = {"wake": 0, "gap": 1, "call": 2}
    for (kind, label), v in sorted(rows.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        what = {"wake": "wake-up: ", "gap": "between: ", "call": "in call: "}[kind] + label
        if kind == "wake":
            print(f"  {what:44s} {v.get('-', ''):>14s}")
        else:
            print(f"  {what:44s} {v.get('1', ''):>14s} {v.get('0', ''):>14s}")
EOF
