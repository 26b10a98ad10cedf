package zones

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// buildZone turns parsed records into a Zone, validates it and packs its
// records (see packed.go).
func buildZone(file string, rrs []parsedRR) (*Zone, Diagnostics) {
	z, diags := assembleZone(file, rrs)
	if z != nil {
		z.packZone()
	}
	return z, diags
}

// assembleZone turns parsed records into a Zone and validates it; its
// nodes hold the parsed structs.
func assembleZone(file string, rrs []parsedRR) (*Zone, Diagnostics) {
	var diags Diagnostics
	errorf := func(file string, line int, format string, args ...any) {
		if len(diags) < maxDiagsPerFile {
			diags = append(diags, Diagnostic{File: file, Line: line, Severity: Error, Msg: fmt.Sprintf(format, args...)})
		}
	}
	warnf := func(file string, line int, format string, args ...any) {
		if len(diags) < maxDiagsPerFile {
			diags = append(diags, Diagnostic{File: file, Line: line, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
		}
	}
	if len(rrs) == 0 {
		errorf(file, 0, "zone is empty")
		return nil, diags
	}
	var soa *parsedRR
	for i := range rrs {
		if _, ok := rrs[i].rr.(*dns.SOA); ok {
			if soa != nil {
				errorf(rrs[i].file, rrs[i].line, "second SOA record (a zone has exactly one, at its apex; the first is at line %d)", soa.line)
				continue
			}
			soa = &rrs[i]
		}
	}
	if soa == nil {
		errorf(file, 0, "no SOA record: a zone needs exactly one, at its apex")
		return nil, diags
	}
	origin := strings.ToLower(soa.rr.Header().Name)
	ow, err := wireName(origin)
	if err != nil {
		errorf(soa.file, soa.line, "bad origin %s: %v", origin, err)
		return nil, diags
	}
	// Names hold a few records each: a map made big enough for most of
	// them at once is not grown (and copied) time and again.
	z := &Zone{Origin: origin, File: file, wire: ow, nodes: make(map[string]*node, len(rrs)/4), soa: soa.rr.(*dns.SOA)}
	z.apex = &node{name: origin, wire: ow, isApex: true}
	z.nodes[ow] = z.apex

	prep := prepareAll(rrs, soa.rr, ow, origin)
	for i, p := range rrs {
		pr := prep[i]
		if pr.skip {
			continue
		}
		if pr.err != "" {
			errorf(p.file, p.line, "%s", pr.err)
			continue
		}
		h, w := p.rr.Header(), pr.w
		var n *node
		if isHashedOwner(p.rr, w, ow) {
			n = z.hashedNode(w, strings.ToLower(h.Name))
		} else {
			n = z.ensureNode(w, strings.ToLower(h.Name))
		}
		n.add(p, pr.rec, warnf)
		z.count++
	}
	z.link()
	z.setupDNSSEC()
	diags = append(diags, z.check()...)
	return z, diags
}

// prepared is what checking one record on its own found: its owner in
// wire form, or why it is refused.
type prepared struct {
	w    string
	rec  []byte // TTL, RDLENGTH and RDATA in wire form, see packed.go
	err  string
	skip bool // a second SOA, reported already
}

// prepareAll checks every record on its own, on every core: the checks
// need no other record, and packing each record is most of the work of
// building a big zone.
func prepareAll(rrs []parsedRR, soa dns.RR, ow, origin string) []prepared {
	out := make([]prepared, len(rrs))
	workers := min(runtime.GOMAXPROCS(0), 1+len(rrs)/4096)
	per := (len(rrs) + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < len(rrs); start += per {
		end := min(start+per, len(rrs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []byte
			var arena recArena
			var last ownerWire
			for i := start; i < end; i++ {
				out[i], scratch = prepare(rrs[i].rr, soa, ow, origin, &last, scratch)
				out[i].rec = arena.keep(out[i].rec)
			}
		}()
	}
	wg.Wait()
	return out
}

// ownerWire is an owner name and its wire form: a name's records mostly
// follow one another, and the wire form is made once for them.
type ownerWire struct{ name, w string }

// prepare checks one record and puts its RDATA in the form it is served
// in (type bitmaps sorted, names lowercased where NSD lowercases them).
// The record's rec is in scratch, returned for the next record.
func prepare(rr, soa dns.RR, ow, origin string, last *ownerWire, scratch []byte) (prepared, []byte) {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		return prepared{err: fmt.Sprintf("%s: class %s is not supported (only IN)", h.Name, dns.ClassToString[h.Class])}, scratch
	}
	if h.Rrtype == dns.TypeSOA && rr != soa {
		return prepared{skip: true}, scratch
	}
	w := last.w
	if h.Name != last.name {
		var err error
		if w, err = wireName(h.Name); err != nil {
			return prepared{err: fmt.Sprintf("bad owner name %s: %v", h.Name, err)}, scratch
		}
		*last = ownerWire{h.Name, w}
	}
	if !isSubdomainWire(w, ow) {
		return prepared{err: fmt.Sprintf("%s is outside the zone %s", h.Name, origin)}, scratch
	}
	switch h.Rrtype {
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeIXFR, dns.TypeAXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeANY:
		return prepared{err: fmt.Sprintf("%s: type %s cannot appear in a zone", h.Name, dns.TypeToString[h.Rrtype])}, scratch
	}
	sortTypeBitmap(rr)
	lowerRdataNames(rr)
	var rec []byte
	var err error
	if rec, scratch, err = checkRdata(rr, scratch); err != nil {
		return prepared{err: fmt.Sprintf("%s %s: invalid record data: %v", h.Name, dns.TypeToString[h.Rrtype], err)}, scratch
	}
	if err := checkSVCB(rr); err != nil {
		return prepared{err: fmt.Sprintf("%s %s: %v", h.Name, dns.TypeToString[h.Rrtype], err)}, scratch
	}
	return prepared{w: w, rec: rec}, scratch
}

// ensureNode returns the node for w, creating it and any missing ancestors
// (empty non-terminals) up to the apex.
func (z *Zone) ensureNode(w, name string) *node {
	if n, ok := z.nodes[w]; ok {
		return n
	}
	n := z.newNode(name, w)
	z.nodes[w] = n
	pw, _ := parentWire(w)
	pname := "."
	if i, end := dns.NextLabel(name, 0); !end { // an escaped dot ends no label
		pname = name[i:]
	}
	n.parent = z.ensureNode(pw, pname)
	n.parent.children++
	if strings.HasPrefix(w, "\x01*") {
		n.parent.wild = n
	}
	return n
}

// nodeSlab is how many nodes are allocated at a time: together, and
// apart from the garbage parsing makes, so that no page holds mostly
// garbage and a few nodes once it is collected.
const nodeSlab = 256

// newNode returns a new node of z.
func (z *Zone) newNode(name, w string) *node {
	if len(z.slab) == cap(z.slab) {
		z.slab = make([]node, 0, nodeSlab)
	}
	z.slab = append(z.slab, node{name: name, wire: w})
	return &z.slab[len(z.slab)-1]
}

// isHashedOwner reports whether rr belongs to an NSEC3 owner: an NSEC3
// record, or an RRSIG covering one, one label below the apex ow. Those
// names are not names of the zone (RFC 5155 §7.2.8) and are kept apart.
func isHashedOwner(rr dns.RR, w, ow string) bool {
	switch v := rr.(type) {
	case *dns.NSEC3:
	case *dns.RRSIG:
		if v.TypeCovered != dns.TypeNSEC3 {
			return false
		}
	default:
		return false
	}
	pw, ok := parentWire(w)
	return ok && pw == ow
}

// hashedNode returns the NSEC3 owner node for w, creating it.
func (z *Zone) hashedNode(w, name string) *node {
	if z.sec.hashed == nil {
		z.sec.hashed = map[string]*node{}
	}
	n, ok := z.sec.hashed[w]
	if !ok {
		n = z.newNode(name, w)
		n.parent = z.apex
		z.sec.hashed[w] = n
	}
	return n
}

// add puts a record into its RRset, dropping duplicates and evening out
// TTLs (RFC 2181 §5.2: the lowest wins). RRSIGs keep their own TTLs
// (RFC 4034 §3): those at one name cover different RRsets.
func (n *node) add(p parsedRR, rec []byte, warnf func(string, int, string, ...any)) {
	h := p.rr.Header()
	h.Name = n.name
	for i := range n.sets {
		s := &n.sets[i]
		if s.rrtype != h.Rrtype {
			continue
		}
		for _, old := range s.rrs {
			if dns.IsDuplicate(old, p.rr) {
				warnf(p.file, p.line, "duplicate record %s dropped", rrText(p.rr))
				return
			}
		}
		s.rrs = append(s.rrs, p.rr)
		s.recs = append(s.recs, rec...)
		if t := s.rrs[0].Header().Ttl; t != h.Ttl && h.Rrtype != dns.TypeRRSIG {
			low := min(t, h.Ttl)
			warnf(p.file, p.line, "%s %s: TTL %d differs from %d in the same RRset (line %d); using %d for all",
				h.Name, dns.TypeToString[h.Rrtype], h.Ttl, t, s.line, low)
			for _, rr := range s.rrs {
				rr.Header().Ttl = low
			}
			setTTLs(s.recs, low)
		}
		return
	}
	if n.sets == nil {
		n.sets = make([]rrset, 0, 4) // most names have a few types: grown once at most
	}
	n.sets = append(n.sets, rrset{rrtype: h.Rrtype, line: p.line, rrs: []dns.RR{p.rr}, recs: slices.Clip(rec)})
}

// link fills in the delegation and DNAME pointers of every node, parents
// before children. RRsets stay in file order (ANY answers the first).
func (z *Zone) link() {
	// Nodes by their number of labels, which puts parents first.
	var byLabels [128][]*node
	for _, n := range z.nodes {
		c := labelCount(n.wire)
		byLabels[c] = append(byLabels[c], n)
	}
	for _, level := range byLabels {
		for _, n := range level {
			if n.isApex {
				continue
			}
			p := n.parent
			n.cut = p.cut
			if n.cut == nil && n.isCut() {
				n.cut = n
			}
			n.dnameUp = p.dnameUp
			if n.dnameUp == nil && p.has(dns.TypeDNAME) {
				n.dnameUp = p
			}
		}
	}
}

func rrText(rr dns.RR) string {
	return strings.Join(strings.Fields(rr.String()), " ")
}

// checkRdata packs a record: the parser accepts records with empty RDATA
// (meant for dynamic updates; "x DNAME" with no target, say) that would
// go out as malformed packets. It returns the record's TTL, RDLENGTH and
// RDATA, in buf (made when short, and returned for the next record).
func checkRdata(rr dns.RR, buf []byte) (rec, scratch []byte, err error) {
	rec, buf, err = packRecord(rr, buf)
	if err != nil {
		return nil, buf, err
	}
	if len(rec) == 6 && !emptyRdataAllowed(rr.Header().Rrtype) {
		return nil, buf, fmt.Errorf("empty")
	}
	return rec, buf, nil
}

// sortTypeBitmap puts the types of an NSEC, NSEC3, CSYNC or NXT record in
// order: a zone file may list them in any order (RFC 4034 §4.2), the
// wire form needs them sorted.
func sortTypeBitmap(rr dns.RR) {
	switch v := rr.(type) {
	case *dns.NSEC:
		slices.Sort(v.TypeBitMap)
		v.TypeBitMap = slices.Compact(v.TypeBitMap)
	case *dns.NSEC3:
		slices.Sort(v.TypeBitMap)
		v.TypeBitMap = slices.Compact(v.TypeBitMap)
	case *dns.CSYNC:
		slices.Sort(v.TypeBitMap)
		v.TypeBitMap = slices.Compact(v.TypeBitMap)
	case *dns.NXT:
		slices.Sort(v.TypeBitMap)
		v.TypeBitMap = slices.Compact(v.TypeBitMap)
	}
}

// emptyRdataAllowed lists the types whose RDATA may be empty.
func emptyRdataAllowed(t uint16) bool {
	switch t {
	case dns.TypeNULL, dns.TypeAPL, dns.TypeOPT, dns.TypeCSYNC, dns.TypeZONEMD:
		return true
	}
	_, known := dns.TypeToRR[t]
	return !known
}
