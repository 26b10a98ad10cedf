package zones

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Zone is one loaded, validated zone.
type Zone struct {
	Origin string // fully qualified, lowercase presentation form
	File   string // the file it was loaded from

	wire  string           // Origin in lowercase wire form
	apex  *node            // the node at the origin
	nodes map[string]*node // every name in the zone, empty non-terminals included
	soa   *dns.SOA
	count int // records loaded
	sec   dnssecState

	// signedHere marks a zone a Signer signed; resignAt is when its
	// first signature needs making again.
	signedHere bool
	resignAt   time.Time
	keysStamp  time.Time     // the key files' latest change when signed
	online     *compactState // compact denial's keys and names, see compact.go

	proofBlobs sync.Map // proofKey -> proofBlob, see compile.go
	proofCount atomic.Int64

	// expired is set on a secondary zone not refreshed for its SOA's
	// expire time: its names get SERVFAIL (RFC 1035 §4.3.5).
	expired atomic.Bool

	orderOnce sync.Once
	order     []*node // the names a whole transfer sends, see transferOrder
}

// Records returns the number of resource records the zone holds.
func (z *Zone) Records() int { return z.count }

// Serial returns the serial of the zone's SOA record.
func (z *Zone) Serial() uint32 { return z.soa.Serial }

// negativeSOA is the SOA to put in the authority section of a negative
// answer: TTL min(SOA TTL, SOA minimum), RFC 2308 §3.
func (z *Zone) negativeSOA() dns.RR {
	soa := *z.soa
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return &soa
}

// rrset is all records of one type at one name.
type rrset struct {
	rrtype uint16
	line   int // line of its first record, for diagnostics
	rrs    []dns.RR
}

// node is one name in a zone.
type node struct {
	name string // presentation form, as the first record spelled it, lowercased
	wire string // lowercase wire form: the map key
	// sets holds the RRsets while the zone is built; packed holds them
	// once it is (see packed.go), and sets is then nil.
	sets   []rrset
	packed []byte

	parent   *node
	wild     *node // the "*" child, if any
	cut      *node // highest delegation point at or above (never the apex)
	dnameUp  *node // highest DNAME owner strictly above
	children int32
	isApex   bool

	blobs atomic.Pointer[blobList] // compiled responses, see compile.go
}

// rrset returns n's RRset of type t, nil when it has none. The records
// of a packed node are new structs on each call.
func (n *node) rrset(t uint16) []dns.RR {
	if n.packed != nil {
		if s, ok := n.packedFind(t); ok {
			return n.unpack(s)
		}
		return nil
	}
	for i := range n.sets {
		if n.sets[i].rrtype == t {
			return n.sets[i].rrs
		}
	}
	return nil
}

func (n *node) has(t uint16) bool {
	if n.packed != nil {
		_, ok := n.packedFind(t)
		return ok
	}
	return n.rrset(t) != nil
}

// nodata reports whether a query for type t at n gets NODATA: n has no
// such RRset and no CNAME to follow. NSEC3 records are never at a name of
// the zone, so a query for them is NODATA whatever the name holds, as NSD
// answers it.
func (n *node) nodata(t uint16) bool {
	switch {
	case t == dns.TypeNSEC3:
		return true
	case t == dns.TypeANY:
		return false
	}
	return !n.has(t) && !n.has(dns.TypeCNAME)
}

func (n *node) empty() bool { return len(n.sets) == 0 && len(n.packed) == 0 }

// isCut reports whether the node is a delegation point: NS below the apex.
func (n *node) isCut() bool { return !n.isApex && n.has(dns.TypeNS) }

// RRs returns every record of the zone, sorted by owner name and type.
func (z *Zone) RRs() []dns.RR {
	all := make([]*node, 0, len(z.nodes)+len(z.sec.hashed))
	for _, n := range z.nodes {
		all = append(all, n)
	}
	for _, n := range z.sec.hashed {
		all = append(all, n)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	var out []dns.RR
	for _, n := range all {
		sets := append([]rrset(nil), n.allSets()...)
		sort.SliceStable(sets, func(i, j int) bool { return sets[i].rrtype < sets[j].rrtype })
		for _, s := range sets {
			out = append(out, s.rrs...)
		}
	}
	return out
}
