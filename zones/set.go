package zones

import (
	"sort"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Set is every zone the server answers for. It is immutable once built
// and safe for concurrent use.
type Set struct {
	zones map[string]*Zone // by lowercase wire origin
	list  []*Zone          // sorted by origin

	refused  *blob // the answer for names outside every zone
	servfail *blob // the answer for names in an expired zone

	compiled atomic.Int64 // octets of compiled answers kept, see compile.go
	arena    blobArena    // and the answers
	signed   bool         // some zone is signed: the DO bit changes answers
}

// NewSet returns a set of the zones zs (none: a server that only
// follows primaries starts with it).
func NewSet(zs ...*Zone) *Set { return newSet(append([]*Zone(nil), zs...)) }

func newSet(zones []*Zone) *Set {
	s := &Set{zones: make(map[string]*Zone, len(zones)), list: zones, refused: &blob{flags: dns.RcodeRefused}, servfail: &blob{flags: dns.RcodeServerFailure}}
	for _, z := range zones {
		s.zones[z.wire] = z
		s.signed = s.signed || z.Signed()
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].Origin < s.list[j].Origin })
	return s
}

// Zones returns the zones of the set, sorted by origin.
func (s *Set) Zones() []*Zone { return s.list }

// closestZone returns the deepest zone whose origin is qw or an ancestor
// of it; qw is a lowercase wire name.
func (s *Set) closestZone(qw string) *Zone {
	for i := 0; i < len(qw); i += 1 + int(qw[i]) {
		if z, ok := s.zones[qw[i:]]; ok {
			return z
		}
		if qw[i] == 0 {
			break
		}
	}
	return nil
}

// ZoneFor returns the zone that answers for name (the closest enclosing
// one), or nil.
func (s *Set) ZoneFor(name string) *Zone {
	w, err := wireName(name)
	if err != nil {
		return nil
	}
	return s.closestZone(w)
}
