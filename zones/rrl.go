package zones

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Response-rate limiting over UDP, the defence of an authoritative
// server against being a reflector (as NSD's, Knot's and BIND's RRL):
// each client prefix (an IPv4 /24, an IPv6 /56) has a budget, and past
// it responses are dropped, but for every Slip-th, which goes out
// truncated (TC=1) so that a real client, whose address was perhaps
// spoofed by someone else, comes back over TCP. The budget counts
// octets, not responses: Rate responses a second of up to rrlUnit
// octets, a larger one costing in proportion, so that a flood of large
// answers (ANY, DNSSEC, big TXT) is limited sooner than one of small
// ones and reflection gains an attacker nothing a small answer would
// not. TCP, loopback, exempt prefixes and clients that present a valid
// server cookie (RFC 7873: their address is not spoofed) are never
// limited.

// RRLConfig configures response-rate limiting; a zero Rate turns it off.
type RRLConfig struct {
	// Rate is the responses a second a client prefix gets, counted in
	// responses of rrlUnit octets.
	Rate int
	// Slip: every Slip-th limited response is sent truncated, the
	// others dropped; 0 means 2, 1 truncates them all.
	Slip int
	// IPv4Bits and IPv6Bits make a client prefix: 24 and 56 when 0.
	IPv4Bits, IPv6Bits int
	// Exempt lists prefixes never limited.
	Exempt []netip.Prefix
}

// DefaultRRLRate is RRLConfig.Rate unless configured: NSD's suggestion.
const DefaultRRLRate = 200

// rrlUnit is the size of the response Rate counts: larger ones cost
// more of the budget.
const rrlUnit = 512

// rrlSlots bounds the prefixes followed at once; a prefix whose slot
// another took starts afresh with a full budget.
const rrlSlots = 1 << 14

// rrl verdicts.
const (
	rrlPass = iota
	rrlSlip
	rrlDrop
)

type rrlEntry struct {
	mu      sync.Mutex
	key     [16]byte // the prefix, as 16 octets (IPv4 mapped)
	used    bool
	tokens  float64 // octets
	last    int64   // nanoseconds since the limiter's epoch
	limited uint32
	// slipped and dropped count the limited responses since the last
	// summary (LogRRL)
	slipped, dropped uint32
}

type rrl struct {
	cfg     RRLConfig
	rate    float64 // octets a second
	seed    maphash.Seed
	entries []rrlEntry
	// epoch is when the limiter began: the times it is given are
	// counted from it on the monotonic clock, which a step of the
	// wall clock does not move (a step forward would refill every
	// budget at once)
	epoch time.Time
}

func newRRL(cfg RRLConfig) *rrl {
	if cfg.Rate <= 0 {
		return nil
	}
	if cfg.Slip == 0 {
		cfg.Slip = 2
	}
	if cfg.IPv4Bits == 0 {
		cfg.IPv4Bits = 24
	}
	if cfg.IPv6Bits == 0 {
		cfg.IPv6Bits = 56
	}
	return &rrl{cfg: cfg, rate: float64(cfg.Rate) * rrlUnit, seed: maphash.MakeSeed(), entries: make([]rrlEntry, rrlSlots), epoch: time.Now()}
}

// check spends size octets of client's budget at now (nanoseconds
// since the epoch) and says what to do with the response. exempt, asked
// only of a client past its budget, reports whether it is exempt all
// the same (it sent back a valid server cookie).
func (r *rrl) check(client netip.Addr, size int, now int64, exempt func() bool) int {
	if !client.IsValid() || client.IsLoopback() {
		return rrlPass
	}
	for _, p := range r.cfg.Exempt {
		if p.Contains(client) {
			return rrlPass
		}
	}
	bits := r.cfg.IPv6Bits
	if client.Is4() {
		bits = r.cfg.IPv4Bits
	}
	prefix, err := client.Prefix(bits)
	if err != nil {
		return rrlPass
	}
	key := prefix.Addr().As16()
	e := &r.entries[maphash.Bytes(r.seed, key[:])&(rrlSlots-1)]
	e.mu.Lock()
	if !e.used || e.key != key {
		e.used, e.key, e.tokens, e.last, e.limited = true, key, r.rate, now, 0
	}
	e.tokens = min(r.rate, e.tokens+float64(now-e.last)*r.rate/float64(time.Second))
	e.last = now
	cost := float64(max(size, rrlUnit))
	if e.tokens >= cost {
		e.tokens -= cost
		e.mu.Unlock()
		return rrlPass
	}
	if exempt != nil && exempt() {
		e.mu.Unlock()
		return rrlPass
	}
	e.limited++
	verdict := rrlDrop
	if e.limited%uint32(r.cfg.Slip) == 0 {
		verdict = rrlSlip
		e.slipped++
	} else {
		e.dropped++
	}
	e.mu.Unlock()
	return verdict
}

// rrlLimited is one prefix's limited responses over a summary's span.
type rrlLimited struct {
	prefix           netip.Prefix
	slipped, dropped uint32
}

// summary returns the prefixes limited since the last summary, the
// most limited first, and starts counting again.
func (r *rrl) summary() []rrlLimited {
	var out []rrlLimited
	for i := range r.entries {
		e := &r.entries[i]
		e.mu.Lock()
		if e.slipped+e.dropped > 0 {
			a := netip.AddrFrom16(e.key).Unmap()
			bits := r.cfg.IPv6Bits
			if a.Is4() {
				bits = r.cfg.IPv4Bits
			}
			out = append(out, rrlLimited{prefix: netip.PrefixFrom(a, bits), slipped: e.slipped, dropped: e.dropped})
			e.slipped, e.dropped = 0, 0
		}
		e.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b rrlLimited) int { return int(b.slipped+b.dropped) - int(a.slipped+a.dropped) })
	return out
}

// LogRRL logs, every period until ctx ends, the client prefixes whose
// responses were rate-limited since the last time (the ten most
// limited, and how many in all), nothing when none was.
func (s *Server) LogRRL(ctx context.Context, every time.Duration) {
	if s.rrl == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		limited := s.rrl.summary()
		if len(limited) == 0 {
			continue
		}
		var b strings.Builder
		for i, l := range limited[:min(10, len(limited))] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %d truncated, %d dropped", l.prefix, l.slipped, l.dropped)
		}
		s.log.Info("responses rate-limited", "prefixes", len(limited), "most", b.String(), "over", every)
	}
}

// handleUDP answers a query that came over UDP, as handle does, and
// applies the rate limit to the response: nil when it is dropped, the
// header and question alone with TC set when it slips. now is the
// time the query came, or zero.
func (s *Server) handleUDP(pkt, out []byte, sc *scratch, client netip.Addr, now time.Time) ([]byte, RRLAction) {
	resp := s.handle(pkt, out, sc, client, false)
	if resp == nil || s.rrl == nil {
		return resp, RRLPassed
	}
	if now.IsZero() {
		now = time.Now()
	}
	// the cookie is checked only past the budget: most queries are not
	cookieOK := func() bool { return validServerCookie(s.cfg.CookieSecret, sc.q.cookie, client, now) }
	switch s.rrl.check(client, len(resp), now.Sub(s.rrl.epoch).Nanoseconds(), cookieOK) {
	case rrlPass:
		return resp, RRLPassed
	case rrlSlip:
		n := 12 + len(sc.q.question)
		if len(sc.q.question) == 0 || len(resp) < n || binary.BigEndian.Uint16(resp[4:]) != 1 {
			return nil, RRLDropped // no question to echo
		}
		resp = resp[:n]
		resp[2] |= byte(flagTC >> 8)
		clear(resp[6:12]) // no answer, authority or additional records
		return resp, RRLSlipped
	}
	return nil, RRLDropped
}
