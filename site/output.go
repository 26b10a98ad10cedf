package site

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"islet.dev/islet/internal/pool"
)

// Output is a rendered site: generated files in memory and static
// files read from the source on demand.
type Output struct {
	files  map[string]string     // destination → what a document wrote
	copies map[string]copySource // destination → where its bytes are
	owner  map[string]string     // destination → what wrote it

	// incremental renders: the state to save once written, and what
	// the previous render wrote
	stateDir  string
	state     *renderState
	prevFiles map[string]string
	Reused    int // documents taken from the previous render

	// Warnings are the render's warnings, by file and line (those of
	// documents taken from a previous render are not repeated).
	Warnings []Warning
}

// copySource is a static file: copied from a file system on demand.
type copySource struct {
	fsys fs.FS
	path string
}

func newOutput() *Output {
	return &Output{files: map[string]string{}, copies: map[string]copySource{}, owner: map[string]string{}}
}

// Paths lists every output file, sorted.
func (o *Output) Paths() []string { return sortedDests(o) }

// ReadFile returns one output file.
func (o *Output) ReadFile(name string) ([]byte, error) {
	if s, ok := o.files[name]; ok {
		return []byte(s), nil
	}
	if c, ok := o.copies[name]; ok {
		return fs.ReadFile(c.fsys, c.path)
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// FS returns the output as a file system.
func (o *Output) FS() fs.FS { return outputFS{o} }

// WriteDir writes the output to dir: into a new folder beside it,
// then swapped in, so that a failed write leaves dir as it was.
func (o *Output) WriteDir(dir string) error {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	paths := o.Paths()
	// Every folder is made once, parents first, without MkdirAll's
	// look at each ancestor.
	dirs := map[string]bool{}
	for _, p := range paths {
		for d := path.Dir(p); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	// a level at a time, each level's on every core
	byDepth := map[int][]string{}
	for d := range dirs {
		n := strings.Count(d, "/")
		byDepth[n] = append(byDepth[n], d)
	}
	for n := 0; n < len(byDepth); n++ {
		level := byDepth[n]
		err := pool.Each(context.Background(), len(level), runtime.GOMAXPROCS(0)*2, func(i int) error {
			return os.Mkdir(filepath.Join(tmp, filepath.FromSlash(level[i])), 0o755)
		})
		if err != nil {
			return err
		}
	}
	// Writing is mostly system time: spread it over the cores.
	err = pool.Each(context.Background(), len(paths), runtime.GOMAXPROCS(0)*2, func(i int) error {
		if err := o.writeFile(paths[i], filepath.Join(tmp, filepath.FromSlash(paths[i]))); err != nil {
			return fmt.Errorf("%s: %w", paths[i], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := tmp + ".old"
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	return o.commitState()
}

// writeFile writes the output file name to dst.
func (o *Output) writeFile(name, dst string) error {
	s, ok := o.files[name]
	if !ok {
		data, err := o.ReadFile(name)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	}
	f, err := createFile(dst)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if err1 := f.Close(); err == nil {
		err = err1
	}
	return err
}

// size is the length of the output file name.
func (o *Output) size(name string) int64 {
	if s, ok := o.files[name]; ok {
		return int64(len(s))
	}
	b, _ := o.ReadFile(name)
	return int64(len(b))
}

type outputFS struct{ o *Output }

func (f outputFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if s, ok := f.o.files[name]; ok {
		return &memFile{name: path.Base(name), r: strings.NewReader(s), size: int64(len(s))}, nil
	}
	if data, err := f.o.ReadFile(name); err == nil {
		return &memFile{name: path.Base(name), r: bytes.NewReader(data), size: int64(len(data))}, nil
	}
	// a directory: every path below it
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	seen := map[string]bool{}
	var entries []fs.DirEntry
	for _, p := range f.o.Paths() {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rest := p[len(prefix):]
		child, _, isDir := strings.Cut(rest, "/")
		if seen[child] {
			continue
		}
		seen[child] = true
		var size int64
		if !isDir {
			size = f.o.size(p)
		}
		entries = append(entries, memEntry{name: child, dir: isDir, size: size})
	}
	if len(entries) == 0 && name != "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return &memDir{name: path.Base(name), entries: entries}, nil
}

type memFile struct {
	name string
	r    io.ReadSeeker
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memEntry{name: f.name, size: f.size}, nil }
func (f *memFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *memFile) Seek(off int64, whence int) (int64, error) {
	return f.r.Seek(off, whence)
}
func (f *memFile) Close() error { return nil }

type memDir struct {
	name    string
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return memEntry{name: d.name, dir: true}, nil }
func (d *memDir) Read([]byte) (int, error)   { return 0, fmt.Errorf("%s is a directory", d.name) }
func (d *memDir) Close() error               { return nil }
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}

type memEntry struct {
	name string
	dir  bool
	size int64
}

func (e memEntry) Name() string { return e.name }
func (e memEntry) IsDir() bool  { return e.dir }
func (e memEntry) Type() fs.FileMode {
	if e.dir {
		return fs.ModeDir
	}
	return 0
}
func (e memEntry) Info() (fs.FileInfo, error) { return e, nil }
func (e memEntry) Size() int64                { return e.size }
func (e memEntry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (e memEntry) ModTime() time.Time { return time.Time{} }
func (e memEntry) Sys() any           { return nil }
