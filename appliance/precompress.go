package appliance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"islet.dev/islet/internal/pool"

	"islet.dev/islet/tls/web"
)

// Precompressed returns site with the gzip and brotli variants the
// HTTPS server keeps of each file beside it, as NAME.gz and NAME.br, so
// that the appliance serves them as made at build time instead of
// compressing every file when it starts. Files are compressed on all
// cores; a file whose variants are not both smaller gets neither (the
// server then decides for itself).
func Precompressed(site fs.FS) (fs.FS, error) {
	var paths []string
	err := fs.WalkDir(site, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("appliance: precompress: %w", err)
	}
	have := map[string]bool{}
	for _, p := range paths {
		have[p] = true
	}
	gzs, brs := make([][]byte, len(paths)), make([][]byte, len(paths))
	err = pool.Each(context.Background(), len(paths), 0, func(i int) error {
		p := paths[i]
		if have[p+".gz"] || have[p+".br"] {
			return nil // the site brings its own
		}
		data, err := fs.ReadFile(site, p)
		if err != nil {
			return fmt.Errorf("appliance: precompress: %w", err)
		}
		gzs[i], brs[i] = web.Precompress(p, data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	extra := map[string][]byte{}
	for i, p := range paths {
		if gzs[i] != nil && brs[i] != nil {
			extra[p+".gz"], extra[p+".br"] = gzs[i], brs[i]
		}
	}
	return siblingFS{base: site, extra: extra}, nil
}

// siblingFS is a tree with extra files beside the files of its base.
type siblingFS struct {
	base  fs.FS
	extra map[string][]byte
}

func (s siblingFS) Open(name string) (fs.File, error) {
	if b, ok := s.extra[name]; ok {
		return &memFile{Reader: bytes.NewReader(b), info: memInfo{name: path.Base(name), size: int64(len(b))}}, nil
	}
	f, err := s.base.Open(name)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err == nil && info.IsDir() {
		entries, err := s.ReadDir(name)
		if err != nil {
			f.Close()
			return nil, err
		}
		return &dirFile{File: f, entries: entries}, nil
	}
	return f, nil
}

// dirFile lists a folder of the base with the extra files in it.
type dirFile struct {
	fs.File
	entries []fs.DirEntry
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

func (s siblingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(s.base, name)
	if err != nil {
		return nil, err
	}
	for p, b := range s.extra {
		if path.Dir(p) == path.Clean(name) {
			entries = append(entries, fs.FileInfoToDirEntry(memInfo{name: path.Base(p), size: int64(len(b))}))
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
