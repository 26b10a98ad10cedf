//go:build linux

package site

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadFile: files below the folder read, through symbolic links
// that stay below it too; nothing outside it, whatever the path; a
// FIFO is an error, not a read that never ends.
func TestSourceDirReadFile(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "site")
	outside := filepath.Join(top, "secret")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "a.md"), "alpha")
	write(filepath.Join(dir, "sub", "b.md"), "beta")
	write(outside, "secret")
	for link, target := range map[string]string{
		"in.md":          "sub/b.md",
		"sub/up.md":      "../a.md",
		"out.md":         "../secret",
		"sub/out.md":     "../../secret",
		"abs.md":         outside,
		"subdir":         "sub",
		"outdir":         "..",
		"proc.md":        "/proc/self/root" + outside,
		"sub/deep/in.md": "../b.md",
	} {
		p := filepath.Join(dir, link)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct{ name, want string }{
		{"a.md", "alpha"}, {"sub/b.md", "beta"}, {"in.md", "beta"}, {"sub/up.md", "alpha"}, {"subdir/b.md", "beta"},
	} {
		got, err := f.ReadFile(tc.name)
		if err != nil || string(got) != tc.want {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if viaFS, err := fs.ReadFile(f, tc.name); err != nil || string(viaFS) != tc.want {
			t.Errorf("fs.ReadFile(%q) = %q, %v", tc.name, viaFS, err)
		}
	}
	for _, name := range []string{"out.md", "sub/out.md", "abs.md", "outdir/secret", "proc.md", "../secret", "/etc/passwd", "sub/../../secret", "missing.md", "sub", "sub/deep/in.md/x"} {
		if got, err := f.ReadFile(name); err == nil {
			t.Errorf("ReadFile(%q) = %q, want an error", name, got)
		}
	}
	for _, fsys := range []fs.FS{f, f.root.FS()} {
		if info, err := fs.Stat(fsys, "in.md"); err != nil || info.Size() != 4 {
			t.Errorf("Stat(in.md) = %v, %v", info, err)
		}
		if entries, err := fs.ReadDir(fsys, "sub"); err != nil || len(entries) != 4 {
			t.Errorf("ReadDir(sub) = %v, %v", entries, err)
		}
		if target, err := fs.ReadLink(fsys, "in.md"); err != nil || target != "sub/b.md" {
			t.Errorf("ReadLink(in.md) = %q, %v", target, err)
		}
		if _, err := fs.Stat(fsys, "out.md"); err == nil {
			t.Error("Stat(out.md): no error for a link out of the folder")
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.ReadFile("fifo")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errNotRegular) {
			t.Errorf("ReadFile(fifo): %v, want %v", err, errNotRegular)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile of a FIFO does not return")
	}
}
