package appliance

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// SourceAsIs serves a site source folder that needs no rendering: one
// whose files are all static (no YAML front matter), which Jekyll would
// copy unchanged. Files and folders starting with "_" or "." are left
// out, as Jekyll leaves them out. A source with front matter is an
// error naming the first such file, until the site renderer exists.
func SourceAsIs(dir string) (fs.FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	fsys := root.FS()
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && hidden(p) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		if strings.TrimRight(line, "\r\n") == "---" {
			return fmt.Errorf("%s:1: front matter needs the site renderer, which islet does not have yet; serve a rendered tree (jekyll build) with --site", filepath.Join(dir, p))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return hiddenFilter{fsys}, nil
}

// hidden reports whether a path has a component Jekyll does not publish.
func hidden(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, "_") || strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// hiddenFilter hides "_" and "." paths.
type hiddenFilter struct{ fsys fs.FS }

func (h hiddenFilter) Open(name string) (fs.File, error) {
	if name != "." && hidden(path.Clean(name)) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return h.fsys.Open(name)
}

func (h hiddenFilter) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." && hidden(path.Clean(name)) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	entries, err := fs.ReadDir(h.fsys, name)
	out := entries[:0]
	for _, e := range entries {
		if !hidden(e.Name()) {
			out = append(out, e)
		}
	}
	return out, err
}
