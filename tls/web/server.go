package web

import (
	"context"
	ctls "crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"islet.dev/islet/internal/fair"
)

// Config is the HTTPS front-end's configuration.
type Config struct {
	Site        http.Handler // the site tree (a *Site); nil when only redirecting
	Hosts       []Host
	DefaultHost string // answers unknown names; empty: 421
	Certs       Certificates
	// HTTPSPort is put into the http→https redirects when it is not 443.
	HTTPSPort string
	// ReadHeaderTimeout bounds the TLS handshake and the request head
	// (slow clients); 10 s when zero.
	ReadHeaderTimeout time.Duration
	// MaxConns bounds the concurrent connections of each listener
	// (HTTPS, and HTTP apart); 4096 when zero. At the cap, a new
	// client's connection is taken from the client holding the most,
	// and idle connections are closed sooner the fuller it is.
	MaxConns int
	// ClientConns bounds one client's connections (0: MaxConns/8, 8 to
	// 64); a client is an IPv4 address and an IPv6 /64 unless
	// ClientIPv4Bits and ClientIPv6Bits say otherwise.
	ClientConns                    int
	ClientIPv4Bits, ClientIPv6Bits int
	// MaxStreams and ClientStreams bound the requests in flight (HTTP/2
	// streams and HTTP/1 requests) of all clients and of one; 0: no
	// global cap, and one connection's worth (100) per client.
	MaxStreams, ClientStreams int
	// StallTimeout is how long a response may wait for its client to
	// start reading it (the site's own writes each get as long, see
	// SiteOptions.StallTimeout); 0: 10 s.
	StallTimeout time.Duration
	// Observe, if set, is told of every request answered, for metrics:
	// its host, status and duration.
	Observe func(host string, code int, d time.Duration)
	Logger  *slog.Logger
}

// Certificates is what the server needs of a certificate source
// (a *certs.Manager in islet).
type Certificates interface {
	// GetCertificate is crypto/tls's hook, ACME TLS-ALPN-01 included.
	GetCertificate(*ctls.ClientHelloInfo) (*ctls.Certificate, error)
	// HTTPHandler answers ACME HTTP-01 on port 80, the rest to fallback.
	HTTPHandler(fallback http.Handler) http.Handler
}

// acmeALPN is the ALPN protocol of ACME TLS-ALPN-01 validations (RFC
// 8737 §6.2): offered so that the certificate source can answer them.
const acmeALPN = "acme-tls/1"

// Timeouts and limits of every connection.
const (
	readHeaderTimeout = 10 * time.Second // also bounds the TLS handshake
	readTimeout       = 30 * time.Second
	writeTimeout      = 5 * time.Minute // a large download over a slow link
	// stallTimeout is how long one write of a response (copyChunk of a
	// file, or a whole small one) may wait for the client to read: an
	// HTTP/2 stream whose peer keeps its window shut is reset then, and
	// gives back its buffers and open file, instead of holding them for
	// writeTimeout.
	stallTimeout   = 10 * time.Second
	idleTimeout    = 2 * time.Minute
	maxHeaderBytes = 64 << 10
	maxStreams     = 100 // HTTP/2 concurrent streams per connection
	shutdownGrace  = 5 * time.Second
)

// Server serves HTTPS and, on a plain HTTP listener, ACME HTTP-01 and
// redirects to HTTPS.
type Server struct {
	cfg    Config
	router atomic.Pointer[Router] // swapped whole (SetHosts)
	log    *slog.Logger
}

// NewServer checks cfg and builds the handlers; it does no I/O.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Certs == nil {
		return nil, errors.New("web: no certificates configured")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadHeaderTimeout == 0 {
		cfg.ReadHeaderTimeout = readHeaderTimeout
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = defaultStallTimeout
	}
	rt, err := NewRouter(cfg.Site, cfg.Hosts, cfg.DefaultHost)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "https")}
	s.router.Store(rt)
	return s, nil
}

// SetHosts makes hosts (and defaultHost) the names served from now on,
// with the site served now; a request is answered wholly by the old
// hosts or the new. Certificates are still those of the names the
// server started with: a new name gets the self-signed fallback until
// a restart.
func (s *Server) SetHosts(hosts []Host, defaultHost string) error {
	old := s.router.Load()
	rt, err := NewRouter(old.site.Load().h, hosts, defaultHost)
	if err != nil {
		return err
	}
	s.router.Store(rt)
	return nil
}

// route answers a request as the hosts configured now do.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	s.router.Load().ServeHTTP(w, r)
}

// SwapSite makes site the tree served from now on, as the zones
// server's Swap does for zones, and returns the one it replaces (close
// that once done with it: a *Site hashes large files until closed).
func (s *Server) SwapSite(site http.Handler) (http.Handler, error) {
	return s.router.Load().SwapSite(site)
}

// TLSConfig is what HTTPS listeners use: TLS 1.2 and 1.3 only, AEAD
// suites with forward secrecy, HTTP/2 and ACME TLS-ALPN-01 by ALPN.
func (s *Server) TLSConfig() *ctls.Config {
	return &ctls.Config{
		MinVersion:     ctls.VersionTLS12,
		GetCertificate: s.cfg.Certs.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1", acmeALPN},
		CipherSuites: []uint16{
			ctls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ctls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			ctls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ctls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			ctls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ctls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           observed(refuseTransferCoding(shareStreams(h, s.cfg.StallTimeout)), s.cfg.Observe),
		ConnState:         trackIdle,
		ConnContext:       withConn,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: maxStreams},
		ErrorLog:          log.New(debugWriter{s.log}, "", 0),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	return srv
}

// ServeHTTPS serves the hosts over TLS on ln until ctx ends, then shuts
// down gracefully; it closes ln.
func (s *Server) ServeHTTPS(ctx context.Context, ln net.Listener) error {
	srv := s.httpServer(http.HandlerFunc(s.route))
	srv.TLSConfig = s.TLSConfig()
	return serveUntil(ctx, srv, ctls.NewListener(s.share(ctx, ln), srv.TLSConfig))
}

// ServeHTTP serves port 80 on ln until ctx ends: ACME HTTP-01 answers,
// and a 301 to HTTPS for every other request to a known name.
func (s *Server) ServeHTTP(ctx context.Context, ln net.Listener) error {
	toHTTPS := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.router.Load().Known(r.Host) {
			http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
			return
		}
		host := normalizeHost(r.Host)
		if p := s.cfg.HTTPSPort; p != "" && p != "443" {
			host = net.JoinHostPort(host, p)
		}
		u := url.URL{Scheme: "https", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
	})
	return serveUntil(ctx, s.httpServer(s.cfg.Certs.HTTPHandler(toHTTPS)), s.share(ctx, ln))
}

// share puts ln's connections under their own fair.Limiter, whose idle
// sweep runs until ctx ends.
func (s *Server) share(ctx context.Context, ln net.Listener) net.Listener {
	max := s.cfg.MaxConns
	if max <= 0 {
		max = defaultMaxConns
	}
	streams := s.cfg.ClientStreams
	if streams <= 0 {
		streams = maxStreams
	}
	l := fair.New(fair.Config{Max: max, PerClient: s.cfg.ClientConns, IPv4Bits: s.cfg.ClientIPv4Bits, IPv6Bits: s.cfg.ClientIPv6Bits,
		Idle: idleTimeout, MaxStreams: s.cfg.MaxStreams, PerClientStreams: streams})
	go l.SweepIdle(ctx)
	return &fairListener{Listener: ln, l: l, log: s.log}
}

func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", err)
	}
	return nil
}

// refuseTransferCoding answers an HTTP/1 request with a
// Transfer-Encoding with 400 and closes the connection. Nothing here
// takes a request body, and a request carrying Transfer-Encoding and
// Content-Length both is the stuff of request smuggling (RFC 9112
// §6.1): net/http drops the Content-Length before a handler sees it, so
// the Transfer-Encoding alone is what can be told.
func refuseTransferCoding(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close")
			http.Error(w, "bad request: a request body with Transfer-Encoding", http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// debugWriter sends net/http's own messages (TLS handshake failures and
// the like, one per bad client) to the debug log.
type debugWriter struct{ log *slog.Logger }

func (d debugWriter) Write(p []byte) (int, error) {
	d.log.Debug(string(p))
	return len(p), nil
}
