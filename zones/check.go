package zones

import (
	"fmt"
	"maps"
	"runtime"
	"sort"
	"time"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/pool"
)

// check validates a built zone the way named-checkzone does. nodes are
// its names, hashed owners left out, in a fixed order (the order of the
// diagnostics with one line); they are checked on every core.
func (z *Zone) check(nodes []*node) Diagnostics {
	var diags Diagnostics
	report := func(sev Severity, line int, format string, args ...any) {
		if len(diags) < maxDiagsPerFile {
			diags = append(diags, Diagnostic{File: z.File, Line: line, Severity: sev, Msg: fmt.Sprintf(format, args...)})
		}
	}
	if !z.apex.has(dns.TypeNS) {
		report(Error, z.apex.firstLine(), "no NS records at the zone apex %s", z.Origin)
	}
	found := make([]Diagnostics, runtime.GOMAXPROCS(0))
	glue := make([]map[string]bool, len(found))
	parts := pool.Parts(len(nodes), 4096, func(k, start, end int) {
		glue[k] = map[string]bool{}
		report := func(sev Severity, line int, format string, args ...any) {
			if len(found[k]) < maxDiagsPerFile {
				found[k] = append(found[k], Diagnostic{File: z.File, Line: line, Severity: sev, Msg: fmt.Sprintf(format, args...)})
			}
		}
		for _, n := range nodes[start:end] {
			z.checkNode(n, report)
			if ns := n.rrset(dns.TypeNS); ns != nil {
				z.checkNameServers(n, ns, glue[k], report)
			}
		}
	})
	for k := range parts {
		diags = append(diags, found[k]...)
		if k > 0 {
			maps.Copy(glue[0], glue[k])
		}
	}
	for _, n := range nodes {
		if n.cut != nil && n.cut != n && !n.empty() && !glue[0][n.wire] && onlyAddresses(n) {
			report(Warning, n.allSets()[0].line, "%s: glue below the delegation %s that no NS record names", n.name, n.cut.name)
		}
	}
	if z.Signed() {
		names := make([]string, 0, len(z.nodes))
		for w := range z.nodes {
			names = append(names, w)
		}
		sort.Strings(names)
		z.checkSigned(time.Now(), names, report)
	}
	return diags
}

func (z *Zone) checkNode(n *node, report func(Severity, int, string, ...any)) {
	if cn := n.rrset(dns.TypeCNAME); cn != nil {
		if len(cn) > 1 {
			report(Error, n.allSets()[0].line, "%s: more than one CNAME record", n.name)
		}
		for _, s := range n.allSets() {
			switch s.rrtype {
			case dns.TypeCNAME, dns.TypeRRSIG, dns.TypeNSEC:
			default:
				report(Error, s.line, "%s: CNAME and other data (%s) at the same name", n.name, dns.TypeToString[s.rrtype])
			}
		}
	}
	if dn := n.rrset(dns.TypeDNAME); len(dn) > 1 {
		report(Error, n.allSets()[0].line, "%s: more than one DNAME record", n.name)
	}
	if n.dnameUp != nil && !n.empty() {
		report(Warning, n.allSets()[0].line, "%s is below the DNAME at %s and is never answered", n.name, n.dnameUp.name)
	}
	switch {
	case n.cut == n:
		for _, s := range n.allSets() {
			switch s.rrtype {
			case dns.TypeNS, dns.TypeDS, dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC:
			default:
				report(Warning, s.line, "%s: %s at a delegation point is never answered (only NS, DS and glue belong there)", n.name, dns.TypeToString[s.rrtype])
			}
		}
	case n.cut != nil:
		for _, s := range n.allSets() {
			if s.rrtype != dns.TypeA && s.rrtype != dns.TypeAAAA {
				report(Warning, s.line, "%s: %s below the delegation %s is not glue and is never answered", n.name, dns.TypeToString[s.rrtype], n.cut.name)
			}
		}
	}
	if n.isApex {
		if ds := n.rrset(dns.TypeDS); ds != nil {
			report(Error, n.allSets()[0].line, "%s: DS at the zone apex belongs in the parent zone", n.name)
		}
	}
}

// checkNameServers looks for an address for every name server inside
// the zone: glue below a delegation, ordinary data elsewhere.
func (z *Zone) checkNameServers(n *node, ns []dns.RR, glueUsed map[string]bool, report func(Severity, int, string, ...any)) {
	line := 0
	for _, s := range n.allSets() {
		if s.rrtype == dns.TypeNS {
			line = s.line
		}
	}
	for _, rr := range ns {
		target := rr.(*dns.NS).Ns
		tw, err := wireName(target)
		if err != nil || !isSubdomainWire(tw, z.wire) {
			continue
		}
		t := z.nodes[tw]
		hasAddr := t != nil && (t.has(dns.TypeA) || t.has(dns.TypeAAAA))
		if hasAddr {
			glueUsed[tw] = true
			continue
		}
		if t != nil && t.cut == nil && t.has(dns.TypeCNAME) {
			report(Error, line, "%s: name server %s is a CNAME (RFC 2181 §10.3)", n.name, target)
			continue
		}
		if t == nil {
			if l := z.find(tw, dns.TypeA); l.kind == kindWildcard && (l.n.has(dns.TypeA) || l.n.has(dns.TypeAAAA)) {
				report(Warning, line, "%s: name server %s has an address only through the wildcard %s", n.name, target, l.n.name)
				continue
			}
		}
		// NSD, Knot and BIND load such zones; the name server cannot be
		// reached through this zone, but no answer is wrong.
		if t != nil && t.cut != nil || n.isCut() && isSubdomainWire(tw, n.wire) {
			report(Warning, line, "%s: name server %s has no glue address (A or AAAA) in the zone", n.name, target)
		} else {
			report(Warning, line, "%s: name server %s is inside the zone but has no address (A or AAAA)", n.name, target)
		}
	}
}

func onlyAddresses(n *node) bool {
	for _, s := range n.allSets() {
		if s.rrtype != dns.TypeA && s.rrtype != dns.TypeAAAA {
			return false
		}
	}
	return true
}

// firstLine is the line of the node's first record, 0 if it has none.
func (n *node) firstLine() int {
	if n.empty() {
		return 0
	}
	return n.allSets()[0].line
}
