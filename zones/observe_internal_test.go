package zones

import (
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// AnswerUDP answers one query over UDP as the server's sockets do.
func AnswerUDP(s *Server, pkt []byte, client netip.Addr) []byte {
	return s.observedUDP(pkt, make([]byte, 0, 4096), newScratch(), client)
}

type countingObserver struct{ queries, rcodes atomic.Int64 }

func (c *countingObserver) Query(ev QueryEvent) {
	c.queries.Add(1)
	c.rcodes.Add(int64(ev.Rcode))
}
func (c *countingObserver) Transfer(TransferEvent)        {}
func (c *countingObserver) Refresh(string, RefreshResult) {}

// TestObservedAllocatesNothing: with an observer, the UDP and TCP query
// paths still allocate nothing.
func TestObservedAllocatesNothing(t *testing.T) {
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	obs := &countingObserver{}
	srv, err := New(Config{Observer: obs, RRL: RRLConfig{Rate: 1 << 20}}, set)
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	pkt, _ := m.Pack()
	nx := new(dns.Msg).SetQuestion("nope.example.com.", dns.TypeA)
	nxPkt, _ := nx.Pack()
	sc, out := newScratch(), make([]byte, 0, 4096)
	client := netip.MustParseAddr("192.0.2.1")
	if n := testing.AllocsPerRun(500, func() {
		srv.observedUDP(pkt, out, sc, client)
		srv.observedTCP(nxPkt, out, sc, client)
	}); n != 0 {
		t.Errorf("%v allocations per query", n)
	}
	if q, rc := obs.queries.Load(), obs.rcodes.Load(); q != 1002 || rc != 501*dns.RcodeNameError {
		t.Errorf("observer told of %d queries (rcodes summing to %d), want 1002 (%d)", q, rc, 501*dns.RcodeNameError)
	}
}
