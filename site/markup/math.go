package markup

import (
	"bytes"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// kramdown's math, as its default engine (MathJax) writes it: $$…$$
// inside text is \(…\); a paragraph that is only $$…$$ (on one line or
// several) is display math, \[…\], without the <p>. The content is
// written as it is, trimmed, <, > and & escaped: no Markdown, no
// typography.
type math struct{}

func (math) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(mathParser{}, 150)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(mathRenderer{}, 100)))
}

var (
	kindMath      = ast.NewNodeKind("Math")
	kindMathBlock = ast.NewNodeKind("MathBlock")
)

// mathNode is $$…$$ inside text.
type mathNode struct {
	ast.BaseInline
	value []byte
}

func (n *mathNode) Kind() ast.NodeKind            { return kindMath }
func (n *mathNode) Dump(src []byte, level int)    { ast.DumpHelper(n, src, level, nil, nil) }
func (n *mathBlockNode) Kind() ast.NodeKind       { return kindMathBlock }
func (n *mathBlockNode) Dump(src []byte, lvl int) { ast.DumpHelper(n, src, lvl, nil, nil) }

// mathBlockNode is a paragraph that was only math.
type mathBlockNode struct {
	ast.BaseBlock
	value []byte
}

type mathParser struct{}

func (mathParser) Trigger() []byte { return []byte{'$'} }

// Parse reads $$…$$, across the paragraph's lines if need be.
func (mathParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if len(line) < 2 || line[1] != '$' {
		return nil
	}
	savedLine, savedPos := block.Position()
	block.Advance(2)
	var value []byte
	for {
		line, _ := block.PeekLine()
		if line == nil {
			block.SetPosition(savedLine, savedPos)
			return nil
		}
		if i := bytes.Index(line, []byte("$$")); i >= 0 {
			value = append(value, line[:i]...)
			block.Advance(i + 2)
			if len(bytes.TrimSpace(value)) == 0 {
				block.SetPosition(savedLine, savedPos)
				return nil
			}
			return &mathNode{value: value}
		}
		value = append(value, line...)
		block.AdvanceLine()
	}
}

// displayMath makes each paragraph that holds nothing but math (and
// blanks) display math.
func displayMath(doc *ast.Document, src []byte) {
	var paras []*ast.Paragraph
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if p, ok := n.(*ast.Paragraph); ok && entering {
			paras = append(paras, p)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, p := range paras {
		var m *mathNode
		only := true
		for c := p.FirstChild(); c != nil; c = c.NextSibling() {
			switch x := c.(type) {
			case *mathNode:
				if m != nil {
					only = false
				}
				m = x
			case *ast.Text:
				if len(bytes.TrimSpace(x.Segment.Value(src))) != 0 {
					only = false
				}
			default:
				only = false
			}
		}
		if m == nil || !only {
			continue
		}
		b := &mathBlockNode{value: bytes.TrimSpace(m.value)}
		for _, a := range p.Attributes() {
			b.SetAttribute(a.Name, a.Value)
		}
		p.Parent().ReplaceChild(p.Parent(), p, b)
	}
}

type mathRenderer struct{}

func (mathRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindMath, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			w.WriteString(`\(` + escapeMath(bytes.TrimSpace(n.(*mathNode).value)) + `\)`)
		}
		return ast.WalkSkipChildren, nil
	})
	reg.Register(kindMathBlock, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			w.WriteString(`\[` + escapeMath(n.(*mathBlockNode).value) + "\\]\n")
		}
		return ast.WalkSkipChildren, nil
	})
}

var mathEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeMath(v []byte) string { return mathEscaper.Replace(string(v)) }
