package certs

import (
	"context"
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
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
	// HTTP01 says port 80 is served (HTTPHandler): names are then
	// validated by HTTP-01 first, else by TLS-ALPN-01 only.
	HTTP01 bool
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
	acme       bool // ACME is on
	cache      autocert.Cache
	httpClient *http.Client
	static     atomic.Pointer[ctls.Certificate] // the user's pair, stapled when it can be
	self       *ctls.Certificate

	mu  sync.RWMutex
	got map[string]*ctls.Certificate // ACME certificates by name ("*.x" for wildcards)

	acctMu sync.Mutex
	client *acme.Client // registered; nil until then
	guard  *orderGuard

	chMu      sync.Mutex
	tokens    map[string]string            // HTTP-01 answers by token
	alpnCerts map[string]*ctls.Certificate // TLS-ALPN-01 certificates by name
	failed    map[string]string            // the challenge type that failed last, by name

	ariMu  sync.Mutex
	ariDir *string // the directory's renewalInfo, once read
	ari    map[string]ariState

	clock clock
	// order runs one ACME order (orderCert; tests put a stand-in here).
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
	c := &Manager{cfg: cfg, log: cfg.Logger.With("component", "tls"), got: map[string]*ctls.Certificate{}, clock: realClock{},
		tokens: map[string]string{}, alpnCerts: map[string]*ctls.Certificate{}, failed: map[string]string{}, ari: map[string]ariState{}}
	c.order = c.orderCert
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
	c.acme = true
	c.cache = &memCache{m: map[string][]byte{}}
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("certs: certificate cache: %w", err)
		}
		c.cache = autocert.DirCache(cfg.CacheDir)
	}
	for _, n := range cfg.Names {
		if isWildcard(n) && cfg.DNS == nil {
			return nil, fmt.Errorf("certs: %s: wildcard certificates need DNS-01, answered by islet's own DNS: serve the zone with --zones", n)
		}
	}
	c.guard = &orderGuard{cache: c.cache}
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return c, nil
}

// GetCertificate is the ctls.Config hook.
func (c *Manager) GetCertificate(hello *ctls.ClientHelloInfo) (*ctls.Certificate, error) {
	if static := c.static.Load(); static != nil {
		return static, nil
	}
	if c.acme {
		name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
		for _, p := range hello.SupportedProtos {
			if p == acme.ALPNProto { // a TLS-ALPN-01 validation
				c.chMu.Lock()
				cert := c.alpnCerts[name]
				c.chMu.Unlock()
				if cert == nil {
					return nil, fmt.Errorf("certs: no TLS-ALPN-01 challenge pending for %q", name)
				}
				return cert, nil
			}
		}
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
	if !c.acme {
		return fallback
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.URL.Path, "/.well-known/acme-challenge/")
		if !ok {
			fallback.ServeHTTP(w, r)
			return
		}
		c.chMu.Lock()
		resp, ok := c.tokens[token]
		c.chMu.Unlock()
		if !ok {
			http.Error(w, "no such ACME challenge", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, resp)
	})
}

// Run obtains a certificate for every name, each on its own (one failing
// name delays no other), retrying every few seconds while the CA cannot
// be reached and with backoff while orders fail, within the order
// guard; and renews them when the CA's renewal information says, or 30
// days before expiry. It returns when ctx ends. Without ACME it returns
// at once.
func (c *Manager) Run(ctx context.Context) {
	if !c.acme {
		if c.static.Load() == nil {
			c.log.Warn("serving HTTPS with a self-signed certificate: no ACME directory and no --tls-cert given", "names", c.cfg.Names)
			return
		}
		c.keepStapled(ctx)
		return
	}
	var missing []string
	for _, n := range c.cfg.Names {
		if c.stillValid(ctx, strings.ToLower(n)) == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		c.log.Warn("serving HTTPS with a self-signed certificate until ACME certificates arrive", "names", missing, "directory", c.cfg.Directory)
	}
	var wg sync.WaitGroup
	for _, name := range c.cfg.Names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.keep(ctx, strings.ToLower(name), c.obtainer(strings.ToLower(name)))
		}()
	}
	wg.Wait()
}

// Backoff of the certificate loop while obtaining fails, how often it
// asks again while the CA cannot be reached (which costs no order), and
// how often it asks again once it has a certificate.
const (
	firstBackoff     = 5 * time.Second
	maxBackoff       = time.Hour
	unreachableRetry = 5 * time.Second
	maxUnreachable   = 10 * time.Second
	recheck          = 12 * time.Hour
)

// keep obtains the certificate of one name, with obtain, and keeps it
// fresh: asked again every 5 to 10 s while the CA cannot be reached,
// with backoff from 5 s to an hour while orders fail, when a rate limit
// or the order guard says, twice a day and when renewal is due; stapled
// each time. A certificate obtain returns beside an error (the old one,
// still valid, when renewing fails) is served meanwhile.
func (c *Manager) keep(ctx context.Context, name string, obtain func(context.Context) (*ctls.Certificate, error)) {
	backoff, unreachable := firstBackoff, unreachableRetry
	for {
		cert, err := obtain(ctx)
		if err != nil && cert == nil {
			cert = c.stillValid(ctx, name)
		}
		wait := recheck
		if cert != nil {
			c.install(ctx, name, cert)
			if leaf, lerr := leafOf(cert); lerr == nil {
				_, again := c.renewalTime(ctx, leaf)
				wait = min(wait, again.Sub(c.clock.Now()))
			}
		}
		var ue *unreachableError
		var we *waitError
		switch {
		case err == nil:
			backoff, unreachable = firstBackoff, unreachableRetry
		case errors.As(err, &ue):
			c.log.Error("no certificate yet; retrying", "name", name, "in", unreachable, "err", err)
			wait, unreachable = unreachable, maxUnreachable
		case errors.As(err, &we):
			d := we.until.Sub(c.clock.Now())
			c.log.Error("no certificate yet; waiting", "name", name, "in", d.Round(time.Second), "err", err)
			wait = max(d, firstBackoff)
		default:
			c.log.Error("no certificate yet; retrying", "name", name, "in", backoff, "err", err)
			wait, backoff = backoff, min(2*backoff, maxBackoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(max(wait, time.Second)):
		}
	}
}

// stillValid is the certificate of name kept in the cache while it has
// not expired: served while a renewal fails.
func (c *Manager) stillValid(ctx context.Context, name string) *ctls.Certificate {
	if c.cache == nil {
		return nil
	}
	cert, err := c.cached(ctx, name)
	if err != nil || !c.clock.Now().Before(cert.Leaf.NotAfter) {
		return nil
	}
	return cert
}

// install serves cert for name, stapled afresh when it can be.
func (c *Manager) install(ctx context.Context, name string, cert *ctls.Certificate) {
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
