package markup

import (
	"context"
	"sort"
	"strings"

	"github.com/alecthomas/chroma/v2"
	"islet.dev/islet/internal/pool"
)

// maxPrewarmCode bounds the code per language that Prewarm tokenises.
const maxPrewarmCode = 4 << 10

// CodeSnippets adds to code the code that text holds for highlighting,
// by language: the bodies of ``` and ~~~ fences with an info string,
// and of Liquid's highlight tags. It is a cheap scan, not a parse: code
// it takes that is not code, or misses, costs time, never output.
func CodeSnippets(text string, code map[string][]string) {
	add := func(lang, body string) {
		lang = strings.ToLower(lang)
		have := 0
		for _, c := range code[lang] {
			have += len(c)
		}
		if have+len(body) > maxPrewarmCode {
			body = body[:max(0, maxPrewarmCode-have)]
		}
		code[lang] = append(code[lang], body)
	}
	for _, mark := range []string{"```", "~~~"} {
		for rest := text; ; {
			i := strings.Index(rest, mark)
			if i < 0 {
				break
			}
			rest = strings.TrimLeft(rest[i:], mark[:1])
			lang := firstWord(strings.TrimLeft(rest, " \t"))
			if lang == "" {
				continue
			}
			nl := strings.IndexByte(rest, '\n')
			if nl < 0 {
				add(lang, "")
				break
			}
			rest = rest[nl+1:]
			end := strings.Index(rest, mark)
			if end < 0 {
				end = len(rest)
			}
			add(lang, rest[:end])
			rest = strings.TrimLeft(rest[end:], mark[:1]) // the closing fence
		}
	}
	for rest := text; ; {
		i := strings.Index(rest, "highlight")
		if i < 0 {
			break
		}
		before := strings.TrimRight(rest[:i], " \t-")
		rest = rest[i+len("highlight"):]
		if !strings.HasSuffix(before, "{%") {
			continue
		}
		lang := firstWord(strings.TrimLeft(rest, " \t"))
		if lang == "" {
			continue
		}
		body := ""
		if open := strings.Index(rest, "%}"); open >= 0 {
			body = rest[open+2:]
			if end := strings.Index(body, "endhighlight"); end >= 0 {
				body = strings.TrimSuffix(strings.TrimRight(body[:end], " \t-"), "{%")
			}
		}
		add(lang, body)
	}
}

// firstWord is s up to the first byte that cannot be in a language
// name, or "" when s starts with a space or a line end.
func firstWord(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '{' || r == '}' || r == '%' || r == '`' || r == '~'
	})
	if end < 0 {
		end = len(s)
	}
	return s[:end]
}

// Prewarm loads the lexers Highlight will use and tokenises the code
// given for each, so that the rules it tries are compiled (a lexer
// compiles each rule the first time a lex tries it) on cores of their
// own, a language at a time on each, while the site is still being
// prepared: the renders that highlight then find them compiled, or
// wait for the compile under way, instead of doing it themselves.
func Prewarm(code map[string][]string) {
	names := make([]string, 0, len(code))
	for l := range code {
		names = append(names, l)
	}
	sort.Strings(names)
	pool.Each(context.Background(), len(names), 0, func(i int) error {
		lexer := lexerFor(names[i])
		if lexer == nil {
			return nil
		}
		for _, c := range code[names[i]] {
			if it, err := lexer.Tokenise(&chroma.TokeniseOptions{State: "root"}, c); err == nil {
				it.Tokens()
			}
		}
		return nil
	})
}
