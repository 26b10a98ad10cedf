package site

import (
	"regexp"
	"strings"
	"sync"

	"islet.dev/islet/site/markup"
)

// unsupportedKramdown are the kramdown constructs islet's Markdown does
// not implement, each with what it writes instead: found in a
// document's source, they are warnings (file:line), never a silent
// difference.
var unsupportedKramdown = []struct {
	re  *regexp.Regexp
	msg string
}{}

var (
	kramdownExtension = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\{::([A-Za-z_]+)([^}]*)\}`)
	})
	optionKey = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`([A-Za-z_]+)=`)
	})
)

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
		for _, m := range kramdownExtension().FindAllStringSubmatch(line, -1) {
			switch m[1] {
			case "comment", "nomarkdown":
			case "options":
				for _, kv := range optionKey().FindAllStringSubmatch(m[2], -1) {
					if kv[1] != "toc_levels" {
						s.warnf(d.rel, d.bodyLine+i, "kramdown's {::options %s=…}: islet reads only toc_levels there; the option is left as Jekyll's configuration sets it", kv[1])
					}
				}
			default:
				s.warnf(d.rel, d.bodyLine+i, "kramdown's {::%s} extension is not implemented: written as text", m[1])
			}
		}
	}
}

// What kramdown would have consumed but islet's Markdown left in its
// output: a markdown attribute on an element nested where islet does
// not read it, an attribute list it found no element for.
var (
	leftMarkdownAttr = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<[A-Za-z][^<>]*\smarkdown=["']?(1|block|span|0)\b`)
	})
	leftIAL = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\{:[ \t]*[.#][^{}<>\n]*\}`)
	})
	codeOrPre = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)<(pre|code)\b.*?</(pre|code)>`)
	})
)

// checkKramdownOutput warns about those in a Markdown document's
// output, at the source line that holds them when it can tell.
func (s *Site) checkKramdownOutput(d *document, html string) {
	if !strings.Contains(html, "markdown=") && !strings.Contains(html, "{:") {
		return
	}
	text := codeOrPre().ReplaceAllString(html, "")
	for _, c := range []struct {
		re  *regexp.Regexp
		msg string
	}{
		{leftMarkdownAttr(), "an element's markdown attribute was not read (it is nested where islet does not look for it): its content is written as it is, where kramdown parses it"},
		{leftIAL(), "an attribute list was written as text: islet found no element for it, where kramdown gives it to the one before or after"},
	} {
		seen := map[string]bool{}
		for _, m := range c.re.FindAllString(text, -1) {
			if seen[m] {
				continue
			}
			seen[m] = true
			// the line: where the source holds what was left, when once
			line := 0
			needles := []string{m}
			if i := strings.Index(m, "markdown="); i > 0 {
				needles = append(needles, m[i:])
			}
			for _, needle := range needles {
				if n := strings.Count(d.body, needle); n == 1 {
					line = d.bodyLine + strings.Count(d.body[:strings.Index(d.body, needle)], "\n")
					break
				}
			}
			s.warnf(d.rel, line, "%s", c.msg)
		}
	}
}
