package markup

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/alecthomas/chroma/v2/lexers"
)

var updateConfigs = flag.Bool("update-lexer-configs", false, "rewrite the vendored chroma's configs_gen.go from its XML lexers")

// TestLexerConfigsUpToDate: the lexer configs decoded ahead, which the
// first lexer lookup registers, are what the embedded XML files say
// (run with -update-lexer-configs after changing a lexer).
func TestLexerConfigsUpToDate(t *testing.T) {
	const path = "../../_third_party/chroma/lexers/configs_gen.go"
	want, err := lexers.GenerateConfigs()
	if err != nil {
		t.Fatal(err)
	}
	if *updateConfigs {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what the XML lexers say: go test ./site/markup -run TestLexerConfigsUpToDate -update-lexer-configs", path)
	}
}
