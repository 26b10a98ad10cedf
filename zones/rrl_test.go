package zones

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRRLBudget: a prefix's budget is Rate responses of 512 octets a
// second, a larger response costing more; past it every second response
// slips (TC) and the others are dropped; the budget comes back with
// time; other prefixes, loopback and exempt prefixes are not touched.
func TestRRLBudget(t *testing.T) {
	r := newRRL(RRLConfig{Rate: 10, Exempt: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}})
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC).UnixNano()
	a, sameNet, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.200"), netip.MustParseAddr("203.0.113.9")
	pass := 0
	for range 10 {
		if r.check(a, 100, now, nil) == rrlPass {
			pass++
		}
	}
	if pass != 10 {
		t.Fatalf("%d of the first 10 small responses passed", pass)
	}
	verdicts := []int{r.check(sameNet, 100, now, nil), r.check(a, 100, now, nil), r.check(a, 100, now, nil), r.check(a, 100, now, nil)}
	if verdicts[0] == rrlPass || verdicts[1] != rrlSlip || verdicts[2] != rrlDrop || verdicts[3] != rrlSlip {
		t.Errorf("past the budget, the same /24: %v; want limited, then slip and drop in turn", verdicts)
	}
	if r.check(other, 100, now, nil) != rrlPass {
		t.Error("another prefix limited")
	}
	for _, exempt := range []string{"127.0.0.1", "::1", "198.51.100.7"} {
		for range 100 {
			if r.check(netip.MustParseAddr(exempt), 4096, now, nil) != rrlPass {
				t.Fatalf("%s limited", exempt)
			}
		}
	}
	// Half a second later, half the budget is back.
	now += int64(500 * time.Millisecond)
	pass = 0
	for range 10 {
		if r.check(a, 100, now, nil) == rrlPass {
			pass++
		}
	}
	if pass != 5 {
		t.Errorf("after half a second %d passed, want 5", pass)
	}
	// Large responses cost in proportion: 4 KiB is 8 small ones.
	b := netip.MustParseAddr("2001:db8:1:2::1")
	pass = 0
	for range 10 {
		if r.check(b, 4096, now, nil) == rrlPass {
			pass++
		}
	}
	if pass != 1 {
		t.Errorf("%d responses of 4 KiB passed of a budget of ten of 512 octets, want 1", pass)
	}
	// An IPv6 /56 is one client.
	if r.check(netip.MustParseAddr("2001:db8:1:ff::2"), 4096, now, nil) == rrlPass {
		t.Error("another address of the same /56 was not limited")
	}
	if r.check(netip.MustParseAddr("2001:db8:1:100::2"), 4096, now, nil) != rrlPass {
		t.Error("an address of the next /56 was limited")
	}
}

// TestRRLHandle floods a server with queries from one address: past
// the budget most get nothing and the rest come back truncated with
// the question echoed; a client that sends back a valid server cookie,
// and one from another /24, are answered in full all along.
func TestRRLHandle(t *testing.T) {
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{RRL: RRLConfig{Rate: 20}}, set)
	if err != nil {
		t.Fatal(err)
	}
	sc := newScratch()
	query := func(name string, cookie []byte) []byte {
		m := new(dns.Msg).SetQuestion(name, dns.TypeA)
		m.SetEdns0(1232, false)
		if cookie != nil {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(cookie)})
		}
		p, _ := m.Pack()
		return p
	}
	flooder, other, cookied := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.3.10"), netip.MustParseAddr("192.0.2.20")
	cookie := serverCookie(nil, srv.cfg.CookieSecret, []byte("12345678"), cookied, time.Now())
	full, truncated, dropped := 0, 0, 0
	for i := range 200 {
		resp := srv.observedUDP(query("www.example.com.", nil), make([]byte, 0, 512), sc, flooder)
		switch {
		case resp == nil:
			dropped++
		default:
			var m dns.Msg
			if err := m.Unpack(resp); err != nil {
				t.Fatal(err)
			}
			if m.Truncated {
				truncated++
				if len(m.Answer) != 0 || len(m.Question) != 1 || m.Question[0].Name != "www.example.com." {
					t.Fatalf("a slipped response:\n%v", &m)
				}
			} else {
				full++
			}
		}
		if i%10 == 0 {
			for _, c := range []struct {
				addr   netip.Addr
				cookie []byte
			}{{other, nil}, {cookied, cookie}} {
				var m dns.Msg
				resp := srv.observedUDP(query("www.example.com.", c.cookie), make([]byte, 0, 512), sc, c.addr)
				if resp == nil || m.Unpack(resp) != nil || m.Truncated || len(m.Answer) == 0 {
					t.Fatalf("%v (cookie %v) not answered during the flood: %v", c.addr, c.cookie != nil, resp)
				}
			}
		}
	}
	if full > 25 || truncated < 80 || dropped < 80 {
		t.Errorf("200 queries from one address at once: %d answered, %d truncated, %d dropped; want about 20, 90, 90", full, truncated, dropped)
	}
}

// TestRRLSummary: the summary names each limited prefix with its
// counts, the most limited first, and starts again.
func TestRRLSummary(t *testing.T) {
	r := newRRL(RRLConfig{Rate: 1})
	now := time.Now().UnixNano()
	for range 11 {
		r.check(netip.MustParseAddr("192.0.2.9"), 100, now, nil)
	}
	for range 5 {
		r.check(netip.MustParseAddr("2001:db8:aa:bb::1"), 100, now, nil)
	}
	got := r.summary()
	want := []rrlLimited{
		{netip.MustParsePrefix("192.0.2.0/24"), 5, 5},
		{netip.MustParsePrefix("2001:db8:aa::/56"), 2, 2},
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary %v, want %v", got, want)
	}
	if again := r.summary(); len(again) != 0 {
		t.Errorf("a second summary %v, want none", again)
	}
}

// TestLogRRL: with --rrl-log, the limited prefixes are logged each period.
func TestLogRRL(t *testing.T) {
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuf
	srv, err := New(Config{RRL: RRLConfig{Rate: 1}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, set)
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	p, _ := m.Pack()
	sc := newScratch()
	for range 10 {
		srv.observedUDP(p, make([]byte, 0, 512), sc, netip.MustParseAddr("198.51.100.7"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.LogRRL(ctx, 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(logs.String(), "198.51.100.0/24: "); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no summary logged:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "prefixes=1") {
		t.Errorf("summary: %s", logs.String())
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
