package markup

import (
	"regexp"
	"strings"
)

// listItemStart is a list item's first line as kramdown reads one: its
// indent (the caller decides what it may be), a bullet (* + -) or a
// number and a dot, then a space or a tab; thematicBreak is a rule
// (* * *), which is not an item.
var (
	listItemStart = regexp.MustCompile(`^( *)([*+-]|\d+\.)([ \t]+)\S`)
	thematicBreak = regexp.MustCompile(`^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
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
		m := listItemStart.FindStringSubmatch(body)
		if m != nil && thematicBreak.MatchString(body) {
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
