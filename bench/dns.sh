#!/usr/bin/env bash
# bench/dns.sh: islet against NSD on the same zone, side by side.
#
# 1. Speed: dnsperf sends a mixed query file (hits, CNAME, NXDOMAIN,
#    NODATA, referral, wildcard) to islet and to NSD in alternation,
#    ROUNDS times; each server is pinned to CPU 0 and dnsperf to CPU 1.
#    Prints each run, the median QPS of each, the ratio islet/NSD, the
#    server CPU time per query and the capacity it implies (on 2 cores
#    dnsperf is often the ceiling, so that ratio is the one to read).
# 2. Memory and load time: both load a zone of BIG records, unpinned (islet
#    parses and compiles on every core); prints the time from start to
#    the first answer and the memory (PSS of the whole process tree) once
#    serving and after every name has been asked, with the islet/NSD
#    ratios, over BIGROUNDS alternating runs (medians).
#
# 3. Transfers: in the same runs, two AXFRs of the big zone from each
#    and a third signed with TSIG (dig +tcp, time to the last record;
#    islet packs a zone's transfer in the background after loading it),
#    with the ratios islet/NSD; then from islet an IXFR of a one-record
#    change after a reload.
#
# With METRICS=1 (the default) a third server joins the speed part: islet
# with --metrics on, scraped once a second, to show what counting every
# query costs (the ratio islet+metrics/islet).
#
# Environment: ROUNDS (3), DURATION seconds per run (10), HOSTS in the
# speed zone (400, about 1.7k records), BIG records (100000), BIGROUNDS
# (1), ONLY=big to skip the speed part (BIG=1000000 ONLY=big BIGROUNDS=3
# is the million-record measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
HOSTS=${HOSTS:-400}
BIG=${BIG:-100000}
BIGROUNDS=${BIGROUNDS:-1}
ONLY=${ONLY:-}
METRICS=${METRICS:-1}
export PATH="$PATH:/usr/sbin:/sbin"
for c in nsd dnsperf dig taskset; do
  command -v $c >/dev/null || { echo "bench/dns.sh needs $c (apt-get install nsd dnsperf bind9-dnsutils util-linux)"; exit 1; }
done

. bench/zonelib.sh
bench_start

if [ "$ONLY" != big ]; then
echo "== speed: $HOSTS hosts, $ROUNDS rounds of ${DURATION}s, server on CPU 0, dnsperf on CPU 1"
gen_zone "$work/speed" "$HOSTS"
gen_queries "$work/queries" "$HOSTS"
echo "zone: $(grep -vc '^\$' "$work/speed/bench.example.zone") records; queries: mixed (hits, CNAME, NXDOMAIN, NODATA, referral, wildcard)"
pi=$(port); pn=$(port)
ipid=$(start_islet "$work/speed" "$pi"); pids+=("$ipid")
npid=$(start_nsd "$work/speed" "$pn"); pids+=("$npid")
wait_answer "$pi" bench.example >/dev/null
wait_answer "$pn" bench.example >/dev/null
if [ "$METRICS" = 1 ]; then
  pm=$(port); mport=$(port)
  mpid=$(ISLET_FLAGS="${ISLET_FLAGS:-} --metrics 127.0.0.1:$mport" start_islet "$work/speed" "$pm"); pids+=("$mpid")
  wait_answer "$pm" bench.example >/dev/null
  # a scraper, as Prometheus would be (every second, not every 15 s, to be hard on it)
  (while sleep 1; do curl -s "http://127.0.0.1:$mport/metrics" >/dev/null || true; done) & pids+=("$!")
fi
hz=$(getconf CLK_TCK)
: > "$work/qps.islet"; : > "$work/qps.nsd"; : > "$work/us.islet"; : > "$work/us.nsd"; : > "$work/qps.metrics"; : > "$work/us.metrics"
run() { # NAME PORT PID
  local t0 t1 out qps
  t0=$(tree_ticks "$3")
  out=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$2" -d "$work/queries" -l "$DURATION" -c 8 -q 200 2>&1)
  t1=$(tree_ticks "$3")
  qps=$(echo "$out" | awk '/Queries per second/ {printf "%.0f", $4}')
  local sent=$(echo "$out" | awk '/Queries completed/ {print $3}')
  local lost=$(echo "$out" | awk '/Queries lost/ {print $3}')
  local us=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$sent" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  echo "$qps" >> "$work/qps.$1"; echo "$us" >> "$work/us.$1"
  printf '  %-6s %8s qps  %6s us CPU/query  lost %s\n' "$1" "$qps" "$us" "$lost"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  if (( r % 2 )); then run islet "$pi" "$ipid"; run nsd "$pn" "$npid"; else run nsd "$pn" "$npid"; run islet "$pi" "$ipid"; fi
  if [ "$METRICS" = 1 ]; then run metrics "$pm" "$mpid"; fi
done
mi=$(median < "$work/qps.islet"); mn=$(median < "$work/qps.nsd")
ui=$(sort -n "$work/us.islet" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
un=$(sort -n "$work/us.nsd" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median: islet $mi qps, nsd $mn qps; islet/nsd = $(awk -v a="$mi" -v b="$mn" 'BEGIN {printf "%.2f", a/b}')"
echo "server CPU per query (median): islet $ui us, nsd $un us"
# When dnsperf, not the server, is the ceiling, QPS compares load
# generators; a full core's worth of queries compares the servers.
echo "capacity (1 s / CPU per query): islet $(awk -v u="$ui" 'BEGIN {printf "%.0f", 1e6/u}') qps, nsd $(awk -v u="$un" 'BEGIN {printf "%.0f", 1e6/u}') qps; islet/nsd = $(awk -v a="$ui" -v b="$un" 'BEGIN {printf "%.2f", b/a}')"
if [ "$METRICS" = 1 ]; then
  mm=$(median < "$work/qps.metrics"); um=$(sort -n "$work/us.metrics" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "with --metrics (scraped every second): median $mm qps, CPU per query $um us; islet+metrics/islet = $(awk -v a="$mm" -v b="$mi" 'BEGIN {printf "%.3f", a/b}') qps, $(awk -v a="$um" -v b="$ui" 'BEGIN {printf "%.3f", a/b}') CPU per query"
  kill "$mpid"
fi
kill "$ipid" "$npid"; wait "$ipid" "$npid" 2>/dev/null || true

fi

echo "== memory and load time: $BIG records, $BIGROUNDS rounds, unpinned"
gen_zone "$work/big" $((BIG * 10 / 42))
echo "zone: $(grep -vc '^\$' "$work/big/bench.example.zone") records"
awk -v n=$((BIG * 10 / 42)) 'BEGIN {for (i = 0; i < n; i++) printf "h%d.bench.example A\nh%d.bench.example TXT\n", i, i}' > "$work/allq"
for name in islet nsd; do : > "$work/load.$name"; : > "$work/pss0.$name"; : > "$work/pss1.$name"; : > "$work/axfr.$name"; : > "$work/again.$name"; : > "$work/tsig.$name"; done
: > "$work/ixfr.islet"; : > "$work/soa.islet"
# xfr_ms PORT TYPE [DIG-FLAGS]: milliseconds to transfer bench.example by
# TYPE (AXFR, or IXFR=SERIAL), after checking it came whole.
xfr_ms() {
  local start end out
  start=$EPOCHREALTIME
  out=$(dig +tcp +noall +stats +time=60 ${3:-} -p "$1" @127.0.0.1 bench.example "$2")
  end=$EPOCHREALTIME
  grep -q 'XFR size' <<<"$out" || { echo "no $2 from port $1: $out" >&2; return 1; }
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%d", (b - a) * 1000}'
}
big_run() { # NAME
  local p pid ms pss0 pss1 axfr ixfr serial tsig
  p=$(port)
  local since=$EPOCHREALTIME
  if [ "$1" = islet ]; then pid=$(start_islet "$work/big" "$p" unpinned); else pid=$(start_nsd "$work/big" "$p" unpinned); fi
  pids+=("$pid")
  ms=$(wait_answer "$p" bench.example "$since")
  sleep 2
  pss0=$(tree_pss "$pid")
  dnsperf -s 127.0.0.1 -p "$p" -d "$work/allq" -n 1 -c 8 -q 200 >/dev/null 2>&1
  sleep 1
  pss1=$(tree_pss "$pid")
  axfr=$(xfr_ms "$p" AXFR)
  again=$(xfr_ms "$p" AXFR)
  tsig=$(xfr_ms "$p" AXFR "-y $XFR_KEY")
  echo "$tsig" >> "$work/tsig.$1"
  echo "$ms" >> "$work/load.$1"; echo "$pss0" >> "$work/pss0.$1"; echo "$pss1" >> "$work/pss1.$1"
  echo "$axfr" >> "$work/axfr.$1"; echo "$again" >> "$work/again.$1"
  printf '  %-6s load %6d ms   PSS serving %7d KiB   after every name asked %7d KiB   AXFR %6d ms, again %6d ms, TSIG-signed %6d ms\n' "$1" "$ms" "$pss0" "$pss1" "$axfr" "$again" "$tsig"
  if [ "$1" = islet ]; then
    # one record changed and the serial bumped, then a reload
    cp "$work/big/bench.example.zone" "$work/big.orig"
    serial=$(dig +short -p "$p" @127.0.0.1 bench.example SOA | awk '{print $3}')
    sed -i "s/^@ SOA ns1 hostmaster $serial /@ SOA ns1 hostmaster $((serial + 1)) /; s/^h0 A .*/h0 A 192.0.2.254/" "$work/big/bench.example.zone"
    kill -HUP "$pid"
    until [ "$(dig +short -p "$p" @127.0.0.1 bench.example SOA | awk '{print $3}')" = $((serial + 1)) ]; do sleep 0.1; done
    sleep 3 # the old zone's memory handed back
    ixfr=$(for i in 1 2 3; do xfr_ms "$p" "IXFR=$serial"; echo; done | median)
    local t0 t1 soa
    soa=$(for i in 1 2 3; do t0=$EPOCHREALTIME; dig +tcp +noall -p "$p" @127.0.0.1 bench.example SOA >/dev/null; t1=$EPOCHREALTIME
      awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d\n", (b - a) * 1000}'; done | median)
    echo "$ixfr" >> "$work/ixfr.islet"; echo "$soa" >> "$work/soa.islet"
    printf '  %-6s IXFR of one changed record after a reload: %d ms (dig asking a SOA over TCP: %d ms)\n' "$1" "$ixfr" "$soa"
    mv "$work/big.orig" "$work/big/bench.example.zone"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for r in $(seq 1 "$BIGROUNDS"); do
  echo "round $r"
  if (( r % 2 )); then big_run islet; big_run nsd; else big_run nsd; big_run islet; fi
done
ratio() { awk -v a="$(median < "$work/$1.islet")" -v b="$(median < "$work/$1.nsd")" 'BEGIN {printf "%s / %s = %.2f", a, b, a/b}'; }
echo "median islet/nsd: load to first answer $(ratio load) ms; PSS serving $(ratio pss0) KiB; PSS after every name $(ratio pss1) KiB"
echo "median islet/nsd: first AXFR $(ratio axfr) ms, the next $(ratio again) ms, TSIG-signed $(ratio tsig) ms; islet's IXFR of one change: $(median < "$work/ixfr.islet") ms, dig's SOA over TCP $(median < "$work/soa.islet") ms"
