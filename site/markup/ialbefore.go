package markup

import (
	"bytes"
	"regexp"
	"strings"
	"sync"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
)

// blockIALLine is a block IAL alone on its line ({: .note #id}); not
// {:toc}, not an attribute list definition ({:name: …}).
var blockIALLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^ {0,3}\{:(?:\s*[.#][^}]*|\s+[^}:]*|\s*[\w-]+=[^}]*)\}\s*$`)
})

// otherBlock is a line that opens a block other than a paragraph.
var otherBlock = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?: {4}|\t| {0,3}(?:#|>|[*+-][ \t]|\d+\.[ \t]|` + "```" + `|~~~|<|\||\{:))`)
})

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
		if prevBlank && blockIALLine().MatchString(body) {
			start := i + 1
			for start < len(lines) && strings.TrimSpace(lines[start]) == "" {
				start++
			}
			end := -1
			switch {
			case start >= len(lines):
			case atxHeading().MatchString(trimmed(start)):
				end = start
			case !otherBlock().MatchString(trimmed(start)):
				end = start
				for end+1 < len(lines) && strings.TrimSpace(lines[end+1]) != "" {
					end++
				}
				if end > start && setextUnderline().MatchString(trimmed(end)) {
					end = -1 // a setext heading: left to islet's reading
				}
			}
			if end < 0 && start < len(lines) && !blockIALLine().MatchString(trimmed(start)) {
				// a quote, list, table, fence, rule or HTML: the IAL
				// becomes a marker (an HTML block of one line, which
				// ends there) that nextIALs gives to the block after it
				if m := ialLine().FindStringSubmatch(body); m != nil && !strings.Contains(m[1], "--") && !strings.Contains(m[1], ">") {
					indent := body[:len(body)-len(strings.TrimLeft(body, " "))]
					lines[i] = indent + ialNextOpen + m[1] + ialNextClose + lines[i][len(body):]
					prevBlank = false
					continue
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

// splitAtIALs ends a paragraph at a block IAL line inside it, as
// kramdown does: "a\n{: .b}\nc" is two paragraphs, the first with
// class b. A blank line goes after such an IAL line (at the start of a
// line, outside code) when a paragraph line follows it.
func splitAtIALs(src string) string {
	if !strings.Contains(src, "\n{:") {
		return src
	}
	lines := strings.SplitAfter(src, "\n")
	var b strings.Builder
	var fences Fences
	prevText := false
	for i, ln := range lines {
		body := strings.TrimRight(ln, "\r\n")
		b.WriteString(ln)
		if fences.Code(body) {
			prevText = false
			continue
		}
		if prevText && strings.HasPrefix(body, "{:") && blockIALLine().MatchString(body) && i+1 < len(lines) {
			next := strings.TrimRight(lines[i+1], "\r\n")
			if strings.TrimSpace(next) != "" && !otherBlock().MatchString(next) && !setextUnderline().MatchString(next) {
				b.WriteString("\n")
			}
		}
		prevText = strings.TrimSpace(body) != ""
	}
	return b.String()
}

// The marker an IAL before a block other than a paragraph or heading
// becomes.
const (
	ialNextOpen  = "<!--islet-ial-next "
	ialNextClose = "-->"
)

// nextIALs gives each IAL marker's attributes to the block after it
// and removes the marker; so too for the paragraphs that are only an
// IAL which the paragraph transformer found before a block.
func nextIALs(doc *ast.Document, src []byte, pc parser.Context) {
	if next, _ := pc.Get(ialNextKey).(map[ast.Node]string); next != nil {
		for n, attrs := range next {
			if n.Parent() == nil {
				continue
			}
			if s := n.NextSibling(); s != nil {
				setIAL(s, attrs)
				if n.HasBlankPreviousLines() {
					s.SetBlankPreviousLines(true) // the blank line was before the IAL
				}
			}
			n.Parent().RemoveChild(n.Parent(), n)
		}
	}
	var markers []ast.Node
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && n.Kind() == ast.KindHTMLBlock && n.Lines().Len() == 1 {
			if seg := n.Lines().At(0); bytes.HasPrefix(seg.Value(src), []byte(ialNextOpen)) {
				markers = append(markers, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, m := range markers {
		seg := m.Lines().At(0)
		line := strings.TrimSpace(string(seg.Value(src)))
		attrs := strings.TrimSuffix(strings.TrimPrefix(line, ialNextOpen), ialNextClose)
		if next := m.NextSibling(); next != nil {
			setIAL(next, attrs)
			if m.HasBlankPreviousLines() {
				next.SetBlankPreviousLines(true) // the blank line was before the IAL
			}
		}
		m.Parent().RemoveChild(m.Parent(), m)
	}
}

var (
	setextUnderline = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^ {0,3}(=+|-+)\s*$`)
	})
	atxHeading = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^ {0,3}#{1,6}(\s|$)`)
	})
)
