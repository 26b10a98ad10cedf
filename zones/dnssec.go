package zones

import (
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// A signed zone is served as it was signed (RFC 4035 §3.1): queries with
// the DO bit get the RRSIGs of every RRset they are given, DS or the
// proof of its absence in referrals, and the NSEC or NSEC3 records that
// prove a name or a type absent. The zone was signed elsewhere or by a
// Signer (sign.go), which makes those records as another signer would;
// only compact denial (compact.go) signs anything per query.

// denial is how a signed zone proves absence.
type denial uint8

const (
	denyNone    denial = iota // unsigned zone
	denyNSEC                  // RFC 4034 §4, RFC 4035 §3.1.3
	denyNSEC3                 // RFC 5155 §7.2
	denyCompact               // RFC 9824: an NSEC at each name, the others' made per query
)

// nsec3Params are the zone's NSEC3PARAM values (RFC 5155 §4): how
// names are hashed.
type nsec3Params struct {
	alg        uint8
	iterations uint16
	salt       []byte
}

// chainLink is one NSEC or NSEC3 owner in the zone's chain, in
// canonical order (NSEC) or hash order (NSEC3).
type chainLink struct {
	key string // canonical key (NSEC) or lowercase base32hex hash (NSEC3)
	n   *node
}

// dnssecState is what a signed zone needs beyond its names.
type dnssecState struct {
	deny   denial
	params nsec3Params
	chain  []chainLink      // sorted by key
	hashed map[string]*node // NSEC3 owners by wire name: never names of the zone
}

// setupDNSSEC finds out how the zone is signed and sorts its chain.
// A zone is signed, as NSD decides it, when its apex holds an RRSIG
// covering the DNSKEY RRset.
func (z *Zone) setupDNSSEC() {
	if len(z.apex.sigs(dns.TypeDNSKEY)) == 0 {
		return
	}
	if params, ok := z.nsec3Chain(); ok {
		z.sec.deny = denyNSEC3
		z.sec.params = params
		for w, n := range z.sec.hashed {
			// A zone may hold a second chain while it is re-salted: only
			// the one NSEC3PARAM names is used.
			if rrs := n.rrset(dns.TypeNSEC3); rrs != nil && z.sec.params.matches(rrs[0].(*dns.NSEC3)) {
				z.sec.chain = append(z.sec.chain, chainLink{key: strings.ToLower(w[1 : 1+int(w[0])]), n: n})
			}
		}
	} else {
		z.sec.deny = denyNSEC
		if nsec := z.apex.rrset(dns.TypeNSEC); nsec != nil && strings.EqualFold(nsec[0].(*dns.NSEC).NextDomain, childName(`\000`, z.Origin)) {
			// The apex's NSEC names its immediate successor: each name
			// holds an NSEC of its own, as compact denial has them.
			z.sec.deny = denyCompact
		}
		for w, n := range z.nodes {
			if n.has(dns.TypeNSEC) {
				z.sec.chain = append(z.sec.chain, chainLink{key: canonicalKey(w), n: n})
			}
		}
	}
	sort.Slice(z.sec.chain, func(i, j int) bool { return z.sec.chain[i].key < z.sec.chain[j].key })
}

// nsec3Chain picks the NSEC3 chain the zone is served with: that of the
// first NSEC3PARAM with no flags and the SHA-1 hash (RFC 5155 §4) whose
// chain holds the apex, as NSD picks it while a zone holds several.
func (z *Zone) nsec3Chain() (nsec3Params, bool) {
	if len(z.sec.hashed) == 0 {
		return nsec3Params{}, false
	}
	var first *nsec3Params
	for _, rr := range z.apex.rrset(dns.TypeNSEC3PARAM) {
		param := rr.(*dns.NSEC3PARAM)
		if param.Flags != 0 || param.Hash != dns.SHA1 {
			continue
		}
		salt, _ := hex.DecodeString(param.Salt)
		p := nsec3Params{alg: param.Hash, iterations: param.Iterations, salt: salt}
		if first == nil {
			first = &p
		}
		if n := z.sec.hashed["\x20"+p.hash(z.wire)+z.wire]; n != nil && n.has(dns.TypeNSEC3) {
			return p, true
		}
	}
	if first != nil {
		return *first, true
	}
	return nsec3Params{}, false
}

// Signed reports whether the zone was loaded signed (a signed DNSKEY
// RRset at its apex).
func (z *Zone) Signed() bool { return z.sec.deny != denyNone }

// Denial says how a signed zone proves absence, "NSEC" or "NSEC3"
// (with "opt-out" when its chain uses it); "" for an unsigned zone.
func (z *Zone) Denial() string {
	switch z.sec.deny {
	case denyNSEC:
		return "NSEC"
	case denyCompact:
		return "compact"
	case denyNSEC3:
		if z.anyOptOut() {
			return "NSEC3 opt-out"
		}
		return "NSEC3"
	}
	return ""
}

// canonicalKey turns a lowercase wire name into a string whose byte order
// is the canonical order of names (RFC 4034 §6.1): labels from the root
// down, each compared as octets, a shorter label first. Each label's
// octets are escaped so that 0 can end it.
func canonicalKey(w string) string {
	var starts []int
	for i := 0; i < len(w) && w[i] != 0; i += 1 + int(w[i]) {
		starts = append(starts, i)
	}
	var b strings.Builder
	b.Grow(len(w) + 8)
	for k := len(starts) - 1; k >= 0; k-- {
		i := starts[k]
		for _, c := range []byte(w[i+1 : i+1+int(w[i])]) {
			switch c {
			case 0, 1:
				b.WriteByte(1)
				b.WriteByte(c + 1)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte(0)
	}
	return b.String()
}

// matches reports whether an NSEC3 record belongs to the chain p names.
func (p *nsec3Params) matches(rr *dns.NSEC3) bool {
	salt, _ := hex.DecodeString(rr.Salt)
	return rr.Hash == p.alg && rr.Iterations == p.iterations && string(salt) == string(p.salt)
}

var base32Hex = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// hash is the NSEC3 hash of the lowercase wire name w (RFC 5155 §5), in
// lowercase base32hex.
func (p *nsec3Params) hash(w string) string {
	h := sha1.New()
	h.Write([]byte(w))
	h.Write(p.salt)
	sum := h.Sum(nil)
	for i := 0; i < int(p.iterations); i++ {
		h.Reset()
		h.Write(sum)
		h.Write(p.salt)
		sum = h.Sum(sum[:0])
	}
	return base32Hex.EncodeToString(sum)
}

// find returns the chain link that matches key, or else the one that
// covers it (the last at or before it, wrapping around to the last).
func (s *dnssecState) find(key string) (*node, bool) {
	if len(s.chain) == 0 {
		return nil, false
	}
	i := sort.Search(len(s.chain), func(i int) bool { return s.chain[i].key > key }) - 1
	if i < 0 {
		i = len(s.chain) - 1
	}
	return s.chain[i].n, s.chain[i].key == key
}

// nsecFor returns the NSEC that matches or covers the name w.
func (z *Zone) nsecFor(w string) *node {
	n, _ := z.sec.find(canonicalKey(w))
	return n
}

// nsec3For returns the NSEC3 owner that matches or covers the hash of w,
// and whether it matches.
func (z *Zone) nsec3For(w string) (*node, bool) {
	return z.sec.find(z.sec.params.hash(w))
}

// proof is the NSEC or NSEC3 owners whose records, with their RRSIGs,
// prove what a query's answer leaves out. Which owners they are depends
// on the query name, so compiled answers that carry a proof are kept by
// it (see compile.go).
type proof struct{ a, b, c *node }

func (p *proof) add(n *node) {
	switch {
	case n == nil || n == p.a || n == p.b || n == p.c:
	case p.a == nil:
		p.a = n
	case p.b == nil:
		p.b = n
	default:
		p.c = n
	}
}

func (p proof) nodes() []*node {
	var out []*node
	for _, n := range [...]*node{p.a, p.b, p.c} {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// nameProof is the proof that depends on the name asked, qw, for the
// outcomes that have one: a name that does not exist, and an answer,
// NODATA or CNAME synthesized from a wildcard.
func (z *Zone) nameProof(l lookup, qw string, qtype uint16) proof {
	var p proof
	switch l.kind {
	case kindNXDomain:
		ce := z.closestEncloser(qw)
		switch z.sec.deny {
		case denyNSEC:
			p.add(z.nsecFor(qw))
			p.add(z.nsecFor("\x01*" + ce.wire))
		case denyNSEC3:
			ce = z.provableEncloser(ce)
			p.add(z.nsec3Match(ce.wire))
			p.add(z.nsec3Cover(nextCloser(qw, ce.wire)))
			p.add(z.nsec3Cover("\x01*" + ce.wire))
		}
	case kindWildcard:
		ce := l.n.parent
		nodata := l.n.nodata(qtype)
		switch z.sec.deny {
		case denyNSEC:
			p.add(z.nsecFor(qw))
			if nodata {
				p.add(z.nsecFor(l.n.wire))
			}
		case denyNSEC3:
			if nodata {
				p.add(z.nsec3Match(ce.wire))
			}
			p.add(z.nsec3Cover(nextCloser(qw, ce.wire)))
			if nodata {
				p.add(z.nsec3Match(l.n.wire))
			}
		}
	}
	return p
}

func (z *Zone) nsec3Match(w string) *node {
	if n, ok := z.nsec3For(w); ok {
		return n
	}
	return nil
}

func (z *Zone) nsec3Cover(w string) *node {
	n, _ := z.nsec3For(w)
	return n
}

// closestEncloser is the deepest existing ancestor of qw (which does not
// exist itself).
func (z *Zone) closestEncloser(qw string) *node {
	for i := 1 + int(qw[0]); i < len(qw); i += 1 + int(qw[i]) {
		if n, ok := z.nodes[qw[i:]]; ok {
			return n
		}
	}
	return z.apex
}

// provableEncloser climbs from n to the first name with an NSEC3 record:
// with opt-out, names that exist only because of insecure delegations
// may have none (RFC 5155 §7.2.1).
func (z *Zone) provableEncloser(n *node) *node {
	for n.parent != nil && z.nsec3Match(n.wire) == nil {
		n = n.parent
	}
	return n
}

// nextCloser is the ancestor of qw (or qw itself) one label longer than
// the encloser ce.
func nextCloser(qw, ce string) string {
	want := labelCount(ce) + 1
	for i := 0; i < len(qw) && qw[i] != 0; i += 1 + int(qw[i]) {
		if labelCount(qw[i:]) == want {
			return qw[i:]
		}
	}
	return qw
}

// sigs returns the RRSIGs at n that cover type t.
func (n *node) sigs(t uint16) []dns.RR {
	all := n.rrset(dns.TypeRRSIG)
	var out []dns.RR
	for _, rr := range all {
		if rr.(*dns.RRSIG).TypeCovered == t {
			out = append(out, rr)
		}
	}
	return out
}

// denialSet returns the NSEC or NSEC3 RRset of n, whichever it holds.
func (n *node) denialSet() (uint16, []dns.RR) {
	if rrs := n.rrset(dns.TypeNSEC3); rrs != nil {
		return dns.TypeNSEC3, rrs
	}
	return dns.TypeNSEC, n.rrset(dns.TypeNSEC)
}
