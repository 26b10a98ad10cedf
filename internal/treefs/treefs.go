// Package treefs reads a folder as an fs.FS confined to it, as os.Root's
// file system does, with each file read in fewer system calls.
package treefs

import (
	"io/fs"
	"os"
)

// FS is a folder's tree: os.Root's file system for everything but
// ReadFile, which opens the file beneath the folder in one call where
// the kernel can (openat2 with RESOLVE_BENEATH on Linux) and takes the
// root's way otherwise or on any failure, so that its errors are the
// root's.
type FS struct {
	fs.FS
	root *os.Root
	dir  *os.File // kept open for fd
	fd   int
}

// Open opens the folder dir.
func Open(dir string) (*FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	d, err := os.Open(dir)
	if err != nil {
		root.Close()
		return nil, err
	}
	return &FS{FS: root.FS(), root: root, dir: d, fd: int(d.Fd())}, nil
}

// Close closes the folder.
func (f *FS) Close() error {
	err := f.dir.Close()
	if err1 := f.root.Close(); err == nil {
		err = err1
	}
	return err
}

// Stat, ReadDir, Lstat and ReadLink are the root's.
func (f *FS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.FS, name) }
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.FS, name) }
func (f *FS) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(f.FS, name) }
func (f *FS) ReadLink(name string) (string, error)       { return fs.ReadLink(f.FS, name) }

// ReadFile reads the file name, a slash-separated path below the
// folder.
func (f *FS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok, err := readBeneath(f.fd, name); ok {
		return b, err
	}
	return fs.ReadFile(f.FS, name)
}
