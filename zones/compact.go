package zones

import (
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Compact denial of existence (RFC 9824). A zone signed with it holds,
// at each of its names, an NSEC that names the name's immediate
// successor and lists the name's types, made and signed with the zone:
// NODATA answers and referrals to unsigned delegations are served from
// them like any signed data. A name that does not exist, and one a
// wildcard stands for, gets a name of its own per query: for the first
// an NSEC listing only RRSIG, NSEC and NXNAME, for the second the
// wildcard's RRsets under the name asked, each signed as if it were
// there, so that no proof of what else is absent is needed. Those are
// signed when first asked for, kept for the next queries, and made at a
// bounded rate: beyond it a query over UDP is told to come back over
// TCP, and one over TCP gets SERVFAIL, so that a flood of random names
// costs a bounded share of a core.

// DefaultCompactRate is how many signatures a second a zone with compact
// denial makes for the names asked.
const DefaultCompactRate = 2000

// compactCacheMax bounds the names kept signed per zone.
const compactCacheMax = 10000

// compactState is what a zone with compact denial needs to answer: the
// keys that sign per query, and the names signed so far.
type compactState struct {
	origin   string
	keys     []*SigningKey
	validity time.Duration
	now      func() time.Time
	negTTL   uint32

	mu     sync.Mutex
	cache  map[string]compactEntry // by lowercase wire name
	tokens float64
	last   time.Time
	rate   float64 // signatures a second
}

type compactEntry struct {
	n    *node
	made time.Time
}

func newCompactState(origin string, keys []*SigningKey, validity time.Duration, now func() time.Time, negTTL uint32, rate int) *compactState {
	if rate <= 0 {
		rate = DefaultCompactRate
	}
	return &compactState{origin: origin, keys: keys, validity: validity, now: now, negTTL: negTTL,
		cache: map[string]compactEntry{}, rate: float64(rate), tokens: float64(rate)}
}

// take spends cost signatures of the budget at t; false when it is
// spent.
func (c *compactState) take(cost int, t time.Time) bool {
	if !c.last.IsZero() {
		c.tokens = min(c.rate, c.tokens+t.Sub(c.last).Seconds()*c.rate)
	}
	c.last = t
	if c.tokens < float64(cost) {
		return false
	}
	c.tokens -= float64(cost)
	return true
}

// compactLookup turns l, a lookup of qw in a zone with compact denial
// that found no name (or a wildcard's), into one of a name made for qw.
// ok is false when the signing budget is spent.
func (z *Zone) compactLookup(l lookup, qw string) (lookup, bool) {
	n := z.compactNode(l, qw)
	if n == nil {
		return l, false
	}
	return lookup{kind: kindExact, z: z, n: n, at: n}, true
}

// compactNode returns the node standing for qw, signing it first when
// it is not kept yet (nil when the budget is spent).
func (z *Zone) compactNode(l lookup, qw string) *node {
	c := z.online
	if c == nil {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache[qw]; ok && now.Sub(e.made) < c.validity/3 {
		return e.n
	}
	name, _, err := dns.UnpackDomainName([]byte(qw), 0)
	if err != nil {
		return nil
	}
	name = strings.ToLower(name)
	var sets []*outSet
	bitmap := []uint16{dns.TypeNSEC, dns.TypeRRSIG}
	if l.kind == kindWildcard {
		for _, s := range l.n.allSets() {
			if s.rrtype == dns.TypeRRSIG || s.rrtype == dns.TypeNSEC {
				continue
			}
			o := &outSet{name: name, rrtype: s.rrtype, keys: c.keys, todo: c.keys}
			for _, rr := range s.rrs {
				cp := dns.Copy(rr)
				cp.Header().Name = name
				o.rrs = append(o.rrs, cp)
			}
			sets = append(sets, o)
			bitmap = append(bitmap, s.rrtype)
		}
	} else {
		bitmap = append(bitmap, dns.TypeNXNAME)
	}
	nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: c.negTTL}, NextDomain: childName(`\000`, name), TypeBitMap: bitmap}
	sortTypeBitmap(nsec)
	sets = append(sets, &outSet{name: name, rrtype: dns.TypeNSEC, rrs: []dns.RR{nsec}, keys: c.keys, todo: c.keys})
	if !c.take(len(sets)*len(c.keys), now) {
		return nil
	}
	inception := uint32(now.Add(-inceptionSkew).Unix())
	expiration := uint32(now.Add(c.validity).Unix())
	if err := signAll(sets, c.origin, inception, expiration); err != nil {
		return nil
	}
	n := &node{name: name, wire: qw, parent: l.at}
	var sigs []dns.RR
	for _, o := range sets {
		n.sets = append(n.sets, rrset{rrtype: o.rrtype, rrs: o.rrs})
		sigs = append(sigs, o.sigs...)
	}
	n.sets = append(n.sets, rrset{rrtype: dns.TypeRRSIG, rrs: sigs})
	if len(c.cache) >= compactCacheMax {
		clear(c.cache)
	}
	c.cache[qw] = compactEntry{n: n, made: now}
	return n
}

// compactNSECs makes the NSEC of each name of a zone signed with compact
// denial: at an existing name its immediate successor and its types;
// at a delegation, so that the next name is not below it, the name with
// a zero octet added to its first label (RFC 9824 §3.4).
func compactNSECs(z *Zone, names []*node, types map[*node][]uint16, ttl uint32, keys []*SigningKey) []*outSet {
	var out []*outSet
	for _, n := range names {
		if !n.authoritative() || len(types[n]) == 0 && n.children == 0 {
			continue
		}
		next := childName(`\000`, n.name)
		if n.cut == n {
			first, rest, _ := strings.Cut(n.name, ".")
			next = first + `\000.` + rest
		}
		bitmap := append([]uint16{dns.TypeNSEC, dns.TypeRRSIG}, types[n]...)
		rr := &dns.NSEC{Hdr: dns.RR_Header{Name: n.name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl}, NextDomain: next, TypeBitMap: bitmap}
		sortTypeBitmap(rr)
		out = append(out, &outSet{n: n, w: n.wire, name: n.name, rrtype: dns.TypeNSEC, rrs: []dns.RR{rr}, keys: keys})
	}
	return out
}
