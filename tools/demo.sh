#!/usr/bin/env bash
# demo.sh: vswitchd with two guests, as a user would set it up.
#
#   vswitchd -s $tmp/demo --control $tmp/vswitchd.sock
#        |                                   |
#   netns vdmdemo<pid>a                 netns vdmdemo<pid>b
#   vde_plug vde://$tmp/demo tap://tap0  vde_plug $tmp/demo tap://tap0
#   tap0 10.99.1.1/24                    tap0 10.99.1.2/24
#
# Pings three times each way, then shows `vswitchctl ports` and `vswitchctl fdb`. Everything it
# starts is stopped by PID and every namespace it creates is deleted on exit, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ((EUID != 0)); then
  echo "demo.sh must run as root: it creates network namespaces and TAP devices" >&2
  exit 1
fi

./tools/install-deps.sh
./tools/build.sh

vswitchd=build/vswitchd/vswitchd
vswitchctl=build/tools/vswitchctl
tmp=$(mktemp -d /tmp/vdemesh-demo.XXXXXX)
dir=$tmp/demo
control=$tmp/vswitchd.sock
ns_a=vdmdemo$$a
ns_b=vdmdemo$$b
pids=()
namespaces=()

cleanup() {
  local status=$? pid i
  if ((status != 0)) && [[ -s $tmp/vswitchd.log ]]; then
    echo "== demo failed; the end of the vswitchd log:" >&2
    tail -n 20 "$tmp/vswitchd.log" >&2
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Polls "$@" every 0.1 s, at most 100 times.
wait_for() {
  local i
  for ((i = 0; i < 100; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo.sh: timed out waiting for: $*" >&2
  return 1
}

echo "== vswitchd on $dir (log: $tmp/vswitchd.log)"
"$vswitchd" -s "$dir" --control "$control" --log-level info </dev/null >"$tmp/vswitchd.log" 2>&1 &
pids=("$!" "${pids[@]}")
wait_for test -S "$dir/ctl"
wait_for timeout 5 "$vswitchctl" --control "$control" status

guest() {  # guest NS URL CIDR
  ip netns add "$1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
  ip netns exec "$1" vde_plug -D "demo-$1" "$2" tap://tap0 </dev/null >"$tmp/$1.log" 2>&1 &
  pids=("$!" "${pids[@]}")  # guests are stopped before the switch
  wait_for ip -n "$1" link show tap0
  ip -n "$1" addr add "$3" dev tap0
  ip -n "$1" link set tap0 up
  echo "== guest $1: tap0 $3 on $2"
}
guest "$ns_a" "vde://$dir" 10.99.1.1/24
guest "$ns_b" "$dir" 10.99.1.2/24

echo "== ping $ns_a -> $ns_b"
ip netns exec "$ns_a" ping -c 3 -W 1 -i 0.2 10.99.1.2
echo "== ping $ns_b -> $ns_a"
ip netns exec "$ns_b" ping -c 3 -W 1 -i 0.2 10.99.1.1

echo "== vswitchctl ports"
timeout 10 "$vswitchctl" --control "$control" ports
echo "== vswitchctl fdb"
timeout 10 "$vswitchctl" --control "$control" fdb
echo "== done; cleaning up"
