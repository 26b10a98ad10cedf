package markup

import (
	"regexp"
	"strings"
)

// blockIALLine is a block IAL alone on its line ({: .note #id}); not
// {:toc}, not an attribute list definition ({:name: …}).
var blockIALLine = regexp.MustCompile(`^ {0,3}\{:(?:\s*[.#][^}]*|\s+[^}:]*)\}\s*$`)

// otherBlock is a line that opens a block other than a paragraph.
var otherBlock = regexp.MustCompile(`^(?: {4}|\t| {0,3}(?:#|>|[*+-][ \t]|\d+\.[ \t]|` + "```" + `|~~~|<|\||\{:))`)

// moveLeadingIALs applies kramdown's rule for a block IAL written on
// a line of its own after a blank line (or at the start): it belongs to
// the next block, blank lines between or not. islet's Markdown takes
// IALs after their block, so when that next block is a paragraph or an
// ATX heading the line is moved to its end (other blocks keep islet's
// reading); the number of lines stays the same.
func moveLeadingIALs(src string) string {
	if !strings.Contains(src, "{:") {
		return src
	}
	lines := strings.SplitAfter(src, "\n")
	trimmed := func(i int) string { return strings.TrimRight(lines[i], "\r\n") }
	prevBlank := true
	var fences Fences
	for i := 0; i < len(lines); i++ {
		body := trimmed(i)
		if fences.Code(body) {
			prevBlank = false
			continue
		}
		if prevBlank && blockIALLine.MatchString(body) {
			start := i + 1
			for start < len(lines) && strings.TrimSpace(lines[start]) == "" {
				start++
			}
			end := -1
			switch {
			case start >= len(lines):
			case atxHeading.MatchString(trimmed(start)):
				end = start
			case !otherBlock.MatchString(trimmed(start)):
				end = start
				for end+1 < len(lines) && strings.TrimSpace(lines[end+1]) != "" {
					end++
				}
				if end > start && setextUnderline.MatchString(trimmed(end)) {
					end = -1 // a setext heading: left to islet's reading
				}
			}
			if end >= 0 {
				ial := lines[i]
				if !strings.HasSuffix(lines[end], "\n") {
					lines[end] += "\n"
					ial = strings.TrimRight(ial, "\r\n")
				}
				copy(lines[i:end], lines[i+1:end+1])
				lines[end] = ial
				i = end
				prevBlank = false
				continue
			}
		}
		prevBlank = strings.TrimSpace(body) == ""
	}
	return strings.Join(lines, "")
}

var (
	setextUnderline = regexp.MustCompile(`^ {0,3}(=+|-+)\s*$`)
	atxHeading      = regexp.MustCompile(`^ {0,3}#{1,6}(\s|$)`)
)
