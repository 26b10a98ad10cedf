package zones

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Denial is how a zone islet signs proves that a name or a type does not
// exist.
type Denial int

const (
	// DenyNSEC chains the names with NSEC records (RFC 4034 §4).
	DenyNSEC Denial = iota
	// DenyNSEC3 chains their hashes with NSEC3 records, with the
	// parameters RFC 9276 asks for: SHA-1, no extra iterations, no
	// salt, no opt-out.
	DenyNSEC3
	// DenyCompact is RFC 9824's compact denial: an NSEC of its own at
	// each name, and one made per query for a name that does not exist
	// (compact.go). It needs the keys at hand, so it cannot be
	// transferred to secondaries.
	DenyCompact
)

// ParseDenial reads "nsec", "nsec3" or "compact".
func ParseDenial(s string) (Denial, error) {
	switch strings.ToLower(s) {
	case "", "nsec":
		return DenyNSEC, nil
	case "nsec3":
		return DenyNSEC3, nil
	case "compact":
		return DenyCompact, nil
	}
	return 0, fmt.Errorf("DNSSEC denial %q: want nsec, nsec3 or compact", s)
}

// DefaultValidity is how long the signatures islet makes are valid.
const DefaultValidity = 14 * 24 * time.Hour

// inceptionSkew dates signatures back, for validators whose clocks are
// behind.
const inceptionSkew = time.Hour

// SignOptions say how a Signer signs.
type SignOptions struct {
	Denial Denial
	// Validity of new signatures (DefaultValidity when 0). A signature
	// is made again once less than a third of it is left.
	Validity time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Zones are the origins signed (fully qualified, lowercase);
	// every zone when empty.
	Zones []string
	// CompactRate bounds the signatures a second a zone with compact
	// denial makes per query (DefaultCompactRate when 0).
	CompactRate int
}

// Compact reports whether the signer denies with compact denial, which
// signs per query and so cannot be transferred.
func (s *Signer) Compact() bool { return s.opt.Denial == DenyCompact }

// Signer signs zones whose data has no DNSKEY of its own with the keys
// of a KeyStore: every RRset gets its RRSIGs when the zone loads, on
// every core, and they are served as they are, never made per query.
// Signatures still valid for long enough are taken over from the
// version of the zone served before, so that a zone loaded again
// unchanged is the same zone under the same serial, and a change makes
// only the signatures it must. Methods are safe for concurrent use.
type Signer struct {
	keys *KeyStore
	opt  SignOptions
}

// NewSigner returns a Signer using the keys of ks.
func NewSigner(ks *KeyStore, opt SignOptions) *Signer {
	if opt.Validity <= 0 {
		opt.Validity = DefaultValidity
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Signer{keys: ks, opt: opt}
}

// Keys is the folder of keys the signer uses.
func (s *Signer) Keys() *KeyStore { return s.keys }

// refreshBefore is how much validity a signature must have left to be
// served on.
func (s *Signer) refreshBefore() time.Duration { return s.opt.Validity / 3 }

// Signs reports whether s signs z: a zone of SignOptions.Zones it
// signed before, or one whose data has no DNSKEY (a zone signed
// elsewhere is served as it is).
func (s *Signer) Signs(z *Zone) bool {
	if len(s.opt.Zones) > 0 && !slices.Contains(s.opt.Zones, z.Origin) {
		return false
	}
	return z.signedHere || !z.apex.has(dns.TypeDNSKEY)
}

// SignStats tells what signing a zone did.
type SignStats struct {
	Signed, Reused int // RRsets signed afresh, and those whose signatures were taken over
	// Msg, when not empty, is a warning for the log: the zone changed
	// under a serial not newer than the one served before.
	Msg string
	// Rollover, when not empty, warns that a rollover's schedule is
	// shorter than the zone's TTLs: CDS names a new key before caches
	// can have dropped what they hold without it.
	Rollover string
	// Diags are the diagnostics of the signed zone's check; an Error
	// among them is returned as an error instead.
	Diags Diagnostics
}

// dnssecTypes are the types a Signer makes itself; the same types in
// the data it is given are replaced.
func dnssecType(t uint16) bool {
	switch t {
	case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY:
		return true
	}
	return false
}

// outSet is one RRset of the signed zone, with the signatures it needs.
type outSet struct {
	n       *node // where it comes from; nil for the NSEC3 owners
	w       string
	hashed  bool
	name    string
	rrtype  uint16
	rrs     []dns.RR
	line    int
	keys    []*SigningKey // none: not signed (glue, a delegation's NS)
	sigs    []dns.RR
	reuse   bool          // every key's signature taken over
	todo    []*SigningKey // the keys whose signatures must be made
	dropped bool          // prev's set had signatures of keys that sign no more
	same    bool          // equal to the set prev served
}

// Sign returns z signed. prev is the version served before (nil: none),
// whose signatures are taken over where the RRset is unchanged and they
// are valid for long enough. The serial is z's when it is newer than
// prev's; otherwise prev's when nothing changed, and else the later of
// prev's plus one and the Unix time, as Knot's unixtime policy gives it.
func (s *Signer) Sign(z, prev *Zone) (*Zone, SignStats, error) {
	var st SignStats
	now := s.opt.Now()
	stamp := s.keys.keysStamp(z.Origin)
	all, err := s.keys.Keys(z.Origin, now)
	if err != nil {
		return nil, st, err
	}
	var published, ksks, zsks []*SigningKey
	for _, k := range all {
		if k.published(now) {
			published = append(published, k)
		}
		if k.active(now) {
			if k.SEP() {
				ksks = append(ksks, k)
			} else {
				zsks = append(zsks, k)
			}
		}
	}
	if len(ksks)+len(zsks) == 0 {
		return nil, st, fmt.Errorf("zones: sign %s: no key in %s is active now", z.Origin, s.keys.dir)
	}
	keySigners, dataSigners := ksks, zsks
	if len(keySigners) == 0 {
		keySigners = zsks
	}
	if len(dataSigners) == 0 {
		dataSigners = ksks
	}
	if prev != nil && !prev.Signed() {
		prev = nil
	}

	serial := z.soa.Serial
	if prev != nil && serialNotNewer(serial, prev.soa.Serial) {
		serial = prev.soa.Serial
	}
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Serial = serial
	negTTL := min(soa.Hdr.Ttl, soa.Minttl) // RFC 9077

	// The RRsets of the data, by name in canonical order.
	names := make([]*node, 0, len(z.nodes))
	for _, n := range z.nodes {
		names = append(names, n)
	}
	keys := make(map[*node]string, len(names))
	for _, n := range names {
		keys[n] = canonicalKey(n.wire)
	}
	slices.SortFunc(names, func(a, b *node) int { return strings.Compare(keys[a], keys[b]) })
	var sets []*outSet
	types := map[*node][]uint16{}
	for _, n := range names {
		for _, set := range n.allSets() {
			if dnssecType(set.rrtype) {
				continue
			}
			o := &outSet{n: n, w: n.wire, name: n.name, rrtype: set.rrtype, line: set.line}
			for _, rr := range set.rrs {
				if set.rrtype == dns.TypeSOA {
					o.rrs = append(o.rrs, soa) // a copy already, its serial set below
					continue
				}
				o.rrs = append(o.rrs, dns.Copy(rr))
			}
			if n.signedType(set.rrtype) {
				o.keys = dataSigners
			}
			sets = append(sets, o)
			types[n] = append(types[n], set.rrtype)
		}
	}
	// The apex's DNSKEY, CDS and CDNSKEY RRsets (RFC 7344).
	apex := func(t uint16, rrs []dns.RR) {
		if len(rrs) > 0 {
			sets = append(sets, &outSet{n: z.apex, w: z.wire, name: z.Origin, rrtype: t, rrs: rrs, keys: keySigners})
			types[z.apex] = append(types[z.apex], t)
		}
	}
	var dnskeys, cds, cdnskeys []dns.RR
	for _, k := range published {
		key := *k.DNSKEY
		key.Hdr = dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: soa.Hdr.Ttl}
		dnskeys = append(dnskeys, &key)
		if k.Synced(now) {
			c := key.ToDS(dns.SHA256).ToCDS()
			c.Hdr = dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeCDS, Class: dns.ClassINET, Ttl: soa.Hdr.Ttl}
			cds = append(cds, c)
			cn := key.ToCDNSKEY()
			cn.Hdr = dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeCDNSKEY, Class: dns.ClassINET, Ttl: soa.Hdr.Ttl}
			cdnskeys = append(cdnskeys, cn)
		}
	}
	apex(dns.TypeDNSKEY, dnskeys)
	apex(dns.TypeCDS, cds)
	apex(dns.TypeCDNSKEY, cdnskeys)
	switch s.opt.Denial {
	case DenyCompact:
		sets = append(sets, compactNSECs(z, names, types, negTTL, dataSigners)...)
	case DenyNSEC3:
		param := &dns.NSEC3PARAM{Hdr: dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET, Ttl: 0}, Hash: dns.SHA1}
		apex(dns.TypeNSEC3PARAM, []dns.RR{param})
		sets = append(sets, nsec3Chain(z, names, types, negTTL, dataSigners)...)
	default:
		sets = append(sets, nsecChain(z, names, types, negTTL, dataSigners)...)
	}

	var maxTTL uint32
	for _, o := range sets {
		maxTTL = max(maxTTL, o.rrs[0].Header().Ttl)
	}
	for _, k := range all {
		if wait := k.SyncPublish.Sub(k.Publish); k.SEP() && !k.SyncPublish.IsZero() && now.Before(k.SyncPublish) && wait < time.Duration(maxTTL)*time.Second {
			st.Rollover = fmt.Sprintf("rollover of %s: CDS names the new key %d %v after it was published, but the zone's largest TTL is %v: resolvers may still hold answers it did not sign (give islet dnssec rollover --zone-ttl %v)",
				z.Origin, k.Tag(), wait, time.Duration(maxTTL)*time.Second, time.Duration(maxTTL)*time.Second)
		}
	}

	// What can be taken over from prev; whether the data changed (an
	// RRset new, different or gone) or only signatures must be made.
	refresh := now.Add(s.refreshBefore())
	changed := prev != nil && countSets(prev) != len(sets)
	stale := false
	for _, o := range sets {
		o.planReuse(prev, refresh)
		changed = changed || !o.same
		stale = stale || (len(o.keys) > 0 && !o.reuse) || o.dropped
	}
	if prev != nil && serial == prev.soa.Serial && (changed || stale) {
		serial = max(prev.soa.Serial+1, uint32(now.Unix()))
		soa.Serial = serial
		for _, o := range sets {
			if o.rrtype == dns.TypeSOA && o.n == z.apex {
				o.reuse, o.sigs, o.todo = false, nil, o.keys
			}
		}
		if changed {
			st.Msg = fmt.Sprintf("zone %s changed but its serial %d is not newer than the %d served before: serving it signed as serial %d", z.Origin, z.soa.Serial, prev.soa.Serial, serial)
		}
	}

	// Sign what must be, on every core.
	var todo []*outSet
	for _, o := range sets {
		if len(o.keys) == 0 {
			continue
		}
		if o.reuse {
			st.Reused++
			continue
		}
		if o.todo == nil {
			o.todo = o.keys
		}
		todo = append(todo, o)
	}
	st.Signed = len(todo)
	inception := uint32(now.Add(-inceptionSkew).Unix())
	expiration := uint32(now.Add(s.opt.Validity).Unix())
	if err := signAll(todo, z.Origin, inception, expiration); err != nil {
		return nil, st, fmt.Errorf("zones: sign %s: %w", z.Origin, err)
	}

	// Each name's RRsets keep the file's order (an ANY query gets the
	// first, as NSD picks it), the DNSSEC ones after them.
	var parsed []parsedRR
	for _, o := range sets {
		for _, rr := range o.rrs {
			parsed = append(parsed, parsedRR{rr: rr, file: z.File, line: o.line})
		}
		for _, rr := range o.sigs {
			parsed = append(parsed, parsedRR{rr: rr, file: z.File, line: o.line})
		}
	}
	nz, diags := buildZone(z.File, parsed)
	st.Diags = diags
	if diags.HasErrors() || nz == nil {
		return nil, st, fmt.Errorf("zones: sign %s: %w", z.Origin, &LoadError{Diagnostics: diags})
	}
	nz.signedHere = true
	if s.opt.Denial == DenyCompact {
		nz.online = newCompactState(z.Origin, dataSigners, s.opt.Validity, s.opt.Now, negTTL, s.opt.CompactRate)
	}
	nz.resignAt = resignTime(sets, s.refreshBefore())
	for _, k := range all {
		// a key's next step (of a rollover) is a time to sign again
		if e := k.nextEvent(now); !e.IsZero() && (nz.resignAt.IsZero() || e.Before(nz.resignAt)) {
			nz.resignAt = e
		}
	}
	nz.keysStamp = stamp
	return nz, st, nil
}

// ResignAt is when a zone a Signer signed must be signed again: its
// first signature's refresh, or a key's next step; zero for other zones.
func (z *Zone) ResignAt() time.Time { return z.resignAt }

// serialNotNewer reports whether serial a is not newer than b (RFC 1982).
func serialNotNewer(a, b uint32) bool { return a == b || a-b >= 1<<31 }

// countSets is the number of RRsets of z other than RRSIGs.
func countSets(z *Zone) int {
	n := 0
	for _, nd := range z.nodes {
		for t := range nd.setTypes() {
			if t != dns.TypeRRSIG {
				n++
			}
		}
	}
	for _, nd := range z.sec.hashed {
		for t := range nd.setTypes() {
			if t != dns.TypeRRSIG {
				n++
			}
		}
	}
	return n
}

// planReuse compares o with the same RRset in prev and takes over its
// signatures when each key that signs o made one that is valid until
// after refresh.
func (o *outSet) planReuse(prev *Zone, refresh time.Time) {
	if prev == nil {
		return
	}
	var pn *node
	if o.hashed {
		pn = prev.sec.hashed[o.w]
	} else {
		pn = prev.nodes[o.w]
	}
	if pn == nil {
		return
	}
	old := pn.rrset(o.rrtype)
	if !equalSets(old, o.rrs) {
		return
	}
	o.same = true
	if len(o.keys) == 0 {
		return
	}
	prevSigs := pn.sigs(o.rrtype)
	var todo []*SigningKey
	for _, k := range o.keys {
		var found dns.RR
		for _, rr := range prevSigs {
			sig := rr.(*dns.RRSIG)
			if sig.KeyTag == k.Tag() && sig.Algorithm == k.DNSKEY.Algorithm && sig.OrigTtl == o.rrs[0].Header().Ttl &&
				int64(sig.Expiration) > refresh.Unix() && sig.Hdr.Ttl == o.rrs[0].Header().Ttl {
				found = dns.Copy(sig)
				break
			}
		}
		if found == nil {
			todo = append(todo, k)
			continue
		}
		o.sigs = append(o.sigs, found)
	}
	// An RRset signed by every key before counts as taken over; one
	// with a key new (a rollover) keeps the others' signatures and
	// gets the new key's.
	o.reuse = len(todo) == 0
	o.todo = todo
	// signatures of a key that signs no more go with it
	o.dropped = len(prevSigs) > len(o.sigs)
}

// equalSets reports whether two RRsets hold the same records with the
// same TTL, in any order. Records are compared in wire form: their
// presentation may differ where the wire does not (a DS digest's case).
func equalSets(a, b []dns.RR) bool {
	if len(a) != len(b) || len(a) == 0 || a[0].Header().Ttl != b[0].Header().Ttl {
		return false
	}
	count := make(map[string]int, len(a))
	buf := make([]byte, 0, 512)
	for _, x := range a {
		w, ok := rrWire(x, buf)
		if !ok {
			return false
		}
		count[string(w)]++
	}
	for _, y := range b {
		w, ok := rrWire(y, buf)
		if !ok || count[string(w)] == 0 {
			return false
		}
		count[string(w)]--
	}
	return true
}

// rrWire packs rr, uncompressed, into buf's space. It packs a copy:
// packing sets the header's RDATA length, and rr may be being served.
func rrWire(rr dns.RR, buf []byte) ([]byte, bool) {
	rr = dns.Copy(rr)
	buf = buf[:cap(buf)]
	if n := dns.Len(rr) + 16; n > len(buf) {
		buf = make([]byte, n)
	}
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	return buf[:off], err == nil
}

// signAll makes the signatures of sets, spread over every core.
func signAll(sets []*outSet, origin string, inception, expiration uint32) error {
	workers := min(runtime.GOMAXPROCS(0), 1+len(sets)/64)
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(sets) {
					return
				}
				o := sets[i]
				for _, k := range o.todo {
					sig := &dns.RRSIG{
						Hdr:        dns.RR_Header{Ttl: o.rrs[0].Header().Ttl},
						Algorithm:  k.DNSKEY.Algorithm,
						KeyTag:     k.Tag(),
						SignerName: origin,
						Inception:  inception,
						Expiration: expiration,
					}
					if err := sig.Sign(k.signer, o.rrs); err != nil {
						mu.Lock()
						if first == nil {
							first = fmt.Errorf("%s %s: %w", o.name, dns.TypeToString[o.rrtype], err)
						}
						mu.Unlock()
						return
					}
					sig.Hdr.Ttl = o.rrs[0].Header().Ttl
					o.sigs = append(o.sigs, sig)
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// resignTime is when the first signature of sets has less than refresh
// of its validity left.
func resignTime(sets []*outSet, refresh time.Duration) time.Time {
	var first uint32
	for _, o := range sets {
		for _, rr := range o.sigs {
			if e := rr.(*dns.RRSIG).Expiration; first == 0 || e-first >= 1<<31 {
				first = e
			}
		}
	}
	if first == 0 {
		return time.Time{}
	}
	return time.Unix(int64(first), 0).Add(-refresh)
}
