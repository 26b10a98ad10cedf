package markup

import (
	"html"
	"regexp"
	"strings"
	"sync"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/util"
)

// kramdown's table of contents: the first list marked {:toc} is
// replaced by a list of links to the document's headings (ul or ol as
// the list was, id markdown-toc unless the IAL gave one), nested by
// level; headings with class no_toc are left out.

// tocAttr marks the list an IAL named toc was given to.
const tocAttr = "islet-toc"

// tocPlaceholder stands where the table of contents goes until the
// headings are rendered.
const tocPlaceholder = "<!--islet-toc-->"

var (
	kindTOC      = ast.NewNodeKind("TOC")
	tocKey       = parser.NewContextKey()
	tocLevelsKey = parser.NewContextKey() // map[int]bool from {::options toc_levels}
)

// tocNode replaces the marked list in the tree.
type tocNode struct {
	ast.BaseBlock
	ordered bool
	attrs   []ast.Attribute
}

func (n *tocNode) Kind() ast.NodeKind { return kindTOC }

func (n *tocNode) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

// tocHeading is a heading that goes in the table of contents.
type tocHeading struct {
	level int
	id    string
}

// tocRequest is what the transformer found: the list's kind and
// attributes, and the headings in document order.
type tocRequest struct {
	node     *tocNode
	headings []tocHeading
}

// findTOC replaces the first list marked toc with a tocNode and notes
// the headings to list.
func findTOC(doc *ast.Document, pc parser.Context) {
	levels, _ := pc.Get(tocLevelsKey).(map[int]bool)
	var list *ast.List
	var headings []tocHeading
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := n.(type) {
		case *ast.List:
			if _, ok := x.AttributeString(tocAttr); ok && list == nil {
				list = x
				return ast.WalkSkipChildren, nil
			}
		case *ast.Heading:
			id, _ := x.AttributeString("id")
			class, _ := x.AttributeString("class")
			cls, _ := class.([]byte)
			if b, ok := id.([]byte); ok && len(b) > 0 && !noTOC().Match(cls) && (levels == nil || levels[x.Level]) {
				headings = append(headings, tocHeading{x.Level, string(b)})
			}
		}
		return ast.WalkContinue, nil
	})
	if list == nil {
		return
	}
	t := &tocNode{ordered: list.IsOrdered()}
	for _, a := range list.Attributes() {
		if string(a.Name) != tocAttr {
			t.attrs = append(t.attrs, a)
		}
	}
	list.Parent().ReplaceChild(list.Parent(), list, t)
	pc.Set(tocKey, &tocRequest{node: t, headings: headings})
}

var noTOC = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\bno_toc\b`)
})

func (r *kramdownRenderer) toc(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		w.WriteString(tocPlaceholder + "\n")
	}
	return ast.WalkSkipChildren, nil
}

// headingHTML matches a rendered heading with its id.
var headingHTML = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`<h([1-6])\b[^>]*\sid="([^"]*)"[^>]*>(.*?)</h[1-6]>`)
})

// writeTOC puts the table of contents in place of its placeholder,
// taking each heading's content from the rendered HTML: links
// unwrapped, footnote references left out, as kramdown does.
func writeTOC(out string, req *tocRequest) string {
	at := strings.Index(out, tocPlaceholder)
	if at < 0 {
		return out
	}
	rendered := map[string]string{}
	for _, m := range headingHTML().FindAllStringSubmatch(out, -1) {
		id := html.UnescapeString(m[2])
		if _, ok := rendered[id]; !ok {
			rendered[id] = tocEntry(m[3])
		}
	}
	tag := "ul"
	if req.node.ordered {
		tag = "ol"
	}
	listID := "markdown-toc"
	var attrs strings.Builder
	hasID := false
	for _, a := range req.node.attrs {
		v, _ := a.Value.([]byte)
		if string(a.Name) == "id" {
			hasID = true
			listID = string(v)
		}
		attrs.WriteString(" " + string(a.Name) + `="` + escapeText(string(v)) + `"`)
	}
	if !hasID {
		attrs.WriteString(` id="markdown-toc"`)
	}
	if len(req.headings) == 0 {
		return out[:at] + out[at+len(tocPlaceholder)+1:]
	}
	var b strings.Builder
	b.WriteString("<" + tag + attrs.String() + ">\n")
	var open []int // levels of the open items
	for i, h := range req.headings {
		for len(open) > 0 && open[len(open)-1] >= h.level {
			open = open[:len(open)-1]
			b.WriteString("</" + tag + ">\n</li>\n") // the item's sub-list and the item
		}
		id := escapeText(h.id)
		b.WriteString(`<li><a href="#` + id + `" id="` + escapeText(listID) + "-" + id + `">` + rendered[h.id] + "</a>")
		if i+1 < len(req.headings) && req.headings[i+1].level > h.level {
			b.WriteString("\n<" + tag + ">\n")
			open = append(open, h.level)
			continue
		}
		b.WriteString("</li>\n")
	}
	for len(open) > 0 {
		open = open[:len(open)-1]
		b.WriteString("</" + tag + ">\n</li>\n")
	}
	b.WriteString("</" + tag + ">\n")
	return out[:at] + b.String() + out[at+len(tocPlaceholder)+1:]
}

var (
	linkTag = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`</?a\b[^>]*>`)
	})
	footnoteRef = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<sup[^>]*role="doc-noteref"[^>]*>.*?</sup>`)
	})
)

// tocEntry is a heading's content as a table-of-contents entry.
func tocEntry(inner string) string {
	return linkTag().ReplaceAllString(footnoteRef().ReplaceAllString(inner, ""), "")
}
