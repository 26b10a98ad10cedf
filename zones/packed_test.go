package zones

import (
	"bytes"
	"fmt"
	"slices"
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
}

// checkPacked builds text's zone twice, once with the parsed structs kept
// and once packed, and fails unless every name has the same RRsets, in
// the same order, with the same lines and the same records in wire
// form, made as structs of the same type. (Their text may differ where the wire form does not: unpacked
// SVCB parameters come in key order, hex in lower case.) It returns the
// number of names compared: none for a file with errors.
func checkPacked(t *testing.T, text string) int {
	t.Helper()
	fsys := fstest.MapFS{"example.org.zone": {Data: []byte(text)}}
	rrs, diags := parseZoneFile(fsys, "example.org.zone", "zones")
	if diags.HasErrors() {
		return 0
	}
	want, wdiags := assembleZone("example.org.zone", rrs)
	rrs, _ = parseZoneFile(fsys, "example.org.zone", "zones")
	got, gdiags := buildZone("example.org.zone", rrs)
	if fmt.Sprint(gdiags) != fmt.Sprint(wdiags) {
		t.Fatalf("diagnostics packed:\n%s\nkept:\n%s", gdiags, wdiags)
	}
	if want == nil || got == nil {
		return 0
	}
	compare := func(wn, gn *node) {
		if gn == nil {
			t.Errorf("%s: missing once packed", wn.name)
			return
		}
		if !gn.isApex && len(wn.sets) > 0 && (gn.packed == nil || gn.sets != nil) {
			t.Errorf("%s: not packed", wn.name)
		}
		ws, gs := wn.allSets(), gn.allSets()
		if len(ws) != len(gs) {
			t.Errorf("%s: %d RRsets once packed, %d kept", wn.name, len(gs), len(ws))
			return
		}
		if types := slices.Collect(gn.setTypes()); len(types) != len(ws) {
			t.Errorf("%s: types %v once packed", wn.name, types)
		}
		for i, w := range ws {
			g := gs[i]
			if g.rrtype != w.rrtype || g.line != w.line || len(g.rrs) != len(w.rrs) {
				t.Errorf("%s: RRset %d is %d at line %d with %d records once packed, %d at line %d with %d kept",
					wn.name, i, g.rrtype, g.line, len(g.rrs), w.rrtype, w.line, len(w.rrs))
				continue
			}
			if !gn.has(w.rrtype) || len(gn.rrset(w.rrtype)) != len(wn.rrset(w.rrtype)) {
				t.Errorf("%s: type %d not found once packed", wn.name, w.rrtype)
			}
			for j := range w.rrs {
				if fmt.Sprintf("%T", g.rrs[j]) != fmt.Sprintf("%T", w.rrs[j]) || !bytes.Equal(packedForm(t, g.rrs[j]), packedForm(t, w.rrs[j])) {
					t.Errorf("%s: record\n%s\nonce packed, kept\n%s", wn.name, g.rrs[j], w.rrs[j])
				}
			}
		}
		if gn.has(dns.TypeNULL) != wn.has(dns.TypeNULL) || gn.empty() != wn.empty() {
			t.Errorf("%s: has or empty differ once packed", wn.name)
		}
	}
	for w, wn := range want.nodes {
		compare(wn, got.nodes[w])
	}
	for w, wn := range want.sec.hashed {
		compare(wn, got.sec.hashed[w])
	}
	if len(got.nodes) != len(want.nodes) || len(got.sec.hashed) != len(want.sec.hashed) {
		t.Errorf("%d names once packed, %d kept", len(got.nodes)+len(got.sec.hashed), len(want.nodes)+len(want.sec.hashed))
	}
	return len(want.nodes) + len(want.sec.hashed)
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
