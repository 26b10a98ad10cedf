package markup

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// The kramdown syntax that GFM does not have: abbreviations, block
// inline attribute lists ({: .class #id}) and markdown="1" inside HTML
// blocks. Abbreviations and markdown="1" are handled on the source
// before goldmark parses it; attribute lists on the parsed tree.

var (
	abbrDef = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^ {0,3}\*\[([^\]]+)\]:[ \t]*(.*?)[ \t]*$`)
	})
	fenceLine = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("^ {0,3}(```+|~~~+)")
	})
	markdownAttr = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\s*<([A-Za-z][A-Za-z0-9]*)\b[^>]*?)\s+markdown=("1"|'1'|"block"|'block')([^>]*>)(.*)$`)
	})
	ialLine = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[ \t]*\{:((?:[^}"']|"[^"]*"|'[^']*')*)\}[ \t]*$`)
	})
	ialItem = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`([.#])([\w-]+)|([\w-]+)=(?:"([^"]*)"|'([^']*)'|(\S+))|([\w-]+)`)
	})
)

// abbreviations maps each abbreviation to its title.
type abbreviations struct {
	names  []string
	titles map[string]string
}

var abbrKey = parser.NewContextKey()

// blockTags are the HTML elements kramdown reads as one block up to
// their end tag, blank lines included.
var blockTags = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "details": true, "div": true,
	"dl": true, "fieldset": true, "figure": true, "footer": true, "form": true, "header": true,
	"nav": true, "ol": true, "pre": true, "section": true, "table": true, "ul": true, "iframe": true,
	"video": true, "audio": true, "canvas": true, "object": true, "svg": true, "math": true,
}

// tagPatterns match the start and end tags of each of blockTags, each
// pair compiled the first time a block of its tag is read: most pages
// have none, and every start of islet paid for all fifty.
var tagPatterns = func() map[string]func() [2]*regexp.Regexp {
	m := map[string]func() [2]*regexp.Regexp{}
	for tag := range blockTags {
		m[tag] = sync.OnceValue(func() [2]*regexp.Regexp {
			return [2]*regexp.Regexp{regexp.MustCompile(`(?i)<` + tag + `[\s>]`), regexp.MustCompile(`(?i)</` + tag + `\s*>`)}
		})
	}
	return m
}()

var htmlBlockStart = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^ {0,3}<([A-Za-z][A-Za-z0-9]*)[\s>]`)
})

// preprocess removes abbreviation definitions (returned), opens HTML
// blocks marked markdown="1" so that their content is parsed, and
// keeps other HTML blocks whole across blank lines (as placeholders
// put back by restoreHTML), as kramdown reads them.
func preprocess(src string) (string, *abbreviations, []string) {
	if !strings.Contains(src, "*[") && !strings.Contains(src, "markdown=") && !strings.Contains(src, "<") {
		return src, nil, nil
	}
	var raw []string
	lines := strings.SplitAfter(src, "\n")
	var out strings.Builder
	var ab *abbreviations
	var fences Fences
	for i := 0; i < len(lines); i++ {
		ln := lines[i]
		body := strings.TrimRight(ln, "\r\n")
		if fences.Code(body) {
			out.WriteString(ln)
			continue
		}
		if m := abbrDef().FindStringSubmatch(body); m != nil {
			if ab == nil {
				ab = &abbreviations{titles: map[string]string{}}
			}
			if _, ok := ab.titles[m[1]]; !ok {
				ab.names = append(ab.names, m[1])
			}
			ab.titles[m[1]] = m[2]
			continue
		}
		if m := htmlBlockStart().FindStringSubmatch(body); m != nil && blockTags[strings.ToLower(m[1])] && !markdownAttr().MatchString(body) {
			if end, ok := htmlBlockEnd(lines, i, strings.ToLower(m[1])); ok && end > i {
				block := strings.Join(lines[i:end+1], "")
				if strings.Contains(block, "\n\n") || strings.Contains(block, "\n \n") || blankInside(lines[i:end+1]) {
					if i > 0 && strings.TrimSpace(lines[i-1]) != "" {
						out.WriteString("\n") // the element ends the paragraph before it; its placeholder would not
					}
					out.WriteString(fmt.Sprintf("<!--islet-html-%d-->\n", len(raw)))
					raw = append(raw, strings.TrimRight(block, "\n"))
					i = end
					continue
				}
				if endsWithCloseTag(lines[end]) && end+1 < len(lines) && strings.TrimSpace(lines[end+1]) != "" {
					// kramdown's HTML block ends at its close tag; a
					// CommonMark one only at a blank line
					out.WriteString(block + "\n")
					i = end
					continue
				}
			}
		}
		if m := markdownAttr().FindStringSubmatch(body); m != nil {
			tag := m[2]
			out.WriteString(m[1] + m[4] + "\n\n")
			rest := m[5]
			// the content up to the matching close tag at a line start
			depth := 1
			var inner strings.Builder
			if rest != "" {
				inner.WriteString(rest + "\n")
			}
			j := i + 1
			for ; j < len(lines); j++ {
				t := strings.TrimSpace(lines[j])
				if strings.HasPrefix(t, "<"+tag) {
					depth++
				}
				if strings.HasPrefix(t, "</"+tag+">") {
					depth--
					if depth == 0 {
						break
					}
				}
				inner.WriteString(lines[j])
			}
			out.WriteString(inner.String())
			if j < len(lines) {
				out.WriteString("\n" + lines[j])
				if endsWithCloseTag(lines[j]) && j+1 < len(lines) && strings.TrimSpace(lines[j+1]) != "" {
					out.WriteString("\n") // the block ends at its close tag
				}
			}
			i = j
			continue
		}
		out.WriteString(ln)
	}
	return out.String(), ab, raw
}

// htmlBlockEnd finds the line closing the element opened on line i,
// counting nested elements of the same name.
func htmlBlockEnd(lines []string, i int, tag string) (int, bool) {
	pair := tagPatterns[tag]()
	open, closing := pair[0], pair[1]
	depth := 0
	for j := i; j < len(lines); j++ {
		depth += len(open.FindAllStringIndex(lines[j], -1))
		depth -= len(closing.FindAllStringIndex(lines[j], -1))
		if depth <= 0 {
			return j, true
		}
	}
	return 0, false
}

// endsWithCloseTag says whether a line ends with an HTML close tag.
func endsWithCloseTag(line string) bool {
	t := strings.TrimRight(line, " \t\r\n")
	i := strings.LastIndex(t, "</")
	return i >= 0 && strings.HasSuffix(t, ">") && !strings.ContainsAny(t[i+2:len(t)-1], "<> ")
}

func blankInside(lines []string) bool {
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			return true
		}
	}
	return false
}

var rawPlaceholder = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`<!--islet-html-(\d+)-->`)
})

// restoreHTML puts the HTML blocks preprocess set aside back.
func restoreHTML(html string, raw []string) string {
	if len(raw) == 0 {
		return html
	}
	return rawPlaceholder().ReplaceAllStringFunc(html, func(m string) string {
		var n int
		fmt.Sscanf(m, "<!--islet-html-%d-->", &n)
		if n < len(raw) {
			return kramdownTags(raw[n])
		}
		return m
	})
}

// ialTransformer takes a block attribute list off the end of a
// paragraph before its inlines are parsed: a paragraph that is only an
// IAL gives it to the block before it and disappears; otherwise the
// attributes wait in the parse context for applyIALs.
type ialTransformer struct{}

var (
	ialKey     = parser.NewContextKey()
	ialNextKey = parser.NewContextKey()
)

type pendingIAL struct {
	attrs string
	lazy  bool // written at a line start after a list or quote
}

func (ialTransformer) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() == 0 {
		return
	}
	src := reader.Source()
	if lines.Len() > 1 {
		first := lines.At(0)
		if m := ialLine().FindStringSubmatch(strings.TrimRight(string(first.Value(src)), "\r\n")); m != nil {
			// an IAL opening a paragraph: kramdown gives it to the block
			// right before it, or after a blank line (or first in a
			// quote or list item) to the paragraph it opens
			lines.SetSliced(1, lines.Len())
			node.SetLines(lines)
			if prev := node.PreviousSibling(); prev != nil && !blankLineBefore(src, first.Start) {
				setIAL(prev, m[1])
			} else {
				addPendingIAL(pc, src, lines.At(0).Start, pendingIAL{attrs: m[1]})
			}
		}
	}
	last := lines.At(lines.Len() - 1)
	m := ialLine().FindStringSubmatch(strings.TrimRight(string(last.Value(src)), "\r\n"))
	if m == nil {
		return
	}
	if lines.Len() == 1 {
		prev := node.PreviousSibling()
		if prev == nil || blankLineBefore(src, last.Start) {
			// first in a quote or list item, or after a blank line: for
			// the block after it, which is not parsed yet (nextIALs)
			next, _ := pc.Get(ialNextKey).(map[ast.Node]string)
			if next == nil {
				next = map[ast.Node]string{}
				pc.Set(ialNextKey, next)
			}
			next[node] = m[1]
			return
		}
		setIAL(prev, m[1])
		node.Parent().RemoveChild(node.Parent(), node)
		return
	}
	lines.SetSliced(0, lines.Len()-1)
	node.SetLines(lines)
	addPendingIAL(pc, src, lines.At(0).Start, pendingIAL{attrs: m[1], lazy: lineStart(src, last.Start)})
}

// addPendingIAL keeps an IAL for the paragraph starting at start (past
// the spaces goldmark trims later), after any it already has.
func addPendingIAL(pc parser.Context, src []byte, start int, p pendingIAL) {
	for start < len(src) && (src[start] == ' ' || src[start] == '\t') {
		start++
	}
	pending, _ := pc.Get(ialKey).(map[int]pendingIAL)
	if pending == nil {
		pending = map[int]pendingIAL{}
		pc.Set(ialKey, pending)
	}
	if old, ok := pending[start]; ok {
		p.attrs = old.attrs + " " + p.attrs
	}
	pending[start] = p
}

// blankLineBefore says whether the line before the one holding offset
// is blank, quote markers aside (or there is none).
func blankLineBefore(src []byte, offset int) bool {
	i := bytes.LastIndexByte(src[:offset], '\n')
	if i < 0 {
		return true
	}
	j := bytes.LastIndexByte(src[:i], '\n')
	return len(bytes.Trim(src[j+1:i], " \t\r>")) == 0
}

// applyIALs gives the attribute lists the paragraph transformer took
// to their blocks: the paragraph, or for a lazy line the outermost
// block holding it.
func applyIALs(doc *ast.Document, pc parser.Context) {
	pending, _ := pc.Get(ialKey).(map[int]pendingIAL)
	if len(pending) == 0 {
		return
	}
	var found []ast.Node
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && (n.Kind() == ast.KindParagraph || n.Kind() == ast.KindTextBlock) && n.Lines().Len() > 0 {
			if _, ok := pending[n.Lines().At(0).Start]; ok {
				found = append(found, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range found {
		p := pending[n.Lines().At(0).Start]
		target := n
		if p.lazy {
			for target.Parent() != nil && target.Parent().Kind() != ast.KindDocument {
				target = target.Parent()
			}
		}
		setIAL(target, p.attrs)
	}
}

// setIAL applies {: .class #id key="value"} to a node.
func setIAL(target ast.Node, attrs string) {
	for _, a := range ialItem().FindAllStringSubmatch(attrs, -1) {
		switch {
		case a[1] == ".":
			if old, ok := target.AttributeString("class"); ok {
				target.SetAttributeString("class", []byte(string(old.([]byte))+" "+a[2]))
			} else {
				target.SetAttributeString("class", []byte(a[2]))
			}
		case a[1] == "#":
			target.SetAttributeString("id", []byte(a[2]))
		case a[7] != "":
			// a reference: toc is the one kramdown defines; others
			// name attribute list definitions (warned about)
			if a[7] == "toc" {
				target.SetAttributeString(tocAttr, []byte("1"))
			}
		default:
			target.SetAttributeString(a[3], []byte(a[4]+a[5]+a[6]))
		}
	}
}

// lineStart reports whether offset begins a line with no indentation
// or container marker before it.
func lineStart(src []byte, off int) bool {
	return off == 0 || src[off-1] == '\n'
}

// applyAbbreviations wraps each whole-word use of an abbreviation in
// text in <abbr title="…">.
func applyAbbreviations(doc *ast.Document, src []byte, ab *abbreviations) {
	if ab == nil || len(ab.names) == 0 {
		return
	}
	var alts []string
	for _, n := range ab.names {
		alts = append(alts, regexp.QuoteMeta(n))
	}
	re, err := regexp.Compile(`\b(?:` + strings.Join(alts, "|") + `)\b`)
	if err != nil {
		return // a name that is not text (invalid UTF-8) abbreviates nothing
	}
	var texts []*ast.Text
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindCodeSpan, ast.KindCodeBlock, ast.KindFencedCodeBlock, ast.KindHTMLBlock, ast.KindRawHTML, ast.KindLink, ast.KindImage:
			return ast.WalkSkipChildren, nil
		}
		if t, ok := n.(*ast.Text); ok {
			texts = append(texts, t)
		}
		return ast.WalkContinue, nil
	})
	for _, t := range texts {
		seg := t.Segment
		val := seg.Value(src)
		locs := re.FindAllIndex(val, -1)
		if locs == nil {
			continue
		}
		parent := t.Parent()
		pos := 0
		for _, l := range locs {
			if l[0] > pos {
				parent.InsertBefore(parent, t, ast.NewTextSegment(text.NewSegment(seg.Start+pos, seg.Start+l[0])))
			}
			word := string(val[l[0]:l[1]])
			s := ast.NewString([]byte(`<abbr title="` + escapeText(ab.titles[word]) + `">` + escapeText(word) + `</abbr>`))
			s.SetCode(true)
			parent.InsertBefore(parent, t, s)
			pos = l[1]
		}
		rest := ast.NewTextSegment(text.NewSegment(seg.Start+pos, seg.Stop))
		rest.SetSoftLineBreak(t.SoftLineBreak())
		rest.SetHardLineBreak(t.HardLineBreak())
		parent.InsertBefore(parent, t, rest)
		parent.RemoveChild(parent, t)
	}
}

// angleQuoteSpaces writes "<< " and " >>" as kramdown does: the
// guillemet with a no-break space instead of the space.
func angleQuoteSpaces(doc *ast.Document, src []byte) {
	var quotes []*ast.String
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if s, ok := n.(*ast.String); ok && entering && (string(s.Value) == "«" || string(s.Value) == "»") {
			quotes = append(quotes, s)
		}
		return ast.WalkContinue, nil
	})
	for _, q := range quotes {
		if string(q.Value) == "«" {
			if t, ok := q.NextSibling().(*ast.Text); ok && t.Segment.Len() > 0 && src[t.Segment.Start] == ' ' {
				t.Segment = t.Segment.WithStart(t.Segment.Start + 1)
				q.Value = []byte("«\u00a0")
			}
			continue
		}
		if t, ok := q.PreviousSibling().(*ast.Text); ok && t.Segment.Len() > 0 && src[t.Segment.Stop-1] == ' ' && !t.SoftLineBreak() {
			t.Segment = t.Segment.WithStop(t.Segment.Stop - 1)
			q.Value = []byte("\u00a0»")
		}
	}
}

var spanIAL = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\{:((?:[^}"']|"[^"]*"|'[^']*')*)\}`)
})

// applySpanIALs gives a span attribute list (*text*{: .class}) to the
// inline element right before it. The list is matched in the source,
// since the typographer may have split its text (quotes).
func applySpanIALs(doc *ast.Document, src []byte) {
	var texts []*ast.Text
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := n.(*ast.Text); ok && entering && t.PreviousSibling() != nil {
			if v := t.Segment.Value(src); len(v) >= 2 && v[0] == '{' && v[1] == ':' {
				texts = append(texts, t)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, t := range texts {
		prev := t.PreviousSibling()
		if _, isText := prev.(*ast.Text); isText || t.Parent() == nil {
			continue
		}
		m := spanIAL().FindSubmatchIndex(src[t.Segment.Start:])
		if m == nil {
			continue
		}
		end := t.Segment.Start + m[1]
		if r, ok := prev.(*ast.RawHTML); ok {
			// after an HTML element: the attributes are its start tag's
			open := openingTag(r, src)
			if open == nil {
				continue
			}
			prev = open
		}
		setIAL(prev, string(src[t.Segment.Start+m[2]:t.Segment.Start+m[3]]))
		// drop the inline nodes that spell the list
		for n := ast.Node(t); n != nil; {
			next := n.NextSibling()
			switch x := n.(type) {
			case *ast.Text:
				if x.Segment.Stop <= end {
					if x.SoftLineBreak() || x.HardLineBreak() {
						x.Segment = x.Segment.WithStart(x.Segment.Stop)
						next = nil
						break
					}
					x.Parent().RemoveChild(x.Parent(), x)
				} else {
					if x.Segment.Start < end {
						x.Segment = x.Segment.WithStart(end)
					}
					next = nil
				}
			case *ast.String:
				x.Parent().RemoveChild(x.Parent(), x)
			default:
				next = nil
			}
			n = next
		}
	}
}

// openingTag finds, for the raw HTML end tag closing, the start tag of
// its element among the inline nodes before it; nil when there is none
// (or closing is not an end tag).
func openingTag(closing *ast.RawHTML, src []byte) *ast.RawHTML {
	text := func(r *ast.RawHTML) string {
		var b strings.Builder
		for i := 0; i < r.Segments.Len(); i++ {
			seg := r.Segments.At(i)
			b.Write(seg.Value(src))
		}
		return b.String()
	}
	name, isTag := leadingTag([]byte(text(closing)))
	if !isTag || !strings.HasPrefix(text(closing), "</") {
		return nil
	}
	depth := 0
	for n := closing.PreviousSibling(); n != nil; n = n.PreviousSibling() {
		r, ok := n.(*ast.RawHTML)
		if !ok {
			continue
		}
		t := text(r)
		if nm, ok := leadingTag([]byte(t)); !ok || nm != name {
			continue
		}
		if strings.HasPrefix(t, "</") {
			depth++
		} else if depth == 0 {
			return r
		} else {
			depth--
		}
	}
	return nil
}
