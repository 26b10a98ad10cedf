package site

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"sync"
)

// sassLane runs libsass compiles one at a time, on one thread of its
// own. Compiles on every core at once cost half as much CPU again as
// the same compiles in turn: each thread's malloc heap is new, faulted
// in page by page, and their memory peaks together.
type sassLane struct {
	once sync.Once
	work chan func()
	// the part of the thread's malloc heap made present at its start,
	// for the tests
	heapHead, heapPresent uintptr
}

// run calls f on the lane's thread and waits for it.
func (l *sassLane) run(f func()) {
	l.once.Do(func() {
		l.work = make(chan func())
		go func() {
			runtime.LockOSThread()
			l.heapHead, l.heapPresent = keepMallocHeap()
			defer runtime.UnlockOSThread()
			for f := range l.work {
				f()
			}
		}()
	})
	done := make(chan struct{})
	l.work <- func() {
		defer close(done)
		f()
	}
	<-done
}

// stop ends the lane's thread; no compile may follow.
func (l *sassLane) stop() {
	l.once.Do(func() {})
	if l.work != nil {
		close(l.work)
	}
}

// errNoSass is returned by binaries built without cgo (the appliance
// guest), which never render.
var errNoSass = errors.New("Sass needs islet built with cgo (a C++ compiler)")

// sassRoot is a folder imports are looked up in, under a virtual path
// prefix that names it in source maps and errors.
type sassRoot struct {
	fsys   fs.FS
	dir    string
	prefix string
}

// sassRoots are the load paths: the site's _sass, sass.load_paths,
// then the theme's _sass, as jekyll-sass-converter orders them.
func (s *Site) sassRoots() []sassRoot {
	sassDir := getString(get(s.cfg.raw, "sass"), "sass_dir")
	if sassDir == "" {
		sassDir = "_sass"
	}
	var roots []sassRoot
	for _, p := range stringList(get(get(s.cfg.raw, "sass"), "load_paths")) {
		p = path.Clean(strings.TrimPrefix(p, "/"))
		if fs.ValidPath(p) {
			roots = append(roots, sassRoot{s.src, p, "/" + p})
		}
	}
	roots = append(roots, sassRoot{s.src, path.Clean(sassDir), "/" + path.Clean(sassDir)})
	if s.theme != nil {
		roots = append(roots, sassRoot{s.theme.fsys, "_sass", "/" + s.theme.name + "/_sass"})
	}
	return roots
}

// resolveImport finds an @import as libsass does: next to the
// importing file first, then in each load path; partials (_name) and
// .scss/.sass/.css extensions tried in that order.
func (s *Site) resolveImport(roots []sassRoot, url, prev string) (string, string, bool) {
	if strings.HasSuffix(url, ".css") || strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "//") {
		return "", "", false // left as a CSS @import
	}
	var bases []sassRoot
	// the importing file's folder, when it is one of ours
	for _, r := range roots {
		if rest, ok := strings.CutPrefix(prev, r.prefix+"/"); ok {
			bases = append(bases, sassRoot{r.fsys, path.Join(r.dir, path.Dir(rest)), path.Join(r.prefix, path.Dir(rest))})
			break
		}
	}
	bases = append(bases, roots...)
	dir, name := path.Split(url)
	for _, b := range bases {
		for _, cand := range []string{
			dir + "_" + name + ".scss", dir + name + ".scss", dir + "_" + name + ".sass", dir + name + ".sass",
			dir + name + "/_index.scss", dir + name + "/index.scss", dir + name,
		} {
			p := path.Join(b.dir, cand)
			if !fs.ValidPath(p) {
				continue
			}
			abs := path.Join(b.prefix, cand)
			if data, ok := s.sassFile(b.fsys, p, abs); ok {
				return abs, data, true
			}
		}
	}
	return "", "", false
}

// sassFile reads the file p of fsys, known to the compiles as abs,
// once a render: every stylesheet imports the same partials, and most
// names tried are not there.
func (s *Site) sassFile(fsys fs.FS, p, abs string) (string, bool) {
	type read struct {
		data string
		ok   bool
	}
	if r, ok := s.sassFiles.Load(abs); ok {
		return r.(read).data, r.(read).ok
	}
	data, err := fs.ReadFile(fsys, p)
	s.sassFiles.Store(abs, read{string(data), err == nil})
	return string(data), err == nil
}

// sassOptions are the sass: settings of _config.yml.
type sassOptions struct {
	style     string // nested, expanded, compact, compressed
	sourcemap bool
}

func (s *Site) sassOptions() (sassOptions, error) {
	cfg := get(s.cfg.raw, "sass")
	o := sassOptions{style: strings.TrimPrefix(getString(cfg, "style"), ":"), sourcemap: true}
	if o.style == "" {
		o.style = "compact"
	}
	switch o.style {
	case "nested", "expanded", "compact", "compressed":
	default:
		return o, fmt.Errorf("_config.yml: sass: style %q: want nested, expanded, compact or compressed", o.style)
	}
	switch strings.TrimPrefix(getString(cfg, "sourcemap"), ":") {
	case "", "always":
	case "never":
		o.sourcemap = false
	case "development":
		o.sourcemap = s.env() == "development"
	default:
		return o, fmt.Errorf("_config.yml: sass: sourcemap must be always, never or development")
	}
	return o, nil
}

// sourcesFromRoot rewrites a source map's sources that name imported
// files (found: their virtual paths, "/_sass/theme/_base.scss") as
// paths from the site's root, as Jekyll writes them
// ("_sass/theme/_base.scss"). libsass writes them relative to the
// process's working folder ("../../_sass/…"), so that the map depended
// on where islet ran.
func sourcesFromRoot(sourceMap string, found []string) string {
	start := strings.Index(sourceMap, `"sources": [`)
	if start < 0 || len(found) == 0 {
		return sourceMap
	}
	end := strings.Index(sourceMap[start:], "]")
	if end < 0 {
		return sourceMap
	}
	end += start
	block := sourceMap[start:end]
	var out strings.Builder
	for _, line := range strings.SplitAfter(block, "\n") {
		body := strings.TrimSpace(line)
		body = strings.TrimSuffix(body, ",")
		if len(body) < 2 || body[0] != '"' {
			out.WriteString(line)
			continue
		}
		var src string
		if err := json.Unmarshal([]byte(body), &src); err != nil {
			out.WriteString(line)
			continue
		}
		trimmed := src
		for strings.HasPrefix(trimmed, "../") {
			trimmed = trimmed[3:]
		}
		for _, abs := range found {
			if rel := strings.TrimPrefix(abs, "/"); rel == trimmed && rel != src {
				enc, _ := json.Marshal(rel)
				line = strings.Replace(line, body, string(enc), 1)
				break
			}
		}
		out.WriteString(line)
	}
	return sourceMap[:start] + out.String() + sourceMap[end:]
}
