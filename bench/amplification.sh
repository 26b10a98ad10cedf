#!/usr/bin/env bash
# bench/amplification.sh: what a reflection attack gets out of islet and
# out of NSD. From a network namespace, internal/dnsspoof sends queries
# over a raw socket with source addresses spoofed from a victim /24, at
# each of RATES a second for DURATION seconds; the answers go back towards the
# victim and are counted on the namespace's end of the link. islet runs
# on its own stack on one veth pair (--net packet:), NSD on the host's
# kernel on another; each with response-rate limiting as shipped (islet:
# 200 responses of 512 octets a second per /24, slip 2; NSD configured
# the same: rrl-ratelimit 200, rrl-slip 2, /24) and with it off. Prints,
# per server and query, the octets the victim got for each octet the
# attacker sent (both counted on the wire, Ethernet headers included).
#
# Needs root (namespaces, raw sockets), nsd and iproute2.
# Environment: RATES ("400 5000"), DURATION (5).
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-400 5000}
DURATION=${DURATION:-5}
export PATH="$PATH:/usr/sbin:/sbin"
for c in nsd ip dig; do
  command -v $c >/dev/null || { echo "bench/amplification.sh needs $c (apt-get install nsd iproute2 bind9-dnsutils)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/amplification.sh needs root"; exit 1; }

work=$(mktemp -d)
ns=isamp$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del vha$$ 2>/dev/null || true
  ip link del vhb$$ 2>/dev/null || true
  ip route del 10.92.5.0/24 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/islet" ./cmd/islet
go build -o "$work/dnsspoof" ./internal/dnsspoof

# the zone: a small answer, and a large one (a TXT RRset of 1 KB)
mkdir -p "$work/zones"
{
  echo '$TTL 3600'
  echo '@ SOA ns1 hostmaster 1 7200 3600 1209600 300'
  echo '@ NS ns1'
  echo 'ns1 A 10.91.0.2'
  echo 'www A 192.0.2.80'
  for i in 1 2 3 4; do echo "big TXT \"$(head -c 240 /dev/zero | tr '\0' "$i")\""; done
} > "$work/zones/bench.example.zone"

ip netns add "$ns"
ip link add vha$$ type veth peer name vpa$$
ip link add vhb$$ type veth peer name vpb$$
ip link set vpa$$ netns "$ns"
ip link set vpb$$ netns "$ns"
ip netns exec "$ns" ip addr add 10.91.0.1/24 dev vpa$$
ip netns exec "$ns" ip addr add 10.92.0.1/24 dev vpb$$
ip netns exec "$ns" ip link set vpa$$ up
ip netns exec "$ns" ip link set vpb$$ up
ip netns exec "$ns" ip link set lo up
ip link set vha$$ up
ip addr add 10.92.0.2/24 dev vhb$$
ip link set vhb$$ up
ip route add 10.92.5.0/24 via 10.92.0.1 # NSD's answers to the victim go back into the namespace

nsd_conf() { # RATELIMIT
  cat > "$work/nsd.conf" <<CONF
server:
  ip-address: 10.92.0.2
  username: ""
  chroot: ""
  database: ""
  zonelistfile: "$work/zone.list"
  xfrdfile: "$work/xfrd.state"
  pidfile: "$work/nsd.pid"
  logfile: "$work/nsd.log"
  server-count: 1
  rrl-ratelimit: $1
  rrl-slip: 2
  rrl-ipv4-prefix-length: 24
  rrl-whitelist-ratelimit: $1
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: bench.example
  zonefile: "$work/zones/bench.example.zone"
CONF
}

counter() { ip netns exec "$ns" cat "/sys/class/net/$1/statistics/$2"; }

measure() { # LABEL SERVER-IP PEER-IFACE NAME TYPE RATE
  local tx0 rx0 tx1 rx1 out
  tx0=$(counter "$3" tx_bytes); rx0=$(counter "$3" rx_bytes)
  out=$(ip netns exec "$ns" "$work/dnsspoof" -addr "$2:53" -victim "$(echo "$2" | cut -d. -f1-2).5.0/24" -name "$4" -type "$5" -rate "$6" -duration "${DURATION}s")
  sleep 1
  tx1=$(counter "$3" tx_bytes); rx1=$(counter "$3" rx_bytes)
  awk -v l="$1" -v q="$4 $5" -v tx=$((tx1 - tx0)) -v rx=$((rx1 - rx0)) -v o="$out" \
    'BEGIN {printf "  %-6s %-22s attacker sent %9d octets, victim got %10d octets: %6.2f octets out per octet in  (%s)\n", l, q, tx, rx, rx / tx, o}'
}

for rrl in on off; do
  echo "== response-rate limiting $rrl: spoofed queries for ${DURATION}s from one /24"
  if [ $rrl = on ]; then flags=""; limit=200; else flags="--rrl 0"; limit=0; fi
  "$work/islet" serve --net packet:vha$$ --ipv4 10.91.0.2/24 --ipv4-gateway 10.91.0.1 --zones "$work/zones" --dns :53 \
    --log-level warn $flags > "$work/islet.log" 2>&1 & ipid=$!; pids+=("$ipid")
  until ip netns exec "$ns" dig +short +time=1 +tries=1 @10.91.0.2 bench.example SOA >/dev/null 2>&1; do sleep 0.2; done
  nsd_conf $limit
  nsd -d -c "$work/nsd.conf" >/dev/null 2>&1 & npid=$!; pids+=("$npid")
  until ip netns exec "$ns" dig +short +time=1 +tries=1 @10.92.0.2 bench.example SOA | grep -q ns1; do sleep 0.2; done
  for rate in $RATES; do
    echo " $rate queries a second"
    for q in "big.bench.example TXT" "www.bench.example A"; do
      set -- $q
      measure "islet" 10.91.0.2 vpa$$ "$1" "$2" "$rate"
      measure "nsd" 10.92.0.2 vpb$$ "$1" "$2" "$rate"
    done
  done
  kill "$ipid" "$npid"; wait "$ipid" "$npid" 2>/dev/null || true
done
