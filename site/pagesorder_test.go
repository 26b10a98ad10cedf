package site

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPagesSeeEarlierContent: a page that reads site.pages sees the
// pages before it rendered and those after it as written, as Jekyll's
// render in order gives them, though pages render in parallel here:
// it waits for the ones before it, even the slowest. In an incremental
// render it sees them rendered too when they are reused.
func TestPagesSeeEarlierContent(t *testing.T) {
	files := map[string]string{
		// slow: 40,000 iterations of Liquid before its content is known
		"a-slow.md":     "---\ntitle: slow\n---\n*{% for i in (1..200) %}{% for j in (1..200) %}{% endfor %}{% endfor %}rendered {{ page.title }}*\n",
		"b-reader.html": "---\n---\n{% for p in site.pages %}{% if p.title %}[{{ p.title }}: {{ p.content | strip_newlines }}]{% endif %}{% endfor %}\n",
		"c-later.md":    "---\ntitle: later\n---\n*as written {{ page.title }}*\n",
	}
	want := "[slow: <p><em>rendered slow</em></p>][later: *as written {{ page.title }}*]\n"
	for range 5 { // the reader and the slow page start at once, each time
		out, err := Render(context.Background(), mapFS(files), Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := out.ReadFile("b-reader.html"); string(got) != want {
			t.Fatalf("b-reader.html = %q, want %q", got, want)
		}
	}

	state := t.TempDir()
	opt := Options{StateDir: state, Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	first, err := Render(context.Background(), mapFS(files), opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.CommitState(); err != nil {
		t.Fatal(err)
	}
	files["b-reader.html"] = strings.Replace(files["b-reader.html"], "\n{% for", "\nchanged {% for", 1)
	inc, err := Render(context.Background(), mapFS(files), opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Reused == 0 {
		t.Fatal("the incremental render reused nothing")
	}
	if got, _ := inc.ReadFile("b-reader.html"); string(got) != "changed "+want {
		t.Errorf("incremental b-reader.html = %q, want %q", got, "changed "+want)
	}
}

// TestPageFailsBeforeItsContent: a page that fails before its content
// is known fails the render; the page waiting for it does not wait on.
func TestPageFailsBeforeItsContent(t *testing.T) {
	files := map[string]string{
		"a-bad.md":      "---\ntitle: bad\n---\n{% include missing.html %}\n",
		"b-reader.html": "---\n---\n{% for p in site.pages %}{{ p.content }}{% endfor %}\n",
	}
	done := make(chan error, 1)
	go func() {
		_, err := Render(context.Background(), mapFS(files), Options{}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "a-bad.md") {
			t.Errorf("err = %v, want a-bad.md's", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the render did not end: the reader waits for the page that failed")
	}
}
