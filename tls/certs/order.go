package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
)

// The challenge types a plain name is validated by.
const (
	tlsALPN01 = "tls-alpn-01"
	http01    = "http-01"
	dns01     = "dns-01"
)

// orderTimeout bounds one order, validation included.
const orderTimeout = 5 * time.Minute

// unreachableError is a failure to talk to the CA at all (connection
// refused, DNS, TLS, a 5xx): no order was made, and the CA is asked
// again soon, as it costs nothing against its limits.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string {
	return "the ACME server cannot be reached: " + e.err.Error()
}
func (e *unreachableError) Unwrap() error { return e.err }

// waitError says no order may be made before until: the order guard's
// limit, or the CA's rate limit (rateLimited, Retry-After).
type waitError struct {
	until time.Time
	why   string
}

func (e *waitError) Error() string {
	return fmt.Sprintf("no order before %s: %s", e.until.UTC().Format(time.RFC3339), e.why)
}

// notSent says a request failed before reaching the CA: no connection
// (refused, unreachable, no address for its name).
func notSent(err error) bool {
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &de) || errors.As(err, &oe) && oe.Op == "dial"
}

// reachability wraps err as unreachable when it is not the CA's answer
// (a transport error) or is a server error on the CA's side.
func reachability(err error) error {
	if err == nil {
		return nil
	}
	var ae *acme.Error
	var oe *acme.OrderError
	var we *waitError
	switch {
	case errors.As(err, &we), errors.As(err, &oe), errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &ae):
		if ae.StatusCode >= 500 {
			return &unreachableError{err}
		}
		return err
	}
	return &unreachableError{err}
}

// acmeClient returns the ACME client with its account, registering the
// account once (it is kept in the cache).
func (c *Manager) acmeClient(ctx context.Context) (*acme.Client, error) {
	c.acctMu.Lock()
	defer c.acctMu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	key, err := accountKey(ctx, c.cache)
	if err != nil {
		return nil, err
	}
	client := &acme.Client{Key: key, DirectoryURL: c.cfg.Directory, HTTPClient: c.httpClient, UserAgent: "islet",
		RetryBackoff: retryBackoff}
	acct := &acme.Account{}
	if c.cfg.Email != "" {
		acct.Contact = []string{"mailto:" + c.cfg.Email}
	}
	if _, err := client.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return nil, reachability(fmt.Errorf("ACME account: %w", err))
	}
	c.client = client
	return client, nil
}

// retryBackoff is how the ACME client retries one request: a rate limit
// is not retried (the order guard waits out its Retry-After, across
// restarts), a server error or a lost nonce twice, briefly.
func retryBackoff(n int, _ *http.Request, res *http.Response) time.Duration {
	if res != nil && res.StatusCode == http.StatusTooManyRequests || n > 2 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// orderCert runs one ACME order for name: DNS-01 through the DNS
// publisher for a wildcard, else TLS-ALPN-01 or HTTP-01 served by this
// Manager. The certificate is kept in the cache under key.
func (c *Manager) orderCert(ctx context.Context, name string) (*ctls.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	client, err := c.acmeClient(ctx)
	if err != nil {
		return nil, err
	}
	at := c.clock.Now()
	if err := c.guard.admit(ctx, name, at); err != nil {
		c.observe("held")
		return nil, err
	}
	cert, err := c.runOrder(ctx, client, name)
	if err != nil && notSent(err) {
		// the CA never saw the order: it does not count
		c.guard.unadmit(ctx, name, at)
		return nil, &unreachableError{err}
	}
	if err != nil {
		if d, ok := rateLimit(err); ok {
			until := c.clock.Now().Add(max(d, time.Hour))
			if d > 0 {
				until = c.clock.Now().Add(d)
			}
			c.guard.hold(ctx, name, until)
			err = &waitError{until, "the CA's rate limit: " + err.Error()}
		}
		c.observe("failed")
		return nil, err
	}
	c.observe("ok")
	return cert, nil
}

// rateLimit says whether err is the CA's rateLimited problem, and the
// wait its Retry-After asks (0 when none).
func rateLimit(err error) (time.Duration, bool) {
	var ae *acme.Error
	if !errors.As(err, &ae) {
		return 0, false
	}
	return acme.RateLimit(ae)
}

func (c *Manager) observe(result string) {
	if c.cfg.OnOrder != nil {
		c.cfg.OnOrder(result)
	}
}

func (c *Manager) runOrder(ctx context.Context, client *acme.Client, name string) (*ctls.Certificate, error) {
	order, err := client.AuthorizeOrder(ctx, acme.DomainIDs(name))
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", name, err)
	}
	for _, u := range order.AuthzURLs {
		if err := c.authorize(ctx, client, u, name); err != nil {
			return nil, err
		}
	}
	if order, err = client.WaitOrder(ctx, order.URI); err != nil {
		return nil, fmt.Errorf("order %s: %w", name, err)
	}
	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{name}}, certKey)
	if err != nil {
		return nil, err
	}
	ders, _, err := client.CreateCertFromOrder(ctx, order, csr, true)
	if err != nil {
		return nil, fmt.Errorf("finalize %s: %w", name, err)
	}
	kder, err := x509.MarshalECPrivateKey(certKey)
	if err != nil {
		return nil, err
	}
	pemData := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	for _, d := range ders {
		pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	if err := c.cache.Put(ctx, cacheKey(name), pemData); err != nil {
		c.log.Error("could not keep the certificate in the cache; a restart will order again", "name", name, "err", err)
	}
	return parsePEMPair(pemData)
}

// authorize answers one authorization of an order with the challenge
// this Manager can serve.
func (c *Manager) authorize(ctx context.Context, client *acme.Client, authzURL, name string) error {
	z, err := client.GetAuthorization(ctx, authzURL)
	if err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	if z.Status == acme.StatusValid {
		return nil
	}
	want := c.challengeTypes(name)
	var chal *acme.Challenge
	for _, t := range want {
		for _, ch := range z.Challenges {
			if chal == nil && ch.Type == t {
				chal = ch
			}
		}
	}
	if chal == nil {
		return fmt.Errorf("%s: the CA offers none of the challenges %s", z.Identifier.Value, strings.Join(want, ", "))
	}
	if chal.Type == dns01 {
		return c.solveDNS01(ctx, client, z, chal)
	}
	undo, err := c.serveChallenge(client, chal, z.Identifier.Value)
	if err != nil {
		return err
	}
	defer undo()
	if _, err := client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("accept %s for %s: %w", chal.Type, z.Identifier.Value, err)
	}
	if _, err := client.WaitAuthorization(ctx, z.URI); err != nil {
		c.failedType(name, chal.Type)
		return fmt.Errorf("%s for %s: %w", chal.Type, z.Identifier.Value, err)
	}
	return nil
}

// challengeTypes lists the challenges name can be validated by, the
// one to try first first: DNS-01 for a wildcard; else HTTP-01 when port
// 80 is served and TLS-ALPN-01, the one that failed last put last.
func (c *Manager) challengeTypes(name string) []string {
	if isWildcard(name) {
		return []string{dns01}
	}
	types := []string{tlsALPN01}
	if c.cfg.HTTP01 {
		types = []string{http01, tlsALPN01}
	}
	c.chMu.Lock()
	failed := c.failed[name]
	c.chMu.Unlock()
	if len(types) == 2 && failed == types[0] {
		types[0], types[1] = types[1], types[0]
	}
	return types
}

func (c *Manager) failedType(name, typ string) {
	c.chMu.Lock()
	c.failed[name] = typ
	c.chMu.Unlock()
}

// serveChallenge makes the answer to an HTTP-01 or TLS-ALPN-01
// challenge available to the CA; undo takes it away.
func (c *Manager) serveChallenge(client *acme.Client, chal *acme.Challenge, name string) (undo func(), err error) {
	c.chMu.Lock()
	defer c.chMu.Unlock()
	switch chal.Type {
	case http01:
		resp, err := client.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			return nil, err
		}
		c.tokens[chal.Token] = resp
		return func() {
			c.chMu.Lock()
			delete(c.tokens, chal.Token)
			c.chMu.Unlock()
		}, nil
	case tlsALPN01:
		cert, err := client.TLSALPN01ChallengeCert(chal.Token, name)
		if err != nil {
			return nil, err
		}
		c.alpnCerts[name] = &cert
		return func() {
			c.chMu.Lock()
			delete(c.alpnCerts, name)
			c.chMu.Unlock()
		}, nil
	}
	return nil, fmt.Errorf("challenge %s is not served here", chal.Type)
}

// cacheKey is where the certificate of name is kept: for a plain name
// the key autocert used, so that a cache it filled is read.
func cacheKey(name string) string {
	if isWildcard(name) {
		return wildcardCacheKey(name)
	}
	return name
}

// obtainer returns the obtain function of one name for keep: the
// certificate in the cache while it is not due for renewal (by ACME
// Renewal Information where the CA offers it, else 30 days before
// expiry), else a new order.
func (c *Manager) obtainer(name string) func(context.Context) (*ctls.Certificate, error) {
	return func(ctx context.Context) (*ctls.Certificate, error) {
		cert, err := c.cached(ctx, name)
		if err == nil && !c.due(ctx, cert.Leaf) {
			return cert, nil
		}
		fresh, err := c.order(ctx, name)
		if err != nil && cert != nil && c.clock.Now().Before(cert.Leaf.NotAfter) {
			// keep serving the old one while it is valid
			c.log.Warn("renewal failed; the certificate served stays until it expires", "name", name, "expires", cert.Leaf.NotAfter, "err", err)
		}
		return fresh, err
	}
}

// cached reads a certificate kept by an earlier order.
func (c *Manager) cached(ctx context.Context, name string) (*ctls.Certificate, error) {
	data, err := c.cache.Get(ctx, cacheKey(name))
	if err != nil {
		return nil, err
	}
	cert, err := parsePEMPair(data)
	if err != nil {
		return nil, fmt.Errorf("cached %s: %w", name, err)
	}
	return cert, nil
}
