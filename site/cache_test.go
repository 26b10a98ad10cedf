package site

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCache: the input hash changes with any source file and with the
// options; a recorded destination is fresh until then.
func TestCache(t *testing.T) {
	src := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("_config.yml", "title: x\n")
	write("index.md", "---\n---\nhi\n")
	write("_includes/a.html", "a")
	hash := func(opt Options) string {
		h, err := InputHash(os.DirFS(src), opt)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h1 := hash(Options{})
	if h1 != hash(Options{}) {
		t.Fatal("the hash is not stable")
	}
	dst := filepath.Join(t.TempDir(), "out")
	c := Cache{Dir: t.TempDir()}
	if c.Fresh(dst, h1) {
		t.Fatal("fresh before anything was recorded")
	}
	os.MkdirAll(dst, 0o755)
	if err := c.Record(dst, h1); err != nil {
		t.Fatal(err)
	}
	if !c.Fresh(dst, h1) {
		t.Fatal("not fresh after recording")
	}
	write("_includes/a.html", "b")
	if h2 := hash(Options{}); h2 == h1 || c.Fresh(dst, h2) {
		t.Fatal("an include change left the hash unchanged")
	}
	if hash(Options{Drafts: true}) == hash(Options{}) {
		t.Fatal("options are not part of the hash")
	}
	os.RemoveAll(dst)
	if c.Fresh(dst, h1) {
		t.Fatal("fresh although the destination is gone")
	}
}
