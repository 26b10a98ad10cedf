package zones

import (
	"github.com/miekg/dns"
)

// maxChain bounds how many CNAME/DNAME links one answer follows.
const maxChain = 12

// response is an answer before it is packed: rcode, AA and the three
// sections.
type response struct {
	rcode      int
	aa         bool
	an, ns, ar []dns.RR
}

// respond builds the answer for l. qname is the name as asked (or, when
// compiling, the name standing for it); it owns synthesized records.
func (s *Set) respond(l lookup, qname string, qtype uint16, minimal bool) *response {
	r := &response{aa: true}
	switch l.kind {
	case kindRefused:
		r.rcode, r.aa = dns.RcodeRefused, false
	case kindReferral:
		r.aa = false
		s.referral(r, l.z, l.n)
	case kindNXDomain:
		r.rcode = dns.RcodeNameError
		r.ns = append(r.ns, l.z.negativeSOA())
	default:
		s.answer(r, l, qname, qtype, minimal)
	}
	return r
}

// referral fills in the NS RRset of the cut and its glue (RFC 1034
// §4.3.2 step 3b).
func (s *Set) referral(r *response, z *Zone, cut *node) {
	ns := cut.rrset(dns.TypeNS)
	r.ns = append(r.ns, ns...)
	r.ar = appendAddresses(r.ar, z, ns, true)
}

// answer follows the name through CNAMEs and DNAMEs inside our zones
// until it finds data, a negative answer, a referral or leaves them.
func (s *Set) answer(r *response, l lookup, owner string, qtype uint16, minimal bool) {
	var visited []*node
	for step := 0; step < maxChain; step++ {
		switch l.kind {
		case kindRefused: // the chain leaves our zones: the resolver goes on
			return
		case kindNXDomain:
			r.rcode = dns.RcodeNameError
			r.ns = append(r.ns, l.z.negativeSOA())
			return
		case kindReferral: // a CNAME into a delegation: hand out the referral
			s.referral(r, l.z, l.n)
			return
		case kindDNAME:
			target, ok := s.synthesizeDNAME(r, l.n, owner)
			if !ok {
				return
			}
			owner = target
		default:
			for _, v := range visited {
				if v == l.n {
					return // CNAME loop: stop where it closes
				}
			}
			visited = append(visited, l.n)
			target, done := s.answerNode(r, l, owner, qtype, minimal)
			if done {
				return
			}
			owner = target
		}
		w, err := wireName(owner)
		if err != nil {
			return
		}
		l = s.find(w, qtype)
	}
}

// answerNode answers from one existing (or wildcard) node. It returns the
// CNAME target to follow, or done.
func (s *Set) answerNode(r *response, l lookup, owner string, qtype uint16, minimal bool) (string, bool) {
	n, z := l.n, l.z
	rename := func(rrs []dns.RR) []dns.RR {
		if l.kind != kindWildcard {
			return rrs
		}
		out := make([]dns.RR, len(rrs))
		for i, rr := range rrs {
			out[i] = dns.Copy(rr)
			out[i].Header().Name = owner
		}
		return out
	}
	if qtype == dns.TypeANY { // RFC 8482: one RRset, the first in the file
		if n.empty() {
			r.ns = append(r.ns, z.negativeSOA())
		} else {
			r.an = append(r.an, rename(n.sets[0].rrs)...)
		}
		return "", true
	}
	if rrs := n.rrset(qtype); rrs != nil {
		r.an = append(r.an, rename(rrs)...)
		r.ar = appendAddresses(r.ar, z, rrs, false)
		if !minimal && qtype != dns.TypeDS && !(n.isApex && qtype == dns.TypeNS) {
			ns := z.apex.rrset(dns.TypeNS)
			r.ns = append(r.ns, ns...)
			r.ar = appendAddresses(r.ar, z, ns, false)
		}
		r.ar = dropDuplicateSets(r.ar, r.an)
		return "", true
	}
	if cn := n.rrset(dns.TypeCNAME); cn != nil {
		r.an = append(r.an, rename(cn)...)
		return cn[0].(*dns.CNAME).Target, false
	}
	r.ns = append(r.ns, z.negativeSOA())
	return "", true
}

// synthesizeDNAME adds the DNAME and the CNAME it implies for owner
// (RFC 6672 §2.2); it returns the new name to follow.
func (s *Set) synthesizeDNAME(r *response, n *node, owner string) (string, bool) {
	d := n.rrset(dns.TypeDNAME)[0].(*dns.DNAME)
	r.an = append(r.an, d)
	prefix := owner[:len(owner)-len(n.name)]
	target := prefix + d.Target
	if d.Target == "." {
		target = prefix
	}
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 || !fitsWire(target) {
		r.rcode = dns.RcodeYXDomain
		return "", false
	}
	r.an = append(r.an, &dns.CNAME{
		Hdr:    dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: d.Hdr.Ttl},
		Target: target,
	})
	return target, true
}

func fitsWire(name string) bool {
	_, err := wireName(name)
	return err == nil
}

// appendAddresses adds the A and AAAA records, found in z, of the names
// that NS, MX and SRV records point to (RFC 1034 §3.6.2 additional
// section processing). Below a delegation only glue counts.
func appendAddresses(ar []dns.RR, z *Zone, rrs []dns.RR, glue bool) []dns.RR {
	for _, rr := range rrs {
		var target string
		switch v := rr.(type) {
		case *dns.NS:
			target = v.Ns
		case *dns.MX:
			target = v.Mx
		case *dns.SRV:
			target = v.Target
		default:
			continue
		}
		w, err := wireName(target)
		if err != nil || !isSubdomainWire(w, z.wire) {
			continue
		}
		t := z.nodes[w]
		if t == nil || (t.cut != nil && !glue) {
			continue
		}
		for _, typ := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
			if addrs := t.rrset(typ); addrs != nil && !containsSet(ar, addrs[0]) {
				ar = append(ar, addrs...)
			}
		}
	}
	return ar
}

func containsSet(list []dns.RR, rr dns.RR) bool {
	h := rr.Header()
	for _, x := range list {
		if x.Header().Rrtype == h.Rrtype && x.Header().Name == h.Name {
			return true
		}
	}
	return false
}

// dropDuplicateSets removes from ar the RRsets that already stand in an.
func dropDuplicateSets(ar, an []dns.RR) []dns.RR {
	out := ar[:0]
	for _, rr := range ar {
		if !containsSet(an, rr) {
			out = append(out, rr)
		}
	}
	return out
}
