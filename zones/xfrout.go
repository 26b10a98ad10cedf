package zones

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TransferACL lets the addresses of Prefix transfer the zones; with Key
// set, only with requests signed by that key.
type TransferACL struct {
	Prefix netip.Prefix
	Key    string // a TSIGKey's Name, or ""
}

// ParseTransferACL reads PREFIX[@KEYNAME]; an address alone is a
// prefix of its full length.
func ParseTransferACL(s string) (TransferACL, error) {
	p, key, _ := strings.Cut(s, "@")
	var a TransferACL
	if strings.Contains(p, "/") {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return a, fmt.Errorf("%q: want PREFIX[@KEYNAME]: %w", s, err)
		}
		a.Prefix = pfx.Masked()
	} else {
		addr, err := netip.ParseAddr(p)
		if err != nil {
			return a, fmt.Errorf("%q: want PREFIX[@KEYNAME]: %w", s, err)
		}
		a.Prefix = netip.PrefixFrom(addr, addr.BitLen())
	}
	if key != "" {
		a.Key = strings.ToLower(dns.Fqdn(key))
	}
	return a, nil
}

// maxTransfers bounds the zone transfers served at once; more wait.
const maxTransfers = 8

// transferMessageSize is the most octets of records put in one message
// of a transfer (RFC 5936 allows 65535; NSD and Knot use about this).
const transferMessageSize = 16 << 10

// transferAllowed reports whether client may transfer with the request
// c checked (nil: unsigned). A request with a bad signature has already
// been answered.
func (s *Server) transferAllowed(client netip.Addr, c *tsigCheck) bool {
	client = client.Unmap()
	for _, a := range s.cfg.AllowTransfer {
		if !a.Prefix.Contains(client) {
			continue
		}
		if a.Key == "" || c != nil && c.key != nil && c.key.Name == a.Key {
			return true
		}
	}
	return false
}

// transferZone is the zone a transfer request names, nil when the name
// is not the apex of one.
func (s *Server) transferZone(m *dns.Msg) *Zone {
	z := s.set.Load().ZoneFor(m.Question[0].Name)
	if z == nil || !strings.EqualFold(z.Origin, dns.Fqdn(m.Question[0].Name)) {
		return nil
	}
	return z
}

// transferOverUDP answers an IXFR (or AXFR) request that came over UDP:
// IXFR with the zone's SOA alone, which tells a client behind the
// current serial to come back over TCP (RFC 1995 §2); AXFR is refused
// (RFC 5936 §4.2).
func (s *Server) transferOverUDP(m *dns.Msg, client netip.Addr, c *tsigCheck) *dns.Msg {
	r := new(dns.Msg)
	z := s.transferZone(m)
	switch {
	case m.Question[0].Qtype == dns.TypeAXFR || !s.transferAllowed(client, c):
		return r.SetRcode(m, dns.RcodeRefused)
	case z == nil:
		return r.SetRcode(m, dns.RcodeNotAuth)
	}
	r.SetReply(m)
	r.Authoritative = true
	r.Answer = []dns.RR{z.soa}
	return r
}

// isTransfer reports whether pkt is a query for AXFR or IXFR, without
// unpacking it.
func isTransfer(pkt []byte) bool {
	if len(pkt) < 12 || binary.BigEndian.Uint16(pkt[4:]) != 1 || pkt[2]&0xf8 != 0 {
		return false
	}
	off := 12
	for off < len(pkt) && pkt[off] != 0 {
		if pkt[off]&0xc0 != 0 {
			return false
		}
		off += int(pkt[off]) + 1
	}
	if off+3 > len(pkt) {
		return false
	}
	t := binary.BigEndian.Uint16(pkt[off+1:])
	return t == dns.TypeAXFR || t == dns.TypeIXFR
}

// serveTransfer answers an AXFR or IXFR request over TCP (RFC 5936,
// RFC 1995): the whole zone, SOA first and last, in as many messages as
// it takes, each signed when the request was (RFC 8945 §5.3.1). An IXFR
// from a client at the current serial or later gets the SOA alone; one
// behind it the differences since its serial when the journal has them
// all, else the whole zone.
func (s *Server) serveTransfer(c net.Conn, w *bufio.Writer, pkt []byte, client netip.Addr) error {
	m := new(dns.Msg)
	if err := m.Unpack(pkt); err != nil || len(m.Question) != 1 {
		r := new(dns.Msg)
		r.Id = binary.BigEndian.Uint16(pkt)
		r.Response, r.Rcode = true, dns.RcodeFormatError
		s.observeTransfer("", dns.TypeAXFR, "failed")
		return writeMessages(c, w, []*dns.Msg{r}, nil)
	}
	var check *tsigCheck
	if m.IsTsig() != nil {
		if len(s.keys) == 0 {
			s.observeTransfer("", m.Question[0].Qtype, "refused")
			return writeMessages(c, w, []*dns.Msg{new(dns.Msg).SetRcode(m, dns.RcodeNotAuth)}, nil)
		}
		ch := s.verifyTSIG(pkt, m)
		check = &ch
		if ch.error != 0 {
			s.log.Info("transfer refused: TSIG check failed", "client", client, "zone", m.Question[0].Name, "key", ch.req.Hdr.Name, "error", dns.RcodeToString[int(ch.error)])
			s.observeTransfer("", m.Question[0].Qtype, "refused")
			return writeMessages(c, w, []*dns.Msg{new(dns.Msg).SetRcode(m, dns.RcodeNotAuth)}, check)
		}
	}
	q := m.Question[0]
	z := s.transferZone(m)
	origin := ""
	if z != nil {
		origin = z.Origin
	}
	switch {
	case !s.transferAllowed(client, check):
		s.log.Info("transfer refused", "client", client, "zone", q.Name, "type", dns.TypeToString[q.Qtype], "key", keyName(check))
		s.observeTransfer(origin, q.Qtype, "refused")
		return writeMessages(c, w, []*dns.Msg{new(dns.Msg).SetRcode(m, dns.RcodeRefused)}, check)
	case z == nil || q.Qclass != dns.ClassINET:
		s.observeTransfer("", q.Qtype, "notauth")
		return writeMessages(c, w, []*dns.Msg{new(dns.Msg).SetRcode(m, dns.RcodeNotAuth)}, check)
	}
	select {
	case s.transfers <- struct{}{}:
		defer func() { <-s.transfers }()
	case <-time.After(tcpWriteTimeout):
		s.observeTransfer(origin, q.Qtype, "busy")
		return writeMessages(c, w, []*dns.Msg{new(dns.Msg).SetRcode(m, dns.RcodeServerFailure)}, check)
	}
	var chunks [][]dns.RR
	kind := "AXFR"
	whole := false
	switch from, ok := ixfrSerial(m); {
	case q.Qtype != dns.TypeIXFR || !ok:
		whole = true
	case from == z.soa.Serial || z.soa.Serial-from >= 1<<31:
		chunks, kind = [][]dns.RR{{z.soa}}, "IXFR, up to date"
	default:
		if deltas, ok := s.cfg.Journal.since(z.Origin, from, z.soa.Serial); ok {
			chunks, kind = chunkRecords(ixfrRecords(z.soa, deltas)), fmt.Sprintf("IXFR, %d changes", len(deltas))
		} else {
			kind, whole = "IXFR answered with the whole zone", true
		}
	}
	start := time.Now()
	var err error
	var signer *wireSigner
	if whole {
		if check != nil {
			if signer, err = newWireSigner(*check, time.Now().Unix()); err != nil {
				chunks, whole = z.chunkAll(), false // signed as messages, below
			}
		}
	}
	records, messages := z.count+1, 0 // a whole zone, the SOA again at the end
	if whole {
		messages, err = writeWire(c, w, z.transferWire(), pkt, q.Qtype, signer)
	} else {
		records, messages = 0, len(chunks)
		for _, c := range chunks {
			records += len(c)
		}
		err = writeMessages(c, w, transferMessages(m, chunks), check)
	}
	if err != nil {
		s.log.Info("transfer cut short", "client", client, "zone", z.Origin, "err", err)
		s.observeTransfer(origin, q.Qtype, "failed")
		return err
	}
	s.log.Info("zone transferred", "client", client, "zone", z.Origin, "type", kind, "serial", z.soa.Serial,
		"records", records, "messages", messages, "key", keyName(check), "took", time.Since(start).Round(time.Millisecond))
	s.observeTransfer(origin, q.Qtype, "ok")
	return nil
}

// writeWire writes the packed messages of a whole transfer answering
// the request pkt (of type qtype): each with the request's ID, RD and CD
// bits, the first with its question as asked. It returns how many it
// wrote.
func writeWire(c net.Conn, w *bufio.Writer, wire iter.Seq2[[]byte, error], pkt []byte, qtype uint16, signer *wireSigner) (int, error) {
	i := -1
	for b, err := range wire {
		if err != nil {
			return i + 1, err
		}
		i++
		var hdr [14]byte
		binary.BigEndian.PutUint16(hdr[:], uint16(len(b)))
		copy(hdr[2:], b[:12])
		copy(hdr[2:4], pkt[:2])             // ID
		hdr[4] = hdr[4]&^0x01 | pkt[2]&0x01 // RD
		hdr[5] = hdr[5]&^0x10 | pkt[3]&0x10 // CD
		rest := b[12:]
		var q []byte
		if i == 0 {
			// the question: the name as asked (same length: it is the
			// origin, in another case at most), then the type
			n := 0
			for n < len(rest) && rest[n] != 0 {
				n += int(rest[n]) + 1
			}
			n++
			q = append([]byte(nil), rest[:n+4]...)
			if len(pkt) >= 12+n && strings.EqualFold(string(pkt[12:12+n]), string(q[:n])) {
				copy(q, pkt[12:12+n])
			}
			binary.BigEndian.PutUint16(q[n:], qtype)
			rest = rest[n+4:]
		}
		var tsig []byte
		if signer != nil {
			tsig = signer.sign([][]byte{hdr[2:], q, rest}, binary.BigEndian.Uint16(pkt), i == 0)
			binary.BigEndian.PutUint16(hdr[:], uint16(len(b)+len(tsig)))
			binary.BigEndian.PutUint16(hdr[12:], binary.BigEndian.Uint16(hdr[12:])+1) // ARCOUNT
		}
		c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
		w.Write(hdr[:])
		w.Write(q)
		w.Write(rest)
		if _, err := w.Write(tsig); err != nil {
			return i + 1, err
		}
	}
	return i + 1, w.Flush()
}

func keyName(c *tsigCheck) string {
	if c == nil || c.key == nil {
		return ""
	}
	return c.key.Name
}

// ixfrSerial is the serial of the SOA an IXFR request carries.
func ixfrSerial(m *dns.Msg) (uint32, bool) {
	if len(m.Ns) == 0 {
		return 0, false
	}
	soa, ok := m.Ns[0].(*dns.SOA)
	if !ok {
		return 0, false
	}
	return soa.Serial, true
}

// ixfrRecords is an incremental transfer (RFC 1995 §4): the current
// SOA, each difference as its old SOA, the records deleted, its new
// SOA and the records added, and the current SOA again.
func ixfrRecords(soa *dns.SOA, deltas []delta) []dns.RR {
	out := []dns.RR{soa}
	for _, d := range deltas {
		out = append(out, d.from)
		out = append(out, d.del...)
		out = append(out, d.to)
		out = append(out, d.add...)
	}
	return append(out, soa)
}

// chunkAll is the zone's records for a whole transfer, the SOA first
// and last, cut into the answers of its messages (chunkRecords): what a
// transfer signed by a key whose algorithm wireSigner lacks sends.
func (z *Zone) chunkAll() [][]dns.RR {
	out := make([]dns.RR, 0, z.count+1)
	out = append(out, z.soa)
	for _, n := range z.transferOrder() {
		for _, set := range n.allSets() {
			if set.rrtype != dns.TypeSOA {
				out = append(out, set.rrs...)
			}
		}
	}
	return chunkRecords(append(out, z.soa))
}

// chunkRecords cuts records into the answers of a transfer's messages,
// each within transferMessageSize (counted uncompressed, so the packed
// ones are smaller). The chunks have no room past their end: appending
// to one never writes into the next.
func chunkRecords(records []dns.RR) [][]dns.RR {
	var chunks [][]dns.RR
	start, size := 0, 0
	for i, rr := range records {
		n := dns.Len(rr)
		if size+n > transferMessageSize && i > start {
			chunks = append(chunks, records[start:i:i])
			start, size = i, 0
		}
		size += n
	}
	return append(chunks, records[start:len(records):len(records)])
}

// transferMessages makes the messages of a transfer answering m, one a
// chunk; the question goes in the first only.
func transferMessages(m *dns.Msg, chunks [][]dns.RR) []*dns.Msg {
	msgs := make([]*dns.Msg, len(chunks))
	for i, c := range chunks {
		r := new(dns.Msg)
		r.SetReply(m)
		r.Authoritative = true
		r.Compress = true
		if i > 0 {
			r.Question = nil
		}
		r.Answer = c
		msgs[i] = r
	}
	return msgs
}

// writeMessages writes msgs to a TCP connection, each with its length,
// signed for the request c checked when it is not nil: the first with
// the request's MAC, the others chained to the one before, timers only.
func writeMessages(c net.Conn, w *bufio.Writer, msgs []*dns.Msg, check *tsigCheck) error {
	mac := ""
	for i, r := range msgs {
		var wire []byte
		var err error
		if check != nil {
			wire, mac, err = check.sign(r, mac, i > 0)
		} else {
			wire, err = r.Pack()
		}
		if err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		if len(wire) > 65535 {
			return errors.New("a message of the transfer is over 64 KiB")
		}
		c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(wire)))
		w.Write(l[:])
		if _, err := w.Write(wire); err != nil {
			return err
		}
	}
	return w.Flush()
}
