#!/usr/bin/env bash
# bench/image.sh: the example appliance as an image — sizes, build time,
# boot time and the smallest memory it serves in, under qemu.
#
# Builds examples/homepage with `islet build` once with an empty Go build
# cache and output folder (cold) and once more unchanged (warm); prints
# the sizes of the kernel, the compressed initramfs and the guest binary;
# boots the image ROUNDS times under qemu-system-x86_64 (TCG; ACCEL=kvm
# where KVM works) and times, from qemu's start, the
# guest's "islet ready" console line and the first DNS answer through
# the forwarded port (polled with dig every 50 ms); then boots it with
# less and less memory (MEMS) and reports the smallest -m at which DNS
# and HTTPS both answer.
#
# Also prints, from the guest's own log times, init start ("islet guest
# starting") to "islet ready".
#
# Environment: ROUNDS (5), MEMS ("256 192 160 128 96 64 48"), ACCEL (tcg),
# MACHINE (q35, or microvm).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
MEMS=${MEMS:-"256 192 160 128 96 64 48"}
for c in qemu-system-x86_64 dig curl; do
  command -v $c >/dev/null || { echo "bench/image.sh needs $c (apt-get install qemu-system-x86 bind9-dnsutils curl)"; exit 1; }
done
work=$(mktemp -d)
qpid=""
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/islet" ./cmd/islet

now() { date +%s.%N; }
t0=$(now)
GOCACHE="$work/gocache" "$work/islet" build -o "$work/build" examples/homepage >"$work/build.log"
t1=$(now)
"$work/islet" build -o "$work/build" examples/homepage >/dev/null
t2=$(now)
echo "islet build: cold $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')s (empty Go cache), warm $(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.2f", b - a}')s (nothing changed)"
size() { stat -c %s "$1" | awk '{printf "%.1f MB", $1 / 1e6}'; }
echo "sizes: vmlinuz $(size "$work/build/vmlinuz"), initramfs.gz $(size "$work/build/initramfs.gz"), guest binary $(size "$work/build/islet.guest")"

# TCG unless ACCEL=kvm: on nested VMs /dev/kvm may open and then fail
# at the first instruction it cannot emulate.
accel="-accel ${ACCEL:-tcg}"
dnsport=25353 httpsport=28443

machine=${MACHINE:-q35}
case $machine in
  q35) dev=pci extra="" ;;
  microvm) dev=device extra="tsc_early_khz=2000000" ;;
  *) echo "MACHINE=$machine: want q35 or microvm"; exit 1 ;;
esac

# boot MEM LOG: starts the image, with its state disk, in the background
# (sets qpid)
boot() {
  qemu-system-x86_64 $accel -M "$machine" -m "$1" -nographic -no-reboot \
    -kernel "$work/build/vmlinuz" -initrd "$work/build/initramfs.gz" \
    -append "console=ttyS0 panic=-1 quiet $extra islet.acme-directory=off" \
    -netdev "user,id=net0,hostfwd=udp:127.0.0.1:$dnsport-:53,hostfwd=tcp:127.0.0.1:$dnsport-:53,hostfwd=tcp:127.0.0.1:$httpsport-:443" \
    -device virtio-net-$dev,netdev=net0 -device virtio-rng-$dev \
    -drive id=state,if=none,format=raw,file="$work/build/state.img" -device virtio-blk-$dev,drive=state </dev/null >"$2" 2>&1 &
  qpid=$!
}
# initready LOG: milliseconds from the guest's first log line to its
# ready line, by the guest's clock
initready() {
  python3 -c '
import re, sys, datetime
t = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"time=(\S+) .*msg=\"(islet guest starting|islet ready)\"", line)
    if m and m.group(2) not in t:
        t[m.group(2)] = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
print(round((t["islet ready"] - t["islet guest starting"]).total_seconds() * 1000))
' "$1"
}
stop() { kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; qpid=""; }
# an SOA record in the answer (dig prints its errors on stdout too)
answers() { dig +short +tries=1 +time=1 @127.0.0.1 -p $dnsport example.org SOA 2>/dev/null | grep -q '^[a-z0-9.-]* [a-z0-9.-]* [0-9]'; }

: >"$work/ready.txt"; : >"$work/dns.txt"; : >"$work/init.txt"
for r in $(seq "$ROUNDS"); do
  start=$(now)
  boot 256 "$work/console.log"
  ready="" first=""
  for _ in $(seq 1200); do
    [ -z "$ready" ] && grep -q "islet ready" "$work/console.log" && ready=$(now)
    [ -z "$first" ] && answers && first=$(now)
    [ -n "$ready" ] && [ -n "$first" ] && break
    sleep 0.05
  done
  stop
  [ -n "$ready" ] && [ -n "$first" ] || { echo "round $r: the guest did not come up"; cat "$work/console.log"; exit 1; }
  awk -v a="$start" -v b="$ready" 'BEGIN {printf "%.2f\n", b - a}' >>"$work/ready.txt"
  awk -v a="$start" -v b="$first" 'BEGIN {printf "%.2f\n", b - a}' >>"$work/dns.txt"
  initready "$work/console.log" >>"$work/init.txt"
  echo "round $r: ready after $(tail -1 "$work/ready.txt")s (init to ready $(tail -1 "$work/init.txt") ms), first DNS answer after $(tail -1 "$work/dns.txt")s"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "boot (${accel#-accel }, $machine, -m 256): median ready $(median <"$work/ready.txt")s, first DNS answer $(median <"$work/dns.txt")s, init to ready $(median <"$work/init.txt") ms"

smallest=""
for m in $MEMS; do
  boot "$m" "$work/console-$m.log"
  ok=""
  for _ in $(seq 1200); do
    if answers && curl -sk --max-time 3 --resolve "example.org:$httpsport:127.0.0.1" "https://example.org:$httpsport/" | grep -q "<html"; then ok=1; break; fi
    kill -0 "$qpid" 2>/dev/null || break
    sleep 0.1
  done
  stop
  if [ -n "$ok" ]; then smallest=$m; echo "-m $m: serves DNS and HTTPS"; else echo "-m $m: does not serve ($(grep -m1 -o 'Out of memory\|Kernel panic[^\r]*\|islet ready' "$work/console-$m.log" || echo 'no ready line'))"; break; fi
done
echo "smallest memory that serves: ${smallest:-none} MB"
