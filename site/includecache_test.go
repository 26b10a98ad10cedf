package site

import (
	"context"
	"strings"
	"testing"
)

// include_cached renders an include once per set of arguments and
// reuses the output, as jekyll-include-cache does: an include that
// shows the page's title shows the same one on every page (the page
// that rendered it first), where include shows each page's own. With
// other arguments, or a page passed as one, it renders again.
func TestIncludeCachedReused(t *testing.T) {
	files := map[string]string{
		"_config.yml":        "plugins: [jekyll-include-cache]\n",
		"_includes/nav.html": "[{{ page.title }}{{ include.x }}]",
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		files[n+".html"] = "---\ntitle: " + n + "\n---\n{% include_cached nav.html %}{% include_cached nav.html x=1 %}{% include nav.html %}{% include_cached nav.html p=page %}"
	}
	for _, opt := range []Options{{}, {StateDir: t.TempDir()}} {
		out, err := Render(context.Background(), mapFS(files), opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		cached, withArg := map[string]bool{}, map[string]bool{}
		for _, n := range []string{"a", "b", "c", "d"} {
			b, _ := out.ReadFile(n + ".html")
			parts := strings.SplitAfter(strings.TrimSpace(string(b)), "]")
			if len(parts) != 5 {
				t.Fatalf("%s.html: %q", n, b)
			}
			cached[parts[0]], withArg[parts[1]] = true, true
			if parts[2] != "["+n+"]" || parts[3] != "["+n+"]" {
				t.Errorf("%s.html: include or include_cached of a page shows %q and %q, want the page's own title", n, parts[2], parts[3])
			}
		}
		incremental := opt.StateDir != ""
		if !incremental && (len(cached) != 1 || len(withArg) != 1) {
			t.Errorf("include_cached rendered again for the same arguments: %v %v", cached, withArg)
		}
		if incremental && len(cached) != 4 {
			t.Errorf("an incremental render reused include_cached, hiding what each page reads: %v", cached)
		}
	}
}
