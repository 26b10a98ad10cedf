package zones_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata fixtures")

// archive is a txtar file: a comment, then "-- name --" separated files.
type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct {
	name string
	data string
}

func readArchive(t *testing.T, path string) *archive {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := &archive{}
	cur := &a.comment
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			a.files = append(a.files, archiveFile{name: trimmed[3 : len(trimmed)-3]})
			cur = &a.files[len(a.files)-1].data
			continue
		}
		*cur += line
	}
	return a
}

func (a *archive) get(name string) (string, bool) {
	for _, f := range a.files {
		if f.name == name {
			return f.data, true
		}
	}
	return "", false
}

// writeFiles puts every file but "want" under dir.
func (a *archive) writeFiles(t *testing.T, dir string) {
	t.Helper()
	for _, f := range a.files {
		if f.name == "want" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkWant compares got with the "want" file, or rewrites it with -update.
func (a *archive) checkWant(t *testing.T, path, got string) {
	t.Helper()
	want, _ := a.get("want")
	if got == want {
		return
	}
	if !*update {
		t.Errorf("%s: got\n%s\nwant\n%s", path, got, want)
		return
	}
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, f := range a.files {
		data := f.data
		if f.name == "want" {
			data = got
		}
		b.WriteString("-- " + f.name + " --\n" + data)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
