package zones

import (
	"encoding/binary"
	"sync"

	"github.com/miekg/dns"
)

// A blob is a response compiled to wire format once, as NSD does at zone
// load: the answer, authority and additional sections as they follow a
// question for the name E it was compiled against. A query for E or for
// any name below E is answered by copying the blob after the query's own
// question; compression pointers into E's part of the question and into
// the sections themselves are then off by the difference in question
// length, so rel lists them for patching. A pointer to offset 12 that is
// not in rel stands for the whole question name: the owner of records
// synthesized from a wildcard.
type blob struct {
	flags      uint16 // AA and RCODE bits of the header
	an, ns, ar uint16
	base       int // length of E in wire form
	data       []byte
	rel        []uint16
}

type blobEntry struct {
	key uint32
	b   *blob
}

// blobList is a node's compiled responses, all compiled against one
// Set: an answer may follow a CNAME into another zone of the set, so a
// set made by With (one zone swapped) starts a node's list afresh.
type blobList struct {
	set     *Set
	entries []blobEntry
}

// maxBlobsPerNode bounds the compiled responses kept per name; beyond it
// (a CNAME asked for many types) responses are compiled for each query.
const maxBlobsPerNode = 32

// maxCompiledBytes bounds the memory compiled responses take in a set:
// past it, answers not compiled yet are built for each query. A zone of a
// million names asked for every name would otherwise keep a copy of
// every answer. 32 MiB keeps about 250,000 answers: the names asked
// first, most often the names asked most.
const maxCompiledBytes = 32 << 20

// keep returns the copy of b the set keeps, counted against its bound,
// or false when b may not be kept.
func (s *Set) keep(b *blob) (*blob, bool) {
	if s.compiled.Add(b.size()) > maxCompiledBytes {
		s.compiled.Add(-b.size())
		return nil, false
	}
	return s.arena.copy(b), true
}

// size is about what a kept blob costs in memory: its data, the blob
// and an entry in its node's list.
func (b *blob) size() int64 { return int64(len(b.data) + 2*len(b.rel) + 96) }

// blobArena holds the compiled responses a set keeps, in blocks. Each
// is copied in once it is to be kept: scattered among the garbage that
// compiling makes, kept responses would hold on to pages that garbage
// left mostly empty, and each would be rounded up to a size class.
type blobArena struct {
	mu    sync.Mutex
	data  []byte
	rel   []uint16
	blobs []blob
}

// arenaBlock is the size of a block of a blobArena, in octets.
const arenaBlock = 64 << 10

// copy returns a copy of b in the arena.
func (a *blobArena) copy(b *blob) *blob {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cap(a.data)-len(a.data) < len(b.data) {
		a.data = make([]byte, 0, max(arenaBlock, len(b.data)))
	}
	if cap(a.rel)-len(a.rel) < len(b.rel) {
		a.rel = make([]uint16, 0, max(arenaBlock/2, len(b.rel)))
	}
	if len(a.blobs) == cap(a.blobs) {
		a.blobs = make([]blob, 0, 512)
	}
	a.blobs = append(a.blobs, *b)
	c := &a.blobs[len(a.blobs)-1]
	start := len(a.data)
	a.data = append(a.data, b.data...)
	c.data = a.data[start:len(a.data):len(a.data)]
	c.rel = nil
	if len(b.rel) > 0 {
		start = len(a.rel)
		a.rel = append(a.rel, b.rel...)
		c.rel = a.rel[start:len(a.rel):len(a.rel)]
	}
	return c
}

// blobKey says which compiled response of a node a query needs.
func blobKey(l lookup, qtype uint16, o answerOpts) uint32 {
	k := uint32(l.kind) << 24
	if o.minimal {
		k |= 1 << 16
	}
	if o.do {
		k |= 1 << 17
	}
	switch l.kind {
	case kindExact, kindWildcard:
		n := l.n
		if !n.nodata(qtype) {
			return k | uint32(qtype)
		}
		return k // every type the name lacks gets the same NODATA
	}
	return k
}

// proofKey finds a compiled response that carries a proof depending on
// the name asked: the node and key it would have without one, and the
// proof's owners.
type proofKey struct {
	n   *node
	key uint32
	p   proof
}

// proofBlob is a compiled response with a proof, and the set it was
// compiled against.
type proofBlob struct {
	set *Set
	b   *blob
}

// maxProofBlobs bounds the responses with proofs a zone keeps compiled;
// past it they are compiled for each query.
const maxProofBlobs = 1 << 16

// blobFor returns the compiled response for l, compiling and caching it
// on first use. It returns nil for answers that depend on the whole
// question name (DNAME synthesis).
func (s *Set) blobFor(l lookup, qtype uint16, o answerOpts, p proof) *blob {
	if l.kind == kindDNAME {
		return nil
	}
	switch l.kind {
	case kindRefused:
		return s.refused
	case kindExpired:
		return s.servfail
	}
	key := blobKey(l, qtype, o)
	if p != (proof{}) {
		return s.proofBlobFor(l, qtype, o, p, key)
	}
	cur := l.at.blobs.Load()
	if cur != nil && cur.set == s {
		for _, e := range cur.entries {
			if e.key == key {
				return e.b
			}
		}
	}
	b := s.compile(l, qtype, o, p)
	if b == nil || cur != nil && cur.set == s && len(cur.entries) >= maxBlobsPerNode {
		return b
	}
	kept, ok := s.keep(b)
	if !ok {
		return b
	}
	b = kept
	for {
		next := &blobList{set: s}
		if cur != nil && cur.set == s {
			if len(cur.entries) >= maxBlobsPerNode {
				return b // the copy kept stays counted: lists seldom race
			}
			next.entries = append(next.entries, cur.entries...)
		}
		next.entries = append(next.entries, blobEntry{key, b})
		if l.at.blobs.CompareAndSwap(cur, next) {
			return b
		}
		cur = l.at.blobs.Load()
	}
}

// proofBlobFor is blobFor for responses that carry a proof: they are kept
// by the zone, keyed by the proof as well.
func (s *Set) proofBlobFor(l lookup, qtype uint16, o answerOpts, p proof, key uint32) *blob {
	z := l.z
	k := proofKey{n: l.at, key: key, p: p}
	if v, ok := z.proofBlobs.Load(k); ok && v.(proofBlob).set == s {
		return v.(proofBlob).b
	}
	b := s.compile(l, qtype, o, p)
	if b == nil || z.proofCount.Load() >= maxProofBlobs {
		return b
	}
	if kept, ok := s.keep(b); ok {
		b = kept
		if _, loaded := z.proofBlobs.Swap(k, proofBlob{s, b}); !loaded {
			z.proofCount.Add(1)
		}
	}
	return b
}

// compile builds and packs the response for l against the stand-in
// name l.at; a wildcard's records are owned by the question name.
func (s *Set) compile(l lookup, qtype uint16, o answerOpts, p proof) *blob {
	return packBlob(s.respond(l, l.n.name, qtype, o, p), l.at.wire)
}

// packer writes sections with name compression whose targets it records.
type packer struct {
	buf     []byte
	dict    map[string]int // lowercase wire suffix -> offset
	rel     []uint16
	start   int
	synth   map[dns.RR]bool
	scratch []byte
}

// pointerLimit keeps compression targets patchable: a target plus the
// largest shift (a 255-octet name) must stay below 0x4000.
const pointerLimit = 0x3fff - 255

func packBlob(r *response, base string) *blob {
	p := &packer{dict: map[string]int{}, synth: r.synth, scratch: make([]byte, 0, 512)}
	p.buf = make([]byte, 12, 512)
	for i := 0; i < len(base) && base[i] != 0; i += 1 + int(base[i]) {
		p.dict[base[i:]] = 12 + i
	}
	p.buf = append(p.buf, base...)
	p.buf = append(p.buf, 0, 0, 0, 0)
	p.start = len(p.buf)
	for _, sec := range [][]dns.RR{r.an, r.ns, r.ar} {
		for _, rr := range sec {
			p.rr(rr)
		}
	}
	flags := uint16(r.rcode & 0xf)
	if r.aa {
		flags |= 1 << 10
	}
	return &blob{
		flags: flags,
		an:    uint16(len(r.an)), ns: uint16(len(r.ns)), ar: uint16(len(r.ar)),
		base: len(base),
		data: p.buf[p.start:], // in the packer's buffer: Set.keep copies what it keeps
		rel:  p.rel,
	}
}

func (p *packer) rr(rr dns.RR) {
	h := rr.Header()
	if p.synth[rr] {
		p.buf = append(p.buf, 0xc0, 12) // the question name
	} else {
		p.name(h.Name)
	}
	p.buf = binary.BigEndian.AppendUint16(p.buf, h.Rrtype)
	p.buf = binary.BigEndian.AppendUint16(p.buf, h.Class)
	p.buf = binary.BigEndian.AppendUint32(p.buf, h.Ttl)
	lenAt := len(p.buf)
	p.buf = append(p.buf, 0, 0)
	switch v := rr.(type) {
	case *dns.NS:
		p.name(v.Ns)
	case *dns.CNAME:
		p.name(v.Target)
	case *dns.PTR:
		p.name(v.Ptr)
	case *dns.MX:
		p.buf = binary.BigEndian.AppendUint16(p.buf, v.Preference)
		p.name(v.Mx)
	case *dns.SOA:
		p.name(v.Ns)
		p.name(v.Mbox)
		for _, x := range [...]uint32{v.Serial, v.Refresh, v.Retry, v.Expire, v.Minttl} {
			p.buf = binary.BigEndian.AppendUint32(p.buf, x)
		}
	default: // no compression inside other types (RFC 3597 §4)
		p.buf = append(p.buf, p.rdata(rr)...)
	}
	binary.BigEndian.PutUint16(p.buf[lenAt:], uint16(len(p.buf)-lenAt-2))
}

// rdata packs rr alone, uncompressed, and returns its RDATA. PackRR
// writes the record's Rdlength, and records are shared by every
// goroutine answering from the zone: it packs a copy.
func (p *packer) rdata(rr dns.RR) []byte {
	rr = dns.Copy(rr)
	need := dns.Len(rr) + 256
	if cap(p.scratch) < need {
		p.scratch = make([]byte, need)
	}
	buf := p.scratch[:need]
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	var owner [256]byte
	l, err := dns.PackDomainName(rr.Header().Name, owner[:], 0, nil, false)
	if err != nil || l+10 > end {
		return nil
	}
	return buf[l+10 : end]
}

// name writes a domain name, compressed against earlier names.
func (p *packer) name(name string) {
	var wire [256]byte
	n, err := dns.PackDomainName(name, wire[:], 0, nil, false)
	if err != nil {
		p.buf = append(p.buf, 0)
		return
	}
	w := wire[:n]
	lw := lowerASCII(append([]byte(nil), w...))
	for i := 0; i < len(w) && w[i] != 0; i += 1 + int(w[i]) {
		if off, ok := p.dict[string(lw[i:])]; ok {
			p.rel = append(p.rel, uint16(len(p.buf)-p.start))
			p.buf = binary.BigEndian.AppendUint16(p.buf, 0xc000|uint16(off))
			return
		}
		if at := len(p.buf); at < pointerLimit {
			p.dict[string(lw[i:])] = at
		}
		p.buf = append(p.buf, w[i:i+1+int(w[i])]...)
	}
	p.buf = append(p.buf, 0)
}
