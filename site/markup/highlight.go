package markup

import (
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

// rougeAliases maps Rouge language names chroma does not know.
var rougeAliases = map[string]string{"shell": "bash", "console": "bash", "sh": "bash", "plaintext": "plaintext", "text": "plaintext", "html+erb": "erb", "ocaml": "ocaml"}

// Highlight tokenises code with chroma and writes it as Rouge's HTML
// formatter does: a span per token with the short class name, plain
// text unwrapped. An unknown language is escaped and left plain.
func Highlight(lang, code string) string {
	name := strings.ToLower(lang)
	if a, ok := rougeAliases[name]; ok {
		name = a
	}
	var lexer chroma.Lexer
	switch {
	case name == "liquid":
		lexer = liquidLexer
	case name != "" && name != "plaintext":
		lexer = lexers.Get(name)
	}
	if lexer == nil {
		return escapeCode(code)
	}
	lexer = chroma.Coalesce(lexer)
	it, err := lexer.Tokenise(nil, code)
	if err != nil {
		return escapeCode(code)
	}
	var b strings.Builder
	for _, t := range it.Tokens() {
		class := chroma.StandardTypes[t.Type]
		if t.Type == chroma.Text || t.Type == chroma.TextWhitespace || class == "" {
			if t.Type == chroma.TextWhitespace && strings.TrimSpace(t.Value) != "" {
				b.WriteString(`<span class="w">` + escapeCode(t.Value) + "</span>")
				continue
			}
			b.WriteString(escapeCode(t.Value))
			continue
		}
		b.WriteString(`<span class="` + class + `">` + escapeCode(t.Value) + "</span>")
	}
	return b.String()
}

// rougeBlock is a fenced code block as kramdown with Rouge writes it.
func rougeBlock(lang, code string) string {
	cls := lang
	if cls == "" {
		cls = "plaintext"
	}
	return `<div class="language-` + escapeText(cls) + ` highlighter-rouge"><div class="highlight"><pre class="highlight"><code>` +
		Highlight(lang, code) + "</code></pre></div></div>"
}

// escapeCode escapes code as Rouge does: &, < and > only.
func escapeCode(s string) string { return codeEscaper.Replace(s) }

var codeEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
