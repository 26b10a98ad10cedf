package zones

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// TestFastPiece reads pieces with the fast reader and checks which it
// takes and which it leaves to the zone parser; for those it takes,
// the records, files, lines and warning must be the parser's.
func TestFastPiece(t *testing.T) {
	for _, c := range []struct {
		text string
		fast bool
	}{
		{"a A 192.0.2.1\n", true},
		{"a 300 IN A 192.0.2.1\nb IN 300 AAAA 2001:db8::1 ; comment\n\n ; only a comment\n\t\nc in txt \"x y\" \"\" \"a;b\"\n", true},
		{"@ NS ns1\n NS ns2.example.net.\n MX 10 mail\nw.x CNAME @\n*.w PTR Target.Example.\nUPPER-case_x A 10.0.0.1\n", true},
		{"$TTL 60\na A 192.0.2.1\n$ORIGIN sub.example.org.\nb A 192.0.2.2\n$ttl 5\nc A 192.0.2.3\n", true},
		{"a A 192.0.2.1", true},
		{"a A 192.0.2.1\na AAAA ::1\n$ORIGIN sub.example.org.\na A 192.0.2.2\n TXT \"x\"\na MX 1 a\n", true},
		{"a ( A 192.0.2.1 )\n", false},
		{"a TXT \"x\\\"y\"\n", false},
		{"a\\.b A 192.0.2.1\n", false},
		{"a 1h A 192.0.2.1\n", false},
		{"a CH A 192.0.2.1\n", false},
		{"a IN IN A 192.0.2.1\n", false},
		{"a SOA ns hm 1 2 3 4 5\n", false},
		{"a A 192.0.2.1 x\n", false},
		{"a AAAA 192.0.2.1\n", false},
		{"a A ::1\n", false},
		{"a MX 70000 mail\n", false},
		{"a TXT x\n", false},
		{"a TXT\"x\"\n", false},
		{"a TXT \"x\"y\n", false},
		{" A 192.0.2.1\n", false},
		{"$ORIGIN sub\na A 192.0.2.1\n", false},
		{"$INCLUDE other\n", false},
		{"a..b A 192.0.2.1\n", false},
		{"a A 192.0.2.1\r\n", false},
	} {
		t.Run(fmt.Sprintf("%q", c.text), func(t *testing.T) {
			p := piece{start: 0, end: len(c.text), line: 7, origin: "example.org."}
			s := &recStream{}
			ok := fastPiece(c.text, p, "example.org.zone", s)
			if ok != c.fast {
				t.Fatalf("taken %v, want %v", ok, c.fast)
			}
			if !ok {
				return
			}
			s.finish()
			noTTL := s.noTTL
			out, refused := streamText([]*recStream{s})
			// The parser, reading the same text from line 7.
			text := "$ORIGIN example.org.\n" + strings.Repeat("\n", 5) + c.text
			streams, diags := parseZoneFileCut(fstest.MapFS{"example.org.zone": {Data: []byte(text)}}, "example.org.zone", "", 0)
			whole, wrefused := streamText(streams)
			if len(whole) != len(out) || len(refused)+len(wrefused) != 0 {
				t.Fatalf("%d records, the parser made %d (%v %v %v)", len(out), len(whole), diags, refused, wrefused)
			}
			for i := range whole {
				if out[i] != whole[i] {
					t.Errorf("record %s\nthe parser's: %s", out[i], whole[i])
				}
			}
			if (noTTL == nil) != (len(diags) == 0) || noTTL != nil && noTTL.String() != diags[0].String() {
				t.Errorf("warning %v, the parser's %v", noTTL, diags)
			}
		})
	}
	// A piece with no origin (a file named otherwise than its zone, no
	// $ORIGIN yet): the parser refuses relative names, so it reads it.
	if fastPiece("a A 192.0.2.1\n", piece{line: 1}, "zonefile", &recStream{}) {
		t.Error("a piece without an origin taken")
	}
}
