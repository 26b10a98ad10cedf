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
	"sync"

	"golang.org/x/crypto/acme/autocert"
)

// The certificate cache: what is kept across restarts (the account key, the
// certificates, the order guard's record), in a folder or in memory.

// accountKeyName is where the ACME account key is kept (autocert's
// key, so that a cache it filled keeps its account).
const accountKeyName = "acme_account+key"

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
