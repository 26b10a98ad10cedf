#!/usr/bin/env bash
# bench/http.sh: islet against nginx serving the same files over HTTPS.
#
# wrk (32 connections, keep-alive, Accept-Encoding: gzip) fetches a 10 KB
# HTML page, a 20 KB CSS file and a 200 KB binary from islet and from
# nginx (TLS 1.3, sendfile, gzip_static with the same files pre-gzipped)
# in alternation, ROUNDS times per file. Each server is pinned to CPU 0
# (islet with GOMAXPROCS=1, nginx with one worker), wrk to CPU 1. Prints
# requests/s per run, the medians, the ratio islet/nginx, and each
# server's RSS under load. Same certificate (ECDSA P-256) for both.
#
# Environment: ROUNDS (3), DURATION seconds per run (10).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
export PATH="$PATH:/usr/sbin:/sbin"
for c in nginx wrk openssl taskset; do
  command -v $c >/dev/null || { echo "bench/http.sh needs $c (apt-get install nginx wrk openssl util-linux)"; exit 1; }
done
work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as www-data
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work" 2>/dev/null || true; }
trap cleanup EXIT

go build -o "$work/islet" ./cmd/islet
mkdir -p "$work/site"
python3 - "$work/site" <<'PY'
import os, random, sys
d = sys.argv[1]
random.seed(1)
words = "islet serves dns and https from one small appliance built in go".split()
def text(n, line):
    out = []
    while sum(map(len, out)) < n:
        out.append(line % " ".join(random.choice(words) for _ in range(12)))
    return "".join(out)[:n]
open(os.path.join(d, "index.html"), "w").write("<!DOCTYPE html><html><body>" + text(10 * 1024 - 40, "<p>%s</p>\n") + "</body></html>")
open(os.path.join(d, "style.css"), "w").write(text(20 * 1024, ".c-%s { margin: 0 auto; }\n".replace("%s", "%s").replace(" ", "_", 0)))
open(os.path.join(d, "big.bin"), "wb").write(os.urandom(200 * 1024))
PY
for f in index.html style.css; do gzip -k -9 "$work/site/$f"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pi=$(port); pn=$(port)

taskset -c 0 env GOMAXPROCS=1 "$work/islet" serve --site "$work/site" --https "127.0.0.1:$pi" --http "" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warn >"$work/islet.log" 2>&1 &
ipid=$!; pids+=("$ipid")

cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { text/html html; text/css css; application/octet-stream bin; }
  client_body_temp_path $work/ngx-body;
  proxy_temp_path $work/ngx-proxy;
  fastcgi_temp_path $work/ngx-fcgi;
  uwsgi_temp_path $work/ngx-uwsgi;
  scgi_temp_path $work/ngx-scgi;
  server {
    listen 127.0.0.1:$pn ssl http2;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.3;
    root $work/site;
    gzip_static on;
  }
}
CONF
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 &
npid=$!; pids+=("$npid")

for p in "$pi" "$pn"; do
  for i in $(seq 1 100); do curl -skf "https://127.0.0.1:$p/index.html" -o /dev/null && break; sleep 0.1; done
  [ "$i" -lt 100 ] || { echo "server on port $p did not start"; cat "$work"/*.log; exit 1; }
done
# Both must serve the same bytes.
for f in index.html style.css big.bin; do
  a=$(curl -sk "https://127.0.0.1:$pi/$f" | sha256sum); b=$(curl -sk "https://127.0.0.1:$pn/$f" | sha256sum)
  [ "$a" = "$b" ] || { echo "islet and nginx serve different $f"; exit 1; }
done

tree_rss() { local t=0; for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $t; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }

run() { # NAME PORT PID FILE
  local out rps
  out=$(taskset -c 1 wrk -t1 -c32 -d"${DURATION}s" -H 'Accept-Encoding: gzip' "https://127.0.0.1:$2/$4" 2>&1 &
        sleep $((DURATION / 2)); echo "RSS $(tree_rss "$3")"; wait)
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  echo "$rps" >> "$work/rps.$1.$4"
  echo "$out" | awk '/^RSS/ {print $2}' >> "$work/rss.$1"
  printf '  %-6s %-11s %8s req/s  %s\n' "$1" "$4" "$rps" "$(echo "$out" | awk '/Transfer\/sec/ {print $2 "/s"}')"
}
echo "== $ROUNDS rounds of ${DURATION}s per file, 32 connections, server on CPU 0, wrk on CPU 1"
for f in index.html style.css big.bin; do
  : > "$work/rps.islet.$f"; : > "$work/rps.nginx.$f"
  for r in $(seq 1 "$ROUNDS"); do
    if (( r % 2 )); then run islet "$pi" "$ipid" "$f"; run nginx "$pn" "$npid" "$f"; else run nginx "$pn" "$npid" "$f"; run islet "$pi" "$ipid" "$f"; fi
  done
  mi=$(median < "$work/rps.islet.$f"); mn=$(median < "$work/rps.nginx.$f")
  echo "$f: median islet $mi req/s, nginx $mn req/s; islet/nginx = $(awk -v a="$mi" -v b="$mn" 'BEGIN {printf "%.2f", a/b}')"
done
echo "RSS under load (max): islet $(sort -n "$work/rss.islet" | tail -1) KiB, nginx $(sort -n "$work/rss.nginx" | tail -1) KiB"
