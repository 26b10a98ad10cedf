#!/usr/bin/env bash
# bench/netstack.sh: islet on the kernel's sockets against islet on its
# userspace stack (AF_PACKET on a veth end), same binary, same data.
#
# A network namespace holds the clients (dnsperf, wrk, curl) on one end
# of a veth pair; islet runs on the other end, pinned to CPU 0 with
# GOMAXPROCS=1, the clients on CPU 1: once with the kernel's stack
# (--net host, the address on the veth) and once with its own
# (--net packet:, no kernel address), in alternation, ROUNDS times.
# Prints DNS QPS, HTTPS req/s for a 10 KB page and the time of one
# BULK_MB download, each as userspace/kernel.
#
# Needs root. Environment: ROUNDS (3), DURATION (10), BULK_MB (1024),
# ONLY (dns, https or bulk: measure that alone), MODES ("kernel
# userspace"; one of them alone, say under perf record), PROFILE (a folder:
# islet writes a CPU profile of each run there, MODE-rROUND.pprof, for
# go tool pprof), ISLET (an islet binary to measure instead of building
# one from this tree: two builds can then be compared, or perf can find
# the binary's symbols afterwards), STEER (server, clients or both: RPS
# on that veth end hands its received frames to its own side's core,
# CPU 0 for islet's end, CPU 1 for the clients'; by default a veth
# frame is processed on the core that sent it). The download line also
# gives the average size of the frames islet's end sent (a GSO segment
# is one frame) and how many came back. FAMILY=6 has the clients ask
# over IPv6 (fd90::2; the stack's IPv6 queries take its own path, not
# the IPv4 fast path). SERVER_ENV adds variables to islet's environment
# (GODEBUG=gctrace=1, say), and KEEP_LOG names a file each run's islet
# log is appended to.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-}
MODES=${MODES:-kernel userspace}
PROFILE=${PROFILE:-}
DURATION=${DURATION:-10}
BULK_MB=${BULK_MB:-1024}
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" = 0 ] || { echo "bench/netstack.sh needs root (network namespaces)"; exit 1; }
for c in ip dnsperf wrk curl taskset openssl; do
  command -v $c >/dev/null || { echo "bench/netstack.sh needs $c"; exit 1; }
done
case ${STEER:-} in ''|server|clients|both) ;; *) echo "STEER: want server, clients or both"; exit 1 ;; esac
case ${FAMILY:-4} in 4) A=10.90.0.2 U=10.90.0.2 ;; 6) A=fd90::2 U=[fd90::2] ;; *) echo "FAMILY: want 4 or 6"; exit 1 ;; esac
. bench/veth.sh
veth_setup bench 10.90.0.1/24
ip netns exec "$ns" ip addr add fd90::1/64 dev "$peer" nodad
case ${STEER:-} in
  '') ;;
  server) echo 1 > "/sys/class/net/$host/queues/rx-0/rps_cpus" ;;
  clients) ip netns exec "$ns" sh -c "echo 2 > /sys/class/net/$peer/queues/rx-0/rps_cpus" ;;
  both) echo 1 > "/sys/class/net/$host/queues/rx-0/rps_cpus"; ip netns exec "$ns" sh -c "echo 2 > /sys/class/net/$peer/queues/rx-0/rps_cpus" ;;
esac
mkdir -p "$work/zones" "$work/site"
{
  echo '$TTL 3600'
  echo '@ SOA ns hostmaster 1 7200 3600 1209600 300'
  echo '@ NS ns'
  echo 'ns A 10.90.0.2'
  for i in $(seq 0 399); do echo "h$i A 10.1.$((i / 256)).$((i % 256))"; echo "h$i TXT \"host $i\""; done
} > "$work/zones/bench.example"
awk 'BEGIN {srand(1); for (k = 0; k < 20000; k++) { i = int(rand() * 400); r = rand();
  if (r < .6) printf "h%d.bench.example A\n", i; else if (r < .8) printf "nx%d.bench.example A\n", i; else printf "h%d.bench.example AAAA\n", i } }' > "$work/queries"
head -c 10240 /dev/urandom | base64 -w 100 | head -c 10240 > "$work/site/index.html"
truncate -s "${BULK_MB}M" "$work/site/bulk.bin"
in_ns() { ip netns exec "$ns" taskset -c 1 "$@"; }

start() { # MODE ROUND
  # --rrl 0: dnsperf in the namespace is one client that must not be rate-limited
  local args=(serve --zones "$work/zones" --site "$work/site" --hosts bench.example --http "" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warn --udp-sockets 1 --rrl 0)
  if [ "$1" = kernel ]; then
    ip addr add 10.90.0.2/24 dev "$host"
    ip addr add fd90::2/64 dev "$host" nodad
    args+=(--dns "$U:53" --https "$U:443")
  else
    ip addr flush dev "$host"
    args+=(--net "packet:$host" --ipv4 10.90.0.2/24 --ipv6 fd90::2/64 --dns :53 --https :443)
  fi
  if [ -n "$PROFILE" ]; then mkdir -p "$PROFILE"; args+=(--cpu-profile "$PROFILE/$1-r$2.pprof"); fi
  taskset -c 0 env GOMAXPROCS=${SERVER_PROCS:-1} ${SERVER_ENV:-} "$work/islet" "${args[@]}" >"$work/islet.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    # Ready once bulk.bin has its ETag: the site hashes large files
    # after it starts, and that would share islet's core with the
    # first measurement.
    in_ns dig +short +time=1 +tries=1 @$A bench.example SOA 2>/dev/null | grep -q . && \
      in_ns curl -skfI --max-time 1 --resolve "bench.example:443:$A" https://bench.example/bulk.bin 2>/dev/null | grep -qi '^etag:' && return 0
    sleep 0.1
  done
  echo "islet ($1) did not start"; cat "$work/islet.log"; exit 1
}
stop() {
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  [ -z "${KEEP_LOG:-}" ] || cat "$work/islet.log" >> "$KEEP_LOG"
  ip addr flush dev "$host"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
# busy: the busy jiffies (1/100 s) of both cores so far. The kernel does
# part of a server's receiving on the sender's core (the clients'), so
# CPU per operation is counted on both cores, the clients' own included.
busy() { awk '$1 == "cpu0" || $1 == "cpu1" {t += $2 + $3 + $4 + $7 + $8} END {print t}' /proc/stat; }
# frames: the frames and bytes islet's veth end has sent, and the frames it got.
frames() { local d=/sys/class/net/$host/statistics; echo "$(cat $d/tx_packets) $(cat $d/tx_bytes) $(cat $d/rx_packets)"; }
# core1: the busy and the softirq jiffies of the clients' core so far.
core1() { awk '$1 == "cpu1" {print $2 + $3 + $4 + $7 + $8, $8}' /proc/stat; }
# cpu_per N MODE KIND B0: microseconds of both cores per operation since B0
cpu_per() { local b; b=$(busy); awk -v j=$((b - $4)) -v n="$1" 'BEGIN {printf "%.1f\n", (n > 0 ? j * 10000 / n : 0)}' | tee -a "$work/cpu-$3.$2"; }
measure() { # MODE
  local qps=0 rps=0 secs=1 b0 cq=- cr=- cb=- c0 s0 c1 s1 core="" f0 f1
  if want dns; then
    b0=$(busy)
    qps=$(in_ns dnsperf -s $A -d "$work/queries" -l "$DURATION" -c 8 -q 200 2>&1 | awk '/Queries per second/ {printf "%.0f", $4}')
    cq=$(cpu_per $((qps * DURATION)) "$1" qps "$b0")
  fi
  if want https; then
    b0=$(busy)
    rps=$(in_ns wrk -t1 -c32 -d"${DURATION}s" -H 'Host: bench.example' "https://$U/index.html" 2>&1 | awk '/Non-2xx/ {bad=1} /Requests\/sec/ {printf "%.0f", $2} END {if (bad) print " (errors!)"}')
    cr=$(cpu_per $((rps * DURATION)) "$1" rps "$b0")
  fi
  if want bulk; then
    f0=$(frames); b0=$(busy); read -r c0 s0 < <(core1)
    secs=$(in_ns curl -skf -o /dev/null -w '%{time_total}' --resolve "bench.example:443:$A" https://bench.example/bulk.bin)
    cb=$(cpu_per "$BULK_MB" "$1" bulk "$b0")
    read -r c1 s1 < <(core1)
    f1=$(frames)
    core="clients' core $(awk -v c=$((c1 - c0)) -v s=$((s1 - s0)) -v t="$secs" 'BEGIN {printf "%.0f%% busy, %.0f%% in softirq", c / t, s / t}')"
    core+=", $(echo "$f0 $f1" | awk '{printf "%d frames out of %.1f KB, %d in", $4 - $1, ($5 - $2) / ($4 - $1) / 1000, $6 - $3}')"
  fi
  echo "$qps" >> "$work/qps.$1"; echo "$rps" >> "$work/rps.$1"; echo "$secs" >> "$work/bulk.$1"
  printf '  %-9s DNS %8s qps (%s us)   HTTPS %7s req/s (%s us)   %d MB in %6.2f s, %.0f MB/s (%s us/MB) %s\n' \
    "$1" "$qps" "$cq" "$rps" "$cr" "$BULK_MB" "$secs" "$(awk -v m="$BULK_MB" -v s="$secs" 'BEGIN {print m/s}')" "$cb" "$core"
}

echo "== $ROUNDS rounds; islet on CPU 0 (GOMAXPROCS=1), clients in a namespace on CPU 1"
echo "   (us: CPU microseconds of both cores per query, request or MB, clients included)"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  order=$MODES; (( r % 2 )) || order=$(echo "$MODES" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')
  for mode in $order; do start "$mode" "$r"; measure "$mode"; stop; done
done
[ "$(echo $MODES | wc -w)" = 2 ] || exit 0
for m in qps rps bulk; do
  case $m in qps) want dns || continue;; rps) want https || continue;; bulk) want bulk || continue;; esac
  k=$(median < "$work/$m.kernel"); u=$(median < "$work/$m.userspace")
  ck=$(median < "$work/cpu-$m.kernel"); cu=$(median < "$work/cpu-$m.userspace")
  cpu="CPU per operation userspace/kernel = $(awk -v a="$cu" -v b="$ck" 'BEGIN {printf "%.2f", a/b}') ($cu vs $ck us)"
  case $m in
    qps) echo "DNS: kernel $k qps, userspace $u qps; userspace/kernel = $(awk -v a="$u" -v b="$k" 'BEGIN {printf "%.2f", a/b}'); $cpu";;
    rps) echo "HTTPS 10 KB: kernel $k req/s, userspace $u req/s; userspace/kernel = $(awk -v a="$u" -v b="$k" 'BEGIN {printf "%.2f", a/b}'); $cpu";;
    bulk) echo "${BULK_MB} MB download: kernel $k s, userspace $u s; throughput userspace/kernel = $(awk -v a="$u" -v b="$k" 'BEGIN {printf "%.2f", b/a}'); $cpu";;
  esac
done
