//go:build cgo

package site

import (
	"fmt"
	"path"
	"strings"

	"github.com/bep/golibsass/libsass"
)

// compileSass compiles a .scss/.sass page with libsass (the library
// Debian's Jekyll uses through sassc) and returns the CSS and, when
// asked for, the source map.
func (s *Site) compileSass(d *document, content string) (css, sourceMap string, err error) {
	o, err := s.sassOptions()
	if err != nil {
		return "", "", err
	}
	styles := map[string]libsass.OutputStyle{"nested": libsass.NestedStyle, "expanded": libsass.ExpandedStyle,
		"compact": libsass.CompactStyle, "compressed": libsass.CompressedStyle}
	roots := s.sassRoots()
	self := "/" + d.rel
	base := strings.TrimSuffix(path.Base(d.rel), d.ext)
	opt := libsass.Options{
		OutputStyle: styles[o.style],
		Precision:   5,
		SassSyntax:  d.ext == ".sass",
		ImportResolver: func(url, prev string) (string, string, bool) {
			if prev == "stdin" || prev == "" {
				prev = self
			}
			return s.resolveImport(append([]sassRoot{{s.src, path.Dir(d.rel), "/" + path.Dir(d.rel)}}, roots...), url, prev)
		},
	}
	if o.sourcemap {
		opt.SourceMapOptions = libsass.SourceMapOptions{Filename: base + ".css.map", OutputPath: base + ".css", InputPath: path.Base(d.rel), Contents: true}
	}
	t, err := libsass.New(opt)
	if err != nil {
		return "", "", fmt.Errorf("%s: sass: %w", d.rel, err)
	}
	r, err := t.Execute(content)
	if err != nil {
		return "", "", fmt.Errorf("%s: sass: %w", d.rel, err)
	}
	return r.CSS, r.SourceMapContent, nil
}
