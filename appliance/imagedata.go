package appliance

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ImageData is the part of an appliance folder that goes into an image:
// islet.yml and the zones folder, nothing else (no _build, no dot
// files), and, as site/, the rendered site (nil: none). The guest
// serves site/ as it is; it never renders. The folder of DNSSEC keys
// goes in only when islet.yml's dnssec: keys: names it.
func ImageData(dir string, site fs.FS) fs.FS {
	f := imageFilter{fsys: os.DirFS(dir), site: site}
	if cfg, err := LoadConfig(dir); err == nil && cfg.DNSSEC.Keys != "" {
		f.keys = path.Clean(filepath.ToSlash(cfg.DNSSEC.Keys))
	}
	return f
}

type imageFilter struct {
	fsys, site fs.FS
	keys       string // the folder of keys baked in, "" none
}

func (f imageFilter) keep(name string) bool {
	if name == "." {
		return true
	}
	first, _, _ := strings.Cut(name, "/")
	switch {
	case first == ConfigFile, first == "zones":
	case f.keys != "" && (name == f.keys || strings.HasPrefix(name, f.keys+"/") || strings.HasPrefix(f.keys, name+"/")):
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

// inSite maps a path under site/ to the rendered tree.
func (f imageFilter) inSite(name string) (string, bool) {
	if f.site == nil {
		return "", false
	}
	if name == "site" {
		return ".", true
	}
	rest, ok := strings.CutPrefix(name, "site/")
	return rest, ok
}

func (f imageFilter) Open(name string) (fs.File, error) {
	if p, ok := f.inSite(path.Clean(name)); ok {
		return f.site.Open(p)
	}
	if !f.keep(path.Clean(name)) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.fsys.Open(name)
}

func (f imageFilter) ReadDir(name string) ([]fs.DirEntry, error) {
	if p, ok := f.inSite(path.Clean(name)); ok {
		return fs.ReadDir(f.site, p)
	}
	entries, err := fs.ReadDir(f.fsys, name)
	out := entries[:0]
	for _, e := range entries {
		if f.keep(path.Join(name, e.Name())) {
			out = append(out, e)
		}
	}
	if path.Clean(name) == "." && f.site != nil {
		out = append(out, siteEntry{})
		slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	}
	return out, err
}

// siteEntry is the site/ folder of the image data.
type siteEntry struct{}

func (siteEntry) Name() string               { return "site" }
func (siteEntry) IsDir() bool                { return true }
func (siteEntry) Type() fs.FileMode          { return fs.ModeDir }
func (siteEntry) Info() (fs.FileInfo, error) { return siteInfo{}, nil }

type siteInfo struct{}

func (siteInfo) Name() string       { return "site" }
func (siteInfo) Size() int64        { return 0 }
func (siteInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (siteInfo) ModTime() time.Time { return time.Time{} }
func (siteInfo) IsDir() bool        { return true }
func (siteInfo) Sys() any           { return nil }
