package zones

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// soonExpiry is how close to its expiry a signature gets a warning.
const soonExpiry = 7 * 24 * time.Hour

// checkSigned warns about what would make a validator reject a signed
// zone's answers: signatures that have expired or expire within a week,
// RRsets without a signature, names missing from the NSEC or NSEC3
// chain and links of the chain that do not lead to the next name. islet
// serves what the signer wrote; these are warnings, as in
// ldns-verify-zone and dnssec-verify.
func (z *Zone) checkSigned(now time.Time, names []string, report func(Severity, int, string, ...any)) {
	z.checkSignatures(now, names, report)
	switch z.sec.deny {
	case denyNSEC:
		z.checkNSECChain(names, report)
	case denyNSEC3:
		z.checkNSEC3Chain(names, report)
	} // compact denial has no chain: each name holds its own NSEC
}

// authoritative reports whether n's RRsets are the zone's own (signed)
// data: not glue below a delegation.
func (n *node) authoritative() bool { return n.cut == nil || n.cut == n }

// signedType reports whether an RRset of type t at n needs an RRSIG: at
// a delegation only DS and NSEC are the parent's (RFC 4035 §2.2).
func (n *node) signedType(t uint16) bool {
	switch {
	case t == dns.TypeRRSIG:
		return false
	case n.cut == n:
		return t == dns.TypeDS || t == dns.TypeNSEC
	}
	return n.authoritative()
}

// checkSignatures looks at every RRSIG and RRset; names are the zone's
// wire names, sorted, so that the first one reported is always the same.
func (z *Zone) checkSignatures(now time.Time, names []string, report func(Severity, int, string, ...any)) {
	var expired, soon, unsigned int
	var firstExpired, firstSoon, firstUnsigned string
	var expiredLine, soonLine, unsignedLine int
	visit := func(n *node) {
		for _, s := range n.allSets() {
			if s.rrtype == dns.TypeRRSIG {
				for _, rr := range s.rrs {
					sig := rr.(*dns.RRSIG)
					end := serialTime(sig.Expiration, now)
					switch {
					case end.Before(now):
						if expired == 0 {
							firstExpired = fmt.Sprintf("%s %s on %s", n.name, dns.TypeToString[sig.TypeCovered], end.UTC().Format(time.DateTime))
							expiredLine = s.line
						}
						expired++
					case end.Before(now.Add(soonExpiry)):
						if soon == 0 {
							firstSoon = fmt.Sprintf("%s %s on %s", n.name, dns.TypeToString[sig.TypeCovered], end.UTC().Format(time.DateTime))
							soonLine = s.line
						}
						soon++
					}
				}
				continue
			}
			if n.signedType(s.rrtype) && len(n.sigs(s.rrtype)) == 0 {
				if unsigned == 0 {
					firstUnsigned = n.name + " " + dns.TypeToString[s.rrtype]
					unsignedLine = s.line
				}
				unsigned++
			}
		}
	}
	for _, w := range names {
		visit(z.nodes[w])
	}
	for _, link := range z.sec.chain {
		if z.sec.deny == denyNSEC3 {
			visit(link.n)
		}
	}
	if expired > 0 {
		report(Warning, expiredLine, "%s expired: the first is %s; validators reject the answers they sign", count(expired, "signature"), firstExpired)
	}
	if soon > 0 {
		report(Warning, soonLine, "%s within a week: the first is %s; sign the zone again", verb(count(soon, "signature"), soon, "expires", "expire"), firstSoon)
	}
	if unsigned > 0 {
		report(Warning, unsignedLine, "%s of the signed zone %s %s no RRSIG: the first is %s; validators reject them", count(unsigned, "RRset"), z.Origin, verb("", unsigned, "has", "have"), firstUnsigned)
	}
}

// verb appends to s (when not empty) the singular or plural form for n.
func verb(s string, n int, one, many string) string {
	v := many
	if n == 1 {
		v = one
	}
	if s == "" {
		return v
	}
	return s + " " + v
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// serialTime reads an RRSIG time, a 32-bit count of seconds compared in
// serial number arithmetic (RFC 4034 §3.1.5), as the moment nearest now.
func serialTime(v uint32, now time.Time) time.Time {
	const span = 1 << 32
	t := now.Unix() - now.Unix()%span + int64(v)
	switch {
	case t-now.Unix() > span/2:
		t -= span
	case now.Unix()-t > span/2:
		t += span
	}
	return time.Unix(t, 0)
}

// checkNSECChain follows the NSEC records: each must name the next name
// of the chain, the last the apex, and every authoritative name with
// data must be in it.
func (z *Zone) checkNSECChain(names []string, report func(Severity, int, string, ...any)) {
	chain := z.sec.chain
	for i, link := range chain {
		next := chain[(i+1)%len(chain)].n
		nsec := link.n.rrset(dns.TypeNSEC)[0].(*dns.NSEC)
		if !strings.EqualFold(dns.Fqdn(nsec.NextDomain), next.name) {
			report(Warning, link.n.lineOf(dns.TypeNSEC), "%s NSEC: the chain is broken: it names %s as next, but the next name is %s", link.n.name, nsec.NextDomain, next.name)
			return
		}
	}
	missing, first, line := 0, "", 0
	for _, w := range names {
		if n := z.nodes[w]; !n.empty() && n.authoritative() && !n.has(dns.TypeNSEC) {
			if missing == 0 {
				first, line = n.name, n.firstLine()
			}
			missing++
		}
	}
	if missing > 0 {
		report(Warning, line, "%s of the signed zone %s %s missing from the NSEC chain: the first is %s", count(missing, "name"), z.Origin, verb("", missing, "is", "are"), first)
	}
}

// checkNSEC3Chain follows the NSEC3 records in hash order: each must
// name the next hash, and every authoritative name must have one, except
// those opt-out lets go (insecure delegations and the names only they
// make).
func (z *Zone) checkNSEC3Chain(names []string, report func(Severity, int, string, ...any)) {
	chain := z.sec.chain
	for i, link := range chain {
		next := chain[(i+1)%len(chain)]
		rr := link.n.rrset(dns.TypeNSEC3)[0].(*dns.NSEC3)
		if !strings.EqualFold(rr.NextDomain, next.key) {
			report(Warning, link.n.lineOf(dns.TypeNSEC3), "%s NSEC3: the chain is broken: it names %s as next, but the next hash is %s", link.n.name, strings.ToLower(rr.NextDomain), next.key)
			return
		}
	}
	optOut := z.anyOptOut()
	needed := z.namesNeedingNSEC3()
	missing, first, line := 0, "", 0
	for _, w := range names {
		n := z.nodes[w]
		if z.nsec3Match(w) != nil || optOut && !needed[n] || !optOut && !n.authoritative() {
			continue
		}
		if missing == 0 {
			first, line = n.name, n.firstLine()
		}
		missing++
	}
	if missing > 0 {
		report(Warning, line, "%s of the signed zone %s %s no NSEC3 record: the first is %s", count(missing, "name"), z.Origin, verb("", missing, "has", "have"), first)
	}
}

// namesNeedingNSEC3 is the names opt-out may not leave out (RFC 5155
// §7.1): those with authoritative data other than an insecure
// delegation, and every name above them.
func (z *Zone) namesNeedingNSEC3() map[*node]bool {
	needed := map[*node]bool{}
	for _, n := range z.nodes {
		if n.empty() || !n.authoritative() || n.cut == n && !n.has(dns.TypeDS) {
			continue
		}
		for m := n; m != nil && !needed[m]; m = m.parent {
			needed[m] = true
		}
	}
	return needed
}

// anyOptOut reports whether an NSEC3 record of the zone has the opt-out
// flag.
func (z *Zone) anyOptOut() bool {
	for _, link := range z.sec.chain {
		if link.n.rrset(dns.TypeNSEC3)[0].(*dns.NSEC3).Flags&1 != 0 {
			return true
		}
	}
	return false
}

// lineOf is the line of n's RRset of type t, 0 if it has none.
func (n *node) lineOf(t uint16) int {
	for _, s := range n.allSets() {
		if s.rrtype == t {
			return s.line
		}
	}
	return 0
}
