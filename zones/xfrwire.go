package zones

import (
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// A whole transfer is written from the records as the zone keeps them,
// in wire form (packed.go), a message at a time: nothing is unpacked,
// and nothing the size of the zone is made or kept. Owner names are
// compressed, and so are the names in the RDATA of NS, CNAME, PTR, MX
// and SOA records (RFC 1035 §4.1.4); the other types' RDATA goes as
// kept (RFC 3597 §4).

// transferOrder is the zone's names in the order a whole transfer sends
// them: by name, as they were parsed and so allocated, and as NSD sends
// them (grouped by name).
func (z *Zone) transferOrder() []*node {
	z.orderOnce.Do(func() {
		nodes := make([]*node, 0, len(z.nodes)+len(z.sec.hashed))
		for _, m := range []map[string]*node{z.nodes, z.sec.hashed} {
			for _, n := range m {
				if !n.empty() {
					nodes = append(nodes, n)
				}
			}
		}
		slices.SortFunc(nodes, func(a, b *node) int { return strings.Compare(a.name, b.name) })
		z.order = nodes
	})
	return z.order
}

// transferWire yields the messages of a whole transfer of z: each a DNS
// message with ID 0 answering an AXFR for the origin, the question in
// the first only, each at most transferMessageSize octets unless one
// record takes more. A message yielded is overwritten by the next. A
// record that does not pack (none should: each was packed when the zone
// was built) ends the transfer with an error.
func (z *Zone) transferWire() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		// The apex keeps its structs, shared by every goroutine answering
		// from the zone, and packing writes their RDLENGTH: copies are
		// packed.
		soa, scratch, err := packRecord(dns.Copy(z.soa), nil)
		if err != nil {
			yield(nil, fmt.Errorf("%s SOA: %w", z.Origin, err))
			return
		}
		soa = slices.Clone(soa)
		w := &wireMsg{}
		w.start(true, z.wire)
		w.record(z.wire, dns.TypeSOA, soa)
		// add writes a record, first handing out the message when it
		// is full.
		add := func(owner string, t uint16, rec []byte) bool {
			if !w.fit(len(owner) + 4 + len(rec)) {
				if !yield(w.done(), nil) {
					return false
				}
				w.start(false, "")
			}
			w.record(owner, t, rec)
			return true
		}
		for _, n := range z.transferOrder() {
			if n.packed != nil {
				for p := n.packed; ; {
					s, rest, ok := nextSet(p)
					if !ok {
						break
					}
					for r := s.recs; len(r) >= 6; {
						end := min(len(r), 6+int(binary.BigEndian.Uint16(r[4:])))
						if !add(n.wire, s.rrtype, r[:end]) {
							return
						}
						r = r[end:]
					}
					p = rest
				}
				continue
			}
			for _, set := range n.sets {
				if set.rrtype == dns.TypeSOA && n.isApex {
					continue
				}
				for _, rr := range set.rrs {
					var rec []byte
					if rec, scratch, err = packRecord(dns.Copy(rr), scratch); err != nil {
						yield(nil, fmt.Errorf("%s: %w", rrText(rr), err))
						return
					}
					if !add(n.wire, set.rrtype, rec) {
						return
					}
				}
			}
		}
		if add(z.wire, dns.TypeSOA, soa) {
			yield(w.done(), nil)
		}
	}
}

// wireMsg is a transfer message being written.
type wireMsg struct {
	buf   []byte
	count uint16
	dict  map[string]int // lowercase wire name suffix -> offset
}

// start begins a message, with the question for origin when first.
func (w *wireMsg) start(first bool, origin string) {
	if w.dict == nil {
		w.dict = map[string]int{}
	}
	clear(w.dict)
	w.buf = append(w.buf[:0], 0, 0, 0x84, 0, 0, 0, 0, 0, 0, 0, 0, 0) // QR, AA
	w.count = 0
	if first {
		w.buf[5] = 1 // QDCOUNT
		w.name(origin)
		w.buf = binary.BigEndian.AppendUint16(w.buf, dns.TypeAXFR)
		w.buf = binary.BigEndian.AppendUint16(w.buf, dns.ClassINET)
	}
}

// fit reports whether a record of about size octets goes in the message
// being written; when it does not, the message must be handed out first.
func (w *wireMsg) fit(size int) bool {
	return w.count == 0 || len(w.buf)+size <= 12+transferMessageSize
}

// done returns the message written, its answer count set.
func (w *wireMsg) done() []byte {
	binary.BigEndian.PutUint16(w.buf[6:], w.count)
	return w.buf
}

// record appends a record of owner (lowercase wire form) and type t,
// given as TTL, RDLENGTH and RDATA.
func (w *wireMsg) record(owner string, t uint16, rec []byte) {
	w.name(owner)
	w.buf = binary.BigEndian.AppendUint16(w.buf, t)
	w.buf = binary.BigEndian.AppendUint16(w.buf, dns.ClassINET)
	w.buf = append(w.buf, rec[:4]...) // TTL
	rdata := rec[6:]
	lenAt := len(w.buf)
	w.buf = append(w.buf, 0, 0)
	switch t {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR:
		w.rdataNames(rdata, 0, 1)
	case dns.TypeMX:
		w.rdataNames(rdata, 2, 1)
	case dns.TypeSOA:
		w.rdataNames(rdata, 0, 2)
	default:
		w.buf = append(w.buf, rdata...)
	}
	binary.BigEndian.PutUint16(w.buf[lenAt:], uint16(len(w.buf)-lenAt-2))
	w.count++
}

// rdataNames appends rdata with its names compressed: skip octets, then
// count names, then the rest as it is.
func (w *wireMsg) rdataNames(rdata []byte, skip, count int) {
	if len(rdata) < skip {
		w.buf = append(w.buf, rdata...)
		return
	}
	w.buf = append(w.buf, rdata[:skip]...)
	p := rdata[skip:]
	for range count {
		end := nameEnd(p)
		if end < 0 {
			w.buf = append(w.buf, p...)
			return
		}
		w.nameAsIs(p[:end])
		p = p[end:]
	}
	w.buf = append(w.buf, p...)
}

// nameEnd is the length of the uncompressed name at the start of p, -1
// when there is none.
func nameEnd(p []byte) int {
	i := 0
	for i < len(p) && p[i] != 0 {
		if p[i] > 63 {
			return -1
		}
		i += int(p[i]) + 1
	}
	if i >= len(p) {
		return -1
	}
	return i + 1
}

// name appends the lowercase wire name n, compressed.
func (w *wireMsg) name(n string) {
	for i := 0; i < len(n) && n[i] != 0; i += int(n[i]) + 1 {
		if off, ok := w.dict[n[i:]]; ok {
			w.buf = append(w.buf, n[:i]...)
			w.buf = append(w.buf, 0xc0|byte(off>>8), byte(off))
			return
		}
		if at := len(w.buf) + i; at < 0x3fff-255 {
			w.dict[n[i:]] = at
		}
	}
	w.buf = append(w.buf, n...)
}

// nameAsIs appends the wire name n, in the case it has, with its longest
// suffix that is in the message already as a pointer. Only suffixes
// that are equal octet for octet are pointed to: a name in RDATA is sent
// as the zone spells it.
func (w *wireMsg) nameAsIs(n []byte) {
	for i := 0; i < len(n) && n[i] != 0; i += int(n[i]) + 1 {
		if off, ok := w.dict[string(n[i:])]; ok {
			w.buf = append(w.buf, n[:i]...)
			w.buf = append(w.buf, 0xc0|byte(off>>8), byte(off))
			return
		}
	}
	w.buf = append(w.buf, n...)
}
