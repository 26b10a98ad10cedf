//go:build !guest

package appliance

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// nextBatch waits for one batch of edits.
func nextBatch(t *testing.T, c <-chan Changes) Changes {
	t.Helper()
	select {
	case ch := <-c:
		return ch
	case <-time.After(5 * time.Second):
		t.Fatal("no batch of edits")
		return Changes{}
	}
}

// noBatch checks that nothing comes for a while.
func noBatch(t *testing.T, c <-chan Changes, what string) {
	t.Helper()
	select {
	case ch := <-c:
		t.Errorf("%s: a batch %+v, want none", what, ch)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestWatch: with inotify and by polling, an edit to the site, the
// zones or islet.yml comes as one batch saying which; an editor's save
// by rename (vim: 4913, a backup~, the new file) is one batch naming
// the file; the build's output and editors' scratch files are not
// edits; a folder made after the start is watched too.
func TestWatch(t *testing.T) {
	for _, mode := range []struct {
		name string
		poll time.Duration
	}{{"inotify", 0}, {"poll", 50 * time.Millisecond}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := devFolder(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, err := Watch(ctx, dir, filepath.Join(dir, "site"), filepath.Join(dir, "zones"), mode.poll, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // a poll's first scan

			write(t, dir, "site/_posts/2024-01-02-hi.md", "---\ntitle: Hi\n---\nnew\n")
			if ch := nextBatch(t, c); !ch.Site || ch.Zones || ch.Config || !slices.Contains(ch.Paths, "site/_posts/2024-01-02-hi.md") {
				t.Errorf("a post edited: %+v", ch)
			}
			write(t, dir, "zones/dev.example", "$TTL 60\n@ SOA ns hm 2 2 3 4 5\n NS ns\nns A 127.0.0.1\n")
			if ch := nextBatch(t, c); ch.Site || !ch.Zones || ch.Config {
				t.Errorf("a zone edited: %+v", ch)
			}
			write(t, dir, "islet.yml", "zones: zones/\nsite: site/\n")
			if ch := nextBatch(t, c); ch.Site || ch.Zones || !ch.Config {
				t.Errorf("islet.yml edited: %+v", ch)
			}

			// vim's save: a test file, a backup by rename, the new file
			page := filepath.Join(dir, "site", "index.html")
			os.WriteFile(filepath.Join(dir, "site", "4913"), nil, 0o644)
			os.Remove(filepath.Join(dir, "site", "4913"))
			os.Rename(page, page+"~")
			os.WriteFile(page, []byte("---\n---\nsaved by vim\n"), 0o644)
			os.Remove(page + "~")
			ch := nextBatch(t, c)
			if !ch.Site || !slices.Contains(ch.Paths, "site/index.html") || slices.Contains(ch.Paths, "site/4913") {
				t.Errorf("a save by rename: %+v", ch)
			}
			noBatch(t, c, "after a save by rename")

			os.MkdirAll(filepath.Join(dir, "_build", "x"), 0o755)
			os.MkdirAll(filepath.Join(dir, "site", "_site"), 0o755)
			write(t, dir, "_build/x/out.html", "built")
			write(t, dir, "site/_site/index.html", "jekyll's own output")
			write(t, dir, "site/.index.html.swp", "scratch")
			noBatch(t, c, "the build's output, Jekyll's and a swap file")

			os.MkdirAll(filepath.Join(dir, "site", "notes"), 0o755)
			write(t, dir, "site/notes/a.md", "---\n---\na\n")
			if ch := nextBatch(t, c); !ch.Site {
				t.Errorf("a new folder's file: %+v", ch)
			}
			time.Sleep(100 * time.Millisecond)
			write(t, dir, "site/notes/a.md", "---\n---\nb\n")
			if ch := nextBatch(t, c); !ch.Site || !slices.Contains(ch.Paths, "site/notes/a.md") {
				t.Errorf("an edit in a folder made after the start: %+v", ch)
			}
		})
	}
}

// TestCachedFS: what the source cache holds is forgotten for a file
// that changed, for what is below a folder that did, and for the
// listings above.
func TestCachedFS(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("one"), 0o644)
	c := newCachedFS(os.DirFS(dir))
	read := func() string {
		b, err := c.ReadFile("a/b/f")
		if err != nil {
			return err.Error()
		}
		return string(b)
	}
	if read() != "one" {
		t.Fatal("first read")
	}
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("two"), 0o644)
	if read() != "one" {
		t.Error("read again from the disk while nothing was said to change")
	}
	c.forget("a/b/f")
	if read() != "two" {
		t.Error("a file said to change is still the old one")
	}
	os.WriteFile(filepath.Join(dir, "a", "b", "g"), nil, 0o644)
	if d, _ := c.ReadDir("a/b"); len(d) != 2 {
		t.Fatalf("listing: %d entries", len(d))
	}
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("three"), 0o644)
	os.Remove(filepath.Join(dir, "a", "b", "g"))
	c.forget("a") // the folder above
	if d, _ := c.ReadDir("a/b"); len(d) != 1 || read() != "three" {
		t.Errorf("after the folder changed: %d entries, %q", len(d), read())
	}
}

// TestPollSettles: a file written over and over for longer than the
// poll interval (as a big file is written, or a file caught half
// written) comes as one batch naming it once, when the writing stops.
func TestPollSettles(t *testing.T) {
	dir := devFolder(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := Watch(ctx, dir, filepath.Join(dir, "site"), filepath.Join(dir, "zones"), 200*time.Millisecond, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the first scan
	for i := range 12 {                // 360 ms: a poll falls inside
		write(t, dir, "site/_posts/2024-01-02-hi.md", "---\ntitle: Hi\n---\n"+strings.Repeat("x", i+1)+"\n")
		time.Sleep(30 * time.Millisecond)
	}
	ch := nextBatch(t, c)
	if !ch.Site || !slices.Equal(ch.Paths, []string{"site/_posts/2024-01-02-hi.md"}) {
		t.Errorf("a file written for 360 ms: %+v", ch)
	}
	noBatch(t, c, "after the writing stopped")
}
