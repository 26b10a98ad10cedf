package zones

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/pool"
)

// A recStream holds the records that reading a zone file, or a piece of
// one, gave: in wire form and in file order, in runs of consecutive
// records of one owner. Building a zone (build.go) reads streams; they
// take a few large allocations where a struct or two per record would
// cost a big zone most of its load.
type recStream struct {
	names string   // the runs' owners: wire form then name, see recRun
	runs  []recRun // in file order
	// data holds the records, each as
	//
	//	type (2) | line (uvarint) | TTL (4) | RDLENGTH (2) | RDATA
	data  []byte
	diags Diagnostics // records refused on their own, in file order
	noTTL *Diagnostic // the first record with no TTL and no $TTL in effect

	nameBuf  []byte // names while the stream is written; see finish
	lastName string // the owner of the last record addParsed added
}

// recRun is a run of records of one owner, from one file. Its records
// are data[start:] up to the next run's start.
type recRun struct {
	off        uint32 // where the owner's lowercase wire form starts in names; its name follows
	wlen, nlen uint16
	start      int
	file       string
	hashed     bool // NSEC3 records and RRSIGs covering them, kept apart (isHashedType)
}

// wire and name are r's owner in lowercase wire and presentation form.
func (s *recStream) wire(r *recRun) string { return s.names[r.off : r.off+uint32(r.wlen)] }
func (s *recStream) name(r *recRun) string {
	return s.names[r.off+uint32(r.wlen) : r.off+uint32(r.wlen)+uint32(r.nlen)]
}

// runData returns the records of run i.
func (s *recStream) runData(i int) []byte {
	end := len(s.data)
	if i+1 < len(s.runs) {
		end = s.runs[i+1].start
	}
	return s.data[s.runs[i].start:end]
}

// endOwner ends an owner the caller appended to nameBuf from mark on:
// its wire form (wlen octets, lowercase) then its name. The records
// that follow are in a new run unless the last run has the same owner,
// file and kind.
func (s *recStream) endOwner(mark, wlen int, file string, hashed bool) {
	nlen := len(s.nameBuf) - mark - wlen
	if k := len(s.runs); k > 0 {
		last := &s.runs[k-1]
		if int(last.wlen) == wlen && last.file == file && last.hashed == hashed &&
			string(s.nameBuf[last.off:int(last.off)+wlen]) == string(s.nameBuf[mark:mark+wlen]) {
			s.nameBuf = s.nameBuf[:mark]
			return
		}
	}
	s.runs = append(s.runs, recRun{off: uint32(mark), wlen: uint16(wlen), nlen: uint16(nlen), start: len(s.data), file: file, hashed: hashed})
}

// recHead appends the start of a record, up to its RDLENGTH, and
// returns where the RDLENGTH is, for recEnd.
func (s *recStream) recHead(t uint16, line int, ttl uint32) int {
	s.data = binary.BigEndian.AppendUint16(s.data, t)
	s.data = binary.AppendUvarint(s.data, uint64(line))
	s.data = binary.BigEndian.AppendUint32(s.data, ttl)
	s.data = append(s.data, 0, 0)
	return len(s.data) - 2
}

// recEnd sets the RDLENGTH of the record whose head is at; false when
// its RDATA is too long.
func (s *recStream) recEnd(at int) bool {
	n := len(s.data) - at - 2
	if n > 0xffff {
		return false
	}
	binary.BigEndian.PutUint16(s.data[at:], uint16(n))
	return true
}

// finish makes the names the runs point into.
func (s *recStream) finish() {
	s.names = string(s.nameBuf)
	s.nameBuf, s.lastName = nil, ""
}

// nextRec reads the record at the start of p (stream data): its type,
// line and TTL | RDLENGTH | RDATA.
func nextRec(p []byte) (t uint16, line int, rec, rest []byte) {
	t = binary.BigEndian.Uint16(p)
	l, k := binary.Uvarint(p[2:])
	p = p[2+k:]
	size := 6 + int(binary.BigEndian.Uint16(p[4:]))
	return t, int(l), p[:size:size], p[size:]
}

// isHashedType reports whether a record of type t with RDATA rdata may
// belong to an NSEC3 owner: an NSEC3 record, or an RRSIG covering one.
// One label below the apex, those names are not names of the zone (RFC
// 5155 §7.2.8) and are kept apart.
func isHashedType(t uint16, rdata []byte) bool {
	return t == dns.TypeNSEC3 || t == dns.TypeRRSIG && len(rdata) >= 2 && binary.BigEndian.Uint16(rdata) == dns.TypeNSEC3
}

// addParsed checks a record the zone parser made on its own and adds it
// to s, or its error to s.diags. It puts the RDATA in the form it is
// served in (type bitmaps sorted, names lowercased where NSD lowercases
// them). scratch is returned for the next record.
func (s *recStream) addParsed(p parsedRR, scratch []byte) []byte {
	rr := p.rr
	h := rr.Header()
	refuse := func(format string, args ...any) []byte {
		if len(s.diags) < maxDiagsPerFile {
			s.diags = append(s.diags, Diagnostic{File: p.file, Line: p.line, Severity: Error, Msg: fmt.Sprintf(format, args...)})
		}
		return scratch
	}
	if h.Class != dns.ClassINET {
		return refuse("%s: class %s is not supported (only IN)", h.Name, dns.ClassToString[h.Class])
	}
	switch h.Rrtype {
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeIXFR, dns.TypeAXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeANY:
		return refuse("%s: type %s cannot appear in a zone", h.Name, dns.TypeToString[h.Rrtype])
	}
	sortTypeBitmap(rr)
	lowerRdataNames(rr)
	rec, scratch, err := checkRdata(rr, scratch)
	if err != nil {
		return refuse("%s %s: invalid record data: %v", h.Name, dns.TypeToString[h.Rrtype], err)
	}
	if err := checkSVCB(rr); err != nil {
		return refuse("%s %s: %v", h.Name, dns.TypeToString[h.Rrtype], err)
	}
	hashed := isHashedType(h.Rrtype, rec[6:])
	if k := len(s.runs); k == 0 || h.Name != s.lastName || s.runs[k-1].file != p.file || s.runs[k-1].hashed != hashed {
		mark := len(s.nameBuf)
		var err error
		if s.nameBuf, err = appendWireName(s.nameBuf, h.Name); err != nil {
			return refuse("bad owner name %s: %v", h.Name, err)
		}
		wlen := len(s.nameBuf) - mark
		s.nameBuf = append(s.nameBuf, strings.ToLower(h.Name)...)
		s.endOwner(mark, wlen, p.file, hashed)
		s.lastName = h.Name
	}
	s.data = binary.BigEndian.AppendUint16(s.data, h.Rrtype)
	s.data = binary.AppendUvarint(s.data, uint64(p.line))
	s.data = append(s.data, rec...)
	return scratch
}

// streamsFromParsed checks parsed records and puts them in streams, on
// every core: about a stream per core, in order.
func streamsFromParsed(rrs []parsedRR) []*recStream {
	out := make([]*recStream, runtime.GOMAXPROCS(0))
	parts := pool.Parts(len(rrs), 4096, func(k, start, end int) {
		s := &recStream{data: make([]byte, 0, 64*(end-start))}
		var scratch []byte
		for _, p := range rrs[start:end] {
			scratch = s.addParsed(p, scratch)
		}
		s.finish()
		out[k] = s
	})
	return out[:parts]
}
