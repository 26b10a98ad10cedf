package zones

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/miekg/dns"
)

// packCases hold records whose wire form is out of the ordinary: empty
// RDATA, unknown types, names with escapes, RRSIGs with their own TTLs,
// type bitmaps, SVCB parameters, an RRset over several records.
var packCases = map[string]string{
	"mixed": "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nns AAAA 2001:db8::1\n" +
		"a\\.b TXT \"x\\\"y\" \"\" z\nt TXT a\nt TXT b\nt 30 TXT c\nu TYPE65280 \\# 2 0102\nv TYPE65281 \\# 0\n" +
		"l APL 1:192.0.2.0/24 !2:2001:db8::/32\nm MX 0 .\nn NSEC a.example.org. A MX TXT\ns SVCB 1 . alpn=h2,h3 port=853 ipv4hint=192.0.2.9\n" +
		"c CNAME Target.Example.\nw LOC 52 1 N 4 E 0\ni IPSECKEY 1 0 2 . AQ==\nz CAA 0 issue \"ca.example\"\n" +
		"n RRSIG A 8 2 60 20300101000000 20200101000000 1 example.org. AQ==\n" +
		"n 30 RRSIG MX 8 2 60 20300101000000 20200101000000 1 example.org. AQ==\n" +
		"d NS ns.d\nns.d A 192.0.2.2\nd DS 1 8 2 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n",
	// A name's records apart in the file; duplicates, one differing
	// only in the case of a name its type does not lowercase.
	"apart": "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nx A 192.0.2.7\ny A 192.0.2.8\nX AAAA ::7\n" +
		"y TXT \"t\"\nx A 192.0.2.9\nx A 192.0.2.7\nn NSEC a.example.org. A\nn NSEC A.Example.ORG. A\nz.y.x A 192.0.2.10\n" +
		"a1 A 192.0.2.11\na2 A 192.0.2.12\na3 A 192.0.2.13\na4 A 192.0.2.14\na5 A 192.0.2.15\n",
}

// refNode is a name of the reference model of building a zone.
type refNode struct {
	name string
	sets []rrset
}

// referenceZone builds text's zone the simplest way, a record at a time
// as parsed structs: each name's RRsets in file order, duplicates
// dropped as dns.IsDuplicate finds them, TTLs evened out to the lowest
// but for RRSIGs. Its keys are wire names, "#" before NSEC3 owners'.
func referenceZone(t *testing.T, text string) (map[string]*refNode, int) {
	t.Helper()
	_, rrs, diags := parseZoneText(fstest.MapFS{"example.org.zone": {Data: []byte(text)}}, "example.org.zone", "zones", 0)
	if diags.HasErrors() {
		return nil, 0
	}
	var apex string
	for _, p := range rrs {
		if p.rr.Header().Rrtype == dns.TypeSOA && p.rr.Header().Class == dns.ClassINET {
			apex, _ = wireName(p.rr.Header().Name)
			break
		}
	}
	nodes := map[string]*refNode{}
	count, soas := 0, 0
	for _, p := range rrs {
		// The checks of a record on its own are addParsed's.
		var s recStream
		s.addParsed(p, nil)
		if len(s.diags) > 0 {
			continue
		}
		h := p.rr.Header()
		w, _ := wireName(h.Name)
		if !isSubdomainWire(w, apex) || h.Rrtype == dns.TypeSOA && soas > 0 {
			continue
		}
		if h.Rrtype == dns.TypeSOA {
			soas++
		}
		key := w
		if pw, ok := parentWire(w); ok && pw == apex && isHashedType(h.Rrtype, packedForm(t, p.rr)[len(w)+10:]) {
			key = "#" + w
		}
		n := nodes[key]
		if n == nil {
			n = &refNode{name: strings.ToLower(h.Name)}
			nodes[key] = n
		}
		h.Name = n.name
		k := slices.IndexFunc(n.sets, func(s rrset) bool { return s.rrtype == h.Rrtype })
		if k < 0 {
			n.sets = append(n.sets, rrset{rrtype: h.Rrtype, line: p.line, rrs: []dns.RR{p.rr}})
			count++
			continue
		}
		set := &n.sets[k]
		if slices.ContainsFunc(set.rrs, func(rr dns.RR) bool { return dns.IsDuplicate(rr, p.rr) }) {
			continue
		}
		set.rrs = append(set.rrs, p.rr)
		count++
		if low := min(set.rrs[0].Header().Ttl, h.Ttl); h.Rrtype != dns.TypeRRSIG {
			for _, rr := range set.rrs {
				rr.Header().Ttl = low
			}
		}
	}
	return nodes, count
}

// checkPacked builds text's zone and its reference model, and fails
// unless every name has the same RRsets, in the same order, with the
// same lines and the same records in wire form, unpacked as structs of
// the same type. (Their text may differ where the wire form does not:
// unpacked SVCB parameters come in key order, hex in lower case.) It
// returns the number of names compared: none for a file with errors.
func checkPacked(t *testing.T, text string) int {
	t.Helper()
	want, count := referenceZone(t, text)
	if want == nil {
		return 0
	}
	streams, _ := parseZoneFileCut(fstest.MapFS{"example.org.zone": {Data: []byte(text)}}, "example.org.zone", "zones", 0)
	got, diags := buildStreams("example.org.zone", streams)
	if diags.HasErrors() {
		return 0
	}
	compare := func(wn *refNode, gn *node) {
		if gn == nil {
			t.Errorf("%s: missing", wn.name)
			return
		}
		if gn.name != wn.name || !gn.isApex && (gn.packed == nil || gn.sets != nil) {
			t.Errorf("%s: named %s, or not packed", wn.name, gn.name)
		}
		gs := gn.allSets()
		if len(gs) != len(wn.sets) {
			t.Errorf("%s: %d RRsets, want %d", wn.name, len(gs), len(wn.sets))
			return
		}
		if types := slices.Collect(gn.setTypes()); len(types) != len(gs) {
			t.Errorf("%s: types %v", wn.name, types)
		}
		for i, w := range wn.sets {
			g := gs[i]
			if g.rrtype != w.rrtype || g.line != w.line || len(g.rrs) != len(w.rrs) {
				t.Errorf("%s: RRset %d is %d at line %d with %d records, want %d at line %d with %d",
					wn.name, i, g.rrtype, g.line, len(g.rrs), w.rrtype, w.line, len(w.rrs))
				continue
			}
			if !gn.has(w.rrtype) || len(gn.rrset(w.rrtype)) != len(w.rrs) {
				t.Errorf("%s: type %d not found", wn.name, w.rrtype)
			}
			for j := range w.rrs {
				if fmt.Sprintf("%T", g.rrs[j]) != fmt.Sprintf("%T", w.rrs[j]) || !bytes.Equal(packedForm(t, g.rrs[j]), packedForm(t, w.rrs[j])) {
					t.Errorf("%s: record\n%s\nwant\n%s", wn.name, g.rrs[j], w.rrs[j])
				}
			}
		}
		if gn.empty() != (len(wn.sets) == 0) {
			t.Errorf("%s: empty %v", wn.name, gn.empty())
		}
	}
	for w, wn := range want {
		if hw, ok := strings.CutPrefix(w, "#"); ok {
			compare(wn, got.sec.hashed[hw])
		} else {
			compare(wn, got.nodes[w])
		}
	}
	for w, n := range got.nodes {
		if want[w] == nil && !n.empty() {
			t.Errorf("%s: not in the reference", n.name)
		}
	}
	if len(got.sec.hashed)+len(got.nodes) < len(want) || got.Records() != count {
		t.Errorf("%d names and %d records, want %d names and empty non-terminals, %d records", len(got.nodes)+len(got.sec.hashed), got.Records(), len(want), count)
	}
	return len(want)
}

func packedForm(t *testing.T, rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+256)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatalf("%s: %v", rr, err)
	}
	return buf[:end]
}

func TestPackRoundTrip(t *testing.T) {
	for name, text := range packCases {
		t.Run(name, func(t *testing.T) {
			if n := checkPacked(t, text); n < 10 {
				t.Errorf("only %d names compared", n)
			}
		})
	}
}

func TestPackRoundTripFixtures(t *testing.T) {
	names := 0
	for _, f := range fixtureZoneTexts(t) {
		t.Run(f.name, func(t *testing.T) { names += checkPacked(t, f.text) })
	}
	if names < 100 {
		t.Errorf("only %d names compared", names)
	}
}

func FuzzPackRoundTrip(f *testing.F) {
	for _, text := range packCases {
		f.Add(text)
	}
	for _, text := range cutCases {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) { checkPacked(t, text) })
}
