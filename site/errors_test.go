package site

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v), ModTime: time.Unix(0, 0)}
	}
	return m
}

// TestErrors: bad input stops the render with the file and line.
func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"liquid syntax", map[string]string{"index.html": "---\n---\nline 3\n{% if %}\n{% endif %}\n"}, "index.html:4:"},
		{"unclosed block", map[string]string{"a.md": "---\ntitle: x\n---\n\n{% for x in y %}\n"}, "a.md:5: 'for' tag was never closed"},
		{"missing include", map[string]string{"a.html": "---\n---\n\n{% include nope.html %}\n"}, "a.html:4: could not locate the included file '_includes/nope.html'"},
		{"error inside include", map[string]string{"a.html": "---\n---\n{% include bad.html %}", "_includes/bad.html": "ok\n{{ 1 | divided_by: 0 }}"}, "_includes/bad.html:2: divided by 0"},
		{"missing layout", map[string]string{"a.html": "---\nlayout: nope\n---\nx"}, "a.html:2: layout \"nope\" does not exist"},
		{"layout error", map[string]string{"a.html": "---\nlayout: d\n---\nx", "_layouts/d.html": "---\n---\n{{ content }}\n{% endif %}"}, "_layouts/d.html:4: unknown tag 'endif'"},
		{"bad front matter", map[string]string{"a.md": "---\ntitle: [unclosed\n---\nx"}, "a.md:"},
		{"front matter not a mapping", map[string]string{"a.md": "---\n- a\n---\nx"}, "a.md:2: front matter must be a YAML mapping"},
		{"unclosed front matter", map[string]string{"a.md": "---\ntitle: x\n"}, "a.md:1: front matter is not closed"},
		{"bad config", map[string]string{"_config.yml": "title: x\n  bad: indent\n"}, "_config.yml:2"},
		{"bad data", map[string]string{"_data/x.json": "{\n\"a\": 1,\n}"}, "_data/x.json:3: bad JSON"},
		{"permalink clash", map[string]string{"a.md": "---\npermalink: /same/\n---\n", "b.md": "---\npermalink: /same/\n---\n"}, "both write same/index.html"},
		{"page and static clash", map[string]string{"x.md": "---\npermalink: /robots.txt\n---\n", "robots.txt": "static"}, "both write robots.txt"},
		{"unknown filter", map[string]string{"a.html": "---\n---\n\n{{ 'x' | frobnicate }}"}, "a.html:4: unknown filter \"frobnicate\""},
		{"missing link", map[string]string{"a.md": "---\n---\n[x]({% link nope.md %})"}, "a.md:3: could not find document 'nope.md'"},
		{"missing post_url", map[string]string{"a.md": "---\n---\n{% post_url 2020-01-01-nope %}"}, "a.md:3: could not find post"},
		{"include escape", map[string]string{"a.html": "---\n---\n{% include ../../etc/passwd %}"}, "invalid characters"},
		{"unknown placeholder", map[string]string{"a.md": "---\npermalink: /:nope/\n---\n"}, "a.md:2: permalink \"/:nope/\": unknown placeholder :nope"},
		{"bad date", map[string]string{"_posts/2020-01-01-x.md": "---\ntitle: x\ndate: someday\n---\n"}, "_posts/2020-01-01-x.md:3: front matter date \"someday\" is not a date"},
		{"missing layout in a layout", map[string]string{"a.html": "---\nlayout: d\n---\nx", "_layouts/d.html": "---\nlayout: gone\n---\n{{ content }}"}, "_layouts/d.html:2: layout \"gone\" does not exist"},
		{"timezone", map[string]string{"_config.yml": "timezone: Mars/Olympus\n"}, "timezone \"Mars/Olympus\""},
		{"plugin not built in", map[string]string{"_config.yml": "plugins: [jekyll-feed, jekyll-archives]\n"}, `_config.yml: plugin "jekyll-archives" is not built into islet (it has jekyll-github-metadata, jekyll-optional-front-matter, jekyll-readme-index,`},
		{"markdown processor", map[string]string{"_config.yml": "title: x\nmarkdown: redcarpet\n"}, `_config.yml:2: markdown: "redcarpet" is not a valid Markdown processor; the processors available are: kramdown`},
		{"relative permalinks", map[string]string{"_config.yml": "relative_permalinks: true\n"}, "_config.yml:1: relative_permalinks: since v3.0, permalinks for pages in subfolders must be relative to the site source directory"},
		{"Ruby symbol in the config", map[string]string{"_config.yml": "sass:\n  style: :compressed\n"}, "_config.yml:2: :compressed is a Ruby symbol, which Jekyll's YAML loader refuses"},
		{"Ruby symbol in front matter", map[string]string{"a.md": "---\ntitle: x\nkind: :note\n---\n"}, "a.md:3: :note is a Ruby symbol"},
		{"gem not built in", map[string]string{"_config.yml": "gems:\n  - jekyll-spaceship\n"}, "plugin \"jekyll-spaceship\" is not built into islet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(context.Background(), mapFS(tt.files), Options{}, nil)
			if err == nil {
				t.Fatalf("rendered without error; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestFailedRenderWritesNothing: the destination keeps its old files
// when a render fails, and is replaced whole when one succeeds.
func TestFailedRenderWritesNothing(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out")
	good := mapFS(map[string]string{"index.md": "---\n---\n# Hi\n", "a.txt": "static"})
	out, err := Render(context.Background(), good, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.WriteDir(dst); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dst, "index.html"))
	if !strings.Contains(string(before), `<h1 id="hi">Hi</h1>`) {
		t.Fatalf("index.html = %q", before)
	}
	bad := mapFS(map[string]string{"index.md": "---\n---\n{% if %}", "b.txt": "new"})
	if _, err := Render(context.Background(), bad, Options{}, nil); err == nil {
		t.Fatal("bad source rendered")
	}
	after, _ := os.ReadFile(filepath.Join(dst, "index.html"))
	if string(after) != string(before) {
		t.Fatal("a failed render changed the destination")
	}
	if _, err := os.Stat(filepath.Join(dst, "b.txt")); err == nil {
		t.Fatal("a failed render wrote a file")
	}
	// a good render replaces the whole tree: files no longer in the
	// source disappear
	out, err = Render(context.Background(), mapFS(map[string]string{"index.md": "---\n---\nnew"}), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.WriteDir(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "a.txt")); err == nil {
		t.Fatal("a stale file survived a new render")
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Fatalf("temporary folders left beside the destination: %v", entries)
	}
}

// TestReproducible: two renders of the same tree give the same bytes.
func TestReproducible(t *testing.T) {
	a := renderDir(t, "testdata/sites/fixture")
	b := renderDir(t, "testdata/sites/fixture")
	if len(a) != len(b) {
		t.Fatal("different file sets")
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			t.Errorf("%s differs between two renders", k)
		}
	}
}
