# shellcheck shell=bash disable=SC2034,SC2154
# bench/lib.sh: the topology, the systems and the iperf3 helper shared by bench/run.sh and
# bench/profile.sh (sourced, not run). The caller sets: tmp (scratch dir), sysdir (the current
# system's scratch dir), start_timeout (s), seconds (per iperf3 run), build, vswitchd,
# vswitchctl, and may set vswitchd_wrap1/vswitchd_wrap2 (a command prefix for host 1's or
# host 2's vswitchd, e.g. valgrind). BENCH_VSWITCHD_ARGS (environment) adds flags to both
# vswitchd, e.g. "--busy-poll 0" to compare a setting. Processes are recorded in $sysdir/pids as
# "PID ROLE NAME" and stopped by teardown.

vswitchd_wrap1=()
vswitchd_wrap2=()

# One bench run at a time (the namespace names are fixed): /run/vdemesh-bench.pid holds the PID
# of the run that has the lock; one whose process is gone is stale. (A file descriptor lock
# would be inherited by every daemon the run starts.)
bench_lock=/run/vdemesh-bench.pid
take_lock() {
  local other
  if ! (set -o noclobber && echo "$$" >"$bench_lock") 2>/dev/null; then
    other=$(cat "$bench_lock" 2>/dev/null || true)
    if [[ $other =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$other/cmdline" 2>/dev/null | grep -Eq '(run|profile|threads)\.sh'; then
      echo "bench: another bench run (pid $other) is running" >&2
      return 1
    fi
    echo "$$" >"$bench_lock"
  fi
}
drop_lock() {
  if [[ $(cat "$bench_lock" 2>/dev/null) == "$$" ]]; then rm -f "$bench_lock"; fi
}

# bench_begin NAME PIDS_GLOB NAMESPACE...: the frame of one run of a bench script. Takes the
# lock, deletes the namespaces an interrupted run left, makes $tmp (/tmp/vdemesh-NAME.XXXXXX)
# and, on any exit, stops by PID whatever the run recorded in $tmp/PIDS_GLOB (normally each
# system's teardown has done it already), deletes the namespaces and $tmp (kept, and printed,
# with BENCH_KEEP_LOGS=1) and drops the lock.
bench_begin() {
  local name=$1 ns
  bench_pid_glob=$2
  shift 2
  bench_namespaces=("$@")
  take_lock || exit 1
  tmp=$(mktemp -d "/tmp/vdemesh-$name.XXXXXX")
  trap bench_end EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for ns in "${bench_namespaces[@]}"; do
    if ip netns list | grep -qw "^$ns"; then
      echo "bench: deleting namespace $ns left by an earlier run"
      ip netns del "$ns"
    fi
  done
}
bench_end() {
  local status=$? ns
  # shellcheck disable=SC2086  # the glob is meant to expand
  stop_recorded "$tmp"/$bench_pid_glob
  for ns in "${bench_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [[ ${BENCH_KEEP_LOGS:-0} == 1 ]]; then
    echo "bench: logs kept in $tmp"
  else
    rm -rf "$tmp"
  fi
  drop_lock
  exit "$status"
}

# ---------------------------------------------------------------------------------------------
# Helpers used inside a system's subshell. $sysdir is the system's scratch directory.

# Polls "$@" every 0.1 s for at most $start_timeout seconds.
wait_for() {
  # Bounded by the clock, not by a count of tries: one try (a ping -W 1) may itself take a second.
  local deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: timed out after ${start_timeout}s waiting for: $*" >&2
  return 1
}

new_ns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
}

# The hosts and their LAN.
hosts_up() {
  new_ns bh1
  new_ns bh2
  ip -n bh1 link add ul0 mtu 1500 type veth peer name ul0 netns bh2
  ip -n bh1 addr add 10.94.0.1/24 dev ul0
  ip -n bh2 addr add 10.94.0.2/24 dev ul0
  ip -n bh1 link set ul0 up
  ip -n bh2 link set ul0 up
}

guests_up() {
  new_ns bg1
  new_ns bg2
}

# guest_addr N IFNAME [MTU]: gives guest N's interface its address and brings it up.
guest_addr() {
  local ns=bg$1 dev=$2 mtu=${3:-}
  [[ -z $mtu ]] || ip -n "$ns" link set "$dev" mtu "$mtu"
  ip -n "$ns" addr add "10.93.0.$1/24" dev "$dev"
  ip -n "$ns" link set "$dev" up
}

# move_tap N IFNAME: moves the TAP that host N's daemon made into guest N.
move_tap() {
  wait_for ip -n "bh$1" link show "$2"
  sleep 0.2  # let the daemon finish what it does with the new interface
  ip -n "bh$1" link set "$2" netns "bg$1"
  guest_addr "$1" "$2"
}

# start ROLE NAME NETNS CMD...: runs CMD in NETNS in the background (log: $sysdir/NAME.log).
# ROLE is "daemon" (host-side: counted in CPU-s/GB) or "guest" (the guest's own plug).
start() {
  local role=$1 name=$2 ns=$3
  shift 3
  ip netns exec "$ns" "$@" </dev/null >"$sysdir/$name.log" 2>&1 &
  echo "$! $role $name" >>"$sysdir/pids"
}

# Like start, with standard input a FIFO that stays open (vde_switch exits on stdin EOF).
start_stdin_open() {
  local role=$1 name=$2 ns=$3 fifo=$sysdir/$2.stdin
  shift 3
  rm -f "$fifo"  # the system's directory is kept from round to round
  mkfifo "$fifo"
  exec {keep_fd}<>"$fifo"  # held open until the subshell ends
  ip netns exec "$ns" "$@" <"$fifo" >"$sysdir/$name.log" 2>&1 &
  echo "$! $role $name" >>"$sysdir/pids"
}

pids_of() {  # pids_of ROLE
  [[ -f $sysdir/pids ]] || return 0
  awk -v r="$1" '$2 == r { print $1 }' "$sysdir/pids"
}

# All processes still running?
check_alive() {
  local pid role name
  [[ -f $sysdir/pids ]] || return 0
  while read -r pid role name; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: $name ($role, pid $pid) has exited; the end of its log:" >&2
      tail -n 10 "$sysdir/$name.log" >&2 || true
      return 1
    fi
  done <"$sysdir/pids"
}

# stop_recorded PIDFILE...: stops the processes a run recorded ("PID ROLE NAME" lines) by PID:
# TERM, up to 3 s to exit, then KILL. For cleanup after a system was cut short.
stop_recorded() {
  local f pid i
  for f in "$@"; do
    [[ -f $f ]] || continue
    while read -r pid _; do kill -TERM "$pid" 2>/dev/null || true; done <"$f"
    while read -r pid _; do
      for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    done <"$f"
  done
}

cpu_ticks() {  # cpu_ticks PID...: utime+stime summed, in clock ticks
  local pid stat total=0
  local -a f
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    read -ra f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# Stops the system's processes (guests first, then daemons) and deletes its namespaces.
teardown() {
  local pid role name i
  if [[ -n ${iperf_srv:-} ]]; then
    kill -TERM "$iperf_srv" 2>/dev/null || true
    wait "$iperf_srv" 2>/dev/null || true
    iperf_srv=
  fi
  if [[ -f $sysdir/pids ]]; then
    for role in guest daemon; do
      for pid in $(pids_of "$role"); do kill -TERM "$pid" 2>/dev/null || true; done
      for pid in $(pids_of "$role"); do
        for ((i = 0; i < ${stop_timeout:-5} * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
      done
    done
    rm -f "$sysdir/pids"
  fi
  for ns in bg1 bg2 bh1 bh2; do ip netns del "$ns" 2>/dev/null || true; done
}

skip() {  # skip MESSAGE: the system cannot run here
  echo "skipped	$*" >"$sysdir/status"
  echo "  skipped: $*"
  exit 3
}

# ---------------------------------------------------------------------------------------------
# The systems: sys_NAME sets its part up on top of hosts_up/guests_up and returns when guest 1
# can reach guest 2. Teardown is common (processes by PID, then the namespaces).

sys_veth() {
  ip -n bg1 link add eth0 type veth peer name eth0 netns bg2
  guest_addr 1 eth0
  guest_addr 2 eth0
}

sys_vxlan() {
  local n
  for n in 1 2; do
    if ! ip -n "bh$n" link add vx42 type vxlan id 42 dstport 4789 local "10.94.0.$n" \
      remote "10.94.0.$((3 - n))" dev ul0 2>"$sysdir/vxlan.err"; then
      skip "kernel VXLAN unavailable: $(cat "$sysdir/vxlan.err")"
    fi
    ip -n "bh$n" link set vx42 mtu 1450 up
    ip -n "bh$n" link add br0 type bridge
    ip -n "bh$n" link set vx42 master br0
    ip -n "bh$n" link add gw0 mtu 1450 type veth peer name eth0 netns "bg$n"
    ip -n "bh$n" link set gw0 master br0 up
    ip -n "bh$n" link set br0 up
    guest_addr "$n" eth0 1450
  done
}

need() {  # need CMD...: skips the system unless each command exists
  local c
  for c in "$@"; do command -v "$c" >/dev/null || skip "$c not found (bench/install-bench-deps.sh)"; done
}

udp_url() {  # udp_url N: host N's end of the vde_plug udp:// cable (libvdeplug_udp(1))
  echo "udp://10.94.0.$1:7000->10.94.0.$((3 - $1)):7000"
}

# A vde_plug udp:// end exits when a datagram it sent comes back as ICMP port unreachable, so
# both ends run before any guest interface is up (an interface sends IPv6 frames at once).
sys_vde_switch_udp() {
  local n
  need vde_switch vde_plug
  for n in 1 2; do
    start_stdin_open daemon "vde_switch$n" "bh$n" vde_switch -s "$sysdir/sw$n"
    wait_for test -S "$sysdir/sw$n/ctl"
    start daemon "cable$n" "bh$n" vde_plug "vde://$sysdir/sw$n" "$(udp_url "$n")"
  done
  for n in 1 2; do
    start guest "guest$n" "bg$n" vde_plug "vde://$sysdir/sw$n" tap://tap0
    wait_for ip -n "bg$n" link show tap0
  done
  for n in 1 2; do guest_addr "$n" tap0; done
}

sys_vde_plug_udp() {
  local n
  need vde_plug
  for n in 1 2; do start daemon "plug$n" "bh$n" vde_plug tap://tap0 "$(udp_url "$n")"; done
  for n in 1 2; do move_tap "$n" tap0; done
}

sys_tinc() {
  local n d
  need tincd
  for n in 1 2; do
    d=$sysdir/tinc$n
    mkdir -p "$d/hosts"
    {
      echo "Name = h$n"
      echo "Mode = switch"
      echo "AddressFamily = ipv4"
      echo "BindToAddress = 10.94.0.$n"
      echo "Interface = tinc0"
      echo "DeviceType = tap"
      echo "PrivateKeyFile = $d/rsa_key.priv"
      ((n == 1)) || echo "ConnectTo = h1"
    } >"$d/tinc.conf"
    {
      echo "Address = 10.94.0.$n"
      echo "Port = 655"
      echo "Cipher = aes-256-cbc"
      echo "Digest = sha256"
    } >"$d/hosts/h$n"
    # -K asks where to save the keys only on a terminal; otherwise it takes the defaults
    # (PrivateKeyFile, and the public key appended to hosts/h$n).
    timeout 60 tincd -c "$d" -K 2048 </dev/null >"$sysdir/tinc-keygen$n.log" 2>&1 ||
      skip "tincd -K failed: $(tail -n 3 "$sysdir/tinc-keygen$n.log")"
  done
  cp "$sysdir/tinc1/hosts/h1" "$sysdir/tinc2/hosts/h1"
  cp "$sysdir/tinc2/hosts/h2" "$sysdir/tinc1/hosts/h2"
  for n in 1 2; do
    start daemon "tincd$n" "bh$n" tincd -c "$sysdir/tinc$n" -D -d 0 \
      --pidfile "$sysdir/tinc$n/pid" --logfile="$sysdir/tincd$n.file.log"
    move_tap "$n" tinc0
  done
}

peer_up() {  # peer_up N: host N's vswitchd has a session with the other host
  timeout 5 "$vswitchctl" --control "$sysdir/ctl$1.sock" --json peers | grep -Eq '"state": ?"up"'
}

vdemesh_hosts() {  # vdemesh_hosts [-t]: one vswitchd per host (with a TAP port for -t)
  local n
  local -a args
  [[ -z ${build_failed:-} ]] || skip "$build_failed"
  [[ -x $vswitchd && -x $vswitchctl ]] || skip "$build/vswitchd/vswitchd or $build/tools/vswitchctl is missing (tools/build.sh)"
  (umask 077 && "$vswitchctl" netkey >"$sysdir/network.key")
  for n in 1 2; do
    args=(-s "$sysdir/sw$n" --control "$sysdir/ctl$n.sock" --network-key "$sysdir/network.key"
      --host-key "$sysdir/host$n.key" --log-level warn)
    [[ ${1:-} != -t ]] || args+=(-t vdmtap0)
    local -a extra
    read -ra extra <<<"${BENCH_VSWITCHD_ARGS:-}"
    args+=("${extra[@]}")
    ((n == 1)) || args+=(--peer 10.94.0.1)
    local -n wrap=vswitchd_wrap$n
    start daemon "vswitchd$n" "bh$n" "${wrap[@]}" "$vswitchd" "${args[@]}"
    unset -n wrap
    wait_for test -S "$sysdir/sw$n/ctl"
    wait_for test -S "$sysdir/ctl$n.sock"
  done
  for n in 1 2; do
    wait_for peer_up "$n" || {
      "$vswitchctl" --control "$sysdir/ctl$n.sock" peers >&2 || true
      return 1
    }
  done
}

sys_vdemesh_tap() {
  local n
  vdemesh_hosts -t
  for n in 1 2; do move_tap "$n" vdmtap0; done
}

sys_vdemesh_vde() {
  local n
  need vde_plug
  vdemesh_hosts
  for n in 1 2; do
    start guest "guest$n" "bg$n" vde_plug "vde://$sysdir/sw$n" tap://tap0
    wait_for ip -n "bg$n" link show tap0
    guest_addr "$n" tap0
  done
}

# ---------------------------------------------------------------------------------------------
# Measurements (inside the system's subshell). Each prints its figure, or NaN on failure.

iperf_port=5201

# iperf_run NAME ARGS...: one iperf3 test from guest 1 to a one-shot server in guest 2; the
# client's JSON goes to $sysdir/NAME.json. Returns non-zero if it failed.
iperf_run() {
  local name=$1 srv i rc=0
  shift
  ip netns exec bg2 timeout $((seconds + 30)) iperf3 -s -1 -B 10.93.0.2 -p "$iperf_port" \
    >"$sysdir/$name.server.log" 2>&1 &
  srv=$!
  iperf_srv=$srv  # for teardown, if interrupted
  for ((i = 0; i < 50; i++)); do
    ip netns exec bg2 ss -Hltn "sport = :$iperf_port" | grep -q . && break
    sleep 0.1
  done
  timeout $((seconds + 20)) ip netns exec bg1 iperf3 -c 10.93.0.2 -p "$iperf_port" \
    -t "$seconds" -J --connect-timeout 5000 "$@" >"$sysdir/$name.json" 2>"$sysdir/$name.err" ||
    rc=$?
  if ((rc != 0)); then kill -TERM "$srv" 2>/dev/null || true; fi
  wait "$srv" 2>/dev/null || true
  iperf_srv=
  if ((rc != 0)); then
    echo "bench: iperf3 $name failed (exit $rc): $(jq -r '.error // empty' "$sysdir/$name.json" 2>/dev/null) $(head -c 300 "$sysdir/$name.err")" >&2
  fi
  return "$rc"
}

json_get() {  # json_get FILE PYTHON-EXPR-ON-j
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
