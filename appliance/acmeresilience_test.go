//go:build peers

package appliance

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"islet.dev/islet/internal/acmepeer"
	"islet.dev/islet/tls/web"
)

// acmeWorld is a zone naming the test hosts, served for Pebble's
// lookups, and the site the hosts serve.
type acmeWorld struct {
	siteDir string
	dnsAddr string
}

func newACMEWorld(t *testing.T) acmeWorld {
	t.Helper()
	dir := t.TempDir()
	zonesDir := filepath.Join(dir, "zones")
	os.MkdirAll(zonesDir, 0o755)
	var z strings.Builder
	z.WriteString("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 127.0.0.1\n* A 127.0.0.1\n")
	os.WriteFile(filepath.Join(zonesDir, "acme.test"), []byte(z.String()), 0o644)
	siteDir := filepath.Join(dir, "site")
	os.MkdirAll(siteDir, 0o755)
	os.WriteFile(filepath.Join(siteDir, "index.html"), []byte("<h1>acme</h1>"), 0o644)
	dns, stop := start(t, Options{ZonesDir: zonesDir, DNSAddrs: []string{"127.0.0.1:0"}, UDPSockets: 1})
	t.Cleanup(stop)
	return acmeWorld{siteDir: siteDir, dnsAddr: dns.DNS[0].String()}
}

// islet runs an appliance serving names over HTTPS on Pebble's
// TLS-ALPN-01 port with certificates from directory, logging into log.
func (w acmeWorld) islet(t *testing.T, p *acmepeer.Pebble, directory, cache string, log *lockedBuffer, names ...string) (Ready, func()) {
	t.Helper()
	return start(t, Options{Logger: slog.New(slog.NewTextHandler(log, nil)), MetricsAddr: "127.0.0.1:0", HTTPS: HTTPSOptions{
		SiteDir: w.siteDir, Hosts: []web.Host{{Names: names, Site: true}},
		HTTPSAddr: "127.0.0.1:" + strconv.Itoa(p.TLSPort), ACMEDirectory: directory, ACMECAFile: p.CAFile, CertCache: cache,
	}})
}

// waitLog waits until the log holds want.
func waitLog(t *testing.T, log *lockedBuffer, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q logged within %v:\n%s", want, within, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestACMEDownAtStart: the appliance starts while the ACME server is
// down (as when it boots before the network is up); Pebble comes up 10 s
// later, and the certificate is served within 15 s of that. Meanwhile
// the log names the real cause, not a cache miss.
func TestACMEDownAtStart(t *testing.T) {
	w := newACMEWorld(t)
	pebble := acmepeer.New(t, w.dnsAddr)
	var log lockedBuffer
	r, stop := w.islet(t, pebble, pebble.Directory, t.TempDir(), &log, "down.acme.test")
	defer stop()
	time.Sleep(10 * time.Second)
	pebble.Run(t)
	up := time.Now()
	waitCert(t, r.HTTPS.String(), "down.acme.test", pebble.Roots(t), 15*time.Second)
	t.Logf("certificate %v after Pebble answered", time.Since(up).Round(time.Millisecond))
	if !strings.Contains(log.String(), "connection refused") || strings.Contains(log.String(), "missing certificate") {
		t.Errorf("the log does not name the cause (connection refused):\n%s", log.String())
	}
}

// TestACMEOrderGuard: with the CA refusing every order, 20 restarts on
// one cache make 3 orders, no more; a rate limit's Retry-After is kept
// across restarts; one failing name delays no other; a certificate in
// the cache is served across 20 restarts without a new order, and
// renewed once the CA's renewal information (ARI) says its window has
// come.
func TestACMEOrderGuard(t *testing.T) {
	w := newACMEWorld(t)
	pebble := acmepeer.Start(t, w.dnsAddr)
	proxy := acmepeer.NewProxy(t, pebble)
	proxy.Start(t)
	defer func() {
		if t.Failed() {
			t.Logf("pebble log:\n%s", pebble.Log())
		}
	}()
	roots := pebble.Roots(t)
	proxy.Refuse(func(name string) *acmepeer.Refusal {
		switch name {
		case "refused.acme.test", "bad.acme.test":
			return &acmepeer.Refusal{Status: 403, Type: "urn:ietf:params:acme:error:rejectedIdentifier"}
		case "limited.acme.test":
			return &acmepeer.Refusal{Status: 429, Type: "urn:ietf:params:acme:error:rateLimited", RetryAfter: 3600}
		}
		return nil
	})

	// A restart loop while every order fails.
	cache := t.TempDir()
	for i := range 20 {
		var log lockedBuffer
		_, stop := w.islet(t, pebble, proxy.Directory, cache, &log, "refused.acme.test")
		waitLog(t, &log, "no certificate yet", 10*time.Second)
		stop()
		if i >= 3 && !strings.Contains(log.String(), "the order guard allows no more") {
			t.Errorf("restart %d: no order guard in the log:\n%s", i, log.String())
		}
	}
	if n := proxy.Orders("refused.acme.test"); n != 3 {
		t.Errorf("20 restarts while the CA refuses made %d orders, want 3", n)
	}

	// A rate limit with Retry-After: kept across restarts.
	for range 5 {
		var log lockedBuffer
		_, stop := w.islet(t, pebble, proxy.Directory, cache, &log, "limited.acme.test")
		waitLog(t, &log, "no certificate yet", 10*time.Second)
		stop()
		if !strings.Contains(log.String(), "rateLimited") && !strings.Contains(log.String(), "rate limited") {
			t.Errorf("the log does not say the CA rate-limits:\n%s", log.String())
		}
	}
	if n := proxy.Orders("limited.acme.test"); n != 1 {
		t.Errorf("5 restarts after a rate limit with Retry-After: 3600 made %d orders, want 1", n)
	}

	// One failing name beside a good one.
	var log lockedBuffer
	cache = t.TempDir()
	r, stop := w.islet(t, pebble, proxy.Directory, cache, &log, "bad.acme.test", "good.acme.test")
	begin := time.Now()
	first := waitCert(t, r.HTTPS.String(), "good.acme.test", roots, 10*time.Second)
	t.Logf("the good name's certificate in %v beside a failing one", time.Since(begin).Round(time.Millisecond))
	waitLog(t, &log, `msg="no certificate yet; retrying" component=tls name=bad.acme.test`, 10*time.Second)
	body := get(t, "http://"+r.Metrics.String()+"/metrics", 200)
	for _, want := range []string{`islet_acme_orders_total{result="ok"} 1`, `islet_acme_orders_total{result="failed"} 1`,
		`islet_tls_certificate_not_after_timestamp_seconds{name="good.acme.test"} ` + strconv.FormatInt(first.NotAfter.Unix(), 10),
		`islet_tls_certificate_not_after_timestamp_seconds{name="bad.acme.test"} 0`} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	stop()

	// Restarts with the certificate cached: no order.
	for range 20 {
		r, stop := w.islet(t, pebble, proxy.Directory, cache, &log, "bad.acme.test", "good.acme.test")
		again := waitCert(t, r.HTTPS.String(), "good.acme.test", roots, 5*time.Second)
		stop()
		if again.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Fatalf("a restart served a new certificate")
		}
	}
	if n := proxy.Orders("good.acme.test"); n != 1 {
		t.Errorf("20 restarts with the certificate cached: %d orders, want 1", n)
	}

	// The CA's renewal window comes: renewed at once.
	pebble.SetRenewalInfo(t, first.Raw, time.Now().Add(-time.Hour), time.Now().Add(3*time.Second))
	r, stop = w.islet(t, pebble, proxy.Directory, cache, &log, "bad.acme.test", "good.acme.test")
	defer stop()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := waitCert(t, r.HTTPS.String(), "good.acme.test", roots, 5*time.Second)
		if c.SerialNumber.Cmp(first.SerialNumber) != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not renewed within 15 s of its ARI window:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := proxy.Orders("good.acme.test"); n != 2 {
		t.Errorf("renewal in the ARI window: %d orders in all, want 2", n)
	}
}
