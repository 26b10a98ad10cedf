package markup

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

// TestLexerLookup: chroma's copy matches a file name against its
// lexers' globs with a suffix test where a glob is a star and a
// literal; it must find the lexer filepath.Match finds, for names made
// from every glob, with the backup suffixes chroma ignores, and for
// names no glob takes (the language names of fences chroma does not
// know, which it also tries as file names).
func TestLexerLookup(t *testing.T) {
	ignored := []string{"~", ".bak", ".old", ".orig", ".dpkg-dist", ".dpkg-old", ".ucf-dist", ".ucf-new", ".ucf-old",
		".rpmnew", ".rpmorig", ".rpmsave", ".in"}
	lexers.Names(true) // the XML lexers load on the first lookup
	reference := func(name string) chroma.Lexer {
		name = filepath.Base(name)
		for _, aliases := range []bool{false, true} {
			var matched chroma.PrioritisedLexers
			for _, l := range lexers.GlobalLexerRegistry.Lexers {
				globs := l.Config().Filenames
				if aliases {
					globs = l.Config().AliasFilenames
				}
				for _, g := range globs {
					for _, suf := range append([]string{""}, ignored...) {
						if ok, _ := filepath.Match(g+suf, name); ok {
							matched = append(matched, l)
							break
						}
					}
				}
			}
			if len(matched) > 0 {
				sort.Sort(matched)
				return matched[0]
			}
		}
		return nil
	}
	names := []string{"mermaid", "filename.mermaid", "some_language", "a", "filename.a", "x.tar.in", "Makefile", "makefile.bak",
		"CMakeLists.txt", "x.h", "x.hpp~", "", "*", "x.go.orig", ".bashrc", "PKGBUILD", "x.[ch]"}
	globs := 0
	for _, l := range lexers.GlobalLexerRegistry.Lexers {
		for _, g := range append(l.Config().Filenames, l.Config().AliasFilenames...) {
			// every glob, with one of the variants in turn: the
			// reference is slow
			n := nameFor(g)
			names = append(names, []string{n, n + ".bak", "filename." + n, strings.TrimPrefix(n, "name")}[globs%4])
			globs++
		}
	}
	for _, n := range names {
		got, want := lexers.Match(n), reference(n)
		if got != want {
			t.Errorf("Match(%q) = %v, want %v", n, got, want)
		}
	}
	if globs < 500 {
		t.Errorf("only %d globs: the registry's XML lexers are missing", globs)
	}
}

// nameFor is a file name the glob g matches: "name" for a star, the
// first character of a class.
func nameFor(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case '*':
			b.WriteString("name")
		case '?':
			b.WriteByte('q')
		case '[':
			end := strings.IndexByte(g[i:], ']')
			if end < 2 || g[i+1] == '!' || g[i+1] == '^' {
				b.WriteByte('Z')
			} else {
				b.WriteByte(g[i+1])
			}
			if end > 0 {
				i += end
			}
		default:
			b.WriteByte(g[i])
		}
	}
	return b.String()
}
