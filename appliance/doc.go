// Package appliance composes islet: it reads the appliance's compile-time
// configuration (islet.yml), opens the network (the host's sockets or
// the userspace stack of appliance/netstack), and runs the services —
// authoritative DNS (zones), HTTPS (tls/certs, tls/web) — until told to
// stop, reloading the zones on request and signing those islet.yml or
// the flags say to sign (DNSSEC, with the keys of a zones.Signer), and
// serving their metrics and health (metrics.go, metricsserve.go; islet
// status reads them back, status.go). On a development host it also
// runs islet run's writing loop (develop.go): the folder watched
// (watch.go), the site rendered again as it is edited and swapped in,
// and pages told to reload (livereload.go). PID 1's duties in the image
// are appliance/guest's.
//
// It is the only package that knows the services exist; each of them
// takes plain net.PacketConn and net.Listener values and never learns
// which network stack they came from.
package appliance
