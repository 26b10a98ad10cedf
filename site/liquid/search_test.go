package liquid

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSearch compares the string search the filters use with the
// library's, over chosen and generated text: long enough to take the
// rare-byte scan, short enough to take the library's, needles whose
// rarest byte is everywhere (so that the scan gives up on it), and
// matches at both ends.
func TestSearch(t *testing.T) {
	page := strings.Repeat(`<div class="x"> <p>Some text, <a href="/y/">a link</a></p> </div>`+"\n", 40)
	texts := []string{"", "a", " <div", page, page + " <div", " <div" + page, strings.Repeat(" ", 600) + "v",
		strings.Repeat("vvvv ", 200) + " <div", strings.Repeat("</p> ", 300)}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{" ", "<", "/", "d", "i", "v", "p", ">", "\n", "\t", "\x00", "é", "a", " <div", "</p>", "vvvv"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(700) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	needles := []string{"", "v", " <", " <div", "</div> ", "</p>", "vvvv", "vv v", "\x00 ", "é<", "<div> x", page[:300]}
	for _, text := range texts {
		for _, old := range needles {
			if got, want := newNeedle(old).index(text), strings.Index(text, old); got != want {
				t.Fatalf("index(%.40q…, %q) = %d, want %d", text, old, got, want)
			}
			for _, limit := range []int{-1, 0, 1, 2} {
				if got, want := replace(text, old, "<x>", limit), strings.Replace(text, old, "<x>", limit); got != want {
					t.Fatalf("replace(%.40q…, %q, %d) = %.60q…, want %.60q…", text, old, limit, got, want)
				}
			}
			if got, want := replace(text, old, "", -1), strings.ReplaceAll(text, old, ""); got != want {
				t.Fatalf("remove(%.40q…, %q) = %.60q…, want %.60q…", text, old, got, want)
			}
		}
		want := strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(" \t\n\v\f\r", r) })
		if got := splitSpace(text); !slices.Equal(got, want) {
			t.Fatalf("splitSpace(%.40q…) = %q, want %q", text, got, want)
		}
		if got, want := JoinFields(text), strings.Join(want, " "); got != want {
			t.Fatalf("JoinFields(%.40q…) = %.80q, want %.80q", text, got, want)
		}
	}
}

// FuzzSearch: the search, replace and split agree with the library's
// on any text.
func FuzzSearch(f *testing.F) {
	f.Add(strings.Repeat("<p>a b</p> ", 40), " <p")
	f.Add(strings.Repeat("v", 300), "vv")
	f.Fuzz(func(t *testing.T, text, old string) {
		if got, want := newNeedle(old).index(text), strings.Index(text, old); got != want {
			t.Fatalf("index = %d, want %d", got, want)
		}
		if got, want := replace(text, old, "+", -1), strings.ReplaceAll(text, old, "+"); got != want {
			t.Fatalf("replace = %q, want %q", got, want)
		}
		if got, want := replace(text, old, "+", 1), strings.Replace(text, old, "+", 1); got != want {
			t.Fatalf("replace first = %q, want %q", got, want)
		}
		want := strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(" \t\n\v\f\r", r) })
		if got := splitSpace(text); !slices.Equal(got, want) {
			t.Fatalf("splitSpace = %q, want %q", got, want)
		}
		if got, want := JoinFields(text), strings.Join(want, " "); got != want {
			t.Fatalf("JoinFields = %q, want %q", got, want)
		}
	})
}

// TestSplitJoinOwnFilter: split: " " | join: " " is done in one pass
// only with Liquid's own split and join; a join registered over it is
// called.
func TestSplitJoinOwnFilter(t *testing.T) {
	e := New()
	e.RegisterFilter("join", 0, 1, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		return fmt.Sprintf("%d words", len(in.([]any))), nil
	})
	tpl, err := e.Parse("t", "{{ ' a  b c ' | split: ' ' | join: ' ' }}")
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	if err := tpl.RenderTo(e.NewContext(nil, nil), &w); err != nil {
		t.Fatal(err)
	}
	if w.String() != "3 words" {
		t.Errorf("got %q, want the registered join's %q", w.String(), "3 words")
	}
}

// TestStandard: a filter is Liquid's own until one is registered over
// it; a filter Liquid lacks is not.
func TestStandard(t *testing.T) {
	e := New()
	if !e.Standard("split", "replace", "first") {
		t.Error("Liquid's own filters not standard")
	}
	if e.Standard("split", "jsonify") {
		t.Error("a filter Liquid lacks taken for standard")
	}
	e.RegisterFilter("jsonify", 0, 0, nil)
	e.RegisterFilter("replace", 1, 2, nil)
	if e.Standard("replace") || !e.Standard("split") {
		t.Errorf("after replace was registered over: replace %v, split %v", e.Standard("replace"), e.Standard("split"))
	}
}
