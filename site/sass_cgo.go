//go:build cgo

package site

import (
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/bep/golibsass/libsass"
)

// compileSass compiles a .scss/.sass page with libsass (the library
// Debian's Jekyll uses through sassc) and returns the CSS and, when
// asked for, the source map.
func (s *Site) compileSass(d *document, content string) (css, sourceMap string, err error) {
	return s.compileSassMap(d, content, true)
}

// compileSassMap is compileSass; withMap false makes no source map
// whatever the configuration says (the sassify and scssify filters).
func (s *Site) compileSassMap(d *document, content string, withMap bool) (css, sourceMap string, err error) {
	o, err := s.sassOptions()
	if err != nil {
		return "", "", err
	}
	o.sourcemap = o.sourcemap && withMap
	styles := map[string]libsass.OutputStyle{"nested": libsass.NestedStyle, "expanded": libsass.ExpandedStyle,
		"compact": libsass.CompactStyle, "compressed": libsass.CompressedStyle}
	roots := s.sassRoots()
	self := "/" + d.rel
	base := strings.TrimSuffix(path.Base(d.rel), d.ext)
	// libsass names the importing file by the @import that brought it
	// in, not by where it was found: resolved maps one to the other, so
	// that an import relative to a partial (@import "./variables" in
	// _sass/theme/_base.scss) is looked up beside it first.
	resolved := map[string]string{}
	var found []string
	var mu sync.Mutex
	opt := libsass.Options{
		OutputStyle: styles[o.style],
		Precision:   5,
		SassSyntax:  d.ext == ".sass",
		ImportResolver: func(url, prev string) (string, string, bool) {
			mu.Lock()
			defer mu.Unlock()
			if p, ok := resolved[prev]; ok {
				prev = p
			} else {
				prev = self
			}
			abs, data, ok := s.resolveImport(append([]sassRoot{{s.src, path.Dir(d.rel), "/" + path.Dir(d.rel)}}, roots...), url, prev)
			if ok {
				// libsass names it later by the url as written, or
				// with a leading "./" dropped (support/support)
				resolved[url] = abs
				resolved[path.Clean(url)] = abs
				found = append(found, abs) // the same url may name other files from elsewhere
			}
			return abs, data, ok
		},
	}
	if o.sourcemap {
		opt.SourceMapOptions = libsass.SourceMapOptions{Filename: base + ".css.map", OutputPath: base + ".css", InputPath: path.Base(d.rel), Contents: true}
	}
	newlines, body := leadingNewlines(content)
	key := sassMemoKey{dir: path.Dir(d.rel), ext: d.ext, style: o.style, sourceMap: o.sourcemap, body: body}
	// the memo is read and written on the lane's thread only
	s.sassLane.run(func() {
		if e := s.sassMemo[key]; e != nil {
			var ok bool
			if css, sourceMap, ok = e.derive(base, path.Base(d.rel), newlines); ok {
				s.log.Debug("sass: same input as another stylesheet, its result reused", "file", d.rel, "from", e.input)
				return
			}
		}
		t, e := libsass.New(opt)
		if e != nil {
			err = e
			return
		}
		r, e := t.Execute(content)
		if e != nil {
			err = e
			return
		}
		css, sourceMap = r.CSS, sourcesFromRoot(r.SourceMapContent, found)
		if s.sassMemo == nil {
			s.sassMemo = map[sassMemoKey]*sassMemoEntry{}
		}
		s.sassMemo[key] = &sassMemoEntry{css: css, sourceMap: sourceMap, base: base, input: path.Base(d.rel), newlines: newlines}
	})
	if err != nil {
		return "", "", fmt.Errorf("%s: sass: %w", d.rel, err)
	}
	return css, sourceMap, nil
}
