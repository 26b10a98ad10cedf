package site

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"islet.dev/islet/site/plugins"
)

// TestHandScans compares the scans written by hand for speed with the
// regular expressions Jekyll uses, over chosen and generated text:
// link definitions an excerpt carries along, the slug classes, and a
// URL's scheme.
func TestHandScans(t *testing.T) {
	linkDefs := regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:.+$`)
	slugs := map[string]*regexp.Regexp{
		"raw":     regexp.MustCompile(`\s+`),
		"default": regexp.MustCompile(`[^\p{M}\p{L}\p{Nd}]+`),
		"pretty":  regexp.MustCompile(`[^\p{M}\p{L}\p{Nd}._~!$&'()+,;=@]+`),
		"ascii":   regexp.MustCompile(`[^A-Za-z0-9]+`),
	}
	scheme := regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	texts := []string{
		"", "[a]: b", "[a]:", "[]: b", "   [a]: b\n    [c]: d\n", "x\n[a\nb]: c\n[d]: e", "[a]: b\n\n[c]:\n[d]: \r\n",
		"Été à Paris_2024 — ok!", "a\tb\fc\rd\ve", "mailto:x", "a1+.-:", "1a:", ":x", "\xff\xfe [x]: \xff",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{" ", "[", "]", ":", "\n", "\r", "a", "Z", "9", "é", "\u0301", "_", ".", "~", "@", "-", "+", "\t", "\xff", "\v"}
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	for _, text := range texts {
		if got, want := linkDefinitions(text), linkDefs.FindAllString(text, -1); !slices.Equal(got, want) {
			t.Errorf("linkDefinitions(%q) = %q, want %q", text, got, want)
		}
		for mode, re := range slugs {
			want := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(re.ReplaceAllString(text, "-"), "-"), "-"))
			if got := Slugify(text, mode, false); got != want {
				t.Errorf("Slugify(%q, %s) = %q, want %q", text, mode, got, want)
			}
		}
		if got, want := plugins.HasScheme(text), scheme.MatchString(text); got != want {
			t.Errorf("HasScheme(%q) = %v, want %v", text, got, want)
		}
		if got := normalizeURI(text); got != escapeURI(text) {
			t.Errorf("normalizeURI(%q) = %q, want %q", text, got, escapeURI(text))
		}
	}
}
