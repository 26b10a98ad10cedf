package markup

import (
	"sort"
	"strings"

	"github.com/alecthomas/chroma/v2"
)

// CodeLanguages adds to langs the languages that text names for code
// to highlight: the info strings of ``` and ~~~ fences and the first
// argument of Liquid's highlight tag. It is a cheap scan, not a parse:
// a name it finds that is not code costs a lexer compiled for nothing,
// one it misses is compiled when first used, as without it.
func CodeLanguages(text string, langs map[string]bool) {
	for _, mark := range []string{"```", "~~~"} {
		for rest := text; ; {
			i := strings.Index(rest, mark)
			if i < 0 {
				break
			}
			rest = strings.TrimLeft(rest[i:], mark[:1])
			if lang := firstWord(strings.TrimLeft(rest, " \t")); lang != "" {
				langs[strings.ToLower(lang)] = true
			}
		}
	}
	for rest := text; ; {
		i := strings.Index(rest, "highlight")
		if i < 0 {
			break
		}
		before := strings.TrimRight(rest[:i], " \t-")
		rest = rest[i+len("highlight"):]
		if strings.HasSuffix(before, "{%") {
			if lang := firstWord(strings.TrimLeft(rest, " \t")); lang != "" {
				langs[strings.ToLower(lang)] = true
			}
		}
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

// Prewarm loads and compiles the lexers Highlight will use for langs,
// so that the work can run on a core of its own while the site is
// still being prepared; the renders that need a lexer then find it
// compiled (or wait for the compile under way) instead of doing it
// themselves.
func Prewarm(langs map[string]bool) {
	names := make([]string, 0, len(langs))
	for l := range langs {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, name := range names {
		lexer := lexerFor(name)
		if lexer == nil {
			continue
		}
		// Tokenising nothing fetches and compiles the lexer's rules.
		if it, err := lexer.Tokenise(&chroma.TokeniseOptions{State: "root"}, ""); err == nil {
			it.Tokens()
		}
	}
}
