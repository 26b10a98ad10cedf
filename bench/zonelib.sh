# bench/zonelib.sh, sourced by bench/dns.sh and bench/sign.sh: the
# generated zone and queries, and starting, timing and measuring islet
# and NSD. bench_start makes $work (a scratch folder, removed at exit
# with the servers in $pids) and builds islet there; ISLET_FLAGS holds
# more flags of islet serve.

# XFR_KEY signs the transfers of the TSIG rows (dig -y's form).
XFR_KEY=hmac-sha256:xfr.bench.:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==

bench_start() {
  work=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
  go build -o "$work/islet" ./cmd/islet
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sleep 0.5
  rm -rf "$work" 2>/dev/null || true
}

# gen_zone DIR HOSTS: a zone of HOSTS hosts with A, AAAA, MX, TXT, some
# CNAMEs, delegations with glue and a wildcard.
gen_zone() {
  mkdir -p "$1"
  awk -v n="$2" 'BEGIN {
    print "$ORIGIN bench.example.\n$TTL 3600"
    print "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2"
    print "@ MX 10 mail\nmail A 192.0.2.25\n*.wild A 192.0.2.99"
    for (i = 0; i < n; i++) {
      printf "h%d A 10.%d.%d.%d\nh%d AAAA 2001:db8::%x:%x\nh%d MX 10 mail\nh%d TXT \"host %d\"\n", i, int(i/65536)%256, int(i/256)%256, i%256, i, int(i/65536), i%65536, i, i, i
      if (i % 10 == 0) printf "c%d CNAME h%d\n", i, i
      if (i % 20 == 0) printf "d%d NS ns.d%d\nns.d%d A 10.200.%d.%d\n", i, i, i, int(i/256)%256, i%256
    }
  }' > "$1/bench.example.zone"
}

# gen_queries FILE HOSTS: the mixed query file.
gen_queries() {
  awk -v n="$2" 'BEGIN {
    srand(1)
    for (k = 0; k < 20000; k++) {
      i = int(rand() * n); r = rand()
      if (r < 0.40) printf "h%d.bench.example A\n", i
      else if (r < 0.50) printf "h%d.bench.example AAAA\n", i
      else if (r < 0.60) printf "c%d.bench.example A\n", int(i/10)*10
      else if (r < 0.72) printf "nx%d.bench.example A\n", i
      else if (r < 0.82) printf "h%d.bench.example SRV\n", i
      else if (r < 0.90) printf "www.d%d.bench.example A\n", int(i/20)*20
      else if (r < 0.95) printf "x%d.wild.bench.example A\n", i
      else printf "bench.example MX\n"
    }
  }' > "$1"
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_answer() { # PORT ZONE [SINCE]: until the server answers; prints milliseconds since SINCE ($EPOCHREALTIME; default now)
  # One process asking every 10 ms: a dig started for each try takes a
  # good part of a core, which a server loading on every core loses.
  python3 - "$1" "$2" "${3:-$EPOCHREALTIME}" <<'PY'
import socket, struct, sys, time
port, zone, since = int(sys.argv[1]), sys.argv[2].rstrip("."), float(sys.argv[3])
q = struct.pack(">HHHHHH", 0x1234, 0, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in zone.split(".")) + b"\0" + struct.pack(">HH", 6, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.01)
start = time.monotonic()
while time.monotonic() - start < 60:
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
        if r[:2] == q[:2] and r[3] & 0x0f == 0 and struct.unpack(">H", r[6:8])[0] > 0:
            print(int((time.time() - since) * 1000))
            sys.exit(0)
    except OSError:
        time.sleep(0.01)
print("server on port %d never answered" % port, file=sys.stderr)
sys.exit(1)
PY
}

start_islet() { # ZONEDIR PORT [unpinned]
  if [ -n "${3:-}" ]; then
    "$work/islet" serve --zones "$1" --dns "127.0.0.1:$2" --udp-sockets 1 --log-level warn --allow-transfer 127.0.0.1 --tsig-key "$XFR_KEY" --notify-ns=false ${ISLET_FLAGS:-} >"$work/islet.log" 2>&1 &
  else
    taskset -c 0 env GOMAXPROCS=1 "$work/islet" serve --zones "$1" --dns "127.0.0.1:$2" --udp-sockets 1 --log-level warn ${ISLET_FLAGS:-} >"$work/islet.log" 2>&1 &
  fi
  echo $!
}

start_nsd() { # ZONEDIR PORT [unpinned]
  local conf="$work/nsd-$2.conf"
  cat > "$conf" <<CONF
server:
  ip-address: 127.0.0.1@$2
  username: ""
  chroot: ""
  database: ""
  zonelistfile: "$work/zone.list.$2"
  xfrdfile: "$work/xfrd.state.$2"
  pidfile: "$work/nsd.pid.$2"
  logfile: "$work/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 0
remote-control:
  control-enable: no
key:
  name: "$(echo "$XFR_KEY" | cut -d: -f2)"
  algorithm: hmac-sha256
  secret: "$(echo "$XFR_KEY" | cut -d: -f3)"
zone:
  name: bench.example
  zonefile: "$1/bench.example.zone"
  provide-xfr: 127.0.0.1 NOKEY
  provide-xfr: 127.0.0.1 $(echo "$XFR_KEY" | cut -d: -f2)
CONF
  if [ -n "${3:-}" ]; then
    nsd -d -c "$conf" >/dev/null 2>&1 &
  else
    taskset -c 0 nsd -d -c "$conf" >/dev/null 2>&1 &
  fi
  echo $!
}

# utime + stime; the command name in stat may hold spaces ("nsd: server 1").
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# nsd forks main and server processes; measure the whole process tree.
tree_pids() { echo "$1"; for c in $(pgrep -P "$1" || true); do tree_pids "$c"; done; }
tree_ticks() { local t=0; for p in $(tree_pids "$1"); do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
tree_rss() { local t=0; for p in $(tree_pids "$1"); do t=$((t + $(rss_kib "$p"))); done; echo $t; }
# PSS shares the pages NSD's forked processes have in common among them.
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
tree_pss() { local t=0; for p in $(tree_pids "$1"); do t=$((t + $(pss_kib "$p"))); done; echo $t; }

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }

