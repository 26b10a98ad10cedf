package zones

import (
	"encoding/binary"
	"net/netip"
	"time"
	"unsafe"

	"github.com/miekg/dns"
)

// scratch is one serving goroutine's reusable memory.
type scratch struct {
	q     query
	lower [256]byte
	opt   []byte
}

func newScratch() *scratch { return &scratch{opt: make([]byte, 0, 128)} }

// handle answers the request pkt from client, appending the response to
// out[:0]. It returns nil when nothing should be sent (runt packets and
// responses). Every packet, however malformed, gets here safely.
func (s *Server) handle(pkt, out []byte, sc *scratch, client netip.Addr, tcp bool) []byte {
	if len(pkt) >= 12 && pkt[2]&0x80 == 0 && int(pkt[2]>>3&0xf) == dns.OpcodeNotify && s.following() {
		return s.notifyQuery(pkt, out, client)
	}
	q := &sc.q
	err := parseQuery(pkt, q, sc.lower[:])
	if len(pkt) < 12 || q.flags&flagQR != 0 {
		return nil
	}
	switch {
	case err != nil:
		return s.header(out, q, dns.RcodeFormatError)
	case q.opcode != dns.OpcodeQuery:
		return s.bare(out, q, dns.RcodeNotImplemented, sc, client)
	case q.edns && q.ednsVersion > 0:
		return s.bare(out, q, dns.RcodeBadVers, sc, client)
	case q.tsig && len(s.keys) == 0: // RFC 8945 §5.2.2
		return s.bare(out, q, dns.RcodeNotAuth, sc, client)
	case q.tsig:
		return s.signedQuery(pkt, out, sc, client, tcp)
	}
	switch q.qtype {
	case typeOPT, typeTSIG, dns.TypeTKEY, dns.TypeNXNAME: // NXNAME: RFC 9824 §3.5
		return s.bare(out, q, dns.RcodeFormatError, sc, client)
	case dns.TypeAXFR, dns.TypeIXFR:
		if len(s.cfg.AllowTransfer) == 0 {
			return s.bare(out, q, dns.RcodeRefused, sc, client)
		}
		// over TCP, serveTransfer has them
		m := new(dns.Msg)
		if m.Unpack(pkt) != nil {
			return s.header(out, q, dns.RcodeFormatError)
		}
		wire, err := s.transferOverUDP(m, client, nil).PackBuffer(out[:0])
		if err != nil {
			return s.header(out, q, dns.RcodeServerFailure)
		}
		return wire
	}
	switch q.qclass {
	case dns.ClassINET:
	case dns.ClassCHAOS:
		return s.chaos(out, q, sc, client, tcp)
	default:
		return s.bare(out, q, dns.RcodeRefused, sc, client)
	}
	set := s.set.Load()
	limit := s.limit(q, tcp)
	if ch := s.challenges.Load(); ch != nil {
		if values, ok := (*ch)[string(q.lower)]; ok {
			q.zone = set.closestZone(string(q.lower))
			return s.fromMsg(out, q, s.challenge(set, q, values), limit, sc, client)
		}
	}
	qw := unsafe.String(&q.lower[0], len(q.lower))
	l := set.find(qw, q.qtype)
	q.zone = l.z
	if q.do && (l.kind == kindNXDomain || l.kind == kindWildcard) && l.z.sec.deny == denyCompact {
		var ok bool
		if l, ok = l.z.compactLookup(l, qw); !ok {
			// the signing budget is spent: a spoofed flood over UDP
			// ends here, a resolver comes back over TCP
			if tcp {
				return s.bare(out, q, dns.RcodeServerFailure, sc, client)
			}
			return append(s.appendHeader(out[:0], q, flagTC, 1, 0, 0, 0), q.question...)
		}
	}
	// Without a signed zone DO changes nothing: those answers share the
	// compiled ones of queries without it.
	o := answerOpts{minimal: s.cfg.Minimal, do: q.do && set.signed}
	var p proof
	if q.do && l.z != nil && l.z.Signed() {
		p = l.z.nameProof(l, qw, q.qtype)
	}
	if b := set.blobFor(l, q.qtype, o, p); b != nil {
		optLen := 0
		if q.edns {
			sc.opt = s.appendOPT(sc.opt[:0], q, 0, client)
			optLen = len(sc.opt)
		}
		if 12+len(q.question)+len(b.data)+optLen <= limit {
			return s.fromBlob(out, q, b, sc.opt[:optLen])
		}
	}
	r := set.respond(l, questionName(q), q.qtype, o, p)
	return s.fromMsg(out, q, r, limit, sc, client)
}

// limit is the largest response the client takes (RFC 6891 §6.2.5).
func (s *Server) limit(q *query, tcp bool) int {
	switch {
	case tcp:
		return dns.MaxMsgSize
	case q.edns:
		return max(512, min(int(q.udpSize), s.cfg.MaxUDPSize))
	}
	return 512
}

// fromBlob copies a compiled response behind the query's own question.
func (s *Server) fromBlob(out []byte, q *query, b *blob, opt []byte) []byte {
	ar := b.ar
	if len(opt) > 0 {
		ar++
	}
	out = s.appendHeader(out[:0], q, b.flags, 1, b.an, b.ns, ar)
	out = append(out, q.question...)
	start := len(out)
	out = append(out, b.data...)
	if delta := uint16(len(q.qname) - b.base); delta != 0 {
		for _, p := range b.rel {
			at := start + int(p)
			binary.BigEndian.PutUint16(out[at:], binary.BigEndian.Uint16(out[at:])+delta)
		}
	}
	return append(out, opt...)
}

func (s *Server) appendHeader(out []byte, q *query, flags, qd, an, ns, ar uint16) []byte {
	flags |= flagQR | uint16(q.opcode)<<11 | q.flags&(flagRD|flagCD)
	out = binary.BigEndian.AppendUint16(out, q.id)
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, qd)
	out = binary.BigEndian.AppendUint16(out, an)
	out = binary.BigEndian.AppendUint16(out, ns)
	return binary.BigEndian.AppendUint16(out, ar)
}

// header is a response of only a header: for queries too broken to echo.
func (s *Server) header(out []byte, q *query, rcode int) []byte {
	return s.appendHeader(out[:0], q, uint16(rcode&0xf), 0, 0, 0, 0)
}

// bare answers with an rcode, the question and, for EDNS queries, an OPT
// record carrying the extended rcode bits.
func (s *Server) bare(out []byte, q *query, rcode int, sc *scratch, client netip.Addr) []byte {
	var ar uint16
	if q.edns {
		ar = 1
	}
	out = s.appendHeader(out[:0], q, uint16(rcode&0xf), 1, 0, 0, ar)
	out = append(out, q.question...)
	if q.edns {
		out = s.appendOPT(out, q, uint8(rcode>>4), client)
	}
	return out
}

// appendOPT writes the response's OPT record (RFC 6891 §6.1.2) with the
// options the query asked for: NSID and COOKIE.
func (s *Server) appendOPT(out []byte, q *query, extRcode uint8, client netip.Addr) []byte {
	out = append(out, 0)
	out = binary.BigEndian.AppendUint16(out, typeOPT)
	out = binary.BigEndian.AppendUint16(out, uint16(s.cfg.MaxUDPSize))
	var do byte
	if q.do {
		do = 0x80
	}
	out = append(out, extRcode, 0, do, 0)
	lenAt := len(out)
	out = append(out, 0, 0)
	if q.nsid && s.cfg.NSID != "" {
		out = binary.BigEndian.AppendUint16(out, optNSID)
		out = binary.BigEndian.AppendUint16(out, uint16(len(s.cfg.NSID)))
		out = append(out, s.cfg.NSID...)
	}
	if q.cookie != nil && client.IsValid() {
		out = binary.BigEndian.AppendUint16(out, optCookie)
		out = binary.BigEndian.AppendUint16(out, 24)
		out = serverCookie(out, s.cfg.CookieSecret, q.cookie, client, time.Now())
	}
	binary.BigEndian.PutUint16(out[lenAt:], uint16(len(out)-lenAt-2))
	return out
}

// questionName is the question name in presentation form, case kept.
func questionName(q *query) string {
	name, _, err := dns.UnpackDomainName(q.qname, 0)
	if err != nil {
		return "."
	}
	return name
}

// fromMsg packs a response built record by record: answers that depend
// on the question name (DNAME) and answers that need truncating.
func (s *Server) fromMsg(out []byte, q *query, r *response, limit int, sc *scratch, client netip.Addr) []byte {
	m := &dns.Msg{Compress: true}
	m.Id = q.id
	m.Response = true
	m.Opcode = int(q.opcode)
	m.RecursionDesired = q.flags&flagRD != 0
	m.CheckingDisabled = q.flags&flagCD != 0
	m.Authoritative = r.aa
	m.Rcode = r.rcode
	m.Question = []dns.Question{{Name: questionName(q), Qtype: q.qtype, Qclass: q.qclass}}
	m.Answer, m.Ns, m.Extra = r.an, r.ns, r.ar
	optLen := 0
	if q.edns {
		sc.opt = s.appendOPT(sc.opt[:0], q, 0, client)
		optLen = len(sc.opt)
	}
	truncate(m, limit-optLen)
	buf, err := m.PackBuffer(out[:cap(out)])
	if err != nil {
		return s.header(out, q, dns.RcodeServerFailure)
	}
	if q.edns {
		buf = append(buf, sc.opt...)
		binary.BigEndian.PutUint16(buf[10:], binary.BigEndian.Uint16(buf[10:])+1)
	}
	return buf
}
