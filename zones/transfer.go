package zones

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Build makes a zone of origin from records that did not come from a
// file (a zone transfer, say), validated as a loaded file is. source
// names where they came from in diagnostics ("AXFR from 192.0.2.1:53"),
// and a diagnostic's line is the record's position in rrs, from 1. Any
// Error diagnostic means no zone, and the error is a *LoadError.
func Build(origin, source string, rrs []dns.RR) (*Zone, Diagnostics, error) {
	parsed := make([]parsedRR, len(rrs))
	for i, rr := range rrs {
		parsed[i] = parsedRR{rr: rr, file: source, line: i + 1}
	}
	z, diags := buildZone(source, parsed)
	if z != nil && !strings.EqualFold(z.Origin, dns.Fqdn(origin)) {
		diags = append(diags, Diagnostic{File: source, Severity: Error, Msg: fmt.Sprintf("the SOA is at %s, not at the zone's origin %s", z.Origin, dns.Fqdn(origin))})
	}
	if diags.HasErrors() {
		return nil, diags, &LoadError{Diagnostics: diags}
	}
	return z, diags, nil
}

// With returns a set holding z in place of the zone of the same origin,
// or beside the others when there is none. s itself is not changed.
func (s *Set) With(z *Zone) *Set {
	list := make([]*Zone, 0, len(s.list)+1)
	for _, old := range s.list {
		if old.wire != z.wire {
			list = append(list, old)
		}
	}
	return newSet(append(list, z))
}

// SwapZone makes z answered from now on in place of the zone of the
// same origin (or beside the others), leaving every other zone as it
// is, and returns the zone it replaced, or nil. Like Swap, it is atomic:
// a query sees the set before or after, never a mix.
func (s *Server) SwapZone(z *Zone) *Zone {
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	cur := s.set.Load()
	s.set.Store(cur.With(z))
	s.warmTransfers([]*Zone{z})
	return cur.zones[z.wire]
}
