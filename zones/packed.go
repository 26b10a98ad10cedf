package zones

import (
	"encoding/binary"
	"fmt"
	"iter"

	"github.com/miekg/dns"
)

// A built zone keeps each name's records in wire form, as NSD keeps
// them, rather than as parsed structs: a million records take a third
// of the memory. A node's packed octets hold its RRsets in file order,
// each as
//
//	type (2 octets) | line of its first record (uvarint) | length of the records (uvarint)
//
// followed by its records, each as
//
//	TTL (4) | RDLENGTH (2) | RDATA
//
// The owner is the node's name; RDATA names are not compressed. Code
// that reads RRsets gets them unpacked into new structs on each call
// (rrset, allSets): answers are compiled once per name and type, so
// unpacking costs only the first query of each.

// maxRecordWire is the most octets a record takes in wire form: an
// owner, type, class, TTL, RDLENGTH and the most RDATA RDLENGTH allows.
const maxRecordWire = 255 + 10 + 65535

// packRecord packs rr in buf (made when short, and returned for the next
// record) and returns its TTL, RDLENGTH and RDATA. Packing sets rr's
// RDLENGTH: a record other goroutines read is packed as a copy.
func packRecord(rr dns.RR, buf []byte) (rec, scratch []byte, err error) {
	if cap(buf) < maxRecordWire {
		buf = make([]byte, maxRecordWire)
	}
	buf = buf[:cap(buf)]
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, buf, err
	}
	// The owner is not compressed: its labels end at a zero octet, and
	// type and class follow.
	i := 0
	for i < end && buf[i] != 0 {
		i += int(buf[i]) + 1
	}
	if i+11 > end {
		return nil, buf, fmt.Errorf("cannot pack")
	}
	return buf[i+5 : end], buf, nil
}

// recArena keeps records' wire forms in large blocks rather than one
// allocation each: no octets are lost to rounding up to a size class,
// and what a zone keeps is not spread thin over memory that the garbage
// of parsing it filled.
type recArena struct{ block []byte }

const recArenaBlock = 1 << 20

// keep returns a copy of rec in the arena.
func (a *recArena) keep(rec []byte) []byte {
	if len(rec) == 0 {
		return nil
	}
	if cap(a.block)-len(a.block) < len(rec) {
		a.block = make([]byte, 0, max(recArenaBlock, len(rec)))
	}
	start := len(a.block)
	a.block = append(a.block, rec...)
	return a.block[start:len(a.block):len(a.block)]
}

// packedSet is one RRset of a packed node.
type packedSet struct {
	rrtype uint16
	line   int
	recs   []byte
}

// nextSet reads the RRset at the start of p; ok is false at the end.
func nextSet(p []byte) (s packedSet, rest []byte, ok bool) {
	if len(p) < 2 {
		return s, nil, false
	}
	s.rrtype = binary.BigEndian.Uint16(p)
	line, k := binary.Uvarint(p[2:])
	if k <= 0 {
		return s, nil, false
	}
	size, k2 := binary.Uvarint(p[2+k:])
	off := 2 + k + k2
	if k2 <= 0 || uint64(len(p)-off) < size {
		return s, nil, false
	}
	s.line = int(line)
	s.recs = p[off : off+int(size)]
	return s, p[off+int(size):], true
}

// packedFind returns n's packed RRset of type t.
func (n *node) packedFind(t uint16) (packedSet, bool) {
	for p := n.packed; ; {
		s, rest, ok := nextSet(p)
		if !ok {
			return s, false
		}
		if s.rrtype == t {
			return s, true
		}
		p = rest
	}
}

// unpack makes the structs of s's records, owned by n. Each was packed
// from a struct the parser made, and unpacks to one of the same type and
// wire form (TestPackRoundTrip, FuzzPackRoundTrip).
func (n *node) unpack(s packedSet) []dns.RR {
	var out []dns.RR
	for p := s.recs; len(p) >= 6; {
		ttl := binary.BigEndian.Uint32(p)
		rdlen := int(binary.BigEndian.Uint16(p[4:]))
		if len(p) < 6+rdlen {
			break
		}
		h := dns.RR_Header{Name: n.name, Rrtype: s.rrtype, Class: dns.ClassINET, Ttl: ttl, Rdlength: uint16(rdlen)}
		rr, _, err := dns.UnpackRRWithHeader(h, p[6:6+rdlen], 0)
		if err == nil {
			out = append(out, rr)
		}
		p = p[6+rdlen:]
	}
	return out
}

// allSets returns n's RRsets in file order, unpacked when n is packed.
func (n *node) allSets() []rrset {
	if n.packed == nil {
		return n.sets
	}
	var out []rrset
	for p := n.packed; ; {
		s, rest, ok := nextSet(p)
		if !ok {
			return out
		}
		out = append(out, rrset{rrtype: s.rrtype, line: s.line, rrs: n.unpack(s)})
		p = rest
	}
}

// setTypes yields the types of n's RRsets in file order, unpacking
// nothing.
func (n *node) setTypes() iter.Seq[uint16] {
	return func(yield func(uint16) bool) {
		if n.packed == nil {
			for _, s := range n.sets {
				if !yield(s.rrtype) {
					return
				}
			}
			return
		}
		for p := n.packed; ; {
			s, rest, ok := nextSet(p)
			if !ok || !yield(s.rrtype) {
				return
			}
			p = rest
		}
	}
}
