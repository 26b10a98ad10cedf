package zones

import (
	"crypto/sha1"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// nsecChain makes the NSEC RRsets of a zone being signed: one at every
// name with authoritative data or a delegation, in canonical order, each
// naming the next and listing its types (RFC 4034 §4). names are the
// zone's nodes in canonical order; types the types each will hold.
func nsecChain(z *Zone, names []*node, types map[*node][]uint16, ttl uint32, keys []*SigningKey) []*outSet {
	var owners []*node
	for _, n := range names {
		if len(types[n]) > 0 && n.authoritative() {
			owners = append(owners, n)
		}
	}
	out := make([]*outSet, 0, len(owners))
	for i, n := range owners {
		next := owners[(i+1)%len(owners)]
		bitmap := append(slices.Clone(types[n]), dns.TypeNSEC, dns.TypeRRSIG)
		slices.Sort(bitmap)
		rr := &dns.NSEC{Hdr: dns.RR_Header{Name: n.name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl}, NextDomain: next.name, TypeBitMap: bitmap}
		out = append(out, &outSet{n: n, w: n.wire, name: n.name, rrtype: dns.TypeNSEC, rrs: []dns.RR{rr}, keys: keys})
	}
	return out
}

// nsec3Chain makes the NSEC3 RRsets of a zone being signed, with RFC
// 9276's parameters (SHA-1, no iterations, no salt, no opt-out): one for
// every name with authoritative data, every delegation and every empty
// non-terminal above them, in the order of their hashes.
func nsec3Chain(z *Zone, names []*node, types map[*node][]uint16, ttl uint32, keys []*SigningKey) []*outSet {
	type owner struct {
		hash   []byte
		n      *node
		bitmap []uint16
	}
	var owners []owner
	for _, n := range names {
		if !n.authoritative() {
			continue
		}
		var bitmap []uint16
		if ts := types[n]; len(ts) > 0 {
			bitmap = slices.Clone(ts)
			if n.cut != n || slices.Contains(ts, dns.TypeDS) {
				bitmap = append(bitmap, dns.TypeRRSIG)
			}
			slices.Sort(bitmap)
		} else if n.children == 0 && n.wild == nil {
			continue // not a name of the zone any more
		}
		owners = append(owners, owner{hash: nsec3Hash(n.wire), n: n, bitmap: bitmap})
	}
	slices.SortFunc(owners, func(a, b owner) int { return strings.Compare(string(a.hash), string(b.hash)) })
	out := make([]*outSet, 0, len(owners))
	for i, o := range owners {
		next := owners[(i+1)%len(owners)]
		label := strings.ToLower(base32Hex.EncodeToString(o.hash))
		name := childName(label, z.Origin)
		rr := &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: ttl},
			Hash:       dns.SHA1,
			HashLength: sha1.Size,
			NextDomain: strings.ToUpper(base32Hex.EncodeToString(next.hash)),
			TypeBitMap: o.bitmap,
		}
		w := "\x20" + label + z.wire
		out = append(out, &outSet{w: w, hashed: true, name: name, rrtype: dns.TypeNSEC3, rrs: []dns.RR{rr}, keys: keys})
	}
	return out
}

// nsec3Hash is the NSEC3 hash of the lowercase wire name w with no salt
// and no extra iterations.
func nsec3Hash(w string) []byte {
	sum := sha1.Sum([]byte(w))
	return sum[:]
}

// childName is the name of label below name (presentation forms); below
// the root, "label.".
func childName(label, name string) string {
	if name == "." {
		return label + "."
	}
	return label + "." + name
}
