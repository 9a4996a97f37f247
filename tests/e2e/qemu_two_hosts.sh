#!/usr/bin/env bash
# qemu_two_hosts.sh: end-to-end test. Two QEMU guests (Debian's kernel and a busybox initramfs
# built here) on two simulated hosts ping each other through vdemesh's encrypted overlay.
#
#   netns vdme2e<pid>a                                  netns vdme2e<pid>b
#   ul0 10.95.0.1/24  <--------- veth, UDP 6655 ---------->  ul0 10.95.0.2/24   (MTU 1500)
#   vswitchd -s $tmp/swA --control $tmp/ctlA.sock         vswitchd -s $tmp/swB ... --peer 10.95.0.1
#     --network-key $tmp/network.key --host-key $tmp/hostA.key   (same network key, own host key)
#        | VDE: a plain path, port 1 preset          | VDE: the vdemesh:// plugin chooses VLAN 42
#        | to VLAN 42 (vswitchctl port set)          |
#   qemu -netdev vde,sock=$tmp/swA           qemu -netdev vde,sock=vdemesh://$tmp/swB[vlan=42]
#     virtio-net-pci mac 52:54:00:00:00:01                  virtio-net-pci mac 52:54:00:00:00:02
#     guest eth0 10.96.0.1/24                               guest eth0 10.96.0.2/24
#
# Each guest's /init loads the virtio NIC modules, configures eth0 from the kernel command line
# (vdm_ip=, vdm_peer=), pings the other guest (retrying while it boots), then pings it with
# full-size frames (1514 bytes on the wire, over an underlay of MTU 1500), and prints markers on
# its serial console:
#   VDM-PING-OK | VDM-PING-FAIL         small pings (busybox ping -c 3 -W 2, retried ~90 s)
#   VDM-BIGPING-OK | VDM-BIGPING-FAIL   ping -s 1472 (only after VDM-PING-OK)
# and then keeps answering pings until this script stops it (or powers off by itself after
# vdm_hold seconds). Both guests must print both OK markers; `vswitchctl ports` on each host must
# show a port whose description starts with "QEMU" (libvdeplug's description for QEMU) on VLAN
# 42, and `vswitchctl peers` the other host up. Both are printed at the end. Guest A reaches its
# switch as QEMU reaches vde_switch; guest B through this build's vdemesh:// plugin
# (VDEPLUGIN_PATH), which puts it on VLAN 42: they meet only if both ways work.
#
# The guest kernel comes from the Debian package linux-image-<version>-amd64 that
# linux-image-amd64 depends on: `apt-get download` and `dpkg-deb -x`, never installed on the
# host. Kernel and modules are cached in $VDEMESH_E2E_CACHE (default build/e2e-cache) and reused.
#
# Needs: root, qemu-system-x86 (with its vde netdev), busybox-static, cpio, xz-utils, kmod, and a
# built tree (tools/build.sh; BUILD_DIR, default build). KVM is used when /dev/kvm is usable and the
# CPU shows vmx/svm; otherwise TCG (software emulation; VDEMESH_E2E_ACCEL=kvm|tcg overrides).
# Exit status: 0 pass, 1 fail, 77 skipped (not root, QEMU or a tool missing, no guest kernel).
# Every process it starts is stopped by PID and every namespace it creates is deleted on exit,
# even on failure; VDEMESH_E2E_KEEP=1 keeps the temp dir (logs) for inspection.
set -euo pipefail
cd "$(dirname "$0")/../.."

me=qemu_two_hosts
t_start=$SECONDS
say() { echo "== $me: $*"; }
skip() { echo "$me: SKIP: $*" >&2; exit 77; }
die() { echo "$me: FAIL: $*" >&2; exit 1; }

# ---- prerequisites ---------------------------------------------------------------------------
((EUID == 0)) || skip "must run as root (network namespaces, veth, apt-get download)"
command -v qemu-system-x86_64 >/dev/null ||
  skip "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
timeout 20 qemu-system-x86_64 -netdev help 2>/dev/null | grep -qx vde ||
  skip "this qemu-system-x86_64 has no vde netdev (-netdev help does not list vde)"
[[ $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null || true) == "install ok installed" ]] ||
  skip "busybox-static is not installed (the guest's userland)"
for tool in cpio gzip xz modinfo dpkg-deb apt-get apt-cache ip; do
  command -v "$tool" >/dev/null || skip "$tool not found"
done

build=${BUILD_DIR:-build}
[[ -x $build/vswitchd/vswitchd && -x $build/tools/vswitchctl ]] ||
  die "$build/vswitchd/vswitchd or $build/tools/vswitchctl missing: run tools/build.sh first"
vswitchd=$(realpath "$build/vswitchd/vswitchd")
vswitchctl=$(realpath "$build/tools/vswitchctl")
cache=${VDEMESH_E2E_CACHE:-$build/e2e-cache}
mkdir -p "$cache"
cache=$(realpath "$cache")

accel=${VDEMESH_E2E_ACCEL:-}
if [[ -z $accel ]]; then
  accel=tcg
  if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm; fi
fi

tmp=$(mktemp -d /tmp/vdemesh-e2e.XXXXXX)
pids=()        # background processes (timeout wrappers, vswitchd), stopped newest first
qemu_pidfiles=()
namespaces=()

cleanup() {
  local status=$? pid i f
  for f in "${qemu_pidfiles[@]}"; do  # QEMU itself, in case its timeout wrapper is gone
    [[ -s $f ]] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for f in "${qemu_pidfiles[@]}"; do
    [[ -s $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [[ ${VDEMESH_E2E_KEEP:-0} == 1 ]]; then
    echo "$me: logs kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Polls "$@" every 0.1 s, at most 200 times.
wait_for() {
  local i
  for ((i = 0; i < 200; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$me: timed out waiting for: $*" >&2
  return 1
}

# ---- 1. guest kernel: Debian's linux-image, downloaded and unpacked, cached -------------------
kernel_version() {  # the linux-image-<version> that linux-image-amd64 depends on
  timeout 60 apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n 1 || true
}

apt_updated=0
apt_update_once() {
  ((apt_updated == 0)) || return 1
  apt_updated=1
  say "apt-get update (package lists missing or stale)"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q >"$tmp/apt-update.log" 2>&1 || {
    tail -n 5 "$tmp/apt-update.log" >&2
    return 1
  }
}

# The modules (by name) the guest's NIC needs, in load order: virtio_pci (the PCI transport)
# and virtio_net, each after its dependencies (modinfo -F depends), depth first.
nic_roots=(virtio_pci virtio_net)

# find_module ROOT NAME: the module file of NAME under ROOT (names use _ or - interchangeably).
find_module() {
  local alt=${2//_/-}
  find "$1" \( -name "$2.ko" -o -name "$2.ko.*" -o -name "$alt.ko" -o -name "$alt.ko.*" \) \
    -print -quit
}

# unpack_module SRC DEST: copies a module, decompressing .ko.xz/.ko.gz/.ko.zst (busybox insmod
# takes plain ELF only).
unpack_module() {
  case $1 in
    *.ko) cp "$1" "$2" ;;
    *.ko.xz) xz -dc "$1" >"$2" ;;
    *.ko.gz) gzip -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *) die "unknown module format: $1" ;;
  esac
}

# prepare_kernel VERSION: fills $cache/linux-VERSION; sets have_kernel=0 if the package cannot be
# downloaded (any other error ends the test).
have_kernel=1
prepare_kernel() {
  local kver=$1 dir=$cache/linux-$1 work deb order=() seen=" "
  [[ -f $dir/.complete ]] && return 0
  rm -rf "$dir" "$cache"/.work.*
  work=$(mktemp -d "$cache/.work.XXXXXX")
  say "downloading linux-image-$kver (apt-get download; not installed on this host)"
  if ! (cd "$work" && timeout 600 apt-get download -q -o APT::Sandbox::User=root \
    "linux-image-$kver" >"$work/download.log" 2>&1); then
    apt_update_once && (cd "$work" && timeout 600 apt-get download -q \
      -o APT::Sandbox::User=root "linux-image-$kver" >"$work/download.log" 2>&1) || {
      tail -n 5 "$work/download.log" >&2
      rm -rf "$work"
      have_kernel=0
      return 0
    }
  fi
  deb=$(find "$work" -maxdepth 1 -name "linux-image-${kver}_*.deb" -print -quit)
  [[ -n $deb ]] || die "apt-get download left no linux-image-${kver}_*.deb"
  timeout 300 dpkg-deb -x "$deb" "$work/root"
  rm -f "$deb"

  local mods vmlinuz config
  mods=$work/root/lib/modules/$kver
  vmlinuz=$work/root/boot/vmlinuz-$kver
  config=$work/root/boot/config-$kver
  [[ -f $vmlinuz && -d $mods ]] || die "linux-image-$kver holds no boot/vmlinuz-$kver or modules"

  mkdir -p "$work/out/modules"
  add_module() {  # depth first: dependencies before the module
    local name=${1//-/_} file dep
    [[ $seen == *" $name "* ]] && return 0
    seen+="$name "
    # Built into the kernel: nothing to load.
    if [[ -f $mods/modules.builtin ]] && grep -qE "/${name//_/[_-]}\.ko$" "$mods/modules.builtin"; then
      return 0
    fi
    file=$(find_module "$mods/kernel" "$name")
    [[ -n $file ]] || die "module $name not found in linux-image-$kver"
    unpack_module "$file" "$work/out/modules/$name.ko"
    for dep in $(modinfo -F depends "$work/out/modules/$name.ko" | tr ',' ' '); do
      add_module "$dep"
    done
    order+=("$name")
  }
  local root
  for root in "${nic_roots[@]}"; do add_module "$root"; done
  printf '%s\n' "${order[@]}" >"$work/out/modules.order"
  cp "$vmlinuz" "$work/out/vmlinuz"
  cp "$config" "$work/out/config"
  touch "$work/out/.complete"
  mv "$work/out" "$dir"
  rm -rf "$work"
  # Older kernels in the cache are not needed any more.
  find "$cache" -mindepth 1 -maxdepth 1 -name 'linux-*' ! -name "linux-$kver" -exec rm -rf {} +
}

kver=$(kernel_version)
if [[ -z $kver ]] && apt_update_once; then kver=$(kernel_version); fi
if [[ -n $kver ]]; then
  prepare_kernel "$kver"
  ((have_kernel)) || kver=""
fi
if [[ -z $kver ]]; then  # offline: any kernel cached before will do
  cached=$(find "$cache" -mindepth 2 -maxdepth 2 -path '*/linux-*/.complete' -printf '%h\n' |
    sort -V | tail -n 1)
  [[ -n $cached ]] ||
    skip "no guest kernel: linux-image-amd64's kernel could not be downloaded and none is cached in $cache"
  kver=${cached##*/linux-}
fi
kdir=$cache/linux-$kver
say "guest kernel $kver from $kdir; NIC modules: $(tr '\n' ' ' <"$kdir/modules.order")"

# ---- 2. initramfs: busybox-static and an /init that pings the peer ----------------------------
initrd_root=$tmp/initramfs
mkdir -p "$initrd_root"/{bin,dev,proc,sys,etc,lib/modules}
cp /bin/busybox "$initrd_root/bin/busybox"
ln -s busybox "$initrd_root/bin/sh"
mknod -m 600 "$initrd_root/dev/console" c 5 1
mknod -m 666 "$initrd_root/dev/null" c 1 3
while read -r m; do
  cp "$kdir/modules/$m.ko" "$initrd_root/lib/modules/$m.ko"
done <"$kdir/modules.order"
cp "$kdir/modules.order" "$initrd_root/etc/modules.order"

cat >"$initrd_root/init" <<'EOF'
#!/bin/busybox sh
# vdemesh e2e guest: configure eth0, ping the peer, report on the console, keep answering.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

ip=""; peer=""; wait_s=90; hold_s=150
for arg in $(cat /proc/cmdline); do
  case $arg in
    vdm_ip=*) ip=${arg#vdm_ip=} ;;
    vdm_peer=*) peer=${arg#vdm_peer=} ;;
    vdm_wait=*) wait_s=${arg#vdm_wait=} ;;
    vdm_hold=*) hold_s=${arg#vdm_hold=} ;;
  esac
done
now() { read -r up _ </proc/uptime; echo "${up%.*}"; }
log() { echo "vdm-init[$(now)s]: $*"; }
finish() { log "powering off"; sync; poweroff -f; sleep 5; }

log "ip=$ip peer=$peer wait=${wait_s}s hold=${hold_s}s"
for m in $(cat /etc/modules.order); do
  insmod "/lib/modules/$m.ko" || log "insmod $m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e /sys/class/net/eth0 ] || [ -z "$ip" ] || [ -z "$peer" ]; then
  log "no eth0 or no vdm_ip/vdm_peer"; ls /sys/class/net
  echo "VDM-PING-FAIL"
  finish
fi
ip link set lo up
ip addr add "$ip" dev eth0
ip link set eth0 up
log "eth0 up: $(cat /sys/class/net/eth0/address) $ip"

result=FAIL
deadline=$(($(now) + wait_s))
while [ "$(now)" -lt "$deadline" ]; do
  if ping -c 3 -W 2 "$peer"; then result=OK; break; fi
  sleep 1
done
echo "VDM-PING-$result"
if [ $result = OK ]; then
  big=FAIL
  # 1472 bytes of ICMP payload: a 1500-byte IP packet, a 1514-byte Ethernet frame.
  for try in 1 2 3; do
    if ping -c 3 -W 3 -s 1472 "$peer"; then big=OK; break; fi
  done
  echo "VDM-BIGPING-$big"
fi
log "answering pings for at most ${hold_s}s"
end=$(($(now) + hold_s))
while [ "$(now)" -lt "$end" ]; do sleep 1; done
finish
EOF
chmod 755 "$initrd_root/init"
(cd "$initrd_root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd.gz"
say "initramfs $(du -k "$tmp/initrd.gz" | cut -f1) KiB (busybox-static, $(wc -l <"$kdir/modules.order") modules)"

# ---- 3. hosts: namespaces on a veth LAN, vswitchd in each -------------------------------------
new_ns() {
  ip netns add "$1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
}
ctl() {  # ctl HOST ARGS...: vswitchctl on host HOST's control socket
  local h=$1
  shift
  timeout 10 "$vswitchctl" --control "$tmp/ctl$h.sock" "$@"
}

ns_a=vdme2e$$a
ns_b=vdme2e$$b
new_ns "$ns_a"
new_ns "$ns_b"
ip -n "$ns_a" link add ul0 mtu 1500 type veth peer name ul0 netns "$ns_b"
ip -n "$ns_a" addr add 10.95.0.1/24 dev ul0
ip -n "$ns_b" addr add 10.95.0.2/24 dev ul0
ip -n "$ns_a" link set ul0 up
ip -n "$ns_b" link set ul0 up
(umask 077 && "$vswitchctl" netkey >"$tmp/network.key")

host() {  # host NAME NETNS [--peer ADDR]
  local name=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$vswitchd" -s "$tmp/sw$name" --control "$tmp/ctl$name.sock" \
    --network-key "$tmp/network.key" --host-key "$tmp/host$name.key" --log-level info "$@" \
    </dev/null >"$tmp/vswitchd-$name.log" 2>&1 &
  pids=("$!" "${pids[@]}")
  wait_for test -S "$tmp/sw$name/ctl" || die "vswitchd $name did not create $tmp/sw$name/ctl"
  wait_for ctl "$name" status || die "vswitchd $name does not answer on its control socket"
}
host A "$ns_a"
host B "$ns_b" --peer 10.95.0.1
# Port settings outlive their clients: the guest that plugs into port 1 of A lands on VLAN 42.
ctl A port set 1 --vlan 42 >/dev/null || die "vswitchctl port set 1 --vlan 42 failed on host A"
plugins=$(realpath "$build/vdeplug")
[[ -f $plugins/libvdeplug_vdemesh.so ]] || die "$plugins/libvdeplug_vdemesh.so missing: run tools/build.sh"
stock_plugins=$(dirname "$(find /usr/lib -name libvdeplug_vde.so -path '*vdeplug/*' | head -n 1)")
export VDEPLUGIN_PATH=$plugins:$stock_plugins
say "hosts $ns_a (10.95.0.1) and $ns_b (10.95.0.2) run vswitchd; same network key"

# ---- 4. guests ---------------------------------------------------------------------------------
guest() {  # guest NAME NETNS N IP PEER SOCK
  local name=$1 ns=$2 n=$3 sock=$6
  local accel_opts=(-accel "$accel")
  [[ $accel == kvm ]] && accel_opts+=(-cpu host)
  qemu_pidfiles+=("$tmp/qemu$name.pid")
  ip netns exec "$ns" timeout -k 10 240 qemu-system-x86_64 "${accel_opts[@]}" \
    -nodefaults -display none -no-user-config -m 256 -smp 1 -no-reboot \
    -pidfile "$tmp/qemu$name.pid" -serial "file:$tmp/guest$name.log" \
    -netdev "vde,id=n0,sock=$sock" \
    -device "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0$n" \
    -kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 vdm_ip=$4/24 vdm_peer=$5 vdm_wait=90 vdm_hold=150" \
    </dev/null >"$tmp/qemu$name.out" 2>&1 &
  pids=("$!" "${pids[@]}")
  eval "qemu_$name=$!"
}
t_guests=$SECONDS
guest A "$ns_a" 1 10.96.0.1 10.96.0.2 "$tmp/swA"
guest B "$ns_b" 2 10.96.0.2 10.96.0.1 "vdemesh://$tmp/swB[vlan=42]"
say "guests booting under QEMU ($accel): 52:54:00:00:00:01 10.96.0.1 on A, 52:54:00:00:00:02 10.96.0.2 on B"

# guest_done NAME: the guest has given its verdict, or its QEMU is gone.
guest_done() {
  local log=$tmp/guest$1.log pid_var=qemu_$1
  grep -qE 'VDM-PING-FAIL|VDM-BIGPING-(OK|FAIL)' "$log" 2>/dev/null && return 0
  ! kill -0 "${!pid_var}" 2>/dev/null
}
for ((i = 0; i < 230; i++)); do  # at most ~230 s; QEMU's own limit is 240 s
  guest_done A && guest_done B && break
  sleep 1
done
t_guests=$((SECONDS - t_guests))

# While the guests are still plugged in: what the switches see.
for h in A B; do
  ctl "$h" ports >"$tmp/ports$h.txt" 2>&1 || true
  ctl "$h" --json ports >"$tmp/ports$h.json" 2>&1 || true
  ctl "$h" peers >"$tmp/peers$h.txt" 2>&1 || true
  ctl "$h" --json peers >"$tmp/peers$h.json" 2>&1 || true
  ctl "$h" fdb >"$tmp/fdb$h.txt" 2>&1 || true
done

# Stop the guests now (they would hold on for vdm_hold seconds).
for f in "${qemu_pidfiles[@]}"; do [[ -s $f ]] && kill -TERM "$(cat "$f")" 2>/dev/null || true; done
for n in A B; do
  v=qemu_$n
  for ((i = 0; i < 100; i++)); do kill -0 "${!v}" 2>/dev/null || break; sleep 0.1; done
done

# ---- 5. verdict --------------------------------------------------------------------------------
failures=()
for h in A B; do
  log=$tmp/guest$h.log
  if ! grep -q 'VDM-PING-OK' "$log" 2>/dev/null; then
    failures+=("guest $h: no VDM-PING-OK (it did not reach the other guest)")
  elif ! grep -q 'VDM-BIGPING-OK' "$log" 2>/dev/null; then
    failures+=("guest $h: no VDM-BIGPING-OK (full-size 1514-byte frames did not cross)")
  fi
  grep -Eq '"description": ?"QEMU' "$tmp/ports$h.json" ||
    failures+=("host $h: vswitchctl ports shows no port described \"QEMU...\"")
  grep -Eq '"access_vlan": ?42' "$tmp/ports$h.json" ||
    failures+=("host $h: vswitchctl ports shows no port on VLAN 42")
  grep -Eq '"state": ?"up"' "$tmp/peers$h.json" ||
    failures+=("host $h: vswitchctl peers shows no peer up")
done

for h in A B; do
  echo "== host $h: vswitchctl ports"
  cat "$tmp/ports$h.txt"
  echo "== host $h: vswitchctl peers"
  cat "$tmp/peers$h.txt"
done
for h in A B; do
  echo "== guest $h: $(grep -ohE 'VDM-[A-Z]+-(OK|FAIL)' "$tmp/guest$h.log" 2>/dev/null | tr '\n' ' ')"
done

if ((${#failures[@]})); then
  for h in A B; do
    echo "== host $h: vswitchctl fdb"
    cat "$tmp/fdb$h.txt"
    echo "== host $h: the end of the vswitchd log"
    tail -n 20 "$tmp/vswitchd-$h.log"
    echo "== guest $h: the end of the serial console ($tmp/guest$h.log)"
    tail -n 40 "$tmp/guest$h.log" 2>/dev/null | tr -d '\r' || true
    echo "== guest $h: QEMU's output"
    cat "$tmp/qemu$h.out"
  done
  for f in "${failures[@]}"; do echo "$me: FAIL: $f" >&2; done
  echo "$me: FAIL after $((SECONDS - t_start)) s (guests ran ${t_guests} s, accel $accel)" >&2
  exit 1
fi
say "PASS in $((SECONDS - t_start)) s (guests ran ${t_guests} s, accel $accel)"
