package zones

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxChain bounds how many CNAME/DNAME links one answer follows. NSD
// (4.6) follows a chain until the response is full; 64 links fill any
// UDP response and bound the work a TCP one costs.
const maxChain = 64

// answerOpts are the choices that shape an answer besides the question.
type answerOpts struct {
	minimal bool // no authority or additional data beyond what is needed
	do      bool // the query's DO bit: DNSSEC records of signed zones
}

// response is an answer before it is packed: rcode, AA and the three
// sections.
type response struct {
	rcode      int
	aa         bool
	an, ns, ar []dns.RR
	ar6        []dns.RR // AAAA RRsets, added after the A RRsets in ar
	arOther    []dns.RR // and then the X25 and ISDN of RT targets
	do         bool
	qname      string // the name asked, or the one standing for it
	// synth holds the records whose owner is the question name: those
	// synthesized from a wildcard for it. A compiled answer writes their
	// owner as a pointer to the question.
	synth map[dns.RR]bool
}

// respond builds the answer for l. qname is the name as asked (or, when
// compiling, the name standing for it); it owns synthesized records. p is
// the proof that depends on the name asked (see nameProof).
func (s *Set) respond(l lookup, qname string, qtype uint16, o answerOpts, p proof) *response {
	r := &response{aa: true, do: o.do, qname: qname}
	switch l.kind {
	case kindRefused:
		r.rcode, r.aa = dns.RcodeRefused, false
	case kindExpired:
		r.rcode, r.aa = dns.RcodeServerFailure, false
	case kindReferral:
		r.aa = false
		s.referral(r, l.z, l.n)
	default:
		s.answer(r, l, qname, qtype, o, p)
	}
	r.ar = append(append(r.ar, r.ar6...), r.arOther...)
	r.ar6, r.arOther = nil, nil
	r.ar = dropDuplicateSets(r.ar, r.an, qtype)
	return r
}

// signs reports whether z's DNSSEC records go into this response.
func (r *response) signs(z *Zone) bool { return r.do && z.Signed() }

// add appends rrs, n's RRset of type t, to sec, with the RRSIGs that
// cover it when the response carries DNSSEC records. owner, when not
// empty, renames them (wildcard synthesis).
func (r *response) add(sec *[]dns.RR, z *Zone, n *node, t uint16, rrs []dns.RR, owner string) {
	if owner == "" {
		*sec = append(*sec, rrs...)
	} else {
		*sec = append(*sec, r.rename(rrs, owner)...)
	}
	if !r.signs(z) {
		return
	}
	sigs := n.sigs(t)
	if owner != "" {
		sigs = r.rename(sigs, owner)
	}
	*sec = append(*sec, sigs...)
}

// rename copies rrs with owner as their owner name, marking them
// synthesized for the question when owner is its name (not a later link
// of a CNAME chain).
func (r *response) rename(rrs []dns.RR, owner string) []dns.RR {
	if r.synth == nil {
		r.synth = map[dns.RR]bool{}
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = owner
		if owner == r.qname {
			r.synth[out[i]] = true
		}
	}
	return out
}

// negative puts the zone's SOA in the authority section of a negative
// answer, its RRSIGs with the same TTL as NSD gives them.
func (r *response) negative(z *Zone) {
	soa := z.negativeSOA()
	r.ns = append(r.ns, soa)
	if r.signs(z) {
		for _, sig := range z.apex.sigs(dns.TypeSOA) {
			sig = dns.Copy(sig)
			sig.Header().Ttl = soa.Header().Ttl
			r.ns = append(r.ns, sig)
		}
	}
}

// proof adds the NSEC or NSEC3 records of p, with their RRSIGs.
func (r *response) proof(z *Zone, p proof) {
	if !r.signs(z) {
		return
	}
	for _, n := range p.nodes() {
		t, rrs := n.denialSet()
		r.add(&r.ns, z, n, t, rrs, "")
	}
}

// nodataProof is the proof that n, which exists, has no RRset of the
// type asked: its own NSEC or NSEC3, or for a name without one (an empty
// non-terminal of an NSEC zone; with NSEC3 opt-out, an insecure
// delegation or a name only such delegations make) the NSEC covering it
// or the closest provable encloser proof (RFC 5155 §7.2.3, §7.2.4).
func (z *Zone) nodataProof(n *node) proof {
	var p proof
	switch z.sec.deny {
	case denyNSEC, denyCompact:
		if n.has(dns.TypeNSEC) {
			p.add(n)
		} else {
			p.add(z.nsecFor(n.wire))
		}
	case denyNSEC3:
		if m := z.nsec3Match(n.wire); m != nil {
			if strings.HasPrefix(n.wire, "\x01*") { // a wildcard asked for by name
				p.add(z.nsec3Match(n.parent.wire))
			}
			p.add(m)
		} else {
			ce := z.provableEncloser(n)
			p.add(z.nsec3Match(ce.wire))
			p.add(z.nsec3Cover(nextCloser(n.wire, ce.wire)))
		}
	}
	return p
}

// referral fills in the NS RRset of the cut and its glue (RFC 1034
// §4.3.2 step 3b); with DNSSEC, the DS RRset or the proof that there is
// none (RFC 4035 §3.1.4).
func (s *Set) referral(r *response, z *Zone, cut *node) {
	ns := cut.rrset(dns.TypeNS)
	r.ns = append(r.ns, ns...)
	if r.signs(z) {
		if ds := cut.rrset(dns.TypeDS); ds != nil {
			r.add(&r.ns, z, cut, dns.TypeDS, ds, "")
		} else {
			r.proof(z, z.nodataProof(cut))
		}
	}
	r.addresses(z, ns)
}

// answer follows the name through CNAMEs and DNAMEs inside our zones
// until it finds data, a negative answer, a referral or leaves them.
func (s *Set) answer(r *response, l lookup, owner string, qtype uint16, o answerOpts, p proof) {
	var visited []string // owners answered: a loop stops where a name comes again, as in NSD
	var dnames []*node   // DNAMEs in the answer, each once
	for step := 0; step < maxChain; step++ {
		switch l.kind {
		case kindRefused: // the chain leaves our zones: the resolver goes on
			return
		case kindNXDomain:
			r.rcode = dns.RcodeNameError
			r.negative(l.z)
			r.proof(l.z, p)
			return
		case kindReferral: // a CNAME into a delegation: hand out the referral
			s.referral(r, l.z, l.n)
			return
		case kindDNAME:
			again := slices.Contains(dnames, l.n)
			if again && isSubdomainWire(dnameTargetWire(l.n), l.n.wire) {
				return // a DNAME into its own subtree: stop where it repeats, as NSD does
			}
			dnames = append(dnames, l.n)
			target, ok := s.synthesizeDNAME(r, l.z, l.n, owner, !again)
			if !ok || qtype == dns.TypeCNAME {
				return // the synthesized CNAME answers a CNAME query
			}
			owner = target
		default:
			for _, v := range visited {
				if strings.EqualFold(v, owner) {
					return // CNAME loop: stop where it closes
				}
			}
			visited = append(visited, owner)
			target, done := s.answerNode(r, l, owner, qtype, o, p)
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
		if r.do && (l.kind == kindNXDomain || l.kind == kindWildcard) && l.z.sec.deny == denyCompact {
			var ok bool
			if l, ok = l.z.compactLookup(l, w); !ok {
				r.rcode = dns.RcodeServerFailure
				return
			}
		}
		p = proof{}
		if r.do && l.z != nil && l.z.Signed() {
			p = l.z.nameProof(l, w, qtype)
		}
	}
}

// answerNode answers from one existing (or wildcard) node. It returns the
// CNAME target to follow, or done.
func (s *Set) answerNode(r *response, l lookup, owner string, qtype uint16, o answerOpts, p proof) (string, bool) {
	n, z := l.n, l.z
	synth := ""
	if l.kind == kindWildcard {
		synth = owner
	}
	if n.nodata(qtype) {
		r.negative(z)
		if l.kind == kindWildcard {
			r.proof(z, p)
		} else {
			r.proof(z, z.nodataProof(n))
		}
		return "", true
	}
	if qtype == dns.TypeANY { // RFC 8482: one RRset, chosen as NSD chooses it
		if t, ok := anySet(n, r.signs(z)); !ok {
			r.negative(z)
			r.proof(z, z.nodataProof(n))
		} else {
			rrs := n.rrset(t)
			r.add(&r.an, z, n, t, rrs, synth)
			r.addresses(z, rrs)
			r.proof(z, p)
		}
		return "", true
	}
	if rrs := n.rrset(qtype); rrs != nil {
		r.add(&r.an, z, n, qtype, rrs, synth)
		r.addresses(z, rrs)
		if !o.minimal && qtype != dns.TypeDS && qtype != dns.TypeDNSKEY && !(n.isApex && qtype == dns.TypeNS) {
			ns := z.apex.rrset(dns.TypeNS)
			r.add(&r.ns, z, z.apex, dns.TypeNS, ns, "")
			r.addresses(z, ns)
		}
		r.proof(z, p)
		return "", true
	}
	if cn := n.rrset(dns.TypeCNAME); cn != nil {
		r.add(&r.an, z, n, dns.TypeCNAME, cn, synth)
		r.proof(z, p)
		return cn[0].(*dns.CNAME).Target, false
	}
	return "", true // not reached: nodata above
}

// anySet is the type of the one RRset an ANY query gets (RFC 8482 §4.1),
// false when there is none, picked as NSD picks it: the first in the
// file of A, AAAA, SOA, MX and PTR, else the last of the other types,
// else the last of DNSKEY, RRSIG and NSEC. RRSIGs are not picked when the
// answer carries DNSSEC records anyway.
func anySet(n *node, dnssec bool) (uint16, bool) {
	var normal, other uint16
	for t := range n.setTypes() {
		switch t {
		case dns.TypeA, dns.TypeAAAA, dns.TypeSOA, dns.TypeMX, dns.TypePTR:
			return t, true
		case dns.TypeRRSIG:
			if !dnssec {
				other = t
			}
		case dns.TypeDNSKEY, dns.TypeNSEC:
			other = t
		default:
			normal = t
		}
	}
	if normal != 0 {
		return normal, true
	}
	return other, other != 0
}

// synthesizeDNAME adds the DNAME and the CNAME it implies for owner
// (RFC 6672 §2.2); it returns the new name to follow.
func (s *Set) synthesizeDNAME(r *response, z *Zone, n *node, owner string, addDNAME bool) (string, bool) {
	dn := n.rrset(dns.TypeDNAME)
	d := dn[0].(*dns.DNAME)
	if addDNAME {
		r.add(&r.an, z, n, dns.TypeDNAME, dn, "")
	}
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

// dnameTargetWire is the lowercase wire form of n's DNAME target.
func dnameTargetWire(n *node) string {
	w, _ := wireName(n.rrset(dns.TypeDNAME)[0].(*dns.DNAME).Target)
	return w
}

func fitsWire(name string) bool {
	_, err := wireName(name)
	return err == nil
}

// addresses adds the A and AAAA records, found in z, of the names that
// NS, MX, SRV, KX, RT and MB records point to (RFC 1034 §3.6.2
// additional section processing), with their RRSIGs, as NSD adds them:
// the A RRsets of every name before the AAAA RRsets, a name that does not
// exist answered by the wildcard that covers it, glue below a delegation
// only for the names of name servers, and X25 and ISDN for RT targets
// last.
func (r *response) addresses(z *Zone, rrs []dns.RR) {
	for _, rr := range rrs {
		var target string
		glue := false
		switch v := rr.(type) {
		case *dns.NS:
			target, glue = v.Ns, true
		case *dns.MX:
			target = v.Mx
		case *dns.SRV:
			target = v.Target
		case *dns.KX:
			target = v.Exchanger
		case *dns.RT:
			target = v.Host
		case *dns.MB:
			target = v.Mb
		default:
			continue
		}
		w, err := wireName(target)
		if err != nil || !isSubdomainWire(w, z.wire) {
			continue
		}
		t, owner := z.nodes[w], ""
		if t == nil {
			l := z.find(w, dns.TypeA)
			if l.kind != kindWildcard {
				continue
			}
			t, owner = l.n, target
		}
		if t.cut != nil && t.cut != t && !glue {
			continue
		}
		types := []uint16{dns.TypeA, dns.TypeAAAA}
		if _, ok := rr.(*dns.RT); ok {
			types = append(types, dns.TypeX25, dns.TypeISDN)
		}
		for _, typ := range types {
			addrs := t.rrset(typ)
			if addrs == nil {
				continue
			}
			sec := &r.ar
			switch typ {
			case dns.TypeAAAA:
				sec = &r.ar6
			case dns.TypeX25, dns.TypeISDN:
				sec = &r.arOther
			}
			probe := addrs[0]
			if owner != "" {
				probe = &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: typ}}
			}
			if !containsSet(*sec, probe) {
				r.add(sec, z, t, typ, addrs, owner)
			}
		}
	}
}

func containsSet(list []dns.RR, rr dns.RR) bool {
	h := rr.Header()
	for _, x := range list {
		if x.Header().Rrtype == h.Rrtype && x.Header().Name == h.Name && covered(x) == covered(rr) {
			return true
		}
	}
	return false
}

// covered is the type an RRSIG covers, 0 for other records: RRSIGs at
// one name form one RRset per type they cover.
func covered(rr dns.RR) uint16 {
	if sig, ok := rr.(*dns.RRSIG); ok {
		return sig.TypeCovered
	}
	return 0
}

// dropDuplicateSets removes from ar the RRsets that already stand in an.
// An answer to a query for RRSIGs holds them as one RRset, which NSD does
// not match with those that stand beside the additional data.
func dropDuplicateSets(ar, an []dns.RR, qtype uint16) []dns.RR {
	out := ar[:0]
	for _, rr := range ar {
		if qtype == dns.TypeRRSIG && rr.Header().Rrtype == dns.TypeRRSIG || !containsSet(an, rr) {
			out = append(out, rr)
		}
	}
	return out
}
