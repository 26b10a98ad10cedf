//go:build peers

package appliance

import (
	"context"
	ctls "crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"islet.dev/islet/internal/acmepeer"
	"islet.dev/islet/tls/web"
)

// start runs an appliance until the returned stop is called.
func start(t *testing.T, opt Options) (Ready, func()) {
	t.Helper()
	ready := make(chan Ready, 1)
	opt.Ready = func(r Ready) { ready <- r }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opt) }()
	select {
	case r := <-ready:
		return r, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	return Ready{}, nil
}

// waitCert waits until addr presents, for name, a certificate that pool
// verifies, and returns it.
func waitCert(t *testing.T, addr, name string, pool *x509.CertPool, within time.Duration) *x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		c, err := ctls.Dial("tcp", addr, &ctls.Config{ServerName: name, RootCAs: pool, NextProtos: []string{"h2"}})
		if err == nil {
			cert := c.ConnectionState().PeerCertificates[0]
			c.Close()
			return cert
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no certificate for %s trusted by Pebble's root on %s within %v: %v", name, addr, within, last)
	return nil
}

func fetch(t *testing.T, addr, url string, pool *x509.CertPool) (*http.Response, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &ctls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, addr)
		},
	}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestACMEWithPebble obtains certificates from Pebble through
// TLS-ALPN-01 and HTTP-01, with islet's own DNS answering Pebble's
// lookups, serves pages with them over HTTP/2, and restarts with the same
// cache without ordering again.
func TestACMEWithPebble(t *testing.T) {
	dir := t.TempDir()
	zonesDir := filepath.Join(dir, "zones")
	os.MkdirAll(zonesDir, 0o755)
	os.WriteFile(filepath.Join(zonesDir, "acme.test"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 127.0.0.1\nalpn A 127.0.0.1\nhttp A 127.0.0.1\n"), 0o644)
	siteDir := filepath.Join(dir, "site")
	os.MkdirAll(siteDir, 0o755)
	os.WriteFile(filepath.Join(siteDir, "index.html"), []byte("<h1>acme</h1>"), 0o644)

	dns, stopDNS := start(t, Options{ZonesDir: zonesDir, DNSAddrs: []string{"127.0.0.1:0"}, UDPSockets: 1})
	dnsStopped := false
	defer func() {
		if !dnsStopped {
			stopDNS()
		}
	}()
	pebble := acmepeer.Start(t, dns.DNS[0].String())
	defer func() {
		if t.Failed() {
			t.Logf("pebble log:\n%s", pebble.Log())
		}
	}()
	https := func(addr, http, name, cache string) Options {
		return Options{HTTPS: HTTPSOptions{
			SiteDir: siteDir, Hosts: []web.Host{{Names: []string{name}, Site: true}},
			HTTPSAddr: addr, HTTPAddr: http,
			ACMEDirectory: pebble.Directory, ACMECAFile: pebble.CAFile, ACMEEmail: "hostmaster@acme.test", CertCache: cache,
		}}
	}
	tlsPort := "127.0.0.1:" + strconv.Itoa(pebble.TLSPort)
	httpPort := "127.0.0.1:" + strconv.Itoa(pebble.HTTPPort)

	// TLS-ALPN-01: HTTPS where Pebble validates, no port 80.
	cache := filepath.Join(dir, "cache-alpn")
	r, stop := start(t, https(tlsPort, "", "alpn.acme.test", cache))
	begin := time.Now()
	roots := pebble.Roots(t)
	first := waitCert(t, r.HTTPS.String(), "alpn.acme.test", roots, 30*time.Second)
	t.Logf("TLS-ALPN-01 certificate in %v", time.Since(begin))
	resp, body := fetch(t, r.HTTPS.String(), "https://alpn.acme.test/", roots)
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" || body != "<h1>acme</h1>" {
		t.Errorf("page: %s %d %q", resp.Proto, resp.StatusCode, body)
	}
	stop()

	// A restart with the same cache serves the same certificate at once:
	// no new order.
	r, stop = start(t, https(tlsPort, "", "alpn.acme.test", cache))
	again := waitCert(t, r.HTTPS.String(), "alpn.acme.test", roots, 2*time.Second)
	stop()
	if again.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("restart ordered a new certificate: serial %x, was %x", again.SerialNumber, first.SerialNumber)
	}

	// HTTP-01: HTTPS elsewhere, port 80 duties where Pebble validates.
	r, stop = start(t, https("127.0.0.1:0", httpPort, "http.acme.test", filepath.Join(dir, "cache-http")))
	begin = time.Now()
	waitCert(t, r.HTTPS.String(), "http.acme.test", roots, 60*time.Second)
	t.Logf("HTTP-01 certificate in %v", time.Since(begin))
	resp, body = fetch(t, r.HTTPS.String(), "https://http.acme.test/", roots)
	if resp.StatusCode != 200 || body != "<h1>acme</h1>" {
		t.Errorf("page: %d %q", resp.StatusCode, body)
	}
	stop()

	// DNS-01 for a wildcard: one appliance serving the zone and the site,
	// on the DNS address Pebble already uses, publishes the challenge in
	// its own zone.
	stopDNS()
	dnsStopped = true
	opt := https("127.0.0.1:0", "", "*.wild.acme.test", filepath.Join(dir, "cache-dns"))
	opt.ZonesDir, opt.DNSAddrs, opt.UDPSockets = zonesDir, []string{dns.DNS[0].String()}, 1
	r, stop = start(t, opt)
	begin = time.Now()
	cert := waitCert(t, r.HTTPS.String(), "anything.wild.acme.test", roots, 60*time.Second)
	t.Logf("DNS-01 wildcard certificate in %v", time.Since(begin))
	if len(cert.DNSNames) != 1 || cert.DNSNames[0] != "*.wild.acme.test" {
		t.Errorf("certificate names %v", cert.DNSNames)
	}
	resp, body = fetch(t, r.HTTPS.String(), "https://blog.wild.acme.test/", roots)
	if resp.StatusCode != 200 || body != "<h1>acme</h1>" {
		t.Errorf("page on a wildcard name: %d %q", resp.StatusCode, body)
	}
	stop()
	r, stop = start(t, opt)
	defer stop()
	if again := waitCert(t, r.HTTPS.String(), "x.wild.acme.test", roots, 2*time.Second); again.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Errorf("restart ordered a new wildcard certificate")
	}
}
