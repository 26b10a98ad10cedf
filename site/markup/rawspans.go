package markup

import (
	"bytes"
	"regexp"
	"sync"

	"github.com/yuin/goldmark/ast"
)

// rawSpanOpen is the opening tag of an HTML element whose content
// kramdown does not parse as Markdown (its raw content model): code,
// kbd, samp, var, script, style, math, textarea, option.
var rawSpanOpen = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^<(code|kbd|samp|var|script|style|math|textarea|option)(?:\s[^>]*)?>$`)
})

// rawSpans gives the content of such elements, written inline in a
// paragraph, back as it was written: no emphasis, no typographic
// dashes or quotes (<code>a -- b</code> stays a -- b), as kramdown
// leaves it; its <, > and bare & escaped but for script, style and
// math.
func rawSpans(doc ast.Node, src []byte) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || n.Type() != ast.TypeBlock {
			return ast.WalkContinue, nil
		}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			open, ok := c.(*ast.RawHTML)
			if !ok || open.Segments.Len() != 1 {
				continue
			}
			seg := open.Segments.At(0)
			m := rawSpanOpen().FindSubmatch(seg.Value(src))
			if m == nil {
				continue
			}
			closeTag := append([]byte("</"), bytes.ToLower(m[1])...)
			var end *ast.RawHTML
			for x := c.NextSibling(); x != nil; x = x.NextSibling() {
				if r, ok := x.(*ast.RawHTML); ok && r.Segments.Len() == 1 && rawHTMLStarts(r, src, closeTag) {
					end = r
					break
				}
			}
			if end == nil || end == c.NextSibling() {
				continue
			}
			from, to := seg.Stop, end.Segments.At(0).Start
			if from > to || to > len(src) {
				continue
			}
			for x := c.NextSibling(); x != end; {
				next := x.NextSibling()
				n.RemoveChild(n, x)
				x = next
			}
			content := string(src[from:to])
			switch string(bytes.ToLower(m[1])) {
			case "script", "style", "math":
			default:
				content = escapeHTMLText(content) // text, as kramdown writes it
			}
			raw := ast.NewString([]byte(content))
			raw.SetRaw(true)
			raw.SetCode(true)
			n.InsertAfter(n, c, raw)
			c = end
		}
		return ast.WalkContinue, nil
	})
}

func rawHTMLStarts(r *ast.RawHTML, src, prefix []byte) bool {
	seg := r.Segments.At(0)
	return bytes.HasPrefix(bytes.ToLower(seg.Value(src)), prefix)
}
