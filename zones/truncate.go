package zones

import "github.com/miekg/dns"

// truncate makes m fit in limit octets the way RFC 2181 §9 asks: the
// additional section may lose whole RRsets silently, and so may the
// zone's NS RRset beside a positive answer (as NSD drops it), but when the answer
// or authority does not fit, TC is set and only the answer RRsets that fit
// whole are kept. A referral whose glue lies inside the delegated zone
// needs that glue (RFC 9471), so it too is truncated with TC.
func truncate(m *dns.Msg, limit int) {
	if m.Len() <= limit {
		return
	}
	required := requiredGlue(m)
	for len(m.Extra) > required && m.Len() > limit {
		m.Extra = dropLastSet(m.Extra)
	}
	if m.Len() <= limit {
		return
	}
	if len(m.Answer) > 0 && onlyNS(m.Ns) { // the zone's NS beside an answer is optional too
		m.Ns = nil
		if m.Len() <= limit {
			return
		}
	}
	m.Truncated = true
	m.Ns, m.Extra = nil, nil
	for len(m.Answer) > 0 && m.Len() > limit {
		m.Answer = dropLastSet(m.Answer)
	}
}

// onlyNS reports whether rrs are NS records and the RRSIGs covering them.
func onlyNS(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeNS && covered(rr) != dns.TypeNS {
			return false
		}
	}
	return len(rrs) > 0
}

// requiredGlue counts the leading additional records that are in-domain
// glue of a referral; referral puts them first.
func requiredGlue(m *dns.Msg) int {
	if m.Authoritative || len(m.Answer) > 0 || len(m.Ns) == 0 {
		return 0
	}
	cut := m.Ns[0].Header().Name
	n := 0
	for _, rr := range m.Extra {
		if !dns.IsSubDomain(cut, rr.Header().Name) {
			break
		}
		n++
	}
	return n
}

// dropLastSet drops the last RRset of rrs, and with RRSIGs the RRset
// they cover: a record is never sent without its signatures.
func dropLastSet(rrs []dns.RR) []dns.RR {
	sig, ok := rrs[len(rrs)-1].(*dns.RRSIG)
	rrs = dropOneSet(rrs)
	if ok && len(rrs) > 0 {
		h := rrs[len(rrs)-1].Header()
		if h.Rrtype == sig.TypeCovered && h.Name == sig.Hdr.Name {
			rrs = dropOneSet(rrs)
		}
	}
	return rrs
}

func dropOneSet(rrs []dns.RR) []dns.RR {
	last := rrs[len(rrs)-1].Header()
	i := len(rrs) - 1
	for i > 0 {
		h := rrs[i-1].Header()
		if h.Rrtype != last.Rrtype || h.Name != last.Name || covered(rrs[i-1]) != covered(rrs[len(rrs)-1]) {
			break
		}
		i--
	}
	return rrs[:i]
}
