package certs

import (
	"bytes"
	"context"
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspRetry is how soon a failed OCSP fetch is tried again.
const ocspRetry = 10 * time.Minute

// staple fetches a fresh OCSP response for cert's leaf from the responder
// the certificate names and returns a copy of cert carrying it, with the
// time to fetch the next one (half-way to the response's NextUpdate). A
// certificate that names no responder is returned as it is, with a zero
// time. A response that is not "good" is never stapled.
func (c *Manager) staple(ctx context.Context, cert *ctls.Certificate) (*ctls.Certificate, time.Time, error) {
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return cert, time.Time{}, err
		}
	}
	if len(leaf.OCSPServer) == 0 {
		return cert, time.Time{}, nil
	}
	if len(cert.Certificate) < 2 {
		return cert, time.Now().Add(ocspRetry), errors.New("certs: ocsp: the chain has no issuer certificate")
	}
	issuer, err := x509.ParseCertificate(cert.Certificate[1])
	if err != nil {
		return cert, time.Now().Add(ocspRetry), fmt.Errorf("certs: ocsp: issuer: %w", err)
	}
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		return cert, time.Now().Add(ocspRetry), fmt.Errorf("certs: ocsp: request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, leaf.OCSPServer[0], bytes.NewReader(req))
	if err != nil {
		return cert, time.Now().Add(ocspRetry), err
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	client := c.httpClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		return cert, time.Now().Add(ocspRetry), fmt.Errorf("certs: ocsp: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return cert, time.Now().Add(ocspRetry), fmt.Errorf("certs: ocsp: %s answered %s", leaf.OCSPServer[0], resp.Status)
	}
	parsed, err := ocsp.ParseResponseForCert(body, leaf, issuer)
	if err != nil {
		return cert, time.Now().Add(ocspRetry), fmt.Errorf("certs: ocsp: %w", err)
	}
	if parsed.Status != ocsp.Good {
		return cert, time.Now().Add(ocspRetry), fmt.Errorf("certs: ocsp: the responder says the certificate is %s", map[int]string{ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[parsed.Status])
	}
	stapled := *cert
	stapled.OCSPStaple = body
	stapled.Leaf = leaf
	next := parsed.ThisUpdate.Add(parsed.NextUpdate.Sub(parsed.ThisUpdate) / 2)
	if parsed.NextUpdate.IsZero() || next.Before(time.Now().Add(time.Minute)) {
		next = time.Now().Add(time.Hour)
	}
	return &stapled, next, nil
}

// keepStapled staples the user's certificate and refreshes the staple
// until ctx ends.
func (c *Manager) keepStapled(ctx context.Context) {
	for {
		cert, next, err := c.staple(ctx, c.static.Load())
		if err != nil {
			c.log.Error("no OCSP staple", "err", err, "retry", time.Until(next).Round(time.Second))
		} else if next.IsZero() {
			return // the certificate names no OCSP responder
		} else {
			c.static.Store(cert)
			c.log.Info("OCSP response stapled", "next", next.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}
