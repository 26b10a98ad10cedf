package markup

import (
	"github.com/alecthomas/chroma/v2"
)

// liquidLexer tokenises Liquid templates, which Rouge highlights and
// chroma has no lexer for: tags and output markup, their strings,
// numbers, operators, filters and variables; the text around them
// plain. Its token classes are chroma's, not Rouge's (site/COMPAT.md).
var liquidLexer = chroma.MustNewLexer(&chroma.Config{Name: "Liquid", Aliases: []string{"liquid"}, Filenames: []string{"*.liquid"}},
	func() chroma.Rules {
		inside := func(end string) []chroma.Rule {
			return []chroma.Rule{
				{Pattern: end, Type: chroma.Punctuation, Mutator: chroma.Pop(1)},
				{Pattern: `\s+`, Type: chroma.TextWhitespace},
				{Pattern: `"[^"]*"|'[^']*'`, Type: chroma.LiteralString},
				{Pattern: `-?\d+(\.\d+)?`, Type: chroma.LiteralNumber},
				{Pattern: `\b(and|or|contains|in|with|for|as|reversed|limit|offset)\b`, Type: chroma.OperatorWord},
				{Pattern: `\b(true|false|nil|null|empty|blank)\b`, Type: chroma.KeywordConstant},
				{Pattern: `(\|)(\s*)(\w+)`, Type: chroma.ByGroups(chroma.Punctuation, chroma.TextWhitespace, chroma.NameFunction)},
				{Pattern: `==|!=|<>|<=|>=|<|>|=`, Type: chroma.Operator},
				{Pattern: `[\w-]+\??`, Type: chroma.NameVariable},
				{Pattern: `[.,:\[\]()]`, Type: chroma.Punctuation},
			}
		}
		return chroma.Rules{
			"root": {
				{Pattern: `(\{%-?)(\s*)(comment)(\s*)(-?%\})`, Type: chroma.ByGroups(chroma.Punctuation, chroma.TextWhitespace, chroma.NameTag, chroma.TextWhitespace, chroma.Punctuation), Mutator: chroma.Push("comment")},
				{Pattern: `(\{%-?)(\s*)(\w+)`, Type: chroma.ByGroups(chroma.Punctuation, chroma.TextWhitespace, chroma.NameTag), Mutator: chroma.Push("tag")},
				{Pattern: `\{\{-?`, Type: chroma.Punctuation, Mutator: chroma.Push("output")},
				{Pattern: `[^{]+`, Type: chroma.Text},
				{Pattern: `\{`, Type: chroma.Text},
			},
			"comment": {
				{Pattern: `(\{%-?)(\s*)(endcomment)(\s*)(-?%\})`, Type: chroma.ByGroups(chroma.Punctuation, chroma.TextWhitespace, chroma.NameTag, chroma.TextWhitespace, chroma.Punctuation), Mutator: chroma.Pop(1)},
				{Pattern: `[^{]+|\{`, Type: chroma.Comment},
			},
			"tag":    inside(`-?%\}`),
			"output": inside(`-?\}\}`),
		}
	})
