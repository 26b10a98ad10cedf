package web

import (
	"bufio"
	"context"
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"islet.dev/islet/tls/certs"

	"islet.dev/islet/internal/testpeer"
)

// startHTTPS serves the test site for example.org (self-signed) on
// loopback HTTPS and HTTP listeners; it returns both addresses and the
// certificate pool that trusts the server.
func startHTTPS(t *testing.T, hdrTimeout time.Duration) (httpsAddr, httpAddr string, pool *x509.CertPool) {
	t.Helper()
	return startHTTPSWith(t, func(c *Config) { c.ReadHeaderTimeout = hdrTimeout })
}

// startHTTPSWith is startHTTPS with the configuration changed by set.
func startHTTPSWith(t *testing.T, set func(*Config)) (httpsAddr, httpAddr string, pool *x509.CertPool) {
	t.Helper()
	cm, err := certs.New(certs.Config{Names: []string{"example.org", "www.example.org", "example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln80, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cfg := Config{
		Site:      testSite(t),
		Hosts:     []Host{{Names: []string{"example.org", "www.example.org"}, Site: true}, {Names: []string{"example.net"}, Redirect: "https://example.org"}},
		Certs:     cm,
		HTTPSPort: port,
	}
	set(&cfg)
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.ServeHTTPS(ctx, ln) }()
	go func() { done <- srv.ServeHTTP(ctx, ln80) }()
	t.Cleanup(func() {
		cancel()
		for i := 0; i < 2; i++ {
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	})
	self, err := cm.GetCertificate(&ctls.ClientHelloInfo{ServerName: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(self.Leaf)
	return ln.Addr().String(), ln80.Addr().String(), pool
}

// client talks to addr whatever the URL's host, trusting pool.
func client(addr string, pool *x509.CertPool, h2 bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &ctls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: h2,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *ctls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestHTTPSProtocols(t *testing.T) {
	addr, _, pool := startHTTPS(t, 0)
	for _, h2 := range []bool{false, true} {
		resp, err := client(addr, pool, h2).Get("https://example.org/about/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantProto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
		if resp.StatusCode != 200 || resp.Proto != wantProto || string(body) != "<h1>about</h1>" {
			t.Errorf("h2=%v: %s %d %q", h2, resp.Proto, resp.StatusCode, body)
		}
		if resp.TLS.Version < ctls.VersionTLS12 || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("TLS %x, HSTS %q", resp.TLS.Version, resp.Header.Get("Strict-Transport-Security"))
		}
	}
	// TLS 1.1 is refused.
	c, err := ctls.Dial("tcp", addr, &ctls.Config{RootCAs: pool, ServerName: "example.org", MinVersion: ctls.VersionTLS10, MaxVersion: ctls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
}

func TestPlainHTTPRedirects(t *testing.T) {
	httpsAddr, addr, _ := startHTTPS(t, 0)
	_, port, _ := net.SplitHostPort(httpsAddr)
	c := client(addr, nil, false)
	resp, err := c.Get("http://www.example.org/a?b=c")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://www.example.org:" + port + "/a?b=c"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("%d %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, err = c.Get("http://unknown.example/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("unknown host over HTTP: %d", resp.StatusCode)
	}
}

// TestSlowClients: a client that connects and says nothing, and one that
// sends its request head a byte at a time, are both cut off after the
// header timeout, and the server keeps answering others meanwhile.
func TestSlowClients(t *testing.T) {
	addr, plain, pool := startHTTPS(t, 400*time.Millisecond)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	slow, err := net.Dial("tcp", plain)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, b := range []byte("GET / HTTP/1.1\r\nHost: example.org\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := slow.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	if resp, err := client(addr, pool, true).Get("https://example.org/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a normal client was not served meanwhile: %v", err)
	}
	for name, c := range map[string]net.Conn{"silent TLS client": idle, "slow HTTP client": slow} {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		start := time.Now()
		buf := make([]byte, 512)
		var err error
		for err == nil {
			_, err = c.Read(buf)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s held the connection %v", name, d)
		}
	}
}

// dialFrom opens a TLS connection to addr from a loopback address of
// its own (127.0.0.0/8 is all loopback): one client per address.
func dialFrom(t *testing.T, from, addr string, pool *x509.CertPool) (*ctls.Conn, error) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 3 * time.Second}
	return ctls.DialWithDialer(d, "tcp", addr, &ctls.Config{RootCAs: pool, ServerName: "example.org", NextProtos: []string{"http/1.1"}})
}

// get1 sends one HTTP/1.1 request on c and reads the status line.
func get1(c *ctls.Conn) error {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "GET /contact HTTP/1.1\r\nHost: example.org\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestConnectionLimit: at MaxConns a new client's connection is taken
// from the client holding the most (its oldest idle one); a client that
// would then hold as many as the others is refused at once; those left
// are served on.
func TestConnectionLimit(t *testing.T) {
	addr, _, pool := startHTTPSWith(t, func(c *Config) { c.MaxConns = 2; c.ClientConns = 2 })
	a, err := dialFrom(t, "127.0.0.2", addr, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := get1(a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // a idles before b
	b, err := dialFrom(t, "127.0.0.2", addr, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := get1(b); err != nil {
		t.Fatal(err)
	}
	c, err := dialFrom(t, "127.0.0.3", addr, pool)
	if err != nil {
		t.Fatalf("a new client while another held every place: %v", err)
	}
	defer c.Close()
	if err := get1(c); err != nil {
		t.Fatalf("a new client while another held every place: %v", err)
	}
	if err := get1(a); err == nil {
		t.Error("the heavier client's oldest idle connection was not the one closed")
	}
	if err := get1(b); err != nil {
		t.Errorf("the heavier client's other connection: %v", err)
	}
	over, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	if n, err := over.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a connection that would make its client the heaviest was not closed (read %d, %v)", n, err)
	} else if d := time.Since(start); d > time.Second {
		t.Errorf("it was closed only after %v", d)
	}
	for _, x := range []*ctls.Conn{b, c} {
		if err := get1(x); err != nil {
			t.Errorf("a connection within the limit: %v", err)
		}
	}
}

// TestCurl checks as a user would: HTTP/2, brotli and gzip, a redirect.
func TestCurl(t *testing.T) {
	curl := testpeer.Require(t, "curl")
	addr, _, _ := startHTTPS(t, 0)
	_, port, _ := net.SplitHostPort(addr)
	run := func(args ...string) string {
		base := []string{"-sS", "-k", "-D", "-", "-o", "/dev/null", "--resolve", "example.org:" + port + ":127.0.0.1", "--resolve", "example.net:" + port + ":127.0.0.1"}
		out, err := exec.Command(curl, append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return strings.ToLower(string(out))
	}
	if out := run("--http2", "-H", "Accept-Encoding: br", "https://example.org:"+port+"/"); !strings.HasPrefix(out, "http/2 200") || !strings.Contains(out, "content-encoding: br") {
		t.Errorf("HTTP/2 with brotli:\n%s", out)
	}
	if out := run("--http1.1", "--compressed", "-H", "Accept-Encoding: gzip", "https://example.org:"+port+"/"); !strings.HasPrefix(out, "http/1.1 200") || !strings.Contains(out, "content-encoding: gzip") {
		t.Errorf("HTTP/1.1 with gzip:\n%s", out)
	}
	if out := run("https://example.net:" + port + "/x?y=1"); !strings.Contains(out, " 301") || !strings.Contains(out, "location: https://example.org/x?y=1") {
		t.Errorf("redirect host:\n%s", out)
	}
}
