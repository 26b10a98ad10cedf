package zones

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// chaos answers the CHAOS-class TXT names that report who the server is
// (id.server, hostname.bind; RFC 4892) and what it runs (version.bind,
// version.server). Both are off unless configured: REFUSED.
func (s *Server) chaos(out []byte, q *query, sc *scratch, client netip.Addr, tcp bool) []byte {
	if !s.cfg.Chaos || (q.qtype != dns.TypeTXT && q.qtype != dns.TypeANY) {
		return s.bare(out, q, dns.RcodeRefused, sc, client)
	}
	name := strings.ToLower(questionName(q))
	var text string
	switch name {
	case "id.server.", "hostname.bind.":
		text = s.cfg.Identity
	case "version.server.", "version.bind.":
		text = s.cfg.Version
	default:
		return s.bare(out, q, dns.RcodeRefused, sc, client)
	}
	r := &response{aa: true, an: []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: questionName(q), Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{text},
	}}}
	return s.fromMsg(out, q, r, s.limit(q, tcp), sc, client)
}
