package site

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestWarnings: what islet does otherwise than Jekyll, and what Jekyll
// itself warns about, is a warning with file and line; --strict makes
// the render fail with all of them.
func TestWarnings(t *testing.T) {
	files := map[string]string{
		"_config.yml": "title: x\nhighlighter: pygments\nplugins: [jekyll-paginate, jekyll-redirect-from]\npaginate: 2\n",
		"about.md":    "---\ntitle: about\n---\n* TOC\n{:toc}\n\n## One\n\nEuler: $$e^{i\\pi}+1=0$$\n\n<div markdown=\"span\">*x*</div>\n\n```\n$$ in a fence is code\n{:toc}\n```\n\n    $$ indented code\n\n{::comment}\nnot shown\n{:/comment}\n\n{::options auto_ids=\"false\" toc_levels=\"2\" /}\n{::foo}x{:/foo}\n",
		"plain.md":    "---\n---\nNothing to say about *this* one.\n",
		"page.html":   "---\n---\n$$ is not Markdown here\n",
		"a.md":        "---\nredirect_from: /old/\n---\n",
		"b.md":        "---\ntitle: b\nredirect_from: [/old/]\n---\n",
	}
	want := []string{
		"_config.yml: warning: paginate: pagination is on, but there is no index.html",
		"_config.yml:2: warning: highlighter: pygments",
		"about.md:24: warning: kramdown's {::options auto_ids=…}",
		"about.md:25: warning: kramdown's {::foo} extension is not implemented",
		"b.md:3: warning: redirect_from /old/ is also a.md's",
	}
	out, err := Render(context.Background(), mapFS(files), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range out.Warnings {
		got = append(got, w.String())
	}
	if len(got) != len(want) {
		t.Errorf("%d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d: %q, want it to start with %q", i, got[i], want[i])
		}
	}
	_, err = Render(context.Background(), mapFS(files), Options{Strict: true}, nil)
	var se *StrictError
	if !errors.As(err, &se) || len(se.Warnings) != len(want) || !strings.Contains(err.Error(), "about.md:24: warning:") {
		t.Errorf("--strict: error %v, want a StrictError with the %d warnings", err, len(want))
	}
	if _, err := Render(context.Background(), mapFS(map[string]string{"plain.md": files["plain.md"]}), Options{Strict: true}, nil); err != nil {
		t.Errorf("--strict on a site without warnings: %v", err)
	}
}

// TestLaxLiquid: a condition only Ruby Liquid's lax parser reads
// ({% if {{x}} %}) renders as Jekyll renders it, with a warning; with
// --strict it is an error; one the lax parser cannot read either stays
// an error.
func TestLaxLiquid(t *testing.T) {
	files := map[string]string{"index.html": "---\n---\n{% assign x = 1 %}\n{% if {{x}} == 1 %}one{% endif %}"}
	out, err := Render(context.Background(), mapFS(files), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := out.ReadFile("index.html")
	if strings.TrimSpace(string(b)) != "one" {
		t.Errorf("rendered %q, want one", b)
	}
	if len(out.Warnings) != 1 || !strings.HasPrefix(out.Warnings[0].String(), `index.html:4: warning: Liquid syntax error: unexpected character { in "{{x}} == 1"; read as Ruby Liquid's lax parser reads it: "x == 1"`) {
		t.Errorf("warnings %v", out.Warnings)
	}
	if _, err := Render(context.Background(), mapFS(files), Options{Strict: true}, nil); err == nil {
		t.Error("--strict rendered a lax condition")
	}
	bad := map[string]string{"index.html": "---\n---\n{% if == %}x{% endif %}"}
	if _, err := Render(context.Background(), mapFS(bad), Options{}, nil); err == nil || !strings.Contains(err.Error(), "index.html:3:") {
		t.Errorf("a condition neither parser reads: %v", err)
	}
}

// TestGistWarning: a gist's <noscript> copy, which a render cannot
// fetch, is a warning once per gist, and none with gist: {noscript:
// false}.
func TestGistWarning(t *testing.T) {
	page := "---\n---\n{% gist octocat/1 %}{% gist octocat/1 a.md %}{% gist octocat/2 %}"
	for _, tc := range []struct {
		config string
		want   int
	}{{"plugins: [jekyll-gist]\n", 2}, {"plugins: [jekyll-gist]\ngist:\n  noscript: false\n", 0}} {
		out, err := Render(context.Background(), mapFS(map[string]string{"_config.yml": tc.config, "g.html": page}), Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Warnings) != tc.want {
			t.Errorf("%q: %d warnings, want %d: %v", tc.config, len(out.Warnings), tc.want, out.Warnings)
		}
		b, _ := out.ReadFile("g.html")
		if want := `<script src="https://gist.github.com/octocat/1.js"> </script><script src="https://gist.github.com/octocat/1.js?file=a.md"> </script><script src="https://gist.github.com/octocat/2.js"> </script>`; strings.TrimSpace(string(b)) != want {
			t.Errorf("%q: %s", tc.config, b)
		}
	}
}
