package liquid

import (
	"regexp"
	"testing"
)

// Ruby Liquid's strip_html, as regular expressions: the reference the
// hand-written scan is held to.
var (
	rubyStripBlocks = regexp.MustCompile(`(?s)<script.*?</script>|<!--.*?-->|<style.*?</style>`)
	rubyStripTags   = regexp.MustCompile(`(?s)<.*?>`)
)

func FuzzStripHTML(f *testing.F) {
	for _, s := range []string{
		"<p>Hi <b>there</b></p><script>x()</script><!-- c --><style>p{}</style>!",
		"a<SCRIPT>x</SCRIPT>b", "<!-->x-->y", "a < b > c < d", "<<script>x</script>>", "<!-- <script> -->t</script>u",
		"<style\n>\np\n</style\n>s", "a<script>x", "p<<b>>q", "<", ">",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := rubyStripTags.ReplaceAllString(rubyStripBlocks.ReplaceAllString(s, ""), "")
		if got := StripHTML(s); got != want {
			t.Fatalf("StripHTML(%q) = %q, want %q", s, got, want)
		}
	})
}
