#!/usr/bin/env bash
# bench/slowreaders.sh: islet's memory while N clients that stopped
# reading hold downloads open, on the userspace stack (AF_PACKET on a
# veth end), for each send budget in BUDGETS.
#
# Each client opens a TLS connection, asks for a large file, reads a
# few bytes and then nothing: the server is left holding what it could
# not send. Prints islet's resident memory (VmRSS) idle and with the
# clients connected. Needs root and python3. Environment: N (100),
# BUDGETS ("default 32M"; "default" is --tcp-send-memory unset, a
# quarter of the machine's memory), HOLD (seconds the clients stay, 12),
# ISLET (a built islet to measure instead of building one), EXTRA (more
# islet serve flags, e.g. "--https-max-conns 200"; clients refused over
# the limit are counted).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
BUDGETS=${BUDGETS:-default 32M}
HOLD=${HOLD:-12}
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" = 0 ] || { echo "bench/slowreaders.sh needs root (network namespaces)"; exit 1; }
for c in ip python3 openssl; do command -v $c >/dev/null || { echo "bench/slowreaders.sh needs $c"; exit 1; }; done
. bench/veth.sh
veth_setup slow 10.92.0.1/24
mkdir -p "$work/zones" "$work/site"
printf '$TTL 60\n@ SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\nns A 10.92.0.2\n' > "$work/zones/bench.example"
echo hello > "$work/site/index.html"
truncate -s 512M "$work/site/big.bin"
cat > "$work/client.py" <<'PY'
import socket, ssl, sys, time
n, host, hold = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
conns, refused = [], 0
for _ in range(n):
    try:
        s = socket.create_connection((host, 443))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        t = ctx.wrap_socket(s, server_hostname="bench.example")
        t.sendall(b"GET /big.bin HTTP/1.1\r\nHost: bench.example\r\n\r\n")
        if not t.recv(100):
            raise ConnectionError("closed")
        conns.append(t)
    except (OSError, ssl.SSLError):
        refused += 1  # over islet's connection limit
print("ready", refused, flush=True)
time.sleep(hold)
PY

rss() { awk '/VmRSS/ {printf "%d MB", $2 / 1024}' "/proc/$pid/status"; }

echo "== $N clients that stop reading a download"
for budget in $BUDGETS; do
  args=(serve --zones "$work/zones" --site "$work/site" --hosts bench.example --http "" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
    --log-level warn --net "packet:$host" --ipv4 10.92.0.2/24 --dns :53 --https :443)
  [ "$budget" = default ] || args+=(--tcp-send-memory "$budget")
  # shellcheck disable=SC2206
  args+=(${EXTRA:-})
  "$work/islet" "${args[@]}" >"$work/islet.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    ip netns exec "$ns" python3 -c 'import socket; socket.create_connection(("10.92.0.2", 443), 0.2)' 2>/dev/null && break
    sleep 0.1
  done
  idle=$(rss)
  ip netns exec "$ns" python3 "$work/client.py" "$N" 10.92.0.2 "$HOLD" > "$work/client.out" &
  client=$!
  for _ in $(seq 1 300); do grep -q ready "$work/client.out" 2>/dev/null && break; sleep 0.1; done
  sleep 3
  held=$(rss)
  wait "$client" || true
  printf '  budget %-8s islet idle %s, with %d readers that stopped: %s (%s refused)\n' "$budget" "$idle" "$N" "$held" "$(awk '/ready/ {print $2}' "$work/client.out")"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
