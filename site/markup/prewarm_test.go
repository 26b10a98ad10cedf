package markup

import (
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

func TestCodeSnippets(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string][]string
	}{
		{"backtick fence", "a\n\n```ruby\nputs 1\n```\n", map[string][]string{"ruby": {"puts 1\n"}}},
		{"tilde fence with space and IAL", "~~~ Python {.x}\npass\n~~~\n", map[string][]string{"python": {"pass\n"}}},
		{"long fence", "````go\nx\n````\n", map[string][]string{"go": {"x\n"}}},
		{"fence without language", "```\nplain\n```\n", map[string][]string{}},
		{"highlight tag", "{% highlight yaml linenos %}\na: 1\n{% endhighlight %}", map[string][]string{"yaml": {"\na: 1\n"}}},
		{"highlight tag trimmed", "{%- highlight  js -%}x{%- endhighlight -%}", map[string][]string{"js": {"x"}}},
		{"highlight as a word", "to highlight text, {{ highlight }}", map[string][]string{}},
		{"several", "```c\n```\n{% highlight bash %}ls{% endhighlight %}\n~~~css\na{}\n~~~\n```c\nint x;\n```", map[string][]string{"bash": {"ls"}, "c": {"", "int x;\n"}, "css": {"a{}\n"}}},
		{"CRLF", "```sh\r\nls\r\n```\r\n", map[string][]string{"sh": {"ls\r\n"}}},
		{"unclosed", "```Ruby\nputs 1\n", map[string][]string{"ruby": {"puts 1\n"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][]string{}
			CodeSnippets(tc.text, got)
			if !maps.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("CodeSnippets(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestPrewarmCompiles: Prewarm compiles the rules that highlighting the
// code it is given tries, so that the highlighting compiles none.
//
// Lexers are shared by the whole process, and other tests compile
// their rules: the test runs in a process of its own.
func TestPrewarmCompiles(t *testing.T) {
	if os.Getenv("ISLET_TEST_PREWARM") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrewarmCompiles$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "ISLET_TEST_PREWARM=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestPrewarmCompiles") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	code := map[string]string{
		"haskell": "main :: IO ()\nmain = putStrLn \"hi\" -- a comment\n",
		"elixir":  "defmodule Hi do\n  def hi, do: IO.puts(\"hi\") # a comment\nend\n",
		"ocaml":   "let () = print_endline \"hi\" (* a comment *)\n",
	}
	lexers := map[string]*chroma.RegexLexer{}
	warm := map[string][]string{}
	for lang, c := range code {
		l, ok := lexerFor(lang).(*chroma.RegexLexer)
		if !ok {
			t.Fatalf("the %s lexer is a %T", lang, lexerFor(lang))
		}
		if n := l.CompiledRuleCount(); n != 0 {
			t.Fatalf("%s: %d rules compiled before Prewarm", lang, n)
		}
		lexers[lang], warm[lang] = l, []string{c}
	}
	Prewarm(warm) // the languages on every core
	for lang, l := range lexers {
		before := l.CompiledRuleCount()
		if before == 0 {
			t.Errorf("%s: Prewarm compiled no rule", lang)
			continue
		}
		Highlight(lang, code[lang])
		if after := l.CompiledRuleCount(); after != before {
			t.Errorf("%s: highlighting compiled %d rules after Prewarm", lang, after-before)
		}
	}
}

// TestPrewarmSameOutput highlights code in lexers compiled ahead by
// Prewarm, in lexers compiled by the first Highlight, and in the Go
// lexer (written in Go, registered before the XML ones are loaded):
// the classes Rouge would give come out either way.
func TestPrewarmSameOutput(t *testing.T) {
	Prewarm(map[string][]string{"ruby": {"def f\n  1\nend\n"}, "unknown-language": {"x"}})
	for _, tc := range []struct{ lang, code, want string }{
		{"ruby", "def f\n  1\nend\n", `<span class="k">def</span> <span class="nf">f</span>`},
		{"yaml", "a: 1\n", `<span class="nt">a</span><span class="p">:</span> <span class="m">1</span>`},
		{"go", "package main\n", `<span class="kn">package</span> <span class="nx">main</span>`},
		{"unknown-language", "x < y\n", "x &lt; y"},
	} {
		if got := Highlight(tc.lang, tc.code); !strings.Contains(got, tc.want) {
			t.Errorf("Highlight(%q, %q) = %q, want it to hold %q", tc.lang, tc.code, got, tc.want)
		}
	}
	if l := lexers.Get("go"); l == nil || l.Config().Name != "Go" {
		t.Errorf(`lexers.Get("go") = %v, want the lexer named Go`, l)
	}
}

// TestCodeSnippetsBound: what Prewarm lexes per language is bounded;
// the renders lex the rest.
func TestCodeSnippetsBound(t *testing.T) {
	block := "```go\n" + strings.Repeat("x := 1\n", maxPrewarmCode/7) + "```\n"
	code := map[string][]string{}
	CodeSnippets(block+block+block, code)
	total := 0
	for _, c := range code["go"] {
		total += len(c)
	}
	if total != maxPrewarmCode {
		t.Errorf("%d octets of Go kept for prewarming, want %d", total, maxPrewarmCode)
	}
}
