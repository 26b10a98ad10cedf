package markup

import (
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/yuin/goldmark/ast"
)

// rougeAliases maps Rouge language names chroma does not know.
var rougeAliases = map[string]string{"shell": "bash", "console": "bash", "sh": "bash", "plaintext": "plaintext", "text": "plaintext", "html+erb": "erb", "ocaml": "ocaml",
	"objective_c": "objective-c", "obj_c": "objc", "common_lisp": "common-lisp", "shell_session": "shell-session", "pascal": "objectpascal"}

// lexerFor is the lexer for a lower-case language name, nil for plain
// text.
func lexerFor(name string) chroma.Lexer {
	if a, ok := rougeAliases[name]; ok {
		name = a
	}
	switch {
	case name == "liquid":
		return liquidLexer
	case name != "" && name != "plaintext":
		return lexers.Get(name)
	}
	return nil
}

// Highlight tokenises code with chroma and writes it as Rouge's HTML
// formatter does: a span per token with the short class name, plain
// text unwrapped. An unknown language is escaped and left plain.
func Highlight(lang, code string) string {
	name := strings.ToLower(lang)
	if a, ok := rougeAliases[name]; ok {
		name = a
	}
	lexer := lexerFor(name)
	if lexer == nil {
		return escapeCode(code)
	}
	lexer = chroma.Coalesce(lexer)
	// CRs are kept (chroma would make them LFs), as Rouge keeps them.
	it, err := lexer.Tokenise(&chroma.TokeniseOptions{State: "root"}, code)
	if err != nil {
		return escapeCode(code)
	}
	var b strings.Builder
	toks := it.Tokens()
	if cssLike[name] {
		toks = atRules(toks)
	}
	if !strings.HasSuffix(code, "\n") {
		toks = trimAddedLF(toks)
	}
	for _, t := range crlfTokens(toks) {
		if t.Value == "" {
			continue // Rouge yields no empty token
		}
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

// rougeBlock is a fenced code block as kramdown with Rouge writes it;
// a block IAL's attributes go on the outer div in their order, its
// classes between the language's and the highlighter's.
func rougeBlock(lang, code string, attrs []ast.Attribute) string {
	cls := lang
	if cls == "" {
		cls = "plaintext"
	}
	class := "language-" + cls + " highlighter-rouge"
	var b strings.Builder
	b.WriteString("<div")
	hasClass := false
	for _, a := range attrs {
		v, _ := a.Value.([]byte)
		if string(a.Name) == "class" {
			hasClass = true
			b.WriteString(` class="` + escapeText("language-"+cls+" "+string(v)+" highlighter-rouge") + `"`)
			continue
		}
		b.WriteString(" " + string(a.Name) + `="` + escapeText(string(v)) + `"`)
	}
	if !hasClass {
		b.WriteString(` class="` + escapeText(class) + `"`)
	}
	b.WriteString(`><div class="highlight"><pre class="highlight"><code>`)
	b.WriteString(Highlight(lang, code))
	b.WriteString("</code></pre></div></div>")
	return b.String()
}

// escapeCode escapes code as Rouge does: &, < and > only.
func escapeCode(s string) string { return codeEscaper.Replace(s) }

var codeEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// crlfTokens splits the LF off a token (a comment's, commonly) that
// ends in CRLF: Rouge's rules for such tokens end before the LF, so the
// CR stays inside the token's span and the LF follows it.
func crlfTokens(toks []chroma.Token) []chroma.Token {
	var out []chroma.Token
	for i, t := range toks {
		if t.Type == chroma.TextWhitespace || t.Type == chroma.Text || !strings.HasSuffix(t.Value, "\r\n") {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make([]chroma.Token, 0, len(toks)+8), toks[:i]...)
		}
		out = append(out, chroma.Token{Type: t.Type, Value: strings.TrimSuffix(t.Value, "\n")}, chroma.Token{Type: chroma.TextWhitespace, Value: "\n"})
	}
	if out == nil {
		return toks
	}
	return out
}

// trimAddedLF drops the LF chroma's lexers add to code that does not end
// in one; Rouge adds none.
func trimAddedLF(toks []chroma.Token) []chroma.Token {
	for len(toks) > 0 {
		last := &toks[len(toks)-1]
		if last.Value == "" || last.Value == "\n" {
			toks = toks[:len(toks)-1]
			if last.Value == "\n" {
				return toks
			}
			continue
		}
		if strings.HasSuffix(last.Value, "\n") {
			last.Value = strings.TrimSuffix(last.Value, "\n")
		}
		return toks
	}
	return toks
}

// cssLike are the languages whose at-rules Rouge reads as one keyword.
var cssLike = map[string]bool{"css": true, "scss": true, "sass": true, "less": true}

// atRules joins chroma's "@" and the keyword after it (@import, @media)
// into one keyword token, as Rouge's CSS lexers make them: the text a
// page's HTML holds then reads "@import" inside one span, as in Jekyll
// (where a plugin such as jekyll-mentions looks at it).
func atRules(toks []chroma.Token) []chroma.Token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		if toks[i].Value == "@" && i+1 < len(toks) && toks[i+1].Type.InCategory(chroma.Keyword) {
			out = append(out, chroma.Token{Type: toks[i+1].Type, Value: "@" + toks[i+1].Value})
			i++
			continue
		}
		out = append(out, toks[i])
	}
	return out
}
