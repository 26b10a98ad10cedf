package site

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"islet.dev/islet/site/liquid"
)

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// splitFrontMatter separates YAML front matter from the body. ok is
// false for a file without front matter (a static file).
func splitFrontMatter(file string, src []byte) (fm *liquid.Map, body string, bodyLine int, ok bool, err error) {
	if !hasFrontMatter(src) {
		return nil, "", 0, false, nil
	}
	nl := bytes.IndexByte(src, '\n')
	rest := src[nl+1:]
	// the closing --- or ... on a line of its own
	off, line := 0, 2
	for {
		end := bytes.IndexByte(rest[off:], '\n')
		var ln []byte
		if end < 0 {
			ln = rest[off:]
		} else {
			ln = rest[off : off+end]
		}
		t := strings.TrimRight(string(ln), " \t\r")
		if t == "---" || t == "..." {
			yamlSrc := rest[:off]
			bodyStart := len(rest)
			if end >= 0 {
				bodyStart = off + end + 1
			}
			v, err := decodeYAML(file, 2, yamlSrc)
			if err != nil {
				return nil, "", 0, false, err
			}
			m, isMap := v.(*liquid.Map)
			if v != nil && !isMap {
				return nil, "", 0, false, fmt.Errorf("%s:2: front matter must be a YAML mapping", file)
			}
			if m == nil {
				m = liquid.NewMap()
			}
			return m, string(rest[bodyStart:]), line + 1, true, nil
		}
		if end < 0 {
			return nil, "", 0, false, fmt.Errorf("%s:1: front matter is not closed by a --- line", file)
		}
		off += end + 1
		line++
	}
}

var frontMatterStart = regexp.MustCompile(`\A---[ \t]*\r?\n`)

func hasFrontMatter(src []byte) bool {
	return frontMatterStart.Match(src)
}

// filtered reports whether Jekyll's EntryFilter leaves an entry out:
// names starting with . _ # or ending in ~, and the exclude list,
// unless listed in include.
func (c *config) filtered(rel string) bool {
	base := path.Base(rel)
	for _, inc := range c.include {
		if base == inc || rel == strings.Trim(inc, "/") {
			return false
		}
	}
	if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || strings.HasPrefix(base, "#") || strings.HasSuffix(base, "~") {
		return true
	}
	return c.excluded(rel)
}

func (c *config) excluded(rel string) bool {
	for _, ex := range c.exclude {
		ex = strings.TrimPrefix(ex, "/")
		trimmed := strings.TrimSuffix(ex, "/")
		if rel == trimmed || strings.HasPrefix(rel, trimmed+"/") {
			return true
		}
		if ok, _ := path.Match(ex, rel); ok {
			return true
		}
		if ok, _ := path.Match(ex, path.Base(rel)); ok && !strings.Contains(ex, "/") {
			return true
		}
	}
	return false
}

var postName = regexp.MustCompile(`^(?:.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$`)
var draftName = regexp.MustCompile(`^(?:.+/)*(.*)(\.[^.]+)$`)

// read walks the source tree and classifies every file.
func (s *Site) read() error {
	c := s.cfg
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := fs.ReadDir(s.src, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		for _, e := range entries {
			rel := path.Join(dir, e.Name())
			if dir == "." {
				rel = e.Name()
			}
			if e.IsDir() {
				switch {
				case e.Name() == "_posts":
					if err := s.readPosts(rel, "posts"); err != nil {
						return err
					}
					continue
				case e.Name() == "_drafts":
					if c.drafts {
						if err := s.readPosts(rel, "drafts"); err != nil {
							return err
						}
					}
					continue
				case dir == ".":
					if col := s.collection(strings.TrimPrefix(e.Name(), "_")); col != nil && strings.HasPrefix(e.Name(), "_") {
						if err := s.readCollection(col, rel); err != nil {
							return err
						}
						continue
					}
				}
				if c.filtered(rel) {
					continue
				}
				if err := walk(rel); err != nil {
					return err
				}
				continue
			}
			if !e.Type().IsRegular() && e.Type()&fs.ModeSymlink == 0 {
				continue
			}
			if c.filtered(rel) {
				continue
			}
			if err := s.readFile(rel, nil); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return err
	}
	for _, col := range s.cfg.collections {
		col.sort()
	}
	return nil
}

// readFile reads a page or a static file (col nil) or a collection
// document.
func (s *Site) readFile(rel string, col *collection) error {
	src, err := fs.ReadFile(s.src, rel)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	fm, body, line, ok, err := splitFrontMatter(rel, src)
	if err != nil {
		return err
	}
	if !ok {
		st := &staticFile{rel: rel, col: col, size: len(src)}
		if info, err := fs.Stat(s.src, rel); err == nil {
			st.mtime = info.ModTime()
		}
		if col != nil {
			col.files = append(col.files, st)
		} else {
			s.static = append(s.static, st)
		}
		return nil
	}
	typ := "pages"
	if col != nil {
		typ = col.label
	}
	d := &document{site: s, rel: rel, col: col, body: body, bodyLine: line}
	d.data = s.cfg.defaultsFor(rel, typ)
	deepMerge(d.data, fm)
	d.ext = path.Ext(rel)
	if col == nil {
		s.pages = append(s.pages, d)
		return nil
	}
	if err := d.setupDocument(); err != nil {
		return err
	}
	col.docs = append(col.docs, d)
	return nil
}

func (s *Site) readCollection(col *collection, dir string) error {
	return fs.WalkDir(s.src, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(e.Name(), ".") || (p != dir && strings.HasPrefix(e.Name(), "_")) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() || s.cfg.excluded(p) {
			return nil
		}
		return s.readFile(p, col)
	})
}

// readPosts reads a _posts or _drafts folder; the folders above it
// are the posts' categories.
func (s *Site) readPosts(dir, kind string) error {
	posts := s.collection("posts")
	return fs.WalkDir(s.src, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && (strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_")) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() || s.cfg.excluded(p) {
			return nil
		}
		sub := strings.TrimPrefix(p, dir+"/")
		if kind == "posts" && !postName.MatchString(sub) {
			return nil // Jekyll ignores files in _posts without a date
		}
		src, err := fs.ReadFile(s.src, p)
		if err != nil {
			return err
		}
		fm, body, line, ok, err := splitFrontMatter(p, src)
		if err != nil {
			return err
		}
		if !ok {
			st := &staticFile{rel: p, col: posts, size: len(src)}
			posts.files = append(posts.files, st)
			return nil
		}
		d := &document{site: s, rel: p, col: posts, body: body, bodyLine: line, draft: kind == "drafts"}
		d.data = s.cfg.defaultsFor(p, kind)
		deepMerge(d.data, fm)
		d.ext = path.Ext(p)
		d.postDir = strings.TrimSuffix(strings.TrimSuffix(dir, "_posts"), "_drafts")
		if err := d.setupDocument(); err != nil {
			return err
		}
		posts.docs = append(posts.docs, d)
		return nil
	})
}

func (s *Site) collection(label string) *collection {
	for _, c := range s.cfg.collections {
		if c.label == label {
			return c
		}
	}
	return nil
}

// collection is a Jekyll collection; posts is one.
type collection struct {
	label     string
	output    bool
	permalink string
	sortBy    string
	meta      *liquid.Map
	docs      []*document
	files     []*staticFile
	drop      *liquid.Map
}

func (c *collection) sort() {
	if c.label == "posts" {
		sort.SliceStable(c.docs, func(i, j int) bool {
			a, b := c.docs[i], c.docs[j]
			if !a.date.Equal(b.date) {
				return a.date.Before(b.date)
			}
			return a.rel < b.rel
		})
		return
	}
	if c.sortBy != "" {
		sort.SliceStable(c.docs, func(i, j int) bool {
			x, _ := c.docs[i].data.Get(c.sortBy)
			y, _ := c.docs[j].data.Get(c.sortBy)
			n, ok := liquid.Compare(x, y)
			if !ok {
				return c.docs[i].rel < c.docs[j].rel
			}
			return n < 0
		})
		return
	}
	sort.SliceStable(c.docs, func(i, j int) bool { return c.docs[i].rel < c.docs[j].rel })
}

// staticFile is a file copied unchanged.
type staticFile struct {
	rel   string
	col   *collection
	size  int
	mtime time.Time
	drop  *liquid.Map
}

func (f *staticFile) url() string {
	if f.col != nil && f.col.label != "posts" {
		return "/" + strings.TrimPrefix(f.rel, "_")
	}
	return "/" + f.rel
}
