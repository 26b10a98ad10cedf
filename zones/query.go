package zones

import (
	"encoding/binary"
	"errors"
)

// DNS header bits and option codes used on the raw query path.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagCD = 1 << 4

	optNSID   = 3
	optCookie = 10

	typeOPT  = 41
	typeTSIG = 250
	typeIXFR = 251
)

var errFormat = errors.New("malformed query")

// query is what the raw path reads from a request packet.
type query struct {
	id, flags uint16
	opcode    uint8
	qname     []byte // the question name as sent (case kept)
	lower     []byte // the same, lowercased: the lookup key
	qtype     uint16
	qclass    uint16
	question  []byte // the whole question entry, to echo

	edns        bool
	ednsVersion uint8
	udpSize     uint16
	do          bool
	nsid        bool
	cookie      []byte // the client's COOKIE option data, 8 to 40 octets
	tsig        bool

	zone *Zone // the served zone the name fell in, once looked up
}

// parseQuery reads a request. It returns errFormat with whatever it had
// read when the packet is malformed, so that FORMERR can still echo the
// ID. The lower slice is written into lowerBuf.
func parseQuery(pkt []byte, q *query, lowerBuf []byte) error {
	*q = query{lower: lowerBuf[:0]}
	if len(pkt) < 12 {
		return errFormat
	}
	q.id = binary.BigEndian.Uint16(pkt)
	q.flags = binary.BigEndian.Uint16(pkt[2:])
	q.opcode = uint8(q.flags>>11) & 0xf
	qd := binary.BigEndian.Uint16(pkt[4:])
	an := binary.BigEndian.Uint16(pkt[6:])
	ns := binary.BigEndian.Uint16(pkt[8:])
	ar := binary.BigEndian.Uint16(pkt[10:])
	if qd != 1 {
		return errFormat
	}
	off := 12
	for {
		if off >= len(pkt) {
			return errFormat
		}
		l := int(pkt[off])
		if l&0xc0 != 0 { // no compression in a question, no extended labels
			return errFormat
		}
		if off+1+l > len(pkt) || off-12+1+l > 255 {
			return errFormat
		}
		q.lower = append(q.lower, pkt[off:off+1+l]...)
		off += 1 + l
		if l == 0 {
			break
		}
	}
	q.qname = pkt[12:off]
	lowerASCII(q.lower)
	if off+4 > len(pkt) {
		return errFormat
	}
	q.qtype = binary.BigEndian.Uint16(pkt[off:])
	q.qclass = binary.BigEndian.Uint16(pkt[off+2:])
	q.question = pkt[12 : off+4]
	off += 4
	if an != 0 || ns != 0 && q.qtype != typeIXFR {
		return errFormat
	}
	// an IXFR carries the client's SOA in its authority section (RFC 1995)
	for range ns {
		var err error
		if off, err = skipRecord(pkt, off); err != nil {
			return err
		}
	}
	for i := 0; i < int(ar); i++ {
		var err error
		if off, err = q.additional(pkt, off, i == int(ar)-1); err != nil {
			return err
		}
	}
	return nil
}

// additional reads one record of the additional section: OPT (RFC 6891)
// or TSIG (RFC 8945, which must come last); anything else is ignored.
func (q *query) additional(pkt []byte, off int, last bool) (int, error) {
	nameStart := off
	off, err := skipName(pkt, off)
	if err != nil || off+10 > len(pkt) {
		return 0, errFormat
	}
	typ := binary.BigEndian.Uint16(pkt[off:])
	class := binary.BigEndian.Uint16(pkt[off+2:])
	ttl := binary.BigEndian.Uint32(pkt[off+4:])
	rdlen := int(binary.BigEndian.Uint16(pkt[off+8:]))
	off += 10
	if off+rdlen > len(pkt) {
		return 0, errFormat
	}
	rdata := pkt[off : off+rdlen]
	off += rdlen
	switch typ {
	case typeOPT:
		if q.edns || pkt[nameStart] != 0 {
			return 0, errFormat
		}
		q.edns = true
		q.udpSize = class
		q.ednsVersion = uint8(ttl >> 16)
		q.do = ttl&(1<<15) != 0
		return off, q.options(rdata)
	case typeTSIG:
		if !last {
			return 0, errFormat
		}
		q.tsig = true
	}
	return off, nil
}

func (q *query) options(rdata []byte) error {
	for len(rdata) > 0 {
		if len(rdata) < 4 {
			return errFormat
		}
		code := binary.BigEndian.Uint16(rdata)
		l := int(binary.BigEndian.Uint16(rdata[2:]))
		if 4+l > len(rdata) {
			return errFormat
		}
		data := rdata[4 : 4+l]
		switch code {
		case optNSID:
			q.nsid = true
		case optCookie:
			// RFC 7873 §5.2.2: a client cookie alone, or with a
			// server cookie of 8 to 32 octets.
			if l != 8 && (l < 16 || l > 40) {
				return errFormat
			}
			q.cookie = data
		}
		rdata = rdata[4+l:]
	}
	return nil
}

// skipName steps over a possibly compressed name.
func skipName(pkt []byte, off int) (int, error) {
	for n := 0; n < 128; n++ {
		if off >= len(pkt) {
			return 0, errFormat
		}
		l := int(pkt[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			if off+2 > len(pkt) {
				return 0, errFormat
			}
			return off + 2, nil
		case l&0xc0 != 0:
			return 0, errFormat
		}
		off += 1 + l
	}
	return 0, errFormat
}

// skipRecord returns the offset after the resource record at off.
func skipRecord(pkt []byte, off int) (int, error) {
	off, err := skipName(pkt, off)
	if err != nil || off+10 > len(pkt) {
		return 0, errFormat
	}
	off += 10 + int(binary.BigEndian.Uint16(pkt[off+8:]))
	if off > len(pkt) {
		return 0, errFormat
	}
	return off, nil
}
