package markup

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2/lexers"
)

func TestCodeLanguages(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"backtick fence", "a\n\n```ruby\nputs 1\n```\n", []string{"ruby"}},
		{"tilde fence with space and IAL", "~~~ Python {.x}\npass\n~~~\n", []string{"python"}},
		{"long fence", "````go\nx\n````\n", []string{"go"}},
		{"fence without language", "```\nplain\n```\n", nil},
		{"highlight tag", "{% highlight yaml linenos %}\na: 1\n{% endhighlight %}", []string{"yaml"}},
		{"highlight tag trimmed", "{%- highlight  js -%}x{%- endhighlight -%}", []string{"js"}},
		{"highlight as a word", "to highlight text, {{ highlight }}", nil},
		{"several", "```c\n```\n{% highlight bash %}{% endhighlight %}\n~~~css\n~~~", []string{"bash", "c", "css"}},
		{"CRLF", "```sh\r\nls\r\n```\r\n", []string{"sh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			CodeLanguages(tc.text, got)
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tc.want) {
				t.Errorf("CodeLanguages(%q) = %q, want %q", tc.text, keys, tc.want)
			}
		})
	}
}

// TestPrewarmSameOutput highlights code in lexers compiled ahead by
// Prewarm, in lexers compiled by the first Highlight, and in the Go
// lexer (written in Go, registered before the XML ones are loaded):
// the classes Rouge would give come out either way.
func TestPrewarmSameOutput(t *testing.T) {
	Prewarm(map[string]bool{"ruby": true, "unknown-language": true})
	for _, tc := range []struct{ lang, code, want string }{
		{"ruby", "def f\n  1\nend\n", `<span class="k">def</span> <span class="nf">f</span>`},
		{"yaml", "a: 1\n", `<span class="nt">a</span><span class="p">:</span> <span class="m">1</span>`},
		{"go", "package main\n", `<span class="kn">package</span> <span class="nx">main</span>`},
		{"unknown-language", "x < y\n", "x &lt; y"},
	} {
		if got := Highlight(tc.lang, tc.code); !strings.Contains(got, tc.want) {
			t.Errorf("Highlight(%q, %q) = %q, want it to hold %q", tc.lang, tc.code, got, tc.want)
		}
	}
	if l := lexers.Get("go"); l == nil || l.Config().Name != "Go" {
		t.Errorf(`lexers.Get("go") = %v, want the lexer named Go`, l)
	}
}
