package zones_test

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// recorder is an Observer keeping what it is told.
type recorder struct {
	mu        sync.Mutex
	queries   []zones.QueryEvent
	transfers []zones.TransferEvent
}

func (r *recorder) Query(ev zones.QueryEvent) {
	r.mu.Lock()
	r.queries = append(r.queries, ev)
	r.mu.Unlock()
}

func (r *recorder) Transfer(ev zones.TransferEvent) {
	r.mu.Lock()
	r.transfers = append(r.transfers, ev)
	r.mu.Unlock()
}

func (r *recorder) Refresh(string, zones.RefreshResult) {}

func (r *recorder) take() ([]zones.QueryEvent, []zones.TransferEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, x := r.queries, r.transfers
	r.queries, r.transfers = nil, nil
	return q, x
}

// waitTransfers takes the transfers told once there are n of them, or
// what there is after d.
func (r *recorder) waitTransfers(n int, d time.Duration) []zones.TransferEvent {
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		got := len(r.transfers)
		r.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			_, xs := r.take()
			return xs
		}
	}
}

// TestObserver: every query over UDP and TCP is told to the observer
// with the zone it fell in, its type, its response's rcode (BADVERS
// included) and what rate limiting did; every transfer with its
// result.
func TestObserver(t *testing.T) {
	set := loadDir(t, bigZone(t, t.TempDir(), 7, 10))
	rec := &recorder{}
	cfg := xfrConfig("127.0.0.1/32@" + xfrKeyName)
	cfg.Observer = rec
	cfg.RRL = zones.RRLConfig{Rate: 1} // loopback is exempt
	addr, _ := startServer(t, set, cfg)
	ask := func(network, name string, qtype uint16, edns int) {
		t.Helper()
		m := new(dns.Msg).SetQuestion(name, qtype)
		if edns >= 0 {
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(uint8(edns))
		}
		exchange(t, network, addr, m)
	}
	ask("udp", "www.example.com.", dns.TypeTXT, -1)
	ask("tcp", "nope.example.com.", dns.TypeA, -1)
	ask("udp", "www.example.org.", dns.TypeA, -1)
	ask("udp", "www.example.com.", dns.TypeA, 1)
	qs, _ := rec.take()
	want := []zones.QueryEvent{
		{Zone: "example.com.", Type: dns.TypeTXT, Rcode: dns.RcodeSuccess},
		{Zone: "example.com.", Type: dns.TypeA, TCP: true, Rcode: dns.RcodeNameError},
		{Zone: "", Type: dns.TypeA, Rcode: dns.RcodeRefused},
		{Zone: "", Type: dns.TypeA, Rcode: dns.RcodeBadVers},
	}
	if len(qs) != len(want) {
		t.Fatalf("told of %d queries, want %d: %+v", len(qs), len(want), qs)
	}
	for i, w := range want {
		got := qs[i]
		if got.Duration <= 0 || got.Duration > time.Second {
			t.Errorf("query %d: duration %v", i, got.Duration)
		}
		got.Duration = 0
		if got != w {
			t.Errorf("query %d: %+v, want %+v", i, got, w)
		}
	}
	if _, _, err := transfer(addr, dns.TypeAXFR, 0, ""); err == nil {
		t.Fatal("unsigned AXFR allowed")
	}
	if _, _, err := transfer(addr, dns.TypeAXFR, 0, xfrSecret); err != nil {
		t.Fatal(err)
	}
	// The server tells of a transfer once its last message is
	// written, which may be after the client has read it.
	xs := rec.waitTransfers(2, 3*time.Second)
	wantX := []zones.TransferEvent{{Zone: "example.com.", Type: dns.TypeAXFR, Result: "refused"}, {Zone: "example.com.", Type: dns.TypeAXFR, Result: "ok"}}
	if len(xs) != 2 || xs[0] != wantX[0] || xs[1] != wantX[1] {
		t.Errorf("transfers told: %+v, want %+v", xs, wantX)
	}
}

// TestObserverRRL: the observer hears of each response rate limiting
// truncated or dropped.
func TestObserverRRL(t *testing.T) {
	rec := &recorder{}
	srv, err := zones.New(zones.Config{Observer: rec, RRL: zones.RRLConfig{Rate: 5}}, loadDir(t, "testdata/conformance"))
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	pkt, _ := m.Pack()
	client := netip.MustParseAddr("192.0.2.1")
	var sent [3]int
	for range 100 {
		resp := zones.AnswerUDP(srv, pkt, client)
		switch {
		case resp == nil:
			sent[zones.RRLDropped]++
		case resp[2]&0x02 != 0:
			sent[zones.RRLSlipped]++
		default:
			sent[zones.RRLPassed]++
		}
	}
	qs, _ := rec.take()
	var told [3]int
	for _, q := range qs {
		told[q.RRL]++
		if q.RRL == zones.RRLDropped && q.Rcode != -1 {
			t.Errorf("a dropped response told with rcode %d, want -1: none sent", q.Rcode)
		}
	}
	if told != sent || sent[zones.RRLSlipped] == 0 || sent[zones.RRLDropped] == 0 {
		t.Errorf("told %v (passed, slipped, dropped), sent %v", told, sent)
	}
}
