package zones

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// challengeTTL keeps ACME validation records out of caches.
const challengeTTL = 1

// PublishTXT adds a TXT record with value at name, for ACME DNS-01
// (RFC 8555 §8.4): name must be "_acme-challenge." below a zone this
// server answers for. Until UnpublishTXT removes it, queries for name
// get it in addition to whatever the zone holds there. When the zones
// are transferred, it goes into a new version of the zone, which the
// secondaries get too (see WaitPublished).
func (s *Server) PublishTXT(name, value string) error {
	w, err := wireName(name)
	if err != nil {
		return fmt.Errorf("zones: publish %s: %w", name, err)
	}
	if !strings.HasPrefix(strings.ToLower(name), "_acme-challenge.") {
		return fmt.Errorf("zones: publish %s: only _acme-challenge names", name)
	}
	z := s.set.Load().closestZone(w)
	if z == nil {
		return fmt.Errorf("zones: publish %s: not inside any zone served here", name)
	}
	s.chmu.Lock()
	defer s.chmu.Unlock()
	if s.inZoneChallenges(z) {
		return s.editChallenge(z, name, value, true)
	}
	next := map[string][]string{}
	if cur := s.challenges.Load(); cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	next[w] = append(slices.Clone(next[w]), value)
	s.challenges.Store(&next)
	return nil
}

// UnpublishTXT removes a record added by PublishTXT.
func (s *Server) UnpublishTXT(name, value string) {
	w, err := wireName(name)
	if err != nil {
		return
	}
	s.chmu.Lock()
	defer s.chmu.Unlock()
	if z := s.set.Load().closestZone(w); z != nil && s.inZoneChallenges(z) {
		if err := s.editChallenge(z, name, value, false); err != nil {
			s.log.Warn("ACME challenge record not withdrawn", "name", name, "err", err)
		}
		return
	}
	cur := s.challenges.Load()
	if cur == nil {
		return
	}
	next := map[string][]string{}
	for k, v := range *cur {
		next[k] = v
	}
	next[w] = slices.DeleteFunc(slices.Clone(next[w]), func(x string) bool { return x == value })
	if len(next[w]) == 0 {
		delete(next, w)
	}
	if len(next) == 0 {
		s.challenges.Store(nil)
		return
	}
	s.challenges.Store(&next)
}

// challenge answers a query for a name with published records: TXT
// queries get them (and the zone's own TXT there, if any), other types
// get NODATA.
func (s *Server) challenge(set *Set, q *query, values []string) *response {
	qname := questionName(q)
	l := set.find(string(q.lower), q.qtype)
	r := &response{aa: true}
	if q.qtype == dns.TypeTXT || q.qtype == dns.TypeANY {
		if l.kind == kindExact {
			r.an = append(r.an, l.n.rrset(dns.TypeTXT)...)
		}
		for _, v := range values {
			r.an = append(r.an, &dns.TXT{Hdr: dns.RR_Header{Name: qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: challengeTTL}, Txt: []string{v}})
		}
		return r
	}
	if l.z != nil {
		r.ns = append(r.ns, l.z.negativeSOA())
	}
	return r
}
