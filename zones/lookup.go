package zones

import "github.com/miekg/dns"

// kind says which of RFC 1034 §4.3.2's outcomes a query gets.
type kind uint8

const (
	kindRefused  kind = iota // no zone of ours encloses the name
	kindExact                // the name exists (data, NODATA, CNAME, ANY)
	kindWildcard             // synthesized from n, the "*" node (RFC 4592)
	kindNXDomain             // the name does not exist; n is the apex
	kindReferral             // at or below the delegation n
	kindDNAME                // below the DNAME owner n (RFC 6672)
	kindExpired              // in a secondary zone past its expire time
)

// lookup is where a query lands: its kind, the zone and the node that
// decides the answer. at is the deepest name of the zone at or above the
// name asked: the answer is compiled against it (compile.go), so that
// names in it that equal the question or end in its existing part are
// compressed against the question, and take its case, as NSD does.
type lookup struct {
	kind kind
	z    *Zone
	n    *node
	at   *node
}

// find classifies a query for the lowercase wire name qw and type qtype.
func (s *Set) find(qw string, qtype uint16) lookup {
	z := s.closestZone(qw)
	if z == nil {
		return lookup{kind: kindRefused}
	}
	if z.expired.Load() {
		return lookup{kind: kindExpired}
	}
	if qtype == dns.TypeDS && qw == z.wire {
		// DS lives in the parent, at the cut (RFC 4035 §3.1.4.1).
		if pw, ok := parentWire(qw); ok {
			if pz := s.closestZone(pw); pz != nil {
				if n := pz.nodes[qw]; n != nil && n.cut == n {
					return lookup{kind: kindExact, z: pz, n: n, at: n}
				}
			}
		}
	}
	return z.find(qw, qtype)
}

func (z *Zone) find(qw string, qtype uint16) lookup {
	if n, ok := z.nodes[qw]; ok {
		switch {
		case n.cut != nil && !(n.cut == n && qtype == dns.TypeDS):
			return lookup{kind: kindReferral, z: z, n: n.cut, at: n}
		case n.dnameUp != nil:
			return lookup{kind: kindDNAME, z: z, n: n.dnameUp, at: n}
		}
		return lookup{kind: kindExact, z: z, n: n, at: n}
	}
	// The closest encloser: the deepest existing ancestor.
	ce := z.apex
	for i := 1 + int(qw[0]); i < len(qw); i += 1 + int(qw[i]) {
		if n, ok := z.nodes[qw[i:]]; ok {
			ce = n
			break
		}
	}
	switch {
	case ce.cut != nil:
		return lookup{kind: kindReferral, z: z, n: ce.cut, at: ce}
	case ce.dnameUp != nil:
		return lookup{kind: kindDNAME, z: z, n: ce.dnameUp, at: ce}
	case ce.has(dns.TypeDNAME):
		return lookup{kind: kindDNAME, z: z, n: ce, at: ce}
	case ce.wild != nil:
		return lookup{kind: kindWildcard, z: z, n: ce.wild, at: ce}
	}
	return lookup{kind: kindNXDomain, z: z, n: z.apex, at: ce}
}
