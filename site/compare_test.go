package site

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite testdata/sites/*.jekyll.txtar from Debian's jekyll")

var (
	betweenTags = regexp.MustCompile(`>\s+<`)
	spaceRun    = regexp.MustCompile(`\s+`)
	spaceAfter  = regexp.MustCompile(`>\s+`)
	spaceBefore = regexp.MustCompile(`\s+<`)
	spanTag     = regexp.MustCompile(`</?span[^>]*>`)
	// Up to the first </pre>: a block with line numbers holds two.
	preBlock = regexp.MustCompile(`(?s)<pre[ >].*?</pre>`)
	preMark  = regexp.MustCompile("\x00[0-9]+\x00")
	// a path in a source map's "sources"
	// a source map's source outside the site's own folders (a theme's):
	// Jekyll names it from where the gem is installed
	mapSourcePath = regexp.MustCompile(`"(?:\.\./[^"\s]*/|[^_."\s][^"\s]*/)([^"/\s]+\.s[ac]ss)"`)
)

// normalise makes two renders comparable: whitespace between and
// around tags collapsed outside <pre>, kept as it is inside; token spans
// in highlighted code replaced by one mark saying it was highlighted
// (chroma's lexers split tokens differently from Rouge's, site/COMPAT.md,
// but a block either side left plain must differ).
func normalise(name string, b []byte) string {
	s := string(b)
	if strings.HasSuffix(name, ".css.map") {
		// Source maps name a theme's sources by paths relative to
		// where the gem is installed: only their file names compare;
		// the site's own (_sass/…) compare whole.
		s = mapSourcePath.ReplaceAllString(s, `"$1"`)
	}
	if !isText(name) {
		return s
	}
	// jekyll-gist offline writes the false its logger returned where the
	// <noscript> copy would be (site/COMPAT.md); islet writes nothing.
	s = strings.ReplaceAll(s, `false<script src="https://gist.github.com/`, `<script src="https://gist.github.com/`)
	var pres []string
	s = preBlock.ReplaceAllStringFunc(s, func(m string) string {
		if plain := spanTag.ReplaceAllString(m, ""); plain != m {
			m = "[highlighted]" + plain
		}
		pres = append(pres, m)
		return fmt.Sprintf("\x00%d\x00", len(pres)-1)
	})
	s = betweenTags.ReplaceAllString(s, "><")
	s = spaceRun.ReplaceAllString(s, " ")
	s = spaceAfter.ReplaceAllString(s, ">")
	s = spaceBefore.ReplaceAllString(s, "<")
	s = strings.TrimSpace(s)
	return preMark.ReplaceAllStringFunc(s, func(m string) string {
		i, _ := strconv.Atoi(m[1 : len(m)-1])
		return pres[i]
	})
}

func isText(name string) bool {
	switch filepath.Ext(name) {
	case ".html", ".xml", ".css", ".txt", ".json", ".js", ".md", ".map", ".svg", "":
		return true
	}
	return false
}

// renderDir renders a fixture with islet as the differential test
// renders it with jekyll.
func renderDir(t *testing.T, src string) map[string][]byte {
	t.Helper()
	root, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	out, err := Render(context.Background(), root.FS(), Options{Environment: "production", Now: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}, nil)
	if err != nil {
		t.Fatalf("render %s: %v", src, err)
	}
	return outputFiles(t, out)
}

// outputArchive is a rendered tree, normalised, as a txtar archive.
func outputArchive(files map[string][]byte) *txtar.Archive {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	a := &txtar.Archive{Comment: []byte("Debian jekyll's output, normalised (go test ./site -run Golden -update)\n")}
	for _, n := range names {
		a.Files = append(a.Files, txtar.File{Name: n, Data: []byte(normalise(n, files[n]) + "\n")})
	}
	return a
}

func outputFiles(t *testing.T, o *Output) map[string][]byte {
	m := map[string][]byte{}
	for _, p := range o.Paths() {
		b, err := o.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[p] = b
	}
	return m
}

// compareArchives reports every file present on one side only and
// every file whose normalised content differs.
func compareArchives(t *testing.T, want, got *txtar.Archive) {
	t.Helper()
	w, g := map[string][]byte{}, map[string][]byte{}
	for _, f := range want.Files {
		w[f.Name] = f.Data
	}
	for _, f := range got.Files {
		g[f.Name] = f.Data
	}
	for n, wd := range w {
		gd, ok := g[n]
		if !ok {
			t.Errorf("%s: written by jekyll, not by islet", n)
			continue
		}
		if !bytes.Equal(wd, gd) {
			t.Errorf("%s differs:\n%s", n, firstDifference(string(wd), string(gd)))
		}
	}
	for n := range g {
		if _, ok := w[n]; !ok {
			t.Errorf("%s: written by islet, not by jekyll", n)
		}
	}
}

func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-100)
	return "  jekyll: …" + a[from:min(len(a), i+200)] + "\n  islet:  …" + b[from:min(len(b), i+200)]
}

type fixture struct{ name, dir string }

// fixtureTime is every fixture file's modification time in the trees
// rendered: static files' times show (the sitemap's lastmod), and a
// checkout's are the time of the checkout.
var fixtureTime = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

// tree copies the fixture with every file's time set to fixtureTime
// and returns the copy.
func (f fixture) tree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), f.name)
	copyTree(t, f.dir, dst)
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixtureTime, fixtureTime)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// fixtures are the sites under testdata/sites and the bundled example.
func fixtures(t *testing.T) []fixture {
	dirs, err := filepath.Glob("testdata/sites/*")
	if err != nil {
		t.Fatal(err)
	}
	out := []fixture{{"homepage", "../examples/homepage/site"}}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, fixture{filepath.Base(d), d})
		}
	}
	return out
}

// TestGolden renders each fixture and compares with Jekyll's output
// stored beside it; -update regenerates that from Debian's jekyll.
func TestGolden(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			dir := f.tree(t)
			golden := filepath.Join("testdata/sites", f.name+".jekyll.txtar")
			if *update {
				files := jekyllBuild(t, dir)
				if err := os.WriteFile(golden, txtar.Format(outputArchive(files)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := txtar.ParseFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			got := outputArchive(renderDir(t, dir))
			compareArchives(t, want, got)
		})
	}
}
