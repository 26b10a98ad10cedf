package web

import (
	"io/fs"
	"path"
	"strings"
)

// publishFilter decides which files of a tree are published. Dotfiles
// and dot-folders never are (.git, .env, .htaccess), except
// .well-known at the top, which ACME and other protocols need. In a
// tree that looks like a Jekyll source (pointed at by mistake), names
// starting with "_" are not published either (_config.yml, _posts,
// _drafts). include names exceptions, as Jekyll's include: does: a
// pattern (path.Match) matching a file's or a folder's path from the
// root, or its name at any depth.
type publishFilter struct {
	source  bool
	include []string
}

// looksLikeSource reports whether the top of fsys holds what only a
// Jekyll source tree holds.
func looksLikeSource(fsys fs.FS) bool {
	for _, n := range []string{"_config.yml", "_config.yaml", "_config.toml", "_layouts", "_posts", "_includes", "_drafts"} {
		if _, err := fs.Stat(fsys, n); err == nil {
			return true
		}
	}
	return false
}

// hidden reports whether p (slash path from the root) or a folder above
// it is not to be published. A special folder is opened by a pattern
// naming it, or only for the paths below it that a pattern names
// (include: [_data/public.json] publishes that file alone).
func (f publishFilter) hidden(p string) bool {
	for end := 0; end < len(p); {
		next := strings.IndexByte(p[end:], '/')
		if next < 0 {
			next = len(p)
		} else {
			next += end
		}
		seg, prefix := p[end:next], p[:next]
		if f.special(seg, strings.Count(prefix, "/")) && !f.included(prefix, seg) && !f.namedBelow(p, prefix) {
			return true
		}
		end = next + 1
	}
	return false
}

// namedBelow reports whether a pattern names p, or a folder of p below
// prefix.
func (f publishFilter) namedBelow(p, prefix string) bool {
	for q := p; len(q) > len(prefix); {
		if f.included(q, path.Base(q)) {
			return true
		}
		q = path.Dir(q)
	}
	return false
}

// special: a name that is not published unless included; depth 0 is
// the top of the tree.
func (f publishFilter) special(seg string, depth int) bool {
	switch {
	case seg == ".well-known" && depth == 0:
		return false
	case strings.HasPrefix(seg, "."):
		return true
	case f.source && (strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, "#") || strings.HasSuffix(seg, "~")):
		return true
	}
	return false
}

func (f publishFilter) included(p, name string) bool {
	for _, pat := range f.include {
		pat = strings.Trim(pat, "/")
		if pat == p || pat == name {
			return true
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
		if ok, _ := path.Match(pat, name); ok && !strings.Contains(pat, "/") {
			return true
		}
	}
	return false
}

// mayNameBelow reports whether a pattern may name something inside dir,
// which the walk must then enter although dir itself is hidden.
func (f publishFilter) mayNameBelow(dir string) bool {
	depth := strings.Count(dir, "/") + 1
	for _, pat := range f.include {
		segs := strings.Split(strings.Trim(pat, "/"), "/")
		if len(segs) <= depth {
			continue
		}
		if ok, _ := path.Match(strings.Join(segs[:depth], "/"), dir); ok {
			return true
		}
	}
	return false
}
