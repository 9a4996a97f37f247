#!/usr/bin/env bash
# demo.sh: two hosts joined into one Ethernet by vdemesh's encrypted overlay, as a user would set
# it up. The hosts are network namespaces on a veth "LAN" (MTU 1500); each runs vswitchd with
# the same network key, and host B is given host A's address. One guest on each host pings the
# other across the overlay.
#
#   netns vdmdemo<pid>ha                              netns vdmdemo<pid>hb
#   ul0 10.98.0.1/24  <-------- veth, UDP 6655 -------->  ul0 10.98.0.2/24
#   vswitchd -s $tmp/swA                              vswitchd -s $tmp/swB --peer 10.98.0.1
#     --network-key $tmp/network.key                    --network-key $tmp/network.key
#     --host-key $tmp/hostA.key                         --host-key $tmp/hostB.key
#        |  vde socket (a path)                                |
#   netns vdmdemo<pid>ga                              netns vdmdemo<pid>gb
#   vde_plug vde://$tmp/swA tap://tap0                vde_plug $tmp/swB tap://tap0
#   tap0 10.97.0.1/24                                 tap0 10.97.0.2/24
#
# Then a second pair of guests plugs in through the vdemesh:// plugin on VLAN 20, one on each
# host (vdemesh://$tmp/swA[vlan=20]): they reach each other, and VLAN 1's guests do not reach
# them. Shows `vswitchctl peers`, `ports` and `fdb` on both hosts. Everything it starts is stopped
# by PID and every namespace it creates is deleted on exit, even on failure.
# DEMO_NO_BUILD=1 skips install-deps.sh and build.sh and uses the binaries in ${BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."

if ((EUID != 0)); then
  echo "demo.sh must run as root: it creates network namespaces and TAP devices" >&2
  exit 1
fi

if [[ ${DEMO_NO_BUILD:-0} != 1 ]]; then
  ./tools/install-deps.sh
  ./tools/build.sh
fi

build=${BUILD_DIR:-build}
vswitchd=$(realpath "$build/vswitchd/vswitchd")
vswitchctl=$(realpath "$build/tools/vswitchctl")
tmp=$(mktemp -d /tmp/vdemesh-demo.XXXXXX)
pids=()
namespaces=()

cleanup() {
  local status=$? pid i log
  if ((status != 0)); then
    for log in "$tmp"/vswitchd-*.log; do
      [[ -s $log ]] || continue
      echo "== demo failed; the end of $log:" >&2
      tail -n 15 "$log" >&2
    done
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

# Polls "$@" every 0.1 s, at most 200 times.
wait_for() {
  local i
  for ((i = 0; i < 200; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo.sh: timed out waiting for: $*" >&2
  return 1
}

new_ns() {
  ip netns add "$1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
}

ctl() {  # ctl HOST ARGS...: vswitchctl on host HOST's control socket
  local host=$1
  shift
  timeout 10 "$vswitchctl" --control "$tmp/ctl$host.sock" "$@"
}

peer_up() { ctl "$1" --json peers | grep -Eq '"state": ?"up"'; }

# The hosts and their LAN.
ns_ha=vdmdemo$$ha
ns_hb=vdmdemo$$hb
new_ns "$ns_ha"
new_ns "$ns_hb"
ip -n "$ns_ha" link add ul0 mtu 1500 type veth peer name ul0 netns "$ns_hb"
ip -n "$ns_ha" addr add 10.98.0.1/24 dev ul0
ip -n "$ns_hb" addr add 10.98.0.2/24 dev ul0
ip -n "$ns_ha" link set ul0 up
ip -n "$ns_hb" link set ul0 up
echo "== hosts $ns_ha (10.98.0.1) and $ns_hb (10.98.0.2) on a veth LAN, MTU 1500"

# One network key for the whole network; each host makes its own host key on first start.
(umask 077 && "$vswitchctl" netkey >"$tmp/network.key")
echo "== network key in $tmp/network.key (shared by both hosts)"

host() {  # host NAME NETNS [--peer ADDR]: vswitchd inside the host's namespace
  local name=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$vswitchd" -s "$tmp/sw$name" --control "$tmp/ctl$name.sock" \
    --network-key "$tmp/network.key" --host-key "$tmp/host$name.key" --log-level info "$@" \
    </dev/null >"$tmp/vswitchd-$name.log" 2>&1 &
  pids=("$!" "${pids[@]}")
  wait_for test -S "$tmp/sw$name/ctl"
  wait_for ctl "$name" status
  echo "== host $name: vswitchd -s $tmp/sw$name${*:+ $*} (log: $tmp/vswitchd-$name.log)"
}
host A "$ns_ha"
host B "$ns_hb" --peer 10.98.0.1

guest() {  # guest NETNS URL CIDR
  new_ns "$1"
  ip netns exec "$1" vde_plug -D "demo-$1" "$2" tap://tap0 </dev/null >"$tmp/$1.log" 2>&1 &
  pids=("$!" "${pids[@]}")  # guests are stopped before the switches
  wait_for ip -n "$1" link show tap0
  ip -n "$1" addr add "$3" dev tap0
  ip -n "$1" link set tap0 up
  echo "== guest $1: tap0 $3 on $2"
}
guest "vdmdemo$$ga" "vde://$tmp/swA" 10.97.0.1/24
guest "vdmdemo$$gb" "$tmp/swB" 10.97.0.2/24
# The vdemesh:// plugin of this build, and libvdeplug's own (tap://) where Debian puts them.
stock_plugins=$(dirname "$(find /usr/lib -name libvdeplug_vde.so -path '*vdeplug/*' | head -n 1)")
export VDEPLUGIN_PATH=$(realpath "$build/vdeplug"):$stock_plugins
guest "vdmdemo$$gc" "vdemesh://$tmp/swA[vlan=20]" 10.97.0.3/24
guest "vdmdemo$$gd" "vdemesh://$tmp/swB[vlan=20]" 10.97.0.4/24

echo "== waiting for the encrypted session between the hosts"
wait_for peer_up A
wait_for peer_up B

echo "== ping guest A -> guest B (through the overlay)"
ip netns exec "vdmdemo$$ga" ping -c 3 -W 1 -i 0.2 10.97.0.2
echo "== ping guest B -> guest A"
ip netns exec "vdmdemo$$gb" ping -c 3 -W 1 -i 0.2 10.97.0.1
echo "== ping guest C -> guest D (VLAN 20, across the overlay)"
ip netns exec "vdmdemo$$gc" ping -c 3 -W 1 -i 0.2 10.97.0.4
echo "== ping guest A -> guest D must fail: VLAN 1 does not reach VLAN 20"
if ip netns exec "vdmdemo$$ga" ping -c 2 -W 1 -i 0.2 10.97.0.4; then
  echo "demo.sh: VLAN 1 reached VLAN 20" >&2
  exit 1
fi

for h in A B; do
  echo "== host $h: vswitchctl peers"
  ctl "$h" peers
  echo "== host $h: vswitchctl ports"
  ctl "$h" ports
  echo "== host $h: vswitchctl fdb"
  ctl "$h" fdb
done
echo "== done; cleaning up"
