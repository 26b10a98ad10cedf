package markup

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// openingQuote gives single quotes kramdown's smart-quote rules where
// goldmark's typographer gives others: after a space, an opening
// bracket, a dash or a double quote (or at the start), and right after a
// code span or an HTML tag (`code`'d is ‘d), before a letter,
// it opens (‘lorem ipsum’, ‘twas: goldmark makes ’twas, ’em and ’n’ of
// those); after anything else it closes or is an apostrophe (’), also
// where goldmark, having lost count of the quotes opened here, leaves
// it straight (-‘elf’-). Decades ('90s) and the rest are the
// typographer's. It runs before the typographer (a lower value runs
// first).
type openingQuote struct{}

func (openingQuote) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(openingQuoteParser{}, 9000)))
}

type openingQuoteParser struct{}

func (openingQuoteParser) Trigger() []byte { return []byte{'\''} }

func (openingQuoteParser) Parse(parent gast.Node, block text.Reader, pc parser.Context) gast.Node {
	before := block.PrecendingCharacter()
	line, _ := block.PeekLine()
	var q string
	switch {
	case unicode.IsSpace(before) || strings.ContainsRune("[{(-\"`>", before):
		if len(line) < 2 {
			return nil
		}
		next, _ := utf8.DecodeRune(line[1:])
		if !unicode.IsLetter(next) {
			return nil
		}
		q = "‘"
		if (before == '`' || before == '>') && next == 's' && (len(line) == 2 || !isWordByte(line[2])) {
			q = "’" // kramdown: a quote before s and a word's end closes (`html-proofer`'s)
		}
	case unicode.IsLetter(before) || unicode.IsDigit(before) || strings.ContainsRune(".,!?;:)]}*_%", before):
		q = "’"
	default:
		return nil
	}
	node := gast.NewString([]byte(q))
	node.SetCode(true)
	block.Advance(1)
	return node
}

func (openingQuoteParser) CloseBlock(gast.Node, parser.Context) {}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
