package lexers

import (
	"embed"
	"io/fs"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/alecthomas/chroma/v2"
)

//go:embed embedded
var embedded embed.FS

// GlobalLexerRegistry is the global LexerRegistry of Lexers. The
// lexers defined in Go register at init; the embedded XML lexers are
// added by the first call of a function of this package that looks
// one up (loadXML): decoding their 279 configs costs about 20 ms, which
// every program linking this package paid at start before.
var GlobalLexerRegistry = chroma.NewLexerRegistry()

var xmlOnce sync.Once

// registeredEarly holds the lexers registered through Register before
// the XML lexers were loaded.
var registeredEarly []chroma.Lexer

// loadXML registers the embedded XML lexers, once, and then the
// analysers written in Go for some of them.
func loadXML() {
	xmlOnce.Do(func() {
		paths, err := fs.Glob(embedded, "embedded/*.xml")
		if err != nil {
			panic(err)
		}
		// Decoding the configs is most of the cost: it is shared out
		// over the cores, and the lexers registered in path order.
		loaded := make([]chroma.Lexer, len(paths))
		var next atomic.Int64
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
					loaded[i] = chroma.MustNewXMLLexer(embedded, paths[i])
				}
			}()
		}
		wg.Wait()
		for _, l := range loaded {
			GlobalLexerRegistry.Register(l)
		}
		// Lexers written in Go take precedence over XML ones of the
		// same name or alias, as when the XML ones were registered
		// first at init.
		for _, l := range registeredEarly {
			GlobalLexerRegistry.Register(l)
		}
		setDNSAnalyser()
		setMySQLAnalyser()
		setZedAnalyser()
	})
}

// Names of all lexers, optionally including aliases.
func Names(withAliases bool) []string {
	loadXML()
	return GlobalLexerRegistry.Names(withAliases)
}

// Aliases of all the lexers, and skip those lexers who do not have any aliases,
// or show their name instead
func Aliases(skipWithoutAliases bool) []string {
	loadXML()
	return GlobalLexerRegistry.Aliases(skipWithoutAliases)
}

// Get a Lexer by name, alias or file extension.
//
// Note that this if there isn't an exact match on name or alias, this will
// call Match(), so it is not efficient.
func Get(name string) chroma.Lexer {
	loadXML()
	return GlobalLexerRegistry.Get(name)
}

// MatchMimeType attempts to find a lexer for the given MIME type.
func MatchMimeType(mimeType string) chroma.Lexer {
	loadXML()
	return GlobalLexerRegistry.MatchMimeType(mimeType)
}

// Match returns the first lexer matching filename.
//
// Note that this iterates over all file patterns in all lexers, so it's not
// particularly efficient.
func Match(filename string) chroma.Lexer {
	loadXML()
	return GlobalLexerRegistry.Match(filename)
}

// Register a Lexer with the global registry.
func Register(lexer chroma.Lexer) chroma.Lexer {
	registeredEarly = append(registeredEarly, lexer)
	return GlobalLexerRegistry.Register(lexer)
}

// Analyse text content and return the "best" lexer..
func Analyse(text string) chroma.Lexer {
	loadXML()
	return GlobalLexerRegistry.Analyse(text)
}

// PlaintextRules is used for the fallback lexer as well as the explicit
// plaintext lexer.
func PlaintextRules() chroma.Rules {
	return chroma.Rules{
		"root": []chroma.Rule{
			{`.+`, chroma.Text, nil},
			{`\n`, chroma.Text, nil},
		},
	}
}

// Fallback lexer if no other is found.
var Fallback chroma.Lexer = chroma.MustNewLexer(&chroma.Config{
	Name:      "fallback",
	Filenames: []string{"*"},
	Priority:  -1,
}, PlaintextRules)
