package appliance

import (
	"io/fs"
	"os"
	"path"
	"strings"
)

// ImageData is the part of an appliance folder that goes into an image:
// islet.yml, the zones folder and the site folder, nothing else (no
// _build, no dot files).
func ImageData(dir string) fs.FS {
	return imageFilter{os.DirFS(dir)}
}

type imageFilter struct{ fsys fs.FS }

func keep(name string) bool {
	if name == "." {
		return true
	}
	first, _, _ := strings.Cut(name, "/")
	switch first {
	case ConfigFile, "zones", "site":
	default:
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

func (f imageFilter) Open(name string) (fs.File, error) {
	if !keep(path.Clean(name)) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.fsys.Open(name)
}

func (f imageFilter) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(f.fsys, name)
	out := entries[:0]
	for _, e := range entries {
		if keep(path.Join(name, e.Name())) {
			out = append(out, e)
		}
	}
	return out, err
}
