#!/usr/bin/env bash
# bench/hostile.sh: how many attacking connections islet, nginx and
# Caddy each take before a second client notices, and their memory.
#
# Each server serves the same tree (a page and a 5 MB file) over HTTPS
# on loopback with the same self-signed certificate, with its packaged
# defaults (nginx: Debian's worker_connections 768; Caddy 2.6's
# defaults; islet serve's). For each attack (internal/hostile: silent
# connects, idle HTTP/1.1 and HTTP/2 connections, downloads never read
# over HTTP/1.1 and HTTP/2 streams that never open their window) and
# each N in NS, one client at 127.0.0.2 keeps N
# attacking connections up for DURATION seconds while another at
# 127.0.0.3 asks for the page every 100 ms on a new connection; a
# request that fails or takes over a second counts against the server.
# Prints, per server and attack, each N's result and the peak resident
# memory (VmRSS summed over the server's processes), then the smallest N
# that hurt each server.
#
# Environment: NS ("50 200 800 1600"), ATTACKS ("silent idle-h1
# idle-h2 stall-h1 stall-h2"), DURATION (8), SERVERS ("islet nginx caddy").
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${NS:-50 200 800 1600}
ATTACKS=${ATTACKS:-silent idle-h1 idle-h2 stall-h1 stall-h2}
DURATION=${DURATION:-8}
SERVERS=${SERVERS:-islet nginx caddy}
export PATH="$PATH:/usr/sbin:/sbin"
for c in openssl nginx caddy; do
  command -v $c >/dev/null || { echo "bench/hostile.sh needs $c (apt-get install openssl nginx caddy)"; exit 1; }
done
ulimit -n 65536 2>/dev/null || true
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; pkill -f "$work" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && echo "work: $work"
go build -o "$work/islet" ./cmd/islet
go build -o "$work/hostile" ./internal/hostile
chmod 755 "$work" # nginx's workers read the tree as www-data
mkdir -p "$work/site" "$work/nginx" "$work/caddy"
echo '<h1>home</h1>' > "$work/site/index.html"
head -c 5000000 /dev/urandom > "$work/site/big.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=example.org \
  -addext subjectAltName=DNS:example.org -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
port=18443
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log crit;
events { worker_connections 768; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$port ssl http2;
    server_name example.org;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    root $work/site;
  }
}
NGINX
cat > "$work/caddy/Caddyfile" <<CADDY
{
  admin off
  auto_https off
  storage file_system $work/caddy
}
https://example.org:$port {
  bind 127.0.0.1
  tls $work/cert.pem $work/key.pem
  root * $work/site
  file_server
}
CADDY

start() { # SERVER: starts it in the background, sets pid
  case $1 in
  islet) "$work/islet" serve --site "$work/site" --hosts example.org --http "" --https 127.0.0.1:$port \
      --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level error >"$work/islet.log" 2>&1 & pid=$! ;;
  nginx) nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 & pid=$! ;;
  caddy) HOME=$work/caddy XDG_DATA_HOME=$work/caddy XDG_CONFIG_HOME=$work/caddy caddy run --config "$work/caddy/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 & pid=$! ;;
  esac
  for _ in $(seq 1 100); do
    curl -fsk --resolve example.org:$port:127.0.0.1 -o /dev/null "https://example.org:$port/" && return 0
    sleep 0.1
  done
  echo "$1 did not start"; exit 1
}

tree_rss() { # PID: resident memory of it and its children, in MB
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$(( total + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0) ))
  done
  echo $(( total / 1024 ))
}

declare -A hurt
for server in $SERVERS; do
  for attack in $ATTACKS; do
    hurt[$server/$attack]=none
    for n in $NS; do
      start "$server"
      peak=0
      ( while kill -0 "$pid" 2>/dev/null; do tree_rss "$pid"; sleep 0.25; done ) > "$work/rss" &
      sampler=$!
      out=$("$work/hostile" -addr 127.0.0.1:$port -attack "$attack" -n "$n" -for "${DURATION}s")
      kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
      peak=$(sort -n "$work/rss" | tail -1)
      kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
      failed=$(sed 's/.*bystander_failed=\([0-9]*\).*/\1/' <<<"$out")
      printf '%-6s %-9s n=%-5s %s peak_rss=%sMB\n' "$server" "$attack" "$n" "$(cut -d' ' -f3- <<<"$out")" "$peak"
      if [ "$failed" != 0 ] && [ "${hurt[$server/$attack]}" = none ]; then hurt[$server/$attack]=$n; fi
    done
  done
done
echo "== smallest N of attacking connections that hurt the second client (none: held at every N in: $NS)"
for attack in $ATTACKS; do
  printf '%-9s' "$attack"
  for server in $SERVERS; do printf '  %s %-5s' "$server" "${hurt[$server/$attack]}"; done
  echo
done
