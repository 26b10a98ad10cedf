package lexers

import (
	"embed"
	"sync"

	"github.com/alecthomas/chroma/v2"
)

//go:embed embedded
var embedded embed.FS

// GlobalLexerRegistry is the global LexerRegistry of Lexers. The
// lexers defined in Go register at init; the embedded XML lexers are
// added by the first call of a function of this package that looks
// one up (loadXML): decoding their 279 configs, 20-40 ms, was paid by
// every program linking this package at start, then by its first
// lookup; they are decoded ahead now (configs_gen.go).
var GlobalLexerRegistry = chroma.NewLexerRegistry()

var xmlOnce sync.Once

// registeredEarly holds the lexers registered through Register before
// the XML lexers were loaded.
var registeredEarly []chroma.Lexer

// loadXML registers the embedded XML lexers, once, and then the
// analysers written in Go for some of them. Their configs come decoded
// ahead from configs_gen.go; each one's rules are read from its file
// when it is first used.
func loadXML() {
	xmlOnce.Do(func() {
		for i := range xmlConfigs {
			config := xmlConfigs[i].config
			GlobalLexerRegistry.Register(chroma.MustNewXMLLexerWithConfig(embedded, xmlConfigs[i].path, &config))
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
