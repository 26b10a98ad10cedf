# bench/veth.sh, sourced by bench/netstack.sh and bench/slowreaders.sh:
# a work folder, a network namespace holding the clients' end of a veth
# pair, all removed on exit (with islet, if $pid runs); islet built from
# this tree or taken from ISLET; a self-signed certificate for
# bench.example.
#
# veth_setup NAME CLIENT_CIDR sets work, ns, host (the end left for
# islet, no address) and peer (the clients' end, with CLIENT_CIDR).
veth_setup() {
  work=$(mktemp -d)
  ns=isl$1$$
  host=vh$$
  peer=vp$$
  pid=
  trap veth_cleanup EXIT
  if [ -n "${ISLET:-}" ]; then ln -s "$(realpath "$ISLET")" "$work/islet"; else go build -o "$work/islet" ./cmd/islet; fi
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.example \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  ip netns add "$ns"
  ip link add "$host" type veth peer name "$peer"
  ip link set "$peer" netns "$ns"
  ip netns exec "$ns" ip addr add "$2" dev "$peer"
  ip netns exec "$ns" ip link set "$peer" up
  ip netns exec "$ns" ip link set lo up
  ip link set "$host" up
}

veth_cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host" 2>/dev/null || true
  rm -rf "$work"
}
