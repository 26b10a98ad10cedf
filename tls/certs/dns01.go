package certs

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// DNSPublisher publishes the TXT records of ACME DNS-01 challenges.
// islet's own authoritative DNS server is one, which is why wildcard
// certificates need no DNS provider's API here.
type DNSPublisher interface {
	PublishTXT(name, value string) error
	UnpublishTXT(name, value string)
}

// propagationWaiter is a DNSPublisher whose records reach other servers
// (secondaries) some time after PublishTXT: the CA is told to validate
// only once WaitPublished returns.
type propagationWaiter interface {
	WaitPublished(ctx context.Context, name string) error
}

// maxPropagation bounds the wait for the secondaries; past it the
// challenge is not accepted (a failed validation would count against the
// CA's limits) and the order fails, to be tried again later.
const maxPropagation = 2 * time.Minute

// renewBefore is how long before expiry certificates are renewed, as
// autocert does.
const renewBefore = 30 * 24 * time.Hour

// accountKeyName is where autocert keeps the ACME account key; wildcard
// orders use the same account.
const accountKeyName = "acme_account+key"

func isWildcard(name string) bool { return strings.HasPrefix(name, "*.") }

// memCache is the certificate cache when no directory is given.
type memCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *memCache) Get(_ context.Context, k string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[k]; ok {
		return v, nil
	}
	return nil, autocert.ErrCacheMiss
}

func (c *memCache) Put(_ context.Context, k string, v []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
	return nil
}

func (c *memCache) Delete(_ context.Context, k string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
	return nil
}

// accountKey loads the ACME account key from the cache, or makes and
// stores one.
func accountKey(ctx context.Context, cache autocert.Cache) (crypto.Signer, error) {
	if data, err := cache.Get(ctx, accountKeyName); err == nil {
		if block, _ := pem.Decode(data); block != nil {
			if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
				return k, nil
			}
		}
		return nil, errors.New("certs: the cached ACME account key is not an EC key")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := cache.Put(ctx, accountKeyName, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("certs: store ACME account key: %w", err)
	}
	return key, nil
}

func wildcardCacheKey(name string) string { return "dns01+" + strings.TrimPrefix(name, "*.") }

// parsePEMPair reads a key and its chain from one PEM blob, as autocert
// keeps them.
func parsePEMPair(pemData []byte) (*ctls.Certificate, error) {
	cert, err := ctls.X509KeyPair(pemData, pemData)
	if err != nil {
		return nil, err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &cert, nil
}

// solveDNS01 publishes the TXT record of one authorization's dns-01
// challenge, has the CA check it, and removes it.
func (c *Manager) solveDNS01(ctx context.Context, client *acme.Client, z *acme.Authorization, chal *acme.Challenge) error {
	value, err := client.DNS01ChallengeRecord(chal.Token)
	if err != nil {
		return err
	}
	record := "_acme-challenge." + z.Identifier.Value + "."
	if err := c.cfg.DNS.PublishTXT(record, value); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	defer c.cfg.DNS.UnpublishTXT(record, value)
	if w, ok := c.cfg.DNS.(propagationWaiter); ok {
		wctx, cancel := context.WithTimeout(ctx, maxPropagation)
		err := w.WaitPublished(wctx, record)
		cancel()
		if err != nil {
			return fmt.Errorf("certs: dns-01 for %s: not accepted, the record has not reached every server: %w", z.Identifier.Value, err)
		}
	}
	if _, err := client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("certs: accept dns-01 for %s: %w", z.Identifier.Value, err)
	}
	if _, err := client.WaitAuthorization(ctx, z.URI); err != nil {
		return fmt.Errorf("certs: dns-01 for %s: %w", z.Identifier.Value, err)
	}
	return nil
}
