package zones

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/pool"
)

// buildZone turns parsed records into a Zone and validates it.
func buildZone(file string, rrs []parsedRR) (*Zone, Diagnostics) {
	return buildStreams(file, streamsFromParsed(rrs))
}

// nodeBuild is one name of a zone being built: its owner, the runs of
// its records (chained through runRef.next, -1 at the end and for an
// empty non-terminal) and its parent's index.
type nodeBuild struct {
	wire, name  string
	first, last int32
	parent      int32
	hashed      bool
}

// runRef is a run of a stream, and the next run of the same name.
type runRef struct{ stream, run, next int32 }

// recAt is where a record is: its stream and offset in the stream's
// data.
type recAt struct{ stream, off int }

// buildStreams turns the records of streams (in file order) into a
// Zone, validates it and packs every name's records (see packed.go). It
// gathers each name's runs on one core, then packs the names on every
// core.
func buildStreams(file string, streams []*recStream) (*Zone, Diagnostics) {
	var diags Diagnostics
	runs := 0
	for _, s := range streams {
		diags = append(diags, s.diags...)
		runs += len(s.runs)
	}
	reported := 0 // here, apart from the streams' and packing's
	report := func(sev Severity, file string, line int, format string, args ...any) {
		if reported < maxDiagsPerFile {
			diags = append(diags, Diagnostic{File: file, Line: line, Severity: sev, Msg: fmt.Sprintf(format, args...)})
			reported++
		}
	}
	soa, soaRun, soaLine, ok := findSOA(streams)
	if !ok {
		if runs == 0 && len(diags) == 0 {
			report(Error, file, 0, "zone is empty")
		} else {
			report(Error, file, 0, "no SOA record: a zone needs exactly one, at its apex")
		}
		return nil, capDiags(diags)
	}
	ow, origin := streams[soa.stream].wire(soaRun), streams[soa.stream].name(soaRun)
	z := &Zone{Origin: origin, File: file, wire: ow}

	// Every name with records, then every empty non-terminal above them.
	refs := make([]runRef, 0, runs)
	builds := make([]nodeBuild, 1, runs+16)
	builds[0] = nodeBuild{wire: ow, name: origin, first: -1, last: -1, parent: -1}
	index := make(map[string]int32, runs)
	index[ow] = 0
	var hashed map[string]int32
	for si, s := range streams {
		for ri := range s.runs {
			r := &s.runs[ri]
			w := s.wire(r)
			if !isSubdomainWire(w, ow) {
				for p, off := s.runData(ri), r.start; len(p) > 0; {
					t, line, _, rest := nextRec(p)
					if t == dns.TypeSOA && (recAt{si, off}) != soa {
						report(Error, r.file, line, "second SOA record (a zone has exactly one, at its apex; the first is at line %d)", soaLine)
					} else {
						report(Error, r.file, line, "%s is outside the zone %s", s.name(r), origin)
					}
					off += len(p) - len(rest)
					p = rest
				}
				continue
			}
			m := index
			isHashed := false
			if pw, ok := parentWire(w); r.hashed && ok && pw == ow {
				if hashed == nil {
					hashed = map[string]int32{}
				}
				m, isHashed = hashed, true
			}
			ref := int32(len(refs))
			refs = append(refs, runRef{stream: int32(si), run: int32(ri), next: -1})
			if i, ok := m[w]; ok {
				if b := &builds[i]; b.last < 0 {
					b.first, b.last = ref, ref
				} else {
					refs[b.last].next, b.last = ref, ref
				}
				continue
			}
			m[w] = int32(len(builds))
			builds = append(builds, nodeBuild{wire: w, name: s.name(r), first: ref, last: ref, hashed: isHashed})
		}
	}
	for i := 1; i < len(builds); i++ { // grows as empty non-terminals are found
		if builds[i].hashed {
			builds[i].parent = 0
			continue
		}
		pw, _ := parentWire(builds[i].wire)
		p, ok := index[pw]
		if !ok {
			name := builds[i].name
			pname := "."
			if j, end := dns.NextLabel(name, 0); !end { // an escaped dot ends no label
				pname = name[j:]
			}
			p = int32(len(builds))
			index[pw] = p
			builds = append(builds, nodeBuild{wire: pw, name: pname, first: -1, last: -1})
		}
		builds[i].parent = p
	}

	nodes, ds, count := packBuilds(builds, refs, streams, soa, soaLine)
	diags = append(diags, ds...)
	z.count = count
	named := nodes // the names of the zone: hashed owners left out
	if hashed != nil {
		named = make([]*node, 0, len(index))
	}
	for i, b := range builds {
		n := nodes[i]
		if b.hashed {
			n.parent = nodes[0]
			continue
		}
		if hashed != nil {
			named = append(named, n)
		}
		if b.parent >= 0 {
			n.parent = nodes[b.parent]
			n.parent.children++
			if strings.HasPrefix(n.wire, "\x01*") {
				n.parent.wild = n
			}
		}
	}
	z.apex = nodes[0]
	z.apex.isApex = true
	z.apex.sets, z.apex.packed = z.apex.allSets(), nil
	for _, s := range z.apex.sets {
		if s.rrtype == dns.TypeSOA && len(s.rrs) > 0 {
			z.soa, _ = s.rrs[0].(*dns.SOA)
		}
	}
	if z.soa == nil { // every record read back when it was checked
		report(Error, file, soaLine, "the SOA record cannot be read back")
		return nil, capDiags(diags)
	}
	// The maps are made on one core while the names are linked on the
	// other.
	var mapped sync.WaitGroup
	mapped.Go(func() {
		z.nodes = make(map[string]*node, len(named))
		for _, n := range named {
			z.nodes[n.wire] = n
		}
		if hashed != nil {
			z.sec.hashed = make(map[string]*node, len(hashed))
			for i, b := range builds {
				if b.hashed {
					z.sec.hashed[b.wire] = nodes[i]
				}
			}
		}
	})
	z.link(named)
	mapped.Wait()
	z.setupDNSSEC()
	diags = append(diags, z.check(named)...)
	return z, capDiags(diags)
}

// capDiags sorts a zone's diagnostics by file and line and keeps the
// first maxDiagsPerFile.
func capDiags(diags Diagnostics) Diagnostics {
	sort.SliceStable(diags, func(i, j int) bool {
		if diags[i].File != diags[j].File {
			return diags[i].File < diags[j].File
		}
		return diags[i].Line < diags[j].Line
	})
	return diags[:min(len(diags), maxDiagsPerFile)]
}

// findSOA finds the first SOA record of streams: where it is, its run
// and its line.
func findSOA(streams []*recStream) (recAt, *recRun, int, bool) {
	for si, s := range streams {
		for ri := range s.runs {
			r := &s.runs[ri]
			for p, off := s.runData(ri), r.start; len(p) > 0; {
				t, line, _, rest := nextRec(p)
				if t == dns.TypeSOA {
					return recAt{si, off}, r, line, true
				}
				off += len(p) - len(rest)
				p = rest
			}
		}
	}
	return recAt{}, nil, 0, false
}

// packBuilds makes the node of every build and packs its records, on
// every core. It returns the nodes in the order of builds, what packing
// found, and the number of records kept.
func packBuilds(builds []nodeBuild, refs []runRef, streams []*recStream, soa recAt, soaLine int) ([]*node, Diagnostics, int) {
	nodes := make([]*node, len(builds))
	diags := make([]Diagnostics, runtime.GOMAXPROCS(0))
	counts := make([]int, len(diags))
	parts := pool.Parts(len(builds), 4096, func(k, start, end int) {
		p := nodePacker{refs: refs, streams: streams, soa: soa, soaLine: soaLine}
		var slab []node
		for i := start; i < end; i++ {
			if len(slab) == cap(slab) {
				slab = make([]node, 0, nodeSlab)
			}
			slab = append(slab, node{name: builds[i].name, wire: builds[i].wire})
			n := &slab[len(slab)-1]
			p.pack(n, builds[i].first)
			nodes[i] = n
		}
		diags[k], counts[k] = p.diags, p.count
	})
	var all Diagnostics
	total := 0
	for k := range parts {
		all = append(all, diags[k]...)
		total += counts[k]
	}
	return nodes, all, total
}

// nodeSlab is how many nodes are allocated at a time: together, and
// apart from the garbage parsing makes, so that no page holds mostly
// garbage and a few nodes once it is collected.
const nodeSlab = 256

// nodePacker packs the records of nodes; each core has its own.
type nodePacker struct {
	refs    []runRef
	streams []*recStream
	soa     recAt
	soaLine int

	sets  []setBuild // scratch, reused from node to node
	out   []byte
	arena recArena
	diags Diagnostics
	count int
}

// setBuild is an RRset being gathered: its records as TTL | RDLENGTH |
// RDATA, in stream data.
type setBuild struct {
	rrtype uint16
	line   int
	recs   [][]byte
}

// pack gathers the records of the runs from first on into RRsets in
// file order, dropping duplicates and evening out TTLs (RFC 2181 §5.2:
// the lowest wins; RRSIGs keep their own, RFC 4034 §3: those at one
// name cover different RRsets), and packs them into n.
func (p *nodePacker) pack(n *node, first int32) {
	used := 0
	for ref := first; ref >= 0; ref = p.refs[ref].next {
		si := int(p.refs[ref].stream)
		s := p.streams[si]
		ri := int(p.refs[ref].run)
		file := s.runs[ri].file
		off := s.runs[ri].start
		for d := s.runData(ri); len(d) > 0; {
			t, line, rec, rest := nextRec(d)
			at := off
			off += len(d) - len(rest)
			d = rest
			if t == dns.TypeSOA && (recAt{si, at}) != p.soa {
				p.report(Error, file, line, "second SOA record (a zone has exactly one, at its apex; the first is at line %d)", p.soaLine)
				continue
			}
			k := 0
			for k < used && p.sets[k].rrtype != t {
				k++
			}
			if k == used {
				if used == len(p.sets) {
					p.sets = append(p.sets, setBuild{})
				}
				p.sets[k] = setBuild{rrtype: t, line: line, recs: append(p.sets[k].recs[:0], rec)}
				used++
				p.count++
				continue
			}
			set := &p.sets[k]
			if p.duplicate(n.name, t, set.recs, rec) {
				p.report(Warning, file, line, "duplicate record %s dropped", rrText(unpackRec(n.name, t, rec)))
				continue
			}
			set.recs = append(set.recs, rec)
			p.count++
			first, ttl := recTTL(set.recs[0]), recTTL(rec)
			if first != ttl && t != dns.TypeRRSIG {
				low := min(first, ttl)
				p.report(Warning, file, line, "%s %s: TTL %d differs from %d in the same RRset (line %d); using %d for all",
					n.name, dns.TypeToString[t], ttl, first, set.line, low)
				for _, r := range set.recs {
					binary.BigEndian.PutUint32(r, low)
				}
			}
		}
	}
	if used == 0 {
		return
	}
	out := p.out[:0]
	for _, set := range p.sets[:used] {
		size := 0
		for _, r := range set.recs {
			size += len(r)
		}
		out = binary.BigEndian.AppendUint16(out, set.rrtype)
		out = binary.AppendUvarint(out, uint64(set.line))
		out = binary.AppendUvarint(out, uint64(size))
		for _, r := range set.recs {
			out = append(out, r...)
		}
	}
	n.packed = p.arena.keep(out)
	p.out = out
}

func (p *nodePacker) report(sev Severity, file string, line int, format string, args ...any) {
	if len(p.diags) < maxDiagsPerFile {
		p.diags = append(p.diags, Diagnostic{File: file, Line: line, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	}
}

// duplicate reports whether rec (TTL | RDLENGTH | RDATA) is a duplicate
// of one of recs, as dns.IsDuplicate compares them: names in RDATA that
// are not lowercased compare without case.
func (p *nodePacker) duplicate(name string, t uint16, recs [][]byte, rec []byte) bool {
	for _, r := range recs {
		if string(r[4:]) == string(rec[4:]) {
			return true
		}
		if len(r) == len(rec) && asciiEqualFold(r[6:], rec[6:]) && dns.IsDuplicate(unpackRec(name, t, r), unpackRec(name, t, rec)) {
			return true
		}
	}
	return false
}

// asciiEqualFold reports whether a and b are equal with A-Z taken as
// a-z.
func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// recTTL is the TTL of a record as TTL | RDLENGTH | RDATA.
func recTTL(rec []byte) uint32 { return binary.BigEndian.Uint32(rec) }

// unpackRec makes the struct of a record as TTL | RDLENGTH | RDATA.
func unpackRec(name string, t uint16, rec []byte) dns.RR {
	h := dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: recTTL(rec), Rdlength: uint16(len(rec) - 6)}
	rr, _, err := dns.UnpackRRWithHeader(h, rec[6:], 0)
	if err != nil {
		return &dns.RFC3597{Hdr: h, Rdata: hex.EncodeToString(rec[6:])}
	}
	return rr
}

// link fills in the delegation and DNAME pointers of every node, parents
// before children.
func (z *Zone) link(nodes []*node) {
	// Nodes by their number of labels, which puts parents first: counted,
	// then placed.
	var starts [129]int
	labels := make([]uint8, len(nodes))
	for i, n := range nodes {
		labels[i] = uint8(labelCount(n.wire))
		starts[labels[i]+1]++
	}
	for c := 1; c < len(starts); c++ {
		starts[c] += starts[c-1]
	}
	ordered := make([]*node, len(nodes))
	for i, n := range nodes {
		ordered[starts[labels[i]]] = n
		starts[labels[i]]++
	}
	for _, n := range ordered {
		if n.isApex || n.parent == nil {
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

func rrText(rr dns.RR) string {
	return strings.Join(strings.Fields(rr.String()), " ")
}

// checkRdata packs a record: the parser accepts records with empty or
// partial RDATA (meant for dynamic updates; "x DNAME" with no target, or
// a SOA cut short by the end of the file, say) that would go out as
// malformed packets. It returns the record's TTL, RDLENGTH and RDATA, in
// buf (made when short, and returned for the next record), once it has
// read them back.
func checkRdata(rr dns.RR, buf []byte) (rec, scratch []byte, err error) {
	rec, buf, err = packRecord(rr, buf)
	if err != nil {
		return nil, buf, err
	}
	h := rr.Header()
	if len(rec) == 6 && !emptyRdataAllowed(h.Rrtype) {
		return nil, buf, fmt.Errorf("empty")
	}
	if _, _, err := dns.UnpackRRWithHeader(dns.RR_Header{Rrtype: h.Rrtype, Class: h.Class, Rdlength: uint16(len(rec) - 6)}, rec[6:], 0); err != nil {
		return nil, buf, fmt.Errorf("incomplete")
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
