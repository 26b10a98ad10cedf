package zones

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Observer is told what the server does, for metrics. Its methods are
// called on the query path, from many goroutines at once: they must be
// quick, safe for concurrent use and must not allocate.
type Observer interface {
	// Query is called once for each query answered, limited or
	// dropped.
	Query(QueryEvent)
	// Transfer is called once for each zone transfer asked for (AXFR
	// or IXFR over TCP).
	Transfer(TransferEvent)
	// Refresh is called once for each refresh of a secondary zone.
	Refresh(zone string, result RefreshResult)
}

// QueryEvent is one query and what became of it.
type QueryEvent struct {
	// Zone is the origin of the served zone the query fell in, ""
	// when none.
	Zone string
	TCP  bool
	Type uint16
	// Rcode is the response's, extended rcode included (BADVERS); -1
	// when the query got no response at all (not a query, or dropped).
	Rcode int
	// RRL says what rate limiting did: RRLPassed, RRLSlipped (sent
	// truncated) or RRLDropped.
	RRL      RRLAction
	Duration time.Duration
}

// RRLAction is what response-rate limiting did to a response.
type RRLAction uint8

const (
	RRLPassed RRLAction = iota
	RRLSlipped
	RRLDropped
)

// TransferEvent is one zone transfer asked for.
type TransferEvent struct {
	Zone string // "" when the zone is not served here
	Type uint16 // AXFR or IXFR
	// Result is "ok", "refused" (not allowed, or a bad TSIG),
	// "notauth" (not a zone served here), "busy" or "failed" (cut
	// short, or malformed).
	Result string
}

// RefreshResult is how a secondary zone's refresh ended.
type RefreshResult uint8

const (
	RefreshCurrent     RefreshResult = iota // the primary has the same serial
	RefreshTransferred                      // a newer version was transferred
	RefreshFailed
)

func (r RefreshResult) String() string {
	switch r {
	case RefreshCurrent:
		return "current"
	case RefreshTransferred:
		return "transferred"
	}
	return "failed"
}

// observedUDP answers a query over UDP as handleUDP does and tells the
// observer, when there is one.
func (s *Server) observedUDP(pkt, out []byte, sc *scratch, client netip.Addr) []byte {
	if s.cfg.Observer == nil {
		resp, _ := s.handleUDP(pkt, out, sc, client, time.Time{})
		return resp
	}
	start := time.Now()
	resp, act := s.handleUDP(pkt, out, sc, client, start)
	s.observe(sc, resp, act, false, start)
	return resp
}

// observedTCP answers a query over TCP as handle does and tells the
// observer, when there is one.
func (s *Server) observedTCP(pkt, out []byte, sc *scratch, client netip.Addr) []byte {
	if s.cfg.Observer == nil {
		return s.handle(pkt, out, sc, client, true)
	}
	start := time.Now()
	resp := s.handle(pkt, out, sc, client, true)
	s.observe(sc, resp, RRLPassed, true, start)
	return resp
}

func (s *Server) observe(sc *scratch, resp []byte, act RRLAction, tcp bool, start time.Time) {
	q := &sc.q
	if len(q.question) == 0 && resp == nil {
		return // not a query
	}
	ev := QueryEvent{TCP: tcp, Type: q.qtype, Rcode: -1, RRL: act, Duration: time.Since(start)}
	if q.zone != nil {
		ev.Zone = q.zone.Origin
	}
	if len(resp) >= 4 {
		ev.Rcode = int(binary.BigEndian.Uint16(resp[2:]) & 0xf)
		if ev.Rcode == 0 && q.edns && q.ednsVersion > 0 {
			ev.Rcode = 16 // BADVERS: its high bits are in the OPT record
		}
	}
	s.cfg.Observer.Query(ev)
}

func (s *Server) observeTransfer(zone string, qtype uint16, result string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Transfer(TransferEvent{Zone: zone, Type: qtype, Result: result})
	}
}

func (s *Server) observeRefresh(zone string, r RefreshResult) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Refresh(zone, r)
	}
}
