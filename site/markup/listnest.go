package markup

import (
	"regexp"
	"strings"
	"sync"

	"github.com/yuin/goldmark/ast"
)

// listItemStart is a list item's first line as kramdown reads one: its
// indent (the caller decides what it may be), a bullet (* + -) or a
// number and a dot, then a space or a tab; thematicBreak is a rule
// (* * *), which is not an item.
var (
	listItemStart = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^( *)([*+-]|\d+\.)([ \t]+)\S`)
	})
	thematicBreak = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	})
)

// nestOtherLists applies kramdown's rule for a list of the other kind
// right under a list item: a bullet line after an ordered item (or a
// numbered line after a bullet item), with no blank line between,
// belongs to that item however little it is indented (kramdown takes
// it as a lazy line of the item, and parses the item's text again, where
// it starts a nested list). CommonMark wants it indented to the item's
// text, or it ends the list. Such lines, and the lines that follow them
// up to a blank line or the next item of the outer list, are indented
// to the item's text here, so that goldmark nests them as kramdown
// does. Fenced code is left alone; lines indented with tabs too.
func nestOtherLists(src string) string {
	if !strings.Contains(src, "\n") {
		return src
	}
	lines := strings.SplitAfter(src, "\n")
	var out strings.Builder
	out.Grow(len(src) + 64)
	type item struct {
		ordered bool
		col     int // of the item's text
		indent  int // of its marker
	}
	var stack []item // the open list items, outermost first, while no blank line comes
	// where the items of the list at level k may start (up to 3 more):
	// the outermost list's own indent (it may sit in an indented
	// block, such as a definition's), a nested one's parent's text
	base := func(k int) int {
		if k == 0 {
			return min(stack[0].indent, 3)
		}
		return stack[k-1].col
	}
	// a region of lines moved right by shift: from a nested list of the
	// other kind to a blank line or the next item of a list around it
	shift, regionLevel := 0, 0
	var fences Fences
	for _, ln := range lines {
		body := strings.TrimRight(ln, "\r\n")
		if fences.Code(body) {
			stack, shift = nil, 0
			out.WriteString(ln)
			continue
		}
		if strings.TrimSpace(body) == "" || strings.Contains(body[:len(body)-len(strings.TrimLeft(body, " \t"))], "\t") {
			stack, shift = nil, 0 // a blank line ends kramdown's lazy lines
			out.WriteString(ln)
			continue
		}
		m := listItemStart().FindStringSubmatch(body)
		if m != nil && thematicBreak().MatchString(body) {
			m = nil
		}
		indent := len(body) - len(strings.TrimLeft(body, " "))
		if shift > 0 {
			// An item of a list around the region ends it.
			ends := false
			if m != nil {
				ordered := m[2][0] >= '0' && m[2][0] <= '9'
				for k := 0; k <= regionLevel && k < len(stack); k++ {
					if ordered == stack[k].ordered && indent-base(k) <= 3 && indent < stack[k].col {
						ends = true
					}
				}
			}
			if ends {
				shift = 0
			} else {
				indent += shift
				ln = strings.Repeat(" ", shift) + ln
			}
		}
		if m == nil {
			out.WriteString(ln)
			continue
		}
		ordered := m[2][0] >= '0' && m[2][0] <= '9'
		marker := len(m[2]) + len(m[3])
		placed := false
		for k := 0; k < len(stack) && !placed; k++ {
			x := stack[k]
			switch {
			case ordered == x.ordered && indent-base(k) <= 3 && indent < x.col:
				// another item of that list
				stack = append(stack[:k], item{ordered, indent + marker, indent})
				placed = true
			case indent >= x.col:
				// inside that item: look further in
			default:
				// left of the item's text and not an item of its
				// list: a lazy line of the item, where it starts a
				// list of its own, nested
				d := x.col - indent
				if shift == 0 {
					regionLevel = k
				}
				shift += d
				ln = strings.Repeat(" ", d) + ln
				stack = append(stack[:k+1], item{ordered, x.col + marker, x.col})
				placed = true
			}
		}
		if !placed {
			stack = append(stack, item{ordered, indent + marker, indent})
		}
		out.WriteString(ln)
	}
	return out.String()
}

// fencesInItems applies kramdown's reading of a fence written right
// under a list item's text, with no blank line between and less
// indented than the text: the code is a lazy part of that item (a
// numbered how-to with a command under each step), where CommonMark
// ends the list. Such a fence, through its closing line, is indented to
// the item's text here.
func fencesInItems(src string) string {
	if !strings.Contains(src, "```") && !strings.Contains(src, "~~~") {
		return src
	}
	lines := strings.SplitAfter(src, "\n")
	col := -1 // the text column of the item the last lines belong to
	shift := 0
	var fences Fences
	changed := false
	for i, ln := range lines {
		body := strings.TrimRight(ln, "\r\n")
		open := fences.open != ""
		if fences.Code(body) {
			if !open && col >= 0 {
				indent := len(body) - len(strings.TrimLeft(body, " "))
				if indent < col {
					shift = col - indent
				}
			}
			if shift > 0 {
				lines[i] = strings.Repeat(" ", shift) + ln
				changed = true
			}
			if open && fences.open == "" { // closed
				shift = 0
			}
			continue
		}
		switch {
		case strings.TrimSpace(body) == "":
			col = -1
		default:
			if m := listItemStart().FindStringSubmatch(body); m != nil && !thematicBreak().MatchString(body) {
				col = len(m[1]) + len(m[2]) + len(m[3])
			}
		}
	}
	if !changed {
		return src
	}
	return strings.Join(lines, "")
}

// itemParagraphs applies kramdown's rule for the <p> around a list
// item's text, item by item where CommonMark decides for the whole list
// (tight or loose): an item's first paragraph is written bare unless a
// blank line follows it inside the item (or before the next item); the
// last item's only when some item before it is bare too, or it is the
// only one. Later paragraphs always get <p>. So a list whose items are
// separated by blank lines but hold a nested list right under their
// text ("- a\n  - sub\n\n- b") is written without <p>, as kramdown does.
func itemParagraphs(doc *ast.Document) {
	var lists []*ast.List
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.List); ok && entering {
			lists = append(lists, l)
		}
		return ast.WalkContinue, nil
	})
	for _, l := range lists {
		var items []ast.Node
		for c := l.FirstChild(); c != nil; c = c.NextSibling() {
			items = append(items, c)
		}
		bare := make([]bool, len(items))
		for i, it := range items {
			first := it.FirstChild()
			if !isParagraphLike(first) {
				continue
			}
			blankAfter := false
			if next := first.NextSibling(); next != nil {
				blankAfter = next.HasBlankPreviousLines()
			} else if i+1 < len(items) {
				blankAfter = items[i+1].HasBlankPreviousLines()
			}
			bare[i] = !blankAfter
			if bare[i] && i == len(items)-1 && len(items) > 1 {
				some := false
				for j := 0; j < i; j++ {
					if !isParagraphLike(items[j].FirstChild()) || bare[j] {
						some = true
					}
				}
				bare[i] = some
			}
		}
		for i, it := range items {
			for c, k := it.FirstChild(), 0; c != nil; c, k = c.NextSibling(), k+1 {
				if !isParagraphLike(c) {
					continue
				}
				c = setParagraph(it, c, !(k == 0 && bare[i]))
			}
		}
	}
}

func isParagraphLike(n ast.Node) bool {
	return n != nil && (n.Kind() == ast.KindParagraph || n.Kind() == ast.KindTextBlock)
}

// setParagraph makes n a Paragraph (with <p>) or a TextBlock (bare),
// returning the node now in its place.
func setParagraph(parent, n ast.Node, para bool) ast.Node {
	if (n.Kind() == ast.KindParagraph) == para {
		return n
	}
	var repl ast.Node
	if para {
		repl = ast.NewParagraph()
	} else {
		repl = ast.NewTextBlock()
	}
	repl.SetLines(n.Lines())
	repl.SetBlankPreviousLines(n.HasBlankPreviousLines())
	for _, a := range n.Attributes() {
		repl.SetAttribute(a.Name, a.Value)
	}
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		repl.AppendChild(repl, c)
		c = next
	}
	parent.ReplaceChild(parent, n, repl)
	return repl
}
