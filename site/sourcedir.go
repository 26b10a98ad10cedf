package site

import (
	"io/fs"
	"os"
)

// SourceDir is a site's source folder as an fs.FS confined to it, to
// give Render: os.Root's file system, but for ReadFile, which opens the
// file beneath the folder in one call where the kernel can (openat2
// with RESOLVE_BENEATH on Linux: os.Root walks the path a folder at a
// time, and the runtime offers every file it opens to epoll), and
// takes the root's way otherwise or on any failure, so that its errors
// are the root's.
type SourceDir struct {
	fs.FS
	root *os.Root
	dir  *os.File // the folder, which openat2 reads beneath
}

// OpenSource opens the source folder dir.
func OpenSource(dir string) (*SourceDir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	d, err := os.Open(dir)
	if err != nil {
		root.Close()
		return nil, err
	}
	return &SourceDir{FS: root.FS(), root: root, dir: d}, nil
}

// Close closes the folder.
func (f *SourceDir) Close() error {
	err := f.dir.Close()
	if err1 := f.root.Close(); err == nil {
		err = err1
	}
	return err
}

// Stat, ReadDir, Lstat and ReadLink are the root's.
func (f *SourceDir) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.FS, name) }
func (f *SourceDir) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.FS, name) }
func (f *SourceDir) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(f.FS, name) }
func (f *SourceDir) ReadLink(name string) (string, error)       { return fs.ReadLink(f.FS, name) }

// ReadFile reads the file name, a slash-separated path below the
// folder.
func (f *SourceDir) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok, err := readBeneath(int(f.dir.Fd()), name); ok {
		return b, err
	}
	return fs.ReadFile(f.FS, name)
}
