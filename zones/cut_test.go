package zones

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

// cutCases are zone files whose pieces must parse as the whole does:
// entries over several lines, quotes and comments holding what would
// otherwise open or close them, directives between the pieces, errors in
// a later piece.
var cutCases = map[string]string{
	"parentheses": "$TTL 300\n@ SOA ns hm ( 1 ; serial (\n 2 3 ; \"quoted\n 4 5 )\n NS ns\nns A 192.0.2.1\n" +
		"t TXT \"a;b(\" \"c\nd\" ( \"e\"\n \"f\" )\nu TXT a\\\"b \"g\\\"h\"\nv TXT \"x)\" ; (\nw A 192.0.2.2\np TXT (\nq\n\"r\" ) ; )\nnsx A 192.0.2.3\n",
	"directives": "$ORIGIN example.org.\n@ 60 SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n$TTL 1h ; one hour\n" +
		"a A 192.0.2.2\n$ORIGIN sub\nb A 192.0.2.3\n$ORIGIN @\nc A 192.0.2.4\n$ORIGIN other.example.org.\nd A 192.0.2.5\n$TTL 2d3h\ne AAAA ::1\nf A 192.0.2.6\n",
	"no TTL":       "@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\na A 192.0.2.2\nb 30 A 192.0.2.3\nc A 192.0.2.4\n$TTL 5\nd A 192.0.2.5\n",
	"blank owners": "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\n\tNS ns2\nns A 192.0.2.1\n A 192.0.2.9\n\nns2 A 192.0.2.2\n ; a comment\n AAAA ::2\n",
	"CRLF":         "$TTL 60\r\n@ SOA ns hm 1 2 3 4 5\r\n NS ns\r\nns A 192.0.2.1\r\nx TXT \"a\r\nb\"\r\ny IN 30 A 192.0.2.3",
	"late error":   "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\na A 192.0.2.2\nb A 192.0.2.300\nc A 192.0.2.4\nd MX x\n",
	"escapes":      "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n\\@x A 192.0.2.2\na\\ b TXT \"\\;\"\nc TXT x\\;\nd A 192.0.2.4\n",
	"bad TTL":      "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n$TTL x\na A 192.0.2.2\n",
	"generate":     "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n$GENERATE 1-3 h$ A 192.0.2.$\na A 192.0.2.2\n",
}

// streamText returns the records of streams as text, one a string: file,
// line, owner, whether it is kept apart as an NSEC3 owner's, the record
// and its wire form; and the records the streams refused.
func streamText(streams []*recStream) (recs []string, refused Diagnostics) {
	for _, s := range streams {
		for ri := range s.runs {
			r := &s.runs[ri]
			for d := s.runData(ri); len(d) > 0; {
				t, line, rec, rest := nextRec(d)
				d = rest
				recs = append(recs, fmt.Sprintf("%s:%d %q %v %s %x", r.file, line, s.wire(r), r.hashed, rrText(unpackRec(s.name(r), t, rec)), rec))
			}
		}
		refused = append(refused, s.diags...)
	}
	return recs, refused
}

// parseBoth parses a zone file whole and cut at every line that may be
// cut, and fails unless both give the same records, files, lines and
// diagnostics, in the same wire form. It returns the number of pieces, and whether their parse
// stood (a piece with an error has the whole file parsed instead).
func parseBoth(t *testing.T, text string) (int, bool) {
	t.Helper()
	fsys := fstest.MapFS{"example.org.zone": {Data: []byte(text)}}
	whole, wdiags := parseZoneFileCut(fsys, "example.org.zone", "zones", 0)
	cut, cdiags := parseZoneFileCut(fsys, "example.org.zone", "zones", 1)
	if got, want := fmt.Sprint(cdiags), fmt.Sprint(wdiags); got != want {
		t.Errorf("diagnostics cut:\n%s\nwhole:\n%s", got, want)
	}
	wrecs, wrefused := streamText(whole)
	crecs, crefused := streamText(cut)
	if len(crecs) != len(wrecs) {
		t.Errorf("%d records cut, %d whole", len(crecs), len(wrecs))
	}
	for i := range min(len(crecs), len(wrecs)) {
		if crecs[i] != wrecs[i] {
			t.Errorf("record %d cut: %s\nwhole: %s", i, crecs[i], wrecs[i])
		}
	}
	if got, want := fmt.Sprint(crefused), fmt.Sprint(wrefused); got != want {
		t.Errorf("records refused cut:\n%s\nwhole:\n%s", got, want)
	}
	pieces := cutEntries(rewriteRecords(text), "example.org.", 1, 1)
	_, _, ok := parsePieces(rewriteRecords(text), "example.org.zone", func(f string) string { return f }, pieces, 2)
	return len(pieces), ok
}

func TestCutParse(t *testing.T) {
	for name, text := range cutCases {
		t.Run(name, func(t *testing.T) {
			pieces, ok := parseBoth(t, text)
			switch name {
			case "bad TTL", "generate":
				if pieces != 0 {
					t.Errorf("cut into %d pieces, want it parsed whole", pieces)
				}
			case "late error":
				if pieces < 3 || ok {
					t.Errorf("cut into %d pieces, their parse stood %v: want it parsed whole after the pieces", pieces, ok)
				}
			default:
				if pieces < 3 || !ok {
					t.Errorf("cut into %d pieces, their parse stood %v", pieces, ok)
				}
			}
		})
	}
}

// TestCutParseFixtures compares the two parses on every zone file of the
// fixtures.
func TestCutParseFixtures(t *testing.T) {
	cuts := 0
	for _, f := range fixtureZoneTexts(t) {
		t.Run(f.name, func(t *testing.T) {
			n, ok := parseBoth(t, f.text)
			if n > 1 && ok {
				cuts++
			}
			_, diags := parseZoneFileCut(fstest.MapFS{"example.org.zone": {Data: []byte(f.text)}}, "example.org.zone", "zones", 0)
			if n > 1 && !ok && !diags.HasErrors() {
				t.Errorf("a file without errors was cut in %d pieces that did not parse", n)
			}
		})
	}
	if cuts < 15 {
		t.Errorf("only %d fixture files were cut", cuts)
	}
}

// fixtureText is one zone file of the fixtures, named by its fixture and
// its place in it.
type fixtureText struct{ name, text string }

// fixtureZoneTexts returns every zone file of the load and conformance
// fixtures.
func fixtureZoneTexts(t *testing.T) []fixtureText {
	t.Helper()
	paths, _ := filepath.Glob("testdata/load/*.txtar")
	zonesFiles, _ := filepath.Glob("testdata/conformance/*.zone")
	paths = append(paths, zonesFiles...)
	if len(paths) < 5 {
		t.Fatalf("only %d fixtures found", len(paths))
	}
	var out []fixtureText
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files := []string{string(data)}
		if strings.HasSuffix(path, ".txtar") {
			files = txtarFiles(string(data))
		}
		for i, text := range files {
			out = append(out, fixtureText{fmt.Sprintf("%s#%d", filepath.Base(path), i), text})
		}
	}
	return out
}

// txtarFiles returns the files of a txtar archive.
func txtarFiles(s string) []string {
	var files []string
	for _, part := range strings.Split(s, "\n-- ")[1:] {
		if _, body, ok := strings.Cut(part, " --\n"); ok {
			files = append(files, body)
		}
	}
	return files
}

func FuzzCutParse(f *testing.F) {
	for _, text := range cutCases {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		parseBoth(t, text)
	})
}

// TestMentionsRewrittenParts: a big text is looked at in parts, one a
// core; a type name across two parts is found all the same.
func TestMentionsRewrittenParts(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: the text is looked at whole")
	}
	size := 3 << 20
	per := (size + 1) / 2
	filler := strings.Repeat("h A 10.0.0.1\n", size/13+1)[:size]
	if mentionsRewritten(filler) {
		t.Fatal("found a type name in text without one")
	}
	for at := per - len("IPSECKEY"); at <= per; at++ {
		text := filler[:at] + "IPSECKEY" + filler[at+len("IPSECKEY"):]
		if !mentionsRewritten(text) {
			t.Errorf("IPSECKEY at %d, the parts meeting at %d: not found", at, per)
		}
	}
}
