#!/usr/bin/env bash
# bench/sign.sh: DNSSEC signing, islet against ldns-signzone and
# dnssec-signzone, and serving what islet signed against NSD.
#
# 1. Time to sign: the same zone of BIG records (the generated zone of
#    bench/dns.sh) signed with one ECDSA P-256 key by "islet dnssec
#    sign", ldns-signzone and dnssec-signzone -z, each reading the zone
#    file and writing the signed one, in alternation, ROUNDS times, for
#    NSEC and for NSEC3 (no salt, no iterations). Prints each run, the
#    medians and the ratios (below 1: islet is faster).
# 2. DO=1 queries: islet signing the zone itself at load (--dnssec-keys)
#    against NSD serving the same zone presigned (islet's dump), each on
#    CPU 0, dnsperf -D on CPU 1, in alternation; median QPS and the
#    server CPU per query, with ratios.
# 3. Memory: PSS of islet serving the zone signed and unsigned, and of
#    NSD serving the signed zone, after every name was asked.
#
# Environment: BIG records (100000), ROUNDS (3), DURATION seconds per
# dnsperf run (10), HOSTS in the speed zone (400), SKIPSIGN=1 to skip
# the time to sign.
set -euo pipefail
cd "$(dirname "$0")/.."
BIG=${BIG:-100000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
HOSTS=${HOSTS:-400}
export PATH="$PATH:/usr/sbin:/sbin"
for c in nsd dnsperf dig taskset ldns-signzone ldns-keygen dnssec-signzone dnssec-keygen; do
  command -v $c >/dev/null || { echo "bench/sign.sh needs $c (apt-get install nsd dnsperf bind9-dnsutils bind9-utils ldnsutils util-linux)"; exit 1; }
done
. bench/zonelib.sh
bench_start

# timed CMD...: runs it, prints wall milliseconds and peak RSS KiB.
timed() {
  local t0 t1 kb
  t0=$EPOCHREALTIME
  /usr/bin/time -o "$work/time.out" -f '%M' "$@" >/dev/null 2>"$work/timed.err" || { echo "failed: $* $(cat "$work/timed.err")" >&2; return 1; }
  t1=$EPOCHREALTIME
  kb=$(tail -1 "$work/time.out")
  awk -v a="$t0" -v b="$t1" -v kb="$kb" 'BEGIN {printf "%d %s\n", (b - a) * 1000, kb}'
}
command -v /usr/bin/time >/dev/null || { echo "bench/sign.sh needs /usr/bin/time (apt-get install time)"; exit 1; }

gen_zone "$work/big" $((BIG * 10 / 42))
zone="$work/big/bench.example.zone"
mkdir -p "$work/ik" "$work/lk" "$work/bk"
"$work/islet" dnssec sign "$work/ik" "$work/big" > /dev/null # makes islet's key
if [ -z "${SKIPSIGN:-}" ]; then
echo "== time to sign: $BIG records, $ROUNDS rounds, one ECDSA P-256 key, $(nproc) cores"
echo "zone: $(grep -vc '^\$' "$zone") records"
(cd "$work/lk" && ldns-keygen -a ECDSAP256SHA256 -k bench.example >/dev/null)
lkey="$work/lk/$(cd "$work/lk" && ls K*.key | head -1)"; lkey=${lkey%.key}
(cd "$work/bk" && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK bench.example >/dev/null)
for d in nsec nsec3; do for n in islet ldns bind; do : > "$work/t.$d.$n"; done; done
sign() { # DENIAL NAME: prints ms and peak KiB
  case "$2-$1" in
    islet-nsec) timed sh -c "'$work/islet' dnssec sign '$work/ik' '$work/big' > '$work/out.islet'" ;;
    islet-nsec3) timed sh -c "'$work/islet' dnssec sign --denial nsec3 '$work/ik' '$work/big' > '$work/out.islet'" ;;
    ldns-nsec) timed ldns-signzone -f "$work/out.ldns" "$zone" "$lkey" ;;
    ldns-nsec3) timed ldns-signzone -n -t 0 -f "$work/out.ldns" "$zone" "$lkey" ;;
    bind-nsec) timed dnssec-signzone -q -z -S -K "$work/bk" -d "$work" -o bench.example -f "$work/out.bind" "$zone" ;;
    bind-nsec3) timed dnssec-signzone -q -z -S -K "$work/bk" -d "$work" -3 - -H 0 -o bench.example -f "$work/out.bind" "$zone" ;;
  esac
}
for d in nsec nsec3; do
  for r in $(seq 1 "$ROUNDS"); do
    order="islet ldns bind"; (( r % 2 )) || order="bind ldns islet"
    line="  $d round $r:"
    for n in $order; do
      read -r ms kb < <(sign "$d" "$n")
      echo "$ms" >> "$work/t.$d.$n"
      line="$line  $n $ms ms ($((kb / 1024)) MiB)"
    done
    echo "$line"
  done
  sigs=$(grep -c RRSIG "$work/out.islet" || true)
  ti=$(median < "$work/t.$d.islet"); tl=$(median < "$work/t.$d.ldns"); tb=$(median < "$work/t.$d.bind")
  echo "  $d median: islet $ti ms ($sigs signatures), ldns-signzone $tl ms, dnssec-signzone $tb ms; islet/ldns $(awk -v a="$ti" -v b="$tl" 'BEGIN {printf "%.2f", a/b}'), islet/bind $(awk -v a="$ti" -v b="$tb" 'BEGIN {printf "%.2f", a/b}')"
done

fi
echo "== DO=1 queries: $HOSTS hosts, $ROUNDS rounds of ${DURATION}s; islet signs at load, NSD serves islet's dump; server on CPU 0, dnsperf -D on CPU 1"
gen_zone "$work/speed" "$HOSTS"
gen_queries "$work/queries" "$HOSTS"
mkdir -p "$work/speed-signed"
"$work/islet" dnssec sign "$work/ik" "$work/speed" > "$work/speed-signed/bench.example.zone"
pi=$(port); pn=$(port)
ISLET_FLAGS="--dnssec-keys $work/ik"
ipid=$(start_islet "$work/speed" "$pi"); pids+=("$ipid")
ISLET_FLAGS=
npid=$(start_nsd "$work/speed-signed" "$pn"); pids+=("$npid")
wait_answer "$pi" bench.example >/dev/null
wait_answer "$pn" bench.example >/dev/null
dig +dnssec +noall +answer -p "$pi" @127.0.0.1 bench.example SOA | grep -q RRSIG || { echo "islet does not serve the zone signed"; exit 1; }
hz=$(getconf CLK_TCK)
: > "$work/qps.islet"; : > "$work/qps.nsd"; : > "$work/us.islet"; : > "$work/us.nsd"
run() { # NAME PORT PID
  local t0 t1 out qps sent us
  t0=$(tree_ticks "$3")
  out=$(taskset -c 1 dnsperf -D -s 127.0.0.1 -p "$2" -d "$work/queries" -l "$DURATION" -c 8 -q 200 2>&1)
  t1=$(tree_ticks "$3")
  qps=$(echo "$out" | awk '/Queries per second/ {printf "%.0f", $4}')
  sent=$(echo "$out" | awk '/Queries completed/ {print $3}')
  us=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$sent" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  echo "$qps" >> "$work/qps.$1"; echo "$us" >> "$work/us.$1"
  printf '  %-6s %8s qps  %6s us CPU/query\n' "$1" "$qps" "$us"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  if (( r % 2 )); then run islet "$pi" "$ipid"; run nsd "$pn" "$npid"; else run nsd "$pn" "$npid"; run islet "$pi" "$ipid"; fi
done
mi=$(median < "$work/qps.islet"); mn=$(median < "$work/qps.nsd")
ui=$(median < "$work/us.islet"); un=$(median < "$work/us.nsd")
echo "median DO=1: islet $mi qps, nsd $mn qps, islet/nsd = $(awk -v a="$mi" -v b="$mn" 'BEGIN {printf "%.2f", a/b}'); CPU per query islet $ui us, nsd $un us, capacity islet/nsd = $(awk -v a="$ui" -v b="$un" 'BEGIN {printf "%.2f", b/a}')"
kill "$ipid" "$npid"; wait "$ipid" "$npid" 2>/dev/null || true

echo "== memory: $BIG records, serving, after every name asked with DO=1"
mkdir -p "$work/big-signed"
"$work/islet" dnssec sign "$work/ik" "$work/big" > "$work/big-signed/bench.example.zone"
awk -v n=$((BIG * 10 / 42)) 'BEGIN {for (i = 0; i < n; i++) printf "h%d.bench.example A\nh%d.bench.example TXT\n", i, i}' > "$work/allq"
mem() { # NAME PID PORT
  wait_answer "$3" bench.example >/dev/null
  sleep 2
  dnsperf -D -s 127.0.0.1 -p "$3" -d "$work/allq" -n 1 -c 8 -q 200 >/dev/null 2>&1
  sleep 1
  local kib; kib=$(tree_pss "$2")
  printf '  %-15s PSS %7d KiB\n' "$1" "$kib"
  echo "$kib"  > "$work/mem.$1"
  kill "$2"; wait "$2" 2>/dev/null || true
}
p=$(port); ISLET_FLAGS="--dnssec-keys $work/ik"; pid=$(start_islet "$work/big" "$p" unpinned); pids+=("$pid"); mem islet-signed "$pid" "$p"
p=$(port); ISLET_FLAGS=; pid=$(start_islet "$work/big" "$p" unpinned); pids+=("$pid"); mem islet-unsigned "$pid" "$p"
p=$(port); pid=$(start_nsd "$work/big-signed" "$p" unpinned); pids+=("$pid"); mem nsd-signed "$pid" "$p"
echo "PSS: islet signed/unsigned = $(awk -v a="$(cat "$work/mem.islet-signed")" -v b="$(cat "$work/mem.islet-unsigned")" 'BEGIN {printf "%.2f", a/b}'), islet/nsd signed = $(awk -v a="$(cat "$work/mem.islet-signed")" -v b="$(cat "$work/mem.nsd-signed")" 'BEGIN {printf "%.2f", a/b}')"
