package appliance

import (
	"bytes"
	"context"
	ctls "crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/testpeer"
	"islet.dev/islet/tls/web"
	"islet.dev/islet/zones"
)

// TestMetrics runs an appliance with --metrics, sends it DNS queries of
// every kind and HTTPS requests, and reads the series back: each count
// is the one sent, the labels stay bounded whatever the names asked,
// promtool accepts the exposition, and islet status sums it up.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	zdir, sdir := filepath.Join(dir, "zones"), filepath.Join(dir, "site")
	os.MkdirAll(zdir, 0o755)
	os.MkdirAll(sdir, 0o755)
	os.WriteFile(filepath.Join(zdir, "m.example"), []byte("$TTL 60\n@ SOA ns hm 7 2 3 4 5\n NS ns\nns A 192.0.2.1\nwww A 192.0.2.1\n"), 0o644)
	os.WriteFile(filepath.Join(sdir, "index.html"), []byte("<h1>m</h1>"), 0o644)
	ready := make(chan Ready, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ZonesDir: zdir, DNSAddrs: []string{"127.0.0.1:0"}, MetricsAddr: "127.0.0.1:0",
			Ready: func(r Ready) { ready <- r },
			HTTPS: HTTPSOptions{SiteDir: sdir, HTTPSAddr: "127.0.0.1:0", ACMEDirectory: "off",
				Hosts: []web.Host{{Names: []string{"m.example", "*.w.m.example"}, Site: true}}}})
	}()
	var r Ready
	select {
	case r = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	if r.Metrics == nil {
		t.Fatal("Ready has no metrics address")
	}
	server := r.DNS[0].String()
	ask := func(network, name string, qtype uint16, edns int) {
		t.Helper()
		m := new(dns.Msg).SetQuestion(name, qtype)
		if edns >= 0 {
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(uint8(edns))
		}
		c := &dns.Client{Net: network, Timeout: 2 * time.Second}
		if _, _, err := c.Exchange(m, server); err != nil {
			t.Fatalf("%s %s: %v", network, name, err)
		}
	}
	ask("udp", "m.example.", dns.TypeSOA, -1)
	ask("udp", "www.m.example.", dns.TypeA, -1)
	ask("tcp", "www.m.example.", dns.TypeAAAA, -1)
	ask("udp", "www.m.example.", 99, -1)       // SPF: an "other" type
	ask("udp", "www.m.example.", dns.TypeA, 1) // BADVERS, before any lookup: zone "other"
	for i := range 50 {                        // names no one configured: one series
		ask("udp", fmt.Sprintf("n%d.m.example.", i), dns.TypeA, -1)
		ask("udp", fmt.Sprintf("n%d.elsewhere.test.", i), dns.TypeA, -1)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &ctls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", r.HTTPS.String())
		}}}
	for _, u := range []string{"https://m.example/", "https://m.example/missing", "https://a.w.m.example/", "https://x.other.test/"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// a request is counted once answered: the last may lag its reply
	time.Sleep(50 * time.Millisecond)
	body := get(t, "http://"+r.Metrics.String()+"/metrics", 200)
	for _, want := range []string{
		`islet_dns_requests_total{zone="m.example",proto="udp",type="SOA"} 1`,
		`islet_dns_requests_total{zone="m.example",proto="udp",type="A"} 51`,
		`islet_dns_requests_total{zone="m.example",proto="tcp",type="AAAA"} 1`,
		`islet_dns_requests_total{zone="m.example",proto="udp",type="other"} 1`,
		`islet_dns_requests_total{zone="other",proto="udp",type="A"} 51`,
		`islet_dns_responses_total{zone="m.example",rcode="NOERROR"} 4`,
		`islet_dns_responses_total{zone="other",rcode="BADVERS"} 1`,
		`islet_dns_responses_total{zone="m.example",rcode="NXDOMAIN"} 50`,
		`islet_dns_responses_total{zone="other",rcode="REFUSED"} 50`,
		`islet_dns_request_duration_seconds_count 105`,
		`islet_zone_serial{zone="m.example"} 7`,
		`islet_http_requests_total{host="m.example",code="200"} 1`,
		`islet_http_requests_total{host="m.example",code="404"} 1`,
		`islet_http_requests_total{host="*.w.m.example",code="200"} 1`,
		`islet_http_requests_total{host="other",code="421"} 1`,
		`islet_http_request_duration_seconds_count 4`,
		`islet_tls_certificate_not_after_timestamp_seconds{name="m.example"} 0`,
		`islet_build_info{version=`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	if n := strings.Count(body, "\nislet_dns_requests_total{"); n != 5 {
		t.Errorf("%d request series, want 5: a label took a queried name", n)
	}
	if get(t, "http://"+r.Metrics.String()+"/healthz", 200) == "" || get(t, "http://"+r.Metrics.String()+"/readyz", 200) == "" {
		t.Error("empty health answers")
	}
	st, err := FetchStatus(ctx, r.Metrics.String())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	st.Write(&out, time.Now())
	for _, want := range []string{": ready, up ", "m.example", "serial 7 ", "54 queries", "none yet: serving the self-signed fallback",
		"DNS queries    105 (tcp 1, udp 104)", "REFUSED 50", "HTTP requests  4 (2xx 2, 4xx 2)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("islet status lacks %q:\n%s", want, out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	{
		p := testpeer.Require(t, "promtool")
		cmd := exec.Command(p, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		out, err := cmd.CombinedOutput()
		// promtool lints names and help texts too; only errors count
		if err != nil && !bytes.Contains(out, []byte("no help text")) && !bytes.Contains(out, []byte("counter metrics should")) {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "error") {
				t.Errorf("promtool: %s", line)
			}
		}
	}
}

func get(t *testing.T, url string, code int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != code {
		t.Fatalf("%s: %s, want %d", url, resp.Status, code)
	}
	return "\n" + string(b)
}

// TestReadyz: /readyz says 503 until the appliance is serving.
func TestReadyz(t *testing.T) {
	reg := newRegistry()
	h := reg.handler()
	for _, c := range []struct {
		ready bool
		code  int
	}{{false, 503}, {true, 200}} {
		reg.ready.Store(c.ready)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != c.code {
			t.Errorf("ready %v: /readyz %d, want %d", c.ready, w.Code, c.code)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		if w.Code != 200 {
			t.Errorf("ready %v: /healthz %d", c.ready, w.Code)
		}
	}
}

// TestQueryCountingAllocates nothing once a series exists: the DNS
// query path stays allocation-free with metrics on.
func TestQueryCountingAllocatesNothing(t *testing.T) {
	reg := newRegistry()
	evs := []zones.QueryEvent{
		{Zone: "example.org.", Type: dns.TypeA, Rcode: 0, Duration: time.Microsecond},
		{Zone: "", Type: dns.TypeCAA, TCP: true, Rcode: 5, Duration: time.Microsecond},
		{Zone: "example.org.", Type: 4242, Rcode: 3, RRL: zones.RRLSlipped},
		{Zone: "example.org.", Type: dns.TypeAAAA, Rcode: -1, RRL: zones.RRLDropped},
		{Zone: "example.org.", Type: dns.TypeMX, Rcode: -1}, // no response: a response sent to us
	}
	for _, ev := range evs {
		reg.Query(ev)
	}
	if n := testing.AllocsPerRun(1000, func() {
		for _, ev := range evs {
			reg.Query(ev)
		}
	}); n != 0 {
		t.Errorf("%v allocations per query", n)
	}
	var b strings.Builder
	reg.set.WritePrometheus(&b)
	for _, want := range []string{
		`islet_dns_requests_total{zone="example.org",proto="udp",type="A"} 1002`,
		`islet_dns_requests_total{zone="other",proto="tcp",type="CAA"} 1002`,
		`islet_dns_requests_total{zone="example.org",proto="udp",type="other"} 1002`,
		`islet_dns_responses_total{zone="example.org",rcode="NXDOMAIN"} 1002`,
		`islet_dns_rrl_actions_total{action="slip"} 1002`,
		`islet_dns_rrl_actions_total{action="drop"} 1002`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s in\n%s", want, b.String())
		}
	}
	if !strings.Contains(b.String(), `type="AAAA"} 1002`) || strings.Contains(b.String(), `rcode="other"`) {
		t.Error("a dropped query not counted as a request, or counted as a response")
	}
}
