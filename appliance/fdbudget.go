package appliance

import "log/slog"

const (
	// fdReserve is what is kept for everything but connections: DNS
	// sockets and listeners, zone files, the ACME client, logs.
	fdReserve = 128
	// maxOpenFiles bounds the site's large files open at once (each
	// request for one holds it while it goes out).
	maxOpenFiles = 256
)

// fileBudget is how the open-file limit is shared on the host's sockets,
// where every connection is a descriptor.
type fileBudget struct {
	https, tcp, files int // connections per HTTPS (and HTTP) listener, DNS over TCP, large files
}

// budgetFiles fits the connection limits into limit descriptors: the
// HTTPS and HTTP listeners' (https each), DNS over TCP's (tcp) and the
// site's large files, beside fdReserve. What does not fit is scaled down
// in proportion, so that no descriptor runs out: an accept that fails
// for want of one fails for every client. Lowering limits the user set
// (explicit) is a warning; lowering the defaults (one connection per
// MiB of memory) is routine, for the debug log.
func budgetFiles(limit uint64, https, tcp int, explicit bool, log *slog.Logger) fileBudget {
	b := fileBudget{https: https, tcp: tcp, files: maxOpenFiles}
	if limit == 0 {
		return b
	}
	b.files = min(maxOpenFiles, max(int(limit/8), 8))
	avail := int(limit) - fdReserve - b.files
	need := 2*https + tcp
	if need <= avail {
		return b
	}
	f := float64(max(avail, 0)) / float64(need)
	b.https = max(int(float64(https)*f), 8)
	b.tcp = max(int(float64(tcp)*f), 8)
	say := log.Debug
	if explicit {
		say = log.Warn
	}
	say("the open-file limit is too low for the connection limits: they are lowered (raise it with ulimit -n or LimitNOFILE=)",
		"nofile", limit, "https_max_conns", b.https, "tcp_max_conns", b.tcp, "large_files", b.files)
	return b
}
