package markup

import (
	"regexp"
	"sync"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	xast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// kramdown's GFM parser strikes through ~~two tildes~~ only: a single
// tilde (~5 minutes, ~a~) is text. goldmark's extension takes one or
// two, so islet has its own parser and keeps goldmark's renderer.
type strikethrough struct{}

func (strikethrough) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(strikethroughParser{}, 500)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500)))
}

type strikethroughDelimiters struct{}

func (strikethroughDelimiters) IsDelimiter(b byte) bool { return b == '~' }
func (strikethroughDelimiters) CanOpenCloser(opener, closer *parser.Delimiter) bool {
	return opener.Char == closer.Char
}
func (strikethroughDelimiters) OnMatch(int) gast.Node { return xast.NewStrikethrough() }

type strikethroughParser struct{}

func (strikethroughParser) Trigger() []byte { return []byte{'~'} }

func (strikethroughParser) Parse(parent gast.Node, block text.Reader, pc parser.Context) gast.Node {
	before := block.PrecendingCharacter()
	line, segment := block.PeekLine()
	node := parser.ScanDelimiter(line, before, 1, strikethroughDelimiters{})
	if node == nil || node.OriginalLength != 2 || before == '~' {
		return nil
	}
	node.Segment = segment.WithStop(segment.Start + node.OriginalLength)
	block.Advance(node.OriginalLength)
	pc.PushDelimiter(node)
	return node
}

func (strikethroughParser) CloseBlock(gast.Node, parser.Context) {}

// kramdown's GFM parser makes a task of a list item that starts with
// [ ], [x] or [X] and whitespace: [x]done and [X][X] are not tasks.
var taskMarker = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\[([\sxX])\]\s`)
})

type taskList struct{}

func (taskList) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(taskParser{}, 0)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewTaskCheckBoxHTMLRenderer(), 500)))
}

type taskParser struct{}

func (taskParser) Trigger() []byte { return []byte{'['} }

// Parse takes the marker at the very start of a list item's first line.
func (taskParser) Parse(parent gast.Node, block text.Reader, pc parser.Context) gast.Node {
	if parent.Parent() == nil || parent.Parent().FirstChild() != parent || parent.HasChildren() {
		return nil
	}
	if _, ok := parent.Parent().(*gast.ListItem); !ok {
		return nil
	}
	line, _ := block.PeekLine()
	m := taskMarker().FindSubmatchIndex(line)
	if m == nil {
		return nil
	}
	checked := line[m[2]] == 'x' || line[m[2]] == 'X'
	block.Advance(m[1])
	return xast.NewTaskCheckBox(checked)
}

func (taskParser) CloseBlock(gast.Node, parser.Context) {}
