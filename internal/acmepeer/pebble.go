// Package acmepeer runs Pebble, the Let's Encrypt test ACME server, for
// tests that obtain real certificates.
package acmepeer

import (
	"bytes"
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
	APIAddr   string // host:port of the ACME API
	KeyFile   string // the key of CAFile's certificate
	mgmt      string
	api       *x509.CertPool
	log       string
	bin, conf string
	dnsAddr   string
}

// Start builds Pebble from go.mod's tool and runs it, resolving names
// through dnsAddr (which must answer over TCP). It stops with the test.
func Start(t testing.TB, dnsAddr string) *Pebble {
	t.Helper()
	p := New(t, dnsAddr)
	p.Run(t)
	return p
}

// New builds Pebble and chooses its ports, without starting it: its
// Directory is known before it answers.
func New(t testing.TB, dnsAddr string) *Pebble {
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
	p := &Pebble{CAFile: certFile, KeyFile: keyFile, HTTPPort: freePort(t), TLSPort: freePort(t), log: filepath.Join(dir, "pebble.log"),
		bin: bin, dnsAddr: dnsAddr}
	api, mgmt := freePort(t), freePort(t)
	p.APIAddr = "127.0.0.1:" + strconv.Itoa(api)
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
	p.conf = filepath.Join(dir, "pebble.json")
	os.WriteFile(p.conf, data, 0o644)
	pem, _ := os.ReadFile(certFile)
	p.api = x509.NewCertPool()
	p.api.AppendCertsFromPEM(pem)
	return p
}

// Run starts Pebble and waits until it answers; it stops with the test.
func (p *Pebble) Run(t testing.TB) {
	t.Helper()
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.bin, "-config", p.conf, "-dnsserver", p.dnsAddr)
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
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.get(p.Directory); err == nil {
			return
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

// SetRenewalInfo makes Pebble's renewal information for the certificate
// cert (DER) say that it should be renewed between start and end.
func (p *Pebble) SetRenewalInfo(t testing.TB, cert []byte, start, end time.Time) {
	t.Helper()
	ari, _ := json.Marshal(map[string]any{"suggestedWindow": map[string]time.Time{"start": start.UTC(), "end": end.UTC()}})
	body, _ := json.Marshal(map[string]string{
		"Certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})),
		"ARIResponse": string(ari),
	})
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &ctls.Config{RootCAs: p.api}}}
	resp, err := c.Post(p.mgmt+"/set-renewal-info/", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("set-renewal-info: %s %s", resp.Status, msg)
	}
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
