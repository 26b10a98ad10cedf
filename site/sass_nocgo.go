//go:build !cgo

package site

import "fmt"

func (s *Site) compileSass(d *document, content string) (css, sourceMap string, err error) {
	return "", "", fmt.Errorf("%s: %w", d.rel, errNoSass)
}

func (s *Site) compileSassMap(d *document, content string, _ bool) (css, sourceMap string, err error) {
	return s.compileSass(d, content)
}
