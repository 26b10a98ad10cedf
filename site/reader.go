package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"islet.dev/islet/internal/pool"

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
			// Jekyll's front matter pattern ends with \s*$\n?: blank
			// lines right after the closing line go with it.
			for {
				nl := bytes.IndexByte(rest[bodyStart:], '\n')
				if nl < 0 || strings.TrimSpace(string(rest[bodyStart:bodyStart+nl])) != "" {
					break
				}
				bodyStart += nl + 1
				line++
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

var frontMatterStart = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\A---[ \t]*\r?\n`)
})

func hasFrontMatter(src []byte) bool {
	return frontMatterStart().Match(src)
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

// excluded reports whether an exclude entry leaves rel out, as Jekyll's
// EntryFilter decides it: each entry is anchored at the source root and
// matches the path from there, as a glob in which "*" also crosses "/"
// (File.fnmatch without flags) or as a prefix of it. So "LICENSE.md"
// leaves out the root's LICENSE.md, not assets/vendor/x/LICENSE.md.
func (c *config) excluded(rel string) bool {
	for _, ex := range c.exclude {
		ex = strings.TrimPrefix(ex, "/")
		if ex == "" {
			continue
		}
		if rel == strings.TrimSuffix(ex, "/") || strings.HasPrefix(rel, ex) {
			return true
		}
		if fnmatch(ex, rel) {
			return true
		}
	}
	return false
}

// fnmatch is Ruby's File.fnmatch without flags: "*" matches any run of
// characters, "/" included, "?" any one, "[...]" one of a class.
func fnmatch(pattern, name string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(name); i >= 0; i-- {
				if fnmatch(pattern[1:], name[i:]) {
					return true
				}
			}
			return false
		case '?':
			if name == "" {
				return false
			}
			pattern, name = pattern[1:], name[1:]
		case '[':
			end := strings.IndexByte(pattern, ']')
			if end < 0 || name == "" {
				return pattern == name
			}
			if ok, err := path.Match(pattern[:end+1], name[:1]); err != nil || !ok {
				return false
			}
			pattern, name = pattern[end+1:], name[1:]
		case '\\':
			if len(pattern) > 1 {
				pattern = pattern[1:]
			}
			fallthrough
		default:
			if name == "" || name[0] != pattern[0] {
				return false
			}
			pattern, name = pattern[1:], name[1:]
		}
	}
	return name == ""
}

var postName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$`)
})
var draftName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:.+/)*(.*)(\.[^.]+)$`)
})

// readTask is one file found by the walk, read and parsed in parallel.
type readTask struct {
	fsys    fs.FS // nil: the site's source
	rel     string
	col     *collection // nil for pages and static files
	kind    string      // "pages", "posts", "drafts" or a collection label
	postDir string
	doc     *document
	static  *staticFile
}

// read walks the source tree, then reads and parses every file on all
// cores; results are added in walk order, so the render stays
// deterministic.
func (s *Site) read(ctx context.Context) error {
	c := s.cfg
	var tasks []*readTask
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := fs.ReadDir(s.src, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		// Jekyll reads a folder's subfolders before its own files.
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].IsDir() && !entries[j].IsDir() })
		for _, e := range entries {
			rel := path.Join(dir, e.Name())
			if dir == "." {
				rel = e.Name()
			}
			if e.IsDir() {
				switch {
				case e.Name() == "_posts":
					if err := s.walkPosts(rel, "posts", &tasks); err != nil {
						return err
					}
					continue
				case e.Name() == "_drafts":
					if c.drafts {
						if err := s.walkPosts(rel, "drafts", &tasks); err != nil {
							return err
						}
					}
					continue
				case dir == ".":
					if col := s.collection(strings.TrimPrefix(e.Name(), "_")); col != nil && strings.HasPrefix(e.Name(), "_") {
						if err := s.walkCollection(col, rel, &tasks); err != nil {
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
			tasks = append(tasks, &readTask{rel: rel, kind: "pages"})
		}
		return nil
	}
	if err := walk("."); err != nil {
		return err
	}
	if s.theme != nil {
		if err := s.walkThemeAssets(&tasks); err != nil {
			return err
		}
	}
	if err := pool.Each(ctx, len(tasks), 0, func(i int) error { return s.readTask(tasks[i]) }); err != nil {
		return err
	}
	for _, t := range tasks {
		switch {
		case t.static != nil && t.col != nil:
			t.col.files = append(t.col.files, t.static)
		case t.static != nil:
			s.static = append(s.static, t.static)
		case t.doc != nil && t.col != nil:
			t.col.docs = append(t.col.docs, t.doc)
		case t.doc != nil:
			s.pages = append(s.pages, t.doc)
		}
	}
	for _, col := range s.cfg.collections {
		col.sort()
	}
	// Jekyll's sort_files!: pages by file name, static files by path.
	sort.SliceStable(s.pages, func(i, j int) bool { return path.Base(s.pages[i].rel) < path.Base(s.pages[j].rel) })
	sort.SliceStable(s.static, func(i, j int) bool { return s.static[i].rel < s.static[j].rel })
	return nil
}

// readTask reads one file: a document when it has front matter, a
// static file otherwise.
func (s *Site) readTask(t *readTask) error {
	fsys := t.fsys
	if fsys == nil {
		fsys = s.src
	}
	src, err := fs.ReadFile(fsys, t.rel)
	if err != nil {
		return fmt.Errorf("%s: %w", t.rel, err)
	}
	fm, body, line, ok, err := splitFrontMatter(t.rel, src)
	if err != nil {
		return err
	}
	if !ok {
		st := &staticFile{fsys: t.fsys, rel: t.rel, col: t.col, size: len(src)}
		if info, err := fs.Stat(fsys, t.rel); err == nil {
			st.mtime = info.ModTime()
		}
		t.static = st
		return nil
	}
	d := &document{site: s, rel: t.rel, col: t.col, body: body, bodyLine: line, draft: t.kind == "drafts", postDir: t.postDir, fsys: t.fsys}
	if s.incremental() {
		d.frontHash, d.bodyHash = hashBytes(src[:len(src)-len(body)]), hashBytes([]byte(body))
	}
	d.data = s.cfg.defaultsFor(t.rel, t.kind)
	d.data.DeepMerge(fm)
	d.ext = path.Ext(t.rel)
	if t.col != nil {
		if err := d.setupDocument(); err != nil {
			return err
		}
	} else if s.sassJobs != nil {
		s.startSassJob(d)
	}
	t.doc = d
	return nil
}

// walkThemeAssets adds the theme's assets/ files the site does not
// have itself, as Jekyll's ThemeAssetsReader does.
func (s *Site) walkThemeAssets(tasks *[]*readTask) error {
	have := map[string]bool{}
	for _, t := range *tasks {
		have[t.rel] = true
	}
	err := fs.WalkDir(s.theme.fsys, "assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || have[p] || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		*tasks = append(*tasks, &readTask{fsys: s.theme.fsys, rel: p, kind: "pages"})
		return nil
	})
	if isNotExist(err) {
		return nil
	}
	return err
}

// walkFiles calls f for each file below dir that Jekyll reads inside
// a collection folder: names starting with . or _ (below dir) and the
// exclude list are skipped.
func (s *Site) walkFiles(dir string, f func(p string)) error {
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
		if !e.IsDir() && !s.cfg.excluded(p) {
			f(p)
		}
		return nil
	})
}

func (s *Site) walkCollection(col *collection, dir string, tasks *[]*readTask) error {
	return s.walkFiles(dir, func(p string) {
		*tasks = append(*tasks, &readTask{rel: p, col: col, kind: col.label})
	})
}

// walkPosts finds the files of a _posts or _drafts folder; the folders
// above it are the posts' categories.
func (s *Site) walkPosts(dir, kind string, tasks *[]*readTask) error {
	posts := s.collection("posts")
	postDir := strings.TrimSuffix(strings.TrimSuffix(dir, "_posts"), "_drafts")
	return s.walkFiles(dir, func(p string) {
		if kind == "posts" && !postName().MatchString(strings.TrimPrefix(p, dir+"/")) {
			return // Jekyll ignores files in _posts without a date
		}
		*tasks = append(*tasks, &readTask{rel: p, col: posts, kind: kind, postDir: postDir})
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
	// Jekyll's Document#<=>: by date when both have one in their front
	// matter, else (or when equal) by path. With some dated and some not
	// that is not a total order, and the algorithm decides: Ruby sorts
	// with the C library's qsort_r, glibc's merge sort (rubySort), from
	// the order the files were read in (by path).
	sort.SliceStable(c.docs, func(i, j int) bool { return c.docs[i].rel < c.docs[j].rel })
	rubySort(c.docs, func(a, b *document) int {
		if a.hasDate() && b.hasDate() && !a.date.Equal(b.date) {
			return a.date.Compare(b.date)
		}
		return strings.Compare(a.rel, b.rel)
	})
}

// rubySort sorts s as Array#sort! does on glibc (Debian's Ruby): its
// qsort_r is a top-down merge sort, halves of n/2 and n-n/2, each merge
// taking from the left while cmp is <= 0. For a comparison that is a
// total order it is any stable sort; for one that is not (Jekyll's
// documents, partly dated) it gives the order Jekyll gives.
func rubySort[T any](s []T, cmp func(a, b T) int) {
	if len(s) < 2 {
		return
	}
	tmp := make([]T, len(s))
	var msort func(b []T)
	msort = func(b []T) {
		n := len(b)
		if n <= 1 {
			return
		}
		n1 := n / 2
		l, r := b[:n1], b[n1:]
		msort(l)
		msort(r)
		out := tmp[:0]
		i, j := 0, 0
		for i < len(l) && j < len(r) {
			if cmp(l[i], r[j]) <= 0 {
				out = append(out, l[i])
				i++
			} else {
				out = append(out, r[j])
				j++
			}
		}
		out = append(out, l[i:]...)
		copy(b, out) // what is left of r is in place already
	}
	msort(s)
}

// hasDate says whether the document's front matter gave a date when
// it was read (Jekyll sorts before it dates the others).
func (d *document) hasDate() bool { return d.dated }

// staticFile is a file copied unchanged.
type staticFile struct {
	fsys  fs.FS // nil: the site's source
	rel   string
	col   *collection
	size  int
	mtime time.Time
	drop  *liquid.Map
}

func (f *staticFile) source(s *Site) fs.FS {
	if f.fsys != nil {
		return f.fsys
	}
	return s.src
}

func (f *staticFile) url() string {
	if f.col != nil && f.col.label != "posts" {
		return "/" + strings.TrimPrefix(f.rel, "_")
	}
	return "/" + f.rel
}
