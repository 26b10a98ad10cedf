// Package acmepeer runs Pebble, the Let's Encrypt test ACME server, for
// tests that obtain real certificates.
package acmepeer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Pebble is a running Pebble.
type Pebble struct {
	Directory string // the ACME directory URL
	CAFile    string // PEM of the certificate Pebble's own API serves (trust it to talk ACME)
	HTTPPort  int    // where Pebble validates HTTP-01
	TLSPort   int    // where Pebble validates TLS-ALPN-01
	mgmt      string
	api       *x509.CertPool
	log       string
}

// Start builds Pebble from go.mod's tool and runs it, resolving names
// through dnsAddr (which must answer over TCP). It stops with the test.
func Start(t testing.TB, dnsAddr string) *Pebble {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "pebble")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/letsencrypt/pebble/v2/cmd/pebble").CombinedOutput(); err != nil {
		t.Fatalf("build pebble: %v\n%s", err, out)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := writeListenerCert(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	p := &Pebble{CAFile: certFile, HTTPPort: freePort(t), TLSPort: freePort(t), log: filepath.Join(dir, "pebble.log")}
	api, mgmt := freePort(t), freePort(t)
	p.Directory = fmt.Sprintf("https://127.0.0.1:%d/dir", api)
	p.mgmt = fmt.Sprintf("https://127.0.0.1:%d", mgmt)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(api),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmt),
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                p.HTTPPort,
		"tlsPort":                 p.TLSPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
	}}
	data, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	os.WriteFile(confFile, data, 0o644)
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", confFile, "-dnsserver", dnsAddr)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	pem, _ := os.ReadFile(certFile)
	p.api = x509.NewCertPool()
	p.api.AppendCertsFromPEM(pem)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.get(p.Directory); err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start; log:\n%s", p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Log returns what Pebble printed.
func (p *Pebble) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Roots returns the root Pebble signs certificates with; it changes at
// every start.
func (p *Pebble) Roots(t testing.TB) *x509.CertPool {
	t.Helper()
	body, err := p.get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(body) {
		t.Fatalf("pebble root is not PEM: %q", body)
	}
	return pool
}

func (p *Pebble) get(url string) ([]byte, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &ctls.Config{RootCAs: p.api}}}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// writeListenerCert makes the certificate Pebble's API listens with.
func writeListenerCert(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test listener"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
