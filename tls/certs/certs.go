package certs

import (
	"context"
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// LetsEncrypt is the default ACME directory.
const LetsEncrypt = acme.LetsEncryptURL

// Config says where certificates come from.
type Config struct {
	// Names the certificates are for (the host policy: nothing else is
	// ever ordered).
	Names []string
	// CertFile and KeyFile are a pair the user brings; ACME is then off.
	CertFile, KeyFile string
	// ACME is on when Directory is set: LetsEncrypt, its staging
	// directory, or any RFC 8555 server.
	Directory string
	Email     string
	// Roots, if set, are the CAs trusted when talking to the ACME server.
	Roots *x509.CertPool
	// CacheDir keeps the account key and certificates across restarts;
	// empty keeps them in memory only.
	CacheDir string
	// DNS publishes DNS-01 records; wildcard names ("*.example.org")
	// need it.
	DNS DNSPublisher
	// Dial, if set, opens the outgoing connections to the ACME server
	// and OCSP responders (the appliance's own stack in the guest).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// OnOrder, if set, is told of every ACME order's end: "ok",
	// "failed", or "held" when the order guard kept it from being made.
	OnOrder func(result string)
	Logger  *slog.Logger
}

// Manager hands out certificates for TLS handshakes: the user's pair,
// or ACME certificates once obtained, and until then a self-signed one.
type Manager struct {
	cfg        Config
	log        *slog.Logger
	mgr        *autocert.Manager
	cache      autocert.Cache
	httpClient *http.Client
	static     atomic.Pointer[ctls.Certificate] // the user's pair, stapled when it can be
	self       *ctls.Certificate

	mu  sync.RWMutex
	got map[string]*ctls.Certificate // ACME certificates by name ("*.x" for wildcards)

	clock clock
	// order runs a DNS-01 order for a wildcard name (orderWildcard;
	// tests put a stand-in here).
	order func(ctx context.Context, name string) (*ctls.Certificate, error)
}

// clock is time as the certificate loop sees it; tests step it.
type clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// New checks cfg, loads the user's pair if given and makes the
// self-signed fallback. It contacts no one.
func New(cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Manager{cfg: cfg, log: cfg.Logger.With("component", "tls"), got: map[string]*ctls.Certificate{}, clock: realClock{}}
	c.order = c.orderWildcard
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("certs: --tls-cert and --tls-key go together")
	}
	if cfg.Roots != nil || cfg.Dial != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.Roots != nil {
			tr.TLSClientConfig = &ctls.Config{RootCAs: cfg.Roots}
		}
		if cfg.Dial != nil {
			tr.DialContext = cfg.Dial
			tr.Proxy = nil
		}
		c.httpClient = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	if cfg.CertFile != "" {
		pair, err := ctls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("certs: load certificate: %w", err)
		}
		c.static.Store(&pair)
		return c, nil
	}
	self, err := cachedSelfSigned(cfg.CacheDir, cfg.Names, c.log)
	if err != nil {
		return nil, err
	}
	c.self = self
	if cfg.Directory == "" {
		return c, nil
	}
	if len(cfg.Names) == 0 {
		return nil, errors.New("certs: ACME needs host names to order certificates for")
	}
	c.cache = &memCache{m: map[string][]byte{}}
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("certs: certificate cache: %w", err)
		}
		c.cache = autocert.DirCache(cfg.CacheDir)
	}
	var plain []string
	for _, n := range cfg.Names {
		switch {
		case !isWildcard(n):
			plain = append(plain, n)
		case cfg.DNS == nil:
			return nil, fmt.Errorf("certs: %s: wildcard certificates need DNS-01, answered by islet's own DNS: serve the zone with --zones", n)
		}
	}
	c.mgr = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      c.cache,
		HostPolicy: autocert.HostWhitelist(plain...),
		Client:     &acme.Client{DirectoryURL: cfg.Directory, UserAgent: "islet", HTTPClient: c.httpClient},
		Email:      cfg.Email,
	}
	return c, nil
}

// GetCertificate is the ctls.Config hook.
func (c *Manager) GetCertificate(hello *ctls.ClientHelloInfo) (*ctls.Certificate, error) {
	if static := c.static.Load(); static != nil {
		return static, nil
	}
	if c.mgr != nil {
		for _, p := range hello.SupportedProtos {
			if p == acme.ALPNProto { // a TLS-ALPN-01 validation
				return c.mgr.GetCertificate(hello)
			}
		}
		name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
		c.mu.RLock()
		cert := c.got[name]
		if _, parent, ok := strings.Cut(name, "."); cert == nil && ok {
			cert = c.got["*."+parent]
		}
		c.mu.RUnlock()
		if cert != nil {
			return cert, nil
		}
	}
	return c.self, nil
}

// NotAfter is when the certificate served for name expires: the
// user's, or the ACME one once obtained; zero while only the
// self-signed fallback is.
func (c *Manager) NotAfter(name string) time.Time {
	cert := c.static.Load()
	if cert == nil {
		c.mu.RLock()
		cert = c.got[strings.ToLower(name)]
		c.mu.RUnlock()
	}
	if cert == nil {
		return time.Time{}
	}
	leaf, err := leafOf(cert)
	if err != nil {
		return time.Time{}
	}
	return leaf.NotAfter
}

// HTTPHandler answers ACME HTTP-01 challenges on port 80 and passes
// everything else to fallback.
func (c *Manager) HTTPHandler(fallback http.Handler) http.Handler {
	if c.mgr == nil {
		return fallback
	}
	acmeHandler := c.mgr.HTTPHandler(fallback)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// autocert checks r.Host, port included, against the policy.
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			r = r.Clone(r.Context())
			r.Host = hostName(r.Host)
		}
		acmeHandler.ServeHTTP(w, r)
	})
}

// Run obtains a certificate for every name, retrying with backoff while
// the CA cannot be reached, and renews them (autocert renews 30 days
// before expiry; Run picks the renewed ones up twice a day). It returns
// when ctx ends. Without ACME it returns at once.
func (c *Manager) Run(ctx context.Context) {
	if c.mgr == nil {
		if c.static.Load() == nil {
			c.log.Warn("serving HTTPS with a self-signed certificate: no ACME directory and no --tls-cert given", "names", c.cfg.Names)
			return
		}
		c.keepStapled(ctx)
		return
	}
	c.log.Warn("serving HTTPS with a self-signed certificate until ACME certificates arrive", "names", c.cfg.Names, "directory", c.cfg.Directory)
	// One account for autocert and the wildcard orders: make its key
	// before either needs it.
	if key, err := accountKey(ctx, c.cache); err != nil {
		c.log.Error("no ACME account key", "err", err)
	} else {
		c.mgr.Client.Key = key
	}
	var wg sync.WaitGroup
	for _, name := range c.cfg.Names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if isWildcard(name) {
				c.keep(ctx, name, c.wildcard(name))
			} else {
				c.keep(ctx, name, c.fromAutocert(name))
			}
		}()
	}
	wg.Wait()
}

// Backoff of the certificate loop while obtaining fails, and how often
// it asks again once it has a certificate.
const (
	firstBackoff = 5 * time.Second
	maxBackoff   = time.Hour
	recheck      = 12 * time.Hour
)

// keep obtains the certificate of one name, with obtain, and keeps it
// fresh: retried with backoff from 5 s to an hour while it fails, asked
// again twice a day and when renewal is due, stapled each time.
func (c *Manager) keep(ctx context.Context, name string, obtain func(context.Context) (*ctls.Certificate, error)) {
	backoff := firstBackoff
	for {
		cert, err := obtain(ctx)
		wait := recheck
		if err != nil {
			c.log.Error("no certificate yet; serving the self-signed one and retrying", "name", name, "in", backoff, "err", err)
			wait, backoff = backoff, min(2*backoff, maxBackoff)
		} else {
			if stapled, _, err := c.staple(ctx, cert); err != nil {
				c.log.Warn("serving without an OCSP staple", "name", name, "err", err)
			} else {
				cert = stapled
			}
			c.mu.Lock()
			old := c.got[name]
			c.got[name] = cert
			c.mu.Unlock()
			if old == nil || leafExpiry(old) != leafExpiry(cert) {
				c.log.Info("certificate ready", "name", name, "expires", leafExpiry(cert))
			}
			backoff = firstBackoff
			if leaf, err := leafOf(cert); err == nil {
				wait = min(wait, leaf.NotAfter.Add(-renewBefore).Sub(c.clock.Now()))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(max(wait, time.Second)):
		}
	}
}

// fromAutocert asks autocert for the certificate of name: from its
// cache, or through TLS-ALPN-01 or HTTP-01. autocert renews it itself.
func (c *Manager) fromAutocert(name string) func(context.Context) (*ctls.Certificate, error) {
	hello := &ctls.ClientHelloInfo{ServerName: name, CipherSuites: []uint16{ctls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	return func(context.Context) (*ctls.Certificate, error) { return c.mgr.GetCertificate(hello) }
}

// leafOf returns the parsed leaf of a certificate.
func leafOf(cert *ctls.Certificate) (*x509.Certificate, error) {
	if cert.Leaf != nil {
		return cert.Leaf, nil
	}
	if len(cert.Certificate) == 0 {
		return nil, errors.New("certs: empty certificate")
	}
	return x509.ParseCertificate(cert.Certificate[0])
}

func leafExpiry(cert *ctls.Certificate) string {
	if leaf, err := leafOf(cert); err == nil {
		return leaf.NotAfter.UTC().Format(time.RFC3339)
	}
	return "unknown"
}

// hostName lowercases a Host header and drops its port and any trailing
// dot.
func hostName(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}
