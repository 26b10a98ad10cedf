package markup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	"islet.dev/islet/internal/pool"
)

// TestFirstCharFilter: a lex skips the rules whose regexp cannot start
// with the rune at hand (chroma's copy, regexp.go). Every lexer, over
// code in several languages, gives the same tokens as a lex that tries
// every rule.
func TestFirstCharFilter(t *testing.T) {
	files, err := filepath.Glob("testdata/lexcorpus/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var texts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	lexers.Names(false) // loads the embedded lexers
	all := append(slices.Clone(lexers.GlobalLexerRegistry.Lexers), liquidLexer)
	if len(all) < 250 {
		t.Fatalf("%d lexers registered, want the embedded ones too", len(all))
	}
	// Each lexer lexes three of the texts (in turn, so that every text
	// meets every kind of lexer); the lexers of the corpus's own
	// languages lex them all. Under the race detector the whole product
	// takes a minute.
	own := map[string]bool{"Go": true, "Ruby": true, "Python": true, "HTML": true, "JavaScript": true, "CSS": true,
		"SQL": true, "Bash": true, "YAML": true, "TOML": true, "JSON": true, "C": true, "Liquid": true}
	var tokens atomic.Int64
	pool.Each(context.Background(), len(all), 0, func(k int) error {
		l := all[k]
		for i, text := range texts {
			if !own[l.Config().Name] && i != k%len(texts) && i != (k+3)%len(texts) && i != (k+7)%len(texts) {
				continue
			}
			want, errWant := lexTokens(l, text, true)
			got, errGot := lexTokens(l, text, false)
			if fmt.Sprint(errWant) != fmt.Sprint(errGot) || !slices.Equal(got, want) {
				t.Errorf("%s over %s: filtered lex differs from trying every rule (errors %v, %v; %d and %d tokens)",
					l.Config().Name, filepath.Base(files[i]), errGot, errWant, len(got), len(want))
			}
			tokens.Add(int64(len(want)))
		}
		return nil
	})
	if n := tokens.Load(); n < 50000 {
		t.Errorf("only %d tokens compared", n)
	}
	for name := range own {
		if lexerFor(strings.ToLower(name)) == nil {
			t.Errorf("no lexer %s", name)
		}
	}
}

// lexTokens lexes text whole; a lexer that panics (chroma's emitters
// do on a missing sub-lexer) gives an error.
func lexTokens(l chroma.Lexer, text string, every bool) (toks []chroma.Token, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	it, err := l.Tokenise(&chroma.TokeniseOptions{State: "root", EveryRule: every}, text)
	if err != nil {
		return nil, err
	}
	return it.Tokens(), nil
}

// TestLexEnds: a rule that matches nothing and keeps the state (as
// JSONata's last one does on a backslash) no longer lexes forever; the
// rune is an error token and the lex goes on.
func TestLexEnds(t *testing.T) {
	l := lexerFor("jsonata")
	if l == nil {
		t.Fatal("no JSONata lexer")
	}
	done := make(chan []chroma.Token, 1)
	go func() {
		toks, _ := lexTokens(l, `$a \ b`, false)
		done <- toks
	}()
	select {
	case toks := <-done:
		var text strings.Builder
		sawError := false
		for _, tok := range toks {
			text.WriteString(tok.Value)
			sawError = sawError || (tok.Type == chroma.Error && tok.Value == `\`)
		}
		if text.String() != `$a \ b` || !sawError {
			t.Errorf("tokens %v: want the text back, the backslash an error", toks)
		}
		if got, want := Highlight("jsonata", `$a \ b`), `<span class="nv">$a</span> <span class="err">\</span> <span class="n">b</span>`; got != want {
			t.Errorf("highlighted\n%s\nwant\n%s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lex of JSONata over a backslash does not end")
	}
}
