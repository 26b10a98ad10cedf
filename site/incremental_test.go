package site

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIncremental: after one post's text changes, an incremental
// render renders that post and what reads it, reuses the rest, and
// leaves the destination byte for byte as a full render would.
func TestIncremental(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	copyTree(t, "testdata/sites/fixture", src)
	dst := filepath.Join(t.TempDir(), "out")
	state := t.TempDir()
	render := func(stateDir string) *Output {
		t.Helper()
		out, err := Render(context.Background(), os.DirFS(src), Options{Environment: "production", StateDir: stateDir, Now: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := render(state)
	if first.Reused != 0 {
		t.Fatalf("first render reused %d documents", first.Reused)
	}
	if err := first.WriteChanged(dst); err != nil {
		t.Fatal(err)
	}
	if again := render(state); again.Reused == 0 {
		t.Fatal("an unchanged tree reused nothing")
	}

	post := filepath.Join(src, "_posts", "2024-03-02-code-and-tables.md")
	b, _ := os.ReadFile(post)
	os.WriteFile(post, []byte(strings.Replace(string(b), "More after the separator.", "Changed after the separator.", 1)), 0o644)
	inc := render(state)
	if inc.Reused == 0 {
		t.Fatal("one changed post re-rendered everything")
	}
	t.Logf("after one post changed, %d documents reused", inc.Reused)
	if err := inc.WriteChanged(dst); err != nil {
		t.Fatal(err)
	}
	sameAsFull(t, dst, render(""))
	got, _ := os.ReadFile(filepath.Join(dst, "2024", "03", "02", "code-and-tables.html"))
	if !strings.Contains(string(got), "Changed after the separator.") {
		t.Error("the changed post was not rendered")
	}

	// A post deleted and a page moved: their old files go, nothing else
	// is left behind.
	if err := os.Remove(filepath.Join(src, "blog", "_posts", "2023-12-24-in-a-category.markdown")); err != nil {
		t.Fatal(err)
	}
	about := filepath.Join(src, "about.md")
	b, _ = os.ReadFile(about)
	if !strings.Contains(string(b), "permalink: /about/") {
		t.Fatal("the fixture's about.md no longer has permalink: /about/")
	}
	os.WriteFile(about, []byte(strings.Replace(string(b), "permalink: /about/", "permalink: /about-us/", 1)), 0o644)
	for _, old := range []string{"blog/2023/12/24/in-a-category.html", "about/index.html"} {
		if _, err := os.Stat(filepath.Join(dst, old)); err != nil {
			t.Fatalf("%s was not there before the change: %v", old, err)
		}
	}
	moved := render(state)
	if err := moved.WriteChanged(dst); err != nil {
		t.Fatal(err)
	}
	sameAsFull(t, dst, render(""))
	if _, err := os.Stat(filepath.Join(dst, "about-us", "index.html")); err != nil {
		t.Errorf("the moved page is not at its new place: %v", err)
	}

	// a layout change renders everything again
	os.WriteFile(filepath.Join(src, "_layouts", "page.html"), []byte("---\nlayout: default\n---\n<section>{{ content }}</section>\n"), 0o644)
	if all := render(state); all.Reused != 0 {
		t.Errorf("a layout change reused %d documents", all.Reused)
	}
}

// sameAsFull checks that dir holds exactly the files of a full render,
// byte for byte, and nothing else.
func sameAsFull(t *testing.T, dir string, full *Output) {
	t.Helper()
	want := map[string]bool{}
	for _, p := range full.Paths() {
		want[p] = true
		w, _ := full.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || string(got) != string(w) {
			t.Errorf("%s: incremental result differs from a full render", p)
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !want[filepath.ToSlash(rel)] {
			t.Errorf("%s: left behind, a full render has no such file", rel)
		}
		return nil
	})
}
