//go:build !cgo

package site

import "fmt"

func (s *Site) compileSass(d *document, content string) (css, sourceMap string, err error) {
	return "", "", fmt.Errorf("%s: %w", d.rel, errNoSass)
}
