package site

import (
	"regexp"
	"strings"

	"islet.dev/islet/site/markup"
)

// unsupportedKramdown are the kramdown constructs islet's Markdown does
// not implement, each with what it writes instead: found in a
// document's source, they are warnings (file:line), never a silent
// difference.
var unsupportedKramdown = []struct {
	re  *regexp.Regexp
	msg string
}{
	{regexp.MustCompile(`\{::(options|comment|nomarkdown)\b`), "kramdown's {::options}, {::comment} and {::nomarkdown} extensions are not implemented: written as text"},
	{regexp.MustCompile(`^\s*\{:[A-Za-z][\w-]*:\s`), "kramdown's attribute list definitions ({:name: …}) are not implemented: references to them add nothing"},
}

// checkKramdown warns about each unsupported kramdown construct in a
// Markdown document's source, outside fenced code, once per construct
// and line.
func (s *Site) checkKramdown(d *document) {
	var fences markup.Fences
	for i, line := range strings.Split(d.body, "\n") {
		if fences.Code(line) {
			continue
		}
		if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
			continue // indented code (or a continuation; the common case is code)
		}
		for _, u := range unsupportedKramdown {
			if u.re.MatchString(line) {
				s.warnf(d.rel, d.bodyLine+i, "%s", u.msg)
			}
		}
	}
}
