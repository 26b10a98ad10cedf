package site

import (
	"strings"
	"testing"
)

// TestShiftSourceLines: a source map's mappings with the lines of one
// source moved, as libsass writes them for an input with more or
// fewer leading lines.
func TestShiftSourceLines(t *testing.T) {
	tests := []struct {
		name, in      string
		src, delta    int
		want          string
		wantMalformed bool
	}{
		// segments: [column, source, line, column(, name)], every field
		// but the first relative to the segment before, across lines
		{name: "no move", in: "AAAA,CAAC;AACA", delta: 0, want: "AAAA,CAAC;AACA"},
		{name: "one source down a line", in: "AAAA,CAAC;AACA", delta: 1, want: "AACA,CAAC;AACA"},
		{name: "up again", in: "AACA,CAAC;AACA", delta: -1, want: "AAAA,CAAC;AACA"},
		// source 1 then source 0: the line of the segment into source 0
		// is relative to source 1's, so its delta changes, and so does
		// the next one's, back into source 1
		{name: "between sources", in: "ACAA;ADAA;ACAA", delta: 2, want: "ACAA;ADEA;ACFA"},
		{name: "other source moved", in: "ACAA;ADAA;ACAA", src: 1, delta: 2, want: "ACEA;ADFA;ACEA"},
		{name: "names kept", in: "AAAAA,CAAAC", delta: 3, want: "AAGAA,CAAAC"},
		{name: "column-only segments", in: "A,C;AAAA", delta: 1, want: "A,C;AACA"},
		{name: "empty lines", in: ";;AAAA;;", delta: 1, want: ";;AACA;;"},
		{name: "unterminated", in: "AAAg", delta: 1, wantMalformed: true}, // the last digit says more follow
		{name: "past 60 bits", in: "ggggggggggggA", delta: 1, wantMalformed: true},
		{name: "bad digit", in: "AA*A", delta: 1, wantMalformed: true},
		{name: "two fields", in: "AC", delta: 1, wantMalformed: true},
		{name: "six fields", in: "AAAAAA", delta: 1, wantMalformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := shiftSourceLines(tt.in, tt.src, tt.delta)
			if tt.wantMalformed {
				if ok {
					t.Fatalf("shiftSourceLines(%q) = %q, want it refused", tt.in, got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Fatalf("shiftSourceLines(%q, %d, %d) = %q, %v; want %q", tt.in, tt.src, tt.delta, got, ok, tt.want)
			}
			back, ok := shiftSourceLines(got, tt.src, -tt.delta)
			if !ok || back != tt.in {
				t.Errorf("moved back: %q, %v; want %q", back, ok, tt.in)
			}
		})
	}
}

// TestVLQ: values written and read back, across the 5-bit digits.
func TestVLQ(t *testing.T) {
	for _, v := range []int{0, 1, -1, 15, 16, -16, 31, 32, 1000, -1000, 1 << 30, -(1 << 30)} {
		var b strings.Builder
		writeVLQ(&b, v)
		got, next, ok := readVLQ(b.String(), 0)
		if !ok || got != v || next != b.Len() {
			t.Errorf("%d written as %q, read as %d (%v, %d of %d bytes)", v, b.String(), got, ok, next, b.Len())
		}
	}
	// the specification's examples
	for s, want := range map[string]int{"A": 0, "C": 1, "D": -1, "gB": 16, "hB": -16} {
		if got, _, ok := readVLQ(s, 0); !ok || got != want {
			t.Errorf("readVLQ(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
}

// TestSassMemoDerive: a result made for other names and leading
// lines, and what is refused.
func TestSassMemoDerive(t *testing.T) {
	e := &sassMemoEntry{
		css:       "a { b: c; }\n\n/*# sourceMappingURL=light.css.map */",
		sourceMap: "{\n\t\"version\": 3,\n\t\"file\": \"light.css\",\n\t\"sources\": [\n\t\t\"light.scss\",\n\t\t\"_sass/x.scss\"\n\t],\n\t\"sourcesContent\": [\n\t\t\"\\n@import \\\"x\\\";\\n\",\n\t\t\"a { b: c; }\\n\"\n\t],\n\t\"names\": [],\n\t\"mappings\": \"ACAA,AAAA,CAAC,CAAC,CAAC,GAAE\"\n}",
		base:      "light", input: "light.scss", newlines: 1,
	}
	css, m, ok := e.derive("default", "default.scss", 3)
	if !ok {
		t.Fatal("derive refused")
	}
	if want := "a { b: c; }\n\n/*# sourceMappingURL=default.css.map */"; css != want {
		t.Errorf("css = %q, want %q", css, want)
	}
	for _, want := range []string{`"file": "default.css"`, "\t\t\"default.scss\",\n\t\t\"_sass/x.scss\"", "\t\t\"\\n\\n\\n@import \\\"x\\\";\\n\",", `"mappings": "ACAA,AAAA,CAAC,CAAC,CAAC,GAAE"`} {
		if !strings.Contains(m, want) {
			t.Errorf("map lacks %s:\n%s", want, m)
		}
	}
	if strings.Contains(m, "light") {
		t.Errorf("map still names light:\n%s", m)
	}
	// a map whose first source is the input: its lines move
	e.sourceMap = strings.Replace(e.sourceMap, "ACAA,AAAA,CAAC,CAAC,CAAC,GAAE", "AAAA,CAAC", 1)
	if _, m, _ = e.derive("default", "default.scss", 3); !strings.Contains(m, `"mappings": "AAEA,CAAC"`) {
		t.Errorf("mappings not moved two lines down:\n%s", m)
	}
	for name, bad := range map[string]*sassMemoEntry{
		"name to escape":        {css: e.css, sourceMap: e.sourceMap, base: "my light", input: "my light.scss", newlines: 1},
		"no mapping comment":    {css: "a { b: c; }", sourceMap: e.sourceMap, base: "light", input: "light.scss", newlines: 1},
		"other first source":    {css: e.css, sourceMap: strings.Replace(e.sourceMap, `"light.scss"`, `"other.scss"`, 1), base: "light", input: "light.scss", newlines: 1},
		"fewer leading lines":   {css: e.css, sourceMap: e.sourceMap, base: "light", input: "light.scss", newlines: 2},
		"map without mappings":  {css: e.css, sourceMap: strings.Replace(e.sourceMap, `"mappings"`, `"x"`, 1), base: "light", input: "light.scss", newlines: 1},
		"comment, but no map":   {css: e.css, base: "light", input: "light.scss", newlines: 1},
		"mappings do not parse": {css: e.css, sourceMap: strings.Replace(e.sourceMap, "AAAA,CAAC", "AA!A", 1), base: "light", input: "light.scss", newlines: 1},
	} {
		if css, m, ok := bad.derive("default", "default.scss", 2); ok {
			t.Errorf("%s: derived %q, %q; want it refused", name, css, m)
		}
	}
	plain := &sassMemoEntry{css: "a { b: c; }", base: "x", input: "x.scss"}
	if css, m, ok := plain.derive("y", "y.scss", 4); !ok || css != plain.css || m != "" {
		t.Errorf("without a map: %q, %q, %v", css, m, ok)
	}
}
