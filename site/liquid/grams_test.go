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
		got = c.replace(got, st[0], st[1], limit)
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
		{"<pre", "x"}, // still absent
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
	if l := c.lineage; l == nil || l.set == nil || !same(l.s, got) {
		t.Fatal("the lineage does not follow the replaces' results, or has no set after four of them")
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
