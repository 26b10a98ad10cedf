package web

import (
	"context"
	ctls "crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"islet.dev/islet/internal/fair"
)

// defaultMaxConns bounds concurrent connections per listener when the
// configuration leaves it to us.
const defaultMaxConns = 4096

// fairListener admits connections through a fair.Limiter: a share per
// client, and at the global cap a place taken from the client holding
// the most (see package fair). One refused is closed at once, as nginx
// does when its worker_connections are spent: the client learns now
// rather than waiting in the backlog. A warning says so, at most once a
// minute.
type fairListener struct {
	net.Listener
	l      *fair.Limiter
	log    *slog.Logger
	warned atomic.Int64 // unix seconds of the last warning
}

func (fl *fairListener) Accept() (net.Conn, error) {
	for {
		c, err := fl.Listener.Accept()
		if err != nil {
			return nil, err
		}
		fc, how := fl.l.Admit(c)
		if how != fair.Admitted {
			fl.warn()
		}
		if fc != nil {
			return fc, nil
		}
	}
}

func (fl *fairListener) warn() {
	now := time.Now().Unix()
	if last := fl.warned.Load(); now-last < 60 || !fl.warned.CompareAndSwap(last, now) {
		return
	}
	cfg, st := fl.l.Config(), fl.l.Stats()
	fl.log.Warn("connection limits reached: new connections refused, or taken from the clients holding the most",
		"limit", cfg.Max, "per_client", cfg.PerClient, "open", st.Open, "clients", st.Clients,
		"refused", st.Refused, "evicted", st.Evicted, "addr", fl.Addr())
}

// fairConn finds the admitted connection beneath what net/http holds
// (a *tls.Conn over it, for HTTPS).
func fairConn(c net.Conn) *fair.Conn {
	if tc, ok := c.(*ctls.Conn); ok {
		c = tc.NetConn()
	}
	fc, _ := c.(*fair.Conn)
	return fc
}

// trackIdle is the server's ConnState hook: a connection waiting for
// its first request or the next one is idle, and may be closed for
// others.
func trackIdle(c net.Conn, st http.ConnState) {
	fc := fairConn(c)
	if fc == nil {
		return
	}
	switch st {
	case http.StateNew, http.StateIdle:
		fc.SetIdle(true)
	case http.StateActive:
		fc.SetIdle(false)
	}
}

type connKey struct{}

// withConn is the server's ConnContext hook: requests find their
// connection's share in their context.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if fc := fairConn(c); fc != nil {
		return context.WithValue(ctx, connKey{}, fc)
	}
	return ctx
}

// shareStreams answers a request only while its client, and all
// clients, have fewer than their caps in flight; the others get 503
// without a body (which an HTTP/2 client could refuse to take in). Every
// HTTP/2 response gets stall to start going out (the site's writes
// extend it chunk by chunk), so a stream whose client keeps its window
// shut is reset then, not after the write timeout. (An HTTP/1 response
// is in the kernel's socket buffer, not ours.)
func shareStreams(h http.Handler, stall time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, ok := w.(deadliner); ok && r.ProtoMajor > 1 {
			d.SetWriteDeadline(time.Now().Add(stall))
		}
		fc, _ := r.Context().Value(connKey{}).(*fair.Conn)
		if fc != nil {
			if !fc.AcquireStream() {
				w.Header()["Retry-After"] = hRetryAfter
				w.Header()["Content-Length"] = hZero
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			defer fc.ReleaseStream()
		}
		h.ServeHTTP(w, r)
	})
}

var (
	hRetryAfter = one("1")
	hZero       = one("0")
)
