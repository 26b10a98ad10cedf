package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// selfSignedFile keeps the self-signed fallback in the certificate
// cache, so that a restart serves the same certificate (a client that
// was told to trust it keeps working).
const selfSignedFile = "self-signed.pem"

// cachedSelfSigned returns the self-signed certificate kept in dir when
// it is for the same names and good for 30 days more; otherwise it makes
// one and keeps it there. With dir empty it only makes one.
func cachedSelfSigned(dir string, names []string, log *slog.Logger) (*ctls.Certificate, error) {
	if dir == "" {
		return selfSigned(names)
	}
	path := filepath.Join(dir, selfSignedFile)
	if pemBytes, err := os.ReadFile(path); err == nil {
		cert, err := ctls.X509KeyPair(pemBytes, pemBytes)
		if err == nil && cert.Leaf != nil && slices.Equal(cert.Leaf.DNSNames, defaultNames(names)) && time.Until(cert.Leaf.NotAfter) > 30*24*time.Hour {
			return &cert, nil
		}
		log.Info("making a new self-signed certificate", "file", path, "err", err)
	}
	cert, err := selfSigned(names)
	if err != nil {
		return nil, err
	}
	key, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("certs: self-signed key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: key})...)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: certificate cache: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return nil, fmt.Errorf("certs: certificate cache: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("certs: certificate cache: %w", err)
	}
	return cert, nil
}

func defaultNames(names []string) []string {
	if len(names) == 0 {
		return []string{"localhost"}
	}
	return names
}

// selfSigned makes a one-year ECDSA certificate for names (or
// "localhost" when there are none).
func selfSigned(names []string) (*ctls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: self-signed key: %w", err)
	}
	names = defaultNames(names)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("certs: self-signed serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"islet self-signed"}},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: self-signed certificate: %w", err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &ctls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
