package liquid

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// chain replaces through a Context's lineage as templates do, each
// replace on the last one's result, and checks every step against
// strings.Replace.
func chain(t *testing.T, text string, steps [][2]string) {
	t.Helper()
	c := newContext(New(), nil, nil)
	got, want := text, text
	for i, st := range steps {
		limit := -1
		if i%5 == 4 {
			limit = 1
		}
		c.transient = i%3 != 2 // some results written to the scratch buffers, as in a chain of filters
		got = c.replace(got, st[0], st[1], limit)
		c.transient = false
		want = strings.Replace(want, st[0], st[1], limit)
		if got != want {
			t.Fatalf("step %d, replace %q by %q: lineage and library differ\n got %.200q\nwant %.200q", i, st[0], st[1], got, want)
		}
	}
}

// TestLineage: a needle made by a replace, across the edge of what it
// wrote, is found by the replaces after it; needles not in the page are
// skipped without changing anything.
func TestLineage(t *testing.T) {
	page := strings.Repeat("<p>some text</p>\n <div class=\"x\">more</div> ", 400) // 16 kB
	chain(t, page, [][2]string{
		{"zzzz", "never"}, {"qqqq", "never"}, {"<h5>", "x"}, // the set is built by now
		{" <div", "<div"},         // "\n<div" appears, across the edge
		{"\n<div", "[joined]"},    // so it must be found
		{"</p>[joi", "!"},         // and across two edges
		{"!ned]", "<em>new</em>"}, // what a replace wrote is in the set
		{"em>new</", "again"},
		{"<pre", "x"},      // still absent
		{"more", "less"},   // "ss</" appears, across the right edge
		{"ss</d", "S"},     // so it must be found
		{"some text", "T"}, // a replacement shorter than a sequence: "e T<" across both edges
		{"p>T</", "U"},
	})
	if c := newContext(New(), nil, nil); c.replace(page, "<p", "<P", -1) == page {
		t.Fatal("no replace")
	}
}

// TestLineageFollows: the lineage is the last string replaced; another
// string starts another one, and the first is not confused with it.
func TestLineageFollows(t *testing.T) {
	c := newContext(New(), nil, nil)
	a := strings.Repeat("alpha beta ", 2000)
	b := strings.Repeat("gamma delta ", 2000)
	for range 4 {
		if got := c.replace(a, "gamma", "x", -1); got != a {
			t.Fatal("replaced what is not there")
		}
	}
	got, want := c.replace(b, "gamma", "x", -1), strings.ReplaceAll(b, "gamma", "x")
	if got != want {
		t.Fatalf("another string taken for the lineage's: %.80q", got)
	}
	for range 3 {
		got = c.replace(got, "delta", "dd", -1)
	}
	followed := false
	for i := range c.lineages {
		followed = followed || same(c.lineages[i].s, got) && c.lineages[i].set != nil
	}
	if !followed {
		t.Fatal("no lineage follows the replaces' results, or has a set after four of them")
	}
	if got, want := c.replace(a, "beta", "b", -1), strings.ReplaceAll(a, "beta", "b"); got != want {
		t.Fatalf("back to the first: %.80q", got)
	}
}

func FuzzLineage(f *testing.F) {
	f.Add(strings.Repeat("<li> a <b>c</b> </li>\n", 300), uint64(1))
	f.Add(strings.Repeat("xy", 3000), uint64(7))
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		if len(text) < gramMinText {
			text = strings.Repeat(text+"<a> ", gramMinText/(len(text)+4)+1)
		}
		r := rand.New(rand.NewPCG(seed, seed>>7))
		var steps [][2]string
		for range 60 {
			// needles cut from the text as it may be by now, or made up
			i := r.IntN(len(text))
			n := min(len(text)-i, 4+r.IntN(6))
			old := text[i : i+n]
			if r.IntN(3) == 0 {
				old = old[:n/2] + "\x00" + old[n/2:]
			}
			new := []string{"", " ", "<x>", text[r.IntN(len(text)):][:1]}[r.IntN(4)]
			steps = append(steps, [2]string{old, new})
		}
		chain(t, text, steps)
	})
}

// TestTransientReplaces: in a chain of replaces, the results between are
// written where the next overwrites them; what a chain gives is never
// one of them, though the last replace finds nothing, and a value kept
// from one chain is not changed by the next.
func TestTransientReplaces(t *testing.T) {
	page := strings.Repeat("<p>one <b>two</b></p>\n <div>three</div> ", 300)
	e := New()
	tpl, err := e.Parse("t", `{% assign a = s | replace: "<p>", "[p]" | replace: "<b>", "<strong>" | replace: "nothing", "x" %}`+
		`{% assign b = s | replace: "<div>", "[div]" | replace_first: "one", "1" | remove: "nothing" %}`+
		`{% assign c = a | replace: "[p]", "<p>" | replace: "two", "2" %}`+
		`{% assign d = b | remove: "</div>" | remove_first: "zzzz" %}{{ a }}|{{ b }}|{{ c }}|{{ d }}`)
	if err != nil {
		t.Fatal(err)
	}
	a := strings.ReplaceAll(strings.ReplaceAll(page, "<p>", "[p]"), "<b>", "<strong>")
	b := strings.Replace(strings.ReplaceAll(page, "<div>", "[div]"), "one", "1", 1)
	c := strings.ReplaceAll(strings.ReplaceAll(a, "[p]", "<p>"), "two", "2")
	d := strings.ReplaceAll(b, "</div>", "")
	want := a + "|" + b + "|" + c + "|" + d
	for range 3 { // the scratch buffers reused from one render to the next
		ctx := e.NewContext(map[string]any{"s": page}, nil)
		var w strings.Builder
		if err := tpl.RenderTo(ctx, &w); err != nil {
			t.Fatal(err)
		}
		if w.String() != want {
			t.Fatalf("chains of replaces differ from the library's:\n got %.300q\nwant %.300q", w.String(), want)
		}
		for _, k := range []string{"a", "b", "c", "d"} {
			if v, _ := ctx.Get(k).(string); ctx.inScratch(v) {
				t.Errorf("%s is in a scratch buffer", k)
			}
		}
	}
}

// TestTransientLineages: a lineage that ended in a scratch buffer is not
// taken for the next string written there, of the same length at the
// same place.
func TestTransientLineages(t *testing.T) {
	e := New()
	tpl, err := e.Parse("t", `{% assign a = s1 | replace: "abcd", "abce" | replace: "bce ", "bcf " | replace: "qqqq", "" %}`+
		`{% assign b = s2 | replace: "wxyz", "wxya" | replace: "xya ", "xyb " | replace: "wxyb", "W" %}{{ b | size }}`)
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	if err := tpl.RenderTo(e.NewContext(map[string]any{"s1": strings.Repeat("abcd ", 1000), "s2": strings.Repeat("wxyz ", 1000)}, nil), &w); err != nil {
		t.Fatal(err)
	}
	if want := "2000"; w.String() != want {
		t.Errorf("size %s, want %s: the last replace was skipped by another string's set", w.String(), want)
	}
}
