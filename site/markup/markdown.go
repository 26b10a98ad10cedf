package markup

import (
	"bytes"
	"html"
	"strings"
	"sync"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Markdown converts Markdown as Jekyll's kramdown (GFM input, Rouge
// highlighter) does: header IDs by kramdown-parser-gfm's rule,
// typographic characters as UTF-8, kramdown's footnote, table, task
// list and code markup. It is safe for concurrent use.
type Markdown struct {
	md goldmark.Markdown
}

// NewMarkdown makes a converter.
func NewMarkdown() *Markdown {
	subs := map[extension.TypographicPunctuation]string{
		extension.LeftSingleQuote: "‘", extension.RightSingleQuote: "’",
		extension.LeftDoubleQuote: "“", extension.RightDoubleQuote: "”",
		extension.EnDash: "–", extension.EmDash: "—", extension.Ellipsis: "…",
		extension.LeftAngleQuote: "«", extension.RightAngleQuote: "»", extension.Apostrophe: "’",
	}
	blocks := parser.DefaultBlockParsers()
	for i, b := range blocks {
		if b.Priority == 900 { // HTML blocks, as kramdown starts them
			blocks[i] = util.Prioritized(htmlBlockKramdown{b.Value.(parser.BlockParser)}, 900)
		}
	}
	newMD := func() goldmark.Markdown {
		return goldmark.New(
			goldmark.WithParser(parser.NewParser(
				parser.WithBlockParsers(blocks...),
				parser.WithInlineParsers(parser.DefaultInlineParsers()...),
				parser.WithParagraphTransformers(append(parser.DefaultParagraphTransformers(), util.Prioritized(ialTransformer{}, 200))...),
				parser.WithASTTransformers(util.Prioritized(kramdownTransformer{}, 1000)),
				parser.WithHeadingAttribute(),
			)),
			goldmark.WithExtensions(
				extension.Table, strikethrough{}, taskList{}, extension.Footnote, math{},
				extension.DefinitionList,
				extension.NewTypographer(extension.WithTypographicSubstitutions(subs)), openingQuote{},
			),
			goldmark.WithRendererOptions(gmhtml.WithUnsafe(), gmhtml.WithXHTML(),
				renderer.WithNodeRenderers(util.Prioritized(&kramdownRenderer{}, 100))),
		)
	}
	return &Markdown{md: newMD()}
}

// htmlBlockKramdown starts HTML blocks where kramdown does: a line that
// starts with one of kramdown's span elements (<img>, <a>, <span>, …)
// is paragraph text, wrapped in <p>; a line that starts with another
// element's tag ends the paragraph before it, a comment does not.
type htmlBlockKramdown struct{ parser.BlockParser }

func (htmlBlockKramdown) CanInterruptParagraph() bool { return true }

func (b htmlBlockKramdown) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	line, _ := reader.PeekLine()
	name, isTag := leadingTag(line)
	if isTag && spanElements[name] {
		return nil, parser.NoChildren
	}
	if !isTag && ast.IsParagraph(pc.LastOpenedBlock().Node) {
		return nil, parser.NoChildren
	}
	return b.BlockParser.Open(parent, reader, pc)
}

// spanElements are kramdown's HTML span elements.
var spanElements = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields("a abbr acronym b big bdo br button cite code del dfn em i img input ins kbd label mark option q rb rbc rp rt rtc ruby s samp select small span strike strong sub sup textarea tt u var") {
		m[n] = true
	}
	return m
}()

// leadingTag is the name of the start or end tag a line starts with
// (after up to three spaces), in lower case.
func leadingTag(line []byte) (string, bool) {
	i := 0
	for i < len(line) && i < 3 && line[i] == ' ' {
		i++
	}
	if i >= len(line) || line[i] != '<' {
		return "", false
	}
	i++
	if i < len(line) && line[i] == '/' {
		i++
	}
	j := i
	for j < len(line) && (isTagLetter(line[j]) || (j > i && (line[j] >= '0' && line[j] <= '9' || line[j] == '-'))) {
		j++
	}
	if j == i {
		return "", false
	}
	return strings.ToLower(string(line[i:j])), true
}

// Convert renders Markdown to HTML.
func (m *Markdown) Convert(src string) (string, error) {
	src = lineEnds(src)
	src, kept, tocLevels := extensions(src)
	src = m.spanMarkdown(src)
	src = nestOtherLists(src)
	src = fencesInItems(src)
	src = moveLeadingIALs(src)
	src = splitAtIALs(src)
	src, ab, raw := preprocess(src)
	ctx := parser.NewContext()
	if tocLevels != nil {
		ctx.Set(tocLevelsKey, tocLevels)
	}
	if ab != nil {
		ctx.Set(abbrKey, ab)
	}
	buf := htmlBuffers.Get().(*htmlBuffer)
	defer htmlBuffers.Put(buf)
	buf.Reset()
	if err := m.md.Convert([]byte(src), buf, parser.WithContext(ctx)); err != nil {
		return "", err
	}
	out := buf.String()
	if req, ok := ctx.Get(tocKey).(*tocRequest); ok {
		out = writeTOC(out, req)
	}
	return restoreRaw(restoreHTML(out, raw), kept), nil
}

// htmlBuffer is what goldmark renders into: its buffer is all the
// buffering a render needs (goldmark wraps any other writer in a new
// 4 KiB bufio.Writer, most of a small document's allocation).
type htmlBuffer struct{ bytes.Buffer }

func (*htmlBuffer) Buffered() int { return 0 }
func (*htmlBuffer) Flush() error  { return nil }

// htmlBuffers keeps buffers from one render to the next: a render's
// HTML is copied out of its buffer once, and the buffer grows no more
// after the first few.
var htmlBuffers = sync.Pool{New: func() any { return new(htmlBuffer) }}

// lineEnds turns every CRLF and lone CR into LF, as kramdown does to its
// whole source before parsing. A CR that highlighted code put before a
// tag (a comment's token ends before its LF, as Rouge cuts it) so
// becomes a line of its own, as in Jekyll.
func lineEnds(src string) string {
	if !strings.Contains(src, "\r") {
		return src
	}
	return strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
}

// kramdownTransformer adds header IDs and task-list classes.
type kramdownTransformer struct{}

func (kramdownTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	src := reader.Source()
	rawSpans(doc, src)
	applyIALs(doc, pc)
	nextIALs(doc, src, pc)
	itemParagraphs(doc)
	displayMath(doc, src)
	angleQuoteSpaces(doc, src)
	applySpanIALs(doc, src)
	if ab, ok := pc.Get(abbrKey).(*abbreviations); ok {
		applyAbbreviations(doc, src, ab)
	}
	counts := map[string]int{}
	labels := map[int]string{}
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := n.(type) {
		case *ast.Emphasis:
			// ***x***: kramdown puts strong outside, CommonMark em
			if inner, ok := x.FirstChild().(*ast.Emphasis); ok && x.ChildCount() == 1 && x.Level == 1 && inner.Level == 2 {
				x.Level, inner.Level = 2, 1
			}
		case *ast.Heading:
			if _, ok := x.AttributeString("id"); !ok {
				id := headerID(plainText(x, src))
				counts[id]++
				if counts[id] > 1 {
					id += "-" + itoa(counts[id]-1)
				}
				x.SetAttributeString("id", []byte(id))
			}
		case *east.Footnote:
			labels[x.Index] = string(x.Ref)
		case *east.TaskCheckBox:
			if li := x.Parent().Parent(); li != nil && li.Kind() == ast.KindListItem {
				li.SetAttributeString("class", []byte("task-list-item"))
				if l := li.Parent(); l != nil {
					l.SetAttributeString("class", []byte("task-list"))
				}
			}
		}
		return ast.WalkContinue, nil
	})
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := n.(type) {
		case *east.FootnoteLink:
			x.SetAttributeString("label", []byte(labels[x.Index]))
		case *east.FootnoteBacklink:
			x.SetAttributeString("label", []byte(labels[x.Index]))
		}
		return ast.WalkContinue, nil
	})
	findTOC(doc, pc)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// plainText is the text of a heading as kramdown's raw_text: text,
// code and typographic characters, without markup.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := c.(type) {
		case *ast.Text:
			// kramdown's raw text has entities as the characters
			// they stand for (&amp; is &, which the id drops)
			b.WriteString(html.UnescapeString(string(x.Segment.Value(src))))
			if x.SoftLineBreak() {
				b.WriteByte('\n')
			}
		case *ast.String:
			b.Write(x.Value)
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// headerID is kramdown-parser-gfm's generate_gfm_header_id.
func headerID(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.No, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// kramdownRenderer renders the nodes whose markup differs from
// goldmark's defaults.
type kramdownRenderer struct{}

func (r *kramdownRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindCodeSpan, r.codeSpan)
	reg.Register(ast.KindFencedCodeBlock, r.codeBlock)
	reg.Register(ast.KindCodeBlock, r.codeBlock)
	reg.Register(east.KindFootnoteLink, r.footnoteLink)
	reg.Register(east.KindFootnoteBacklink, r.footnoteBacklink)
	reg.Register(east.KindFootnote, r.footnote)
	reg.Register(east.KindFootnoteList, r.footnoteList)
	reg.Register(east.KindTableCell, r.tableCell)
	reg.Register(east.KindTaskCheckBox, r.taskCheckBox)
	reg.Register(kindTOC, r.toc)
	reg.Register(ast.KindRawHTML, r.rawHTML)
	reg.Register(ast.KindHTMLBlock, r.htmlBlock)
}

// rawHTML writes an inline tag as kramdown writes it (kramdownTags).
func (r *kramdownRenderer) rawHTML(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	x := n.(*ast.RawHTML)
	var b strings.Builder
	for i := 0; i < x.Segments.Len(); i++ {
		seg := x.Segments.At(i)
		b.Write(seg.Value(src))
	}
	tag := kramdownTags(b.String())
	if attrs := x.Attributes(); len(attrs) > 0 {
		tag = addAttributes(tag, attrs) // a span IAL after the element
	}
	w.WriteString(tag)
	return ast.WalkSkipChildren, nil
}

// htmlBlock writes an HTML block with its tags as kramdown writes them.
func (r *kramdownRenderer) htmlBlock(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	x := n.(*ast.HTMLBlock)
	if entering {
		var b strings.Builder
		for i := 0; i < x.Lines().Len(); i++ {
			seg := x.Lines().At(i)
			b.Write(seg.Value(src))
		}
		w.WriteString(kramdownTags(b.String()))
	} else if x.HasClosure() {
		w.WriteString(kramdownTags(string(x.ClosureLine.Value(src))))
	}
	return ast.WalkContinue, nil
}

func (r *kramdownRenderer) codeSpan(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	class := "language-plaintext highlighter-rouge"
	if c, ok := n.AttributeString("class"); ok {
		class = "language-plaintext " + string(c.([]byte)) + " highlighter-rouge"
	}
	w.WriteString(`<code class="` + class + `"`)
	for _, a := range n.Attributes() {
		if string(a.Name) != "class" {
			w.WriteString(" " + string(a.Name) + `="` + escapeText(string(a.Value.([]byte))) + `"`)
		}
	}
	w.WriteString(">")
	var raw bytes.Buffer
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			raw.Write(t.Segment.Value(src))
		} else if s, ok := c.(*ast.String); ok {
			raw.Write(s.Value)
		}
	}
	w.WriteString(escapeCode(raw.String())) // kramdown leaves quotes as they are
	w.WriteString("</code>")
	return ast.WalkSkipChildren, nil
}

func (r *kramdownRenderer) codeBlock(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	lang := ""
	if f, ok := n.(*ast.FencedCodeBlock); ok && f.Info != nil {
		info := string(f.Info.Segment.Value(src))
		lang = strings.Fields(info + " x")[0]
		if i := strings.IndexByte(lang, '?'); i >= 0 {
			lang = lang[:i]
		}
	}
	var code strings.Builder
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		code.Write(seg.Value(src))
	}
	if lang != "" && !rougeNames[lang] {
		// Rouge has no lexer of that name: kramdown writes the block
		// unhighlighted, the IAL's attributes on the pre
		w.WriteString("<pre")
		for _, a := range n.Attributes() {
			v, _ := a.Value.([]byte)
			w.WriteString(" " + string(a.Name) + `="` + escapeText(string(v)) + `"`)
		}
		w.WriteString(`><code class="language-` + escapeText(lang) + `">` + escapeCode(strings.TrimSuffix(code.String(), "\n")) + "\n</code></pre>\n")
		return ast.WalkSkipChildren, nil
	}
	w.WriteString(rougeBlock(lang, code.String(), n.Attributes()))
	w.WriteString("\n")
	return ast.WalkSkipChildren, nil
}

func (r *kramdownRenderer) footnoteLink(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	x := n.(*east.FootnoteLink)
	label, _ := x.AttributeString("label")
	l := escapeText(string(label.([]byte)))
	id := "fnref:" + l
	if x.RefIndex > 0 {
		id += ":" + itoa(x.RefIndex)
	}
	w.WriteString(`<sup id="` + id + `" role="doc-noteref"><a href="#fn:` + l + `" class="footnote" rel="footnote">` + itoa(x.Index) + `</a></sup>`)
	return ast.WalkContinue, nil
}

func (r *kramdownRenderer) footnoteBacklink(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	x := n.(*east.FootnoteBacklink)
	if x.RefIndex > 0 {
		return ast.WalkContinue, nil // goldmark adds one per reference; the first writes them all
	}
	label, _ := x.AttributeString("label")
	l := escapeText(string(label.([]byte)))
	for i := 0; i < max(1, x.RefCount); i++ {
		ref := "fnref:" + l
		sup := ""
		if i > 0 {
			ref += ":" + itoa(i)
			sup = "<sup>" + itoa(i+1) + "</sup>"
		}
		w.WriteString("\u00a0<a href=\"#" + ref + `" class="reversefootnote" role="doc-backlink">&#8617;` + sup + `</a>`)
	}
	return ast.WalkContinue, nil
}

func (r *kramdownRenderer) footnote(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	x := n.(*east.Footnote)
	if entering {
		w.WriteString(`<li id="fn:` + escapeText(string(x.Ref)) + `" role="doc-endnote">` + "\n")
	} else {
		w.WriteString("</li>\n")
	}
	return ast.WalkContinue, nil
}

func (r *kramdownRenderer) footnoteList(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		w.WriteString("<div class=\"footnotes\" role=\"doc-endnotes\">\n<ol>\n")
	} else {
		w.WriteString("</ol>\n</div>\n")
	}
	return ast.WalkContinue, nil
}

func (r *kramdownRenderer) tableCell(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	x := n.(*east.TableCell)
	tag := "td"
	if _, ok := n.Parent().(*east.TableHeader); ok {
		tag = "th"
	}
	if entering {
		w.WriteString("<" + tag)
		switch x.Alignment {
		case east.AlignLeft:
			w.WriteString(` style="text-align: left"`)
		case east.AlignRight:
			w.WriteString(` style="text-align: right"`)
		case east.AlignCenter:
			w.WriteString(` style="text-align: center"`)
		}
		w.WriteString(">")
		if n.ChildCount() == 0 {
			w.WriteString("\u00a0") // kramdown's empty cell: a no-break space
		}
	} else {
		w.WriteString("</" + tag + ">\n")
	}
	return ast.WalkContinue, nil
}

func (r *kramdownRenderer) taskCheckBox(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	if n.(*east.TaskCheckBox).IsChecked {
		w.WriteString(`<input type="checkbox" class="task-list-item-checkbox" disabled="disabled" checked="checked" />`)
	} else {
		w.WriteString(`<input type="checkbox" class="task-list-item-checkbox" disabled="disabled" />`)
	}
	return ast.WalkContinue, nil
}

// escapeText escapes &, < and > (and quotes) for HTML text.
func escapeText(s string) string { return textEscaper.Replace(s) }

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// Smartify applies kramdown's typographic conversions to a line of
// text (Jekyll's smartify filter).
func (m *Markdown) Smartify(s string) (string, error) {
	out, err := m.Convert(s)
	if err != nil {
		return "", err
	}
	out = strings.TrimSpace(out)
	out = strings.TrimPrefix(out, "<p>")
	out = strings.TrimSuffix(out, "</p>")
	return out, nil
}
