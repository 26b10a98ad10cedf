package site

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// yamlParsed is decodeYAML without its simple path.
func yamlParsed(src []byte) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 {
		return nil, nil
	}
	return fromNode("x", 1, &n)
}

// TestSimpleYAML: whatever simpleYAML reads, the YAML parser reads the
// same, over chosen front matter and generated front matter made of
// the pieces that trip YAML up; and it does read the common forms.
func TestSimpleYAML(t *testing.T) {
	mustRead := []string{
		"title: Hello, world\nlayout: post\n",
		"title: \"Quoted: yes\"\ntags: [a, b c, 'd']\npublished: false\nempty:\nnone: ~\n",
		"# comment\n\ntitle: x:y http://z C#\r\ncats: []\n",
	}
	values := []string{"", "x", "Hello world", "true", "True", "TRUE", "false", "null", "Null", "~", "yes", "no", "on", "Off", "y", "n",
		"1", "-1", "+1", "0x1F", "1.5", ".5", ".inf", "-.inf", ".nan", "2024-01-02", "2024-01-02 03:04:05", "12:30",
		"a: b", "a:b", "a:", "a #b", "a#b", "#a", "-a", "- a", "?a", ":sym", ",a", "[a", "a]", "{a: b}", "&a x", "*a", "!t x", "|", ">", "%a", "@a", "`a",
		"'s'", "'it''s'", "'a", "\"d\"", "\"a\\nb\"", "\"a", "\"a\" b", "[a, b]", "[]", "[ ]", "[a,]", "[a, [b]]", "[true, null, 1, x]", "['a, b', c]", "[\"q\"]",
		"a\tb", "a\t", "\ta", "é ü", "<<", "=", "\x01", "a  b", "[a: b]", "[a#b]", "[a #b]", "[~, y]"}
	keys := []string{"title", "tags", "a_b", "a-b", "x1", "true", "y", "<<", "1a", "a b", "-a", "a:b", "_k", "Key"}
	var docs []string
	docs = append(docs, mustRead...)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			switch rng.IntN(12) {
			case 0:
				b.WriteString("# note\n")
			case 1:
				b.WriteString("\n")
			case 2:
				b.WriteString("  " + keys[rng.IntN(len(keys))] + ": x\n")
			default:
				sep := []string{": ", ":", ":  ", ": \t"}[rng.IntN(4)]
				b.WriteString(keys[rng.IntN(len(keys))] + sep + values[rng.IntN(len(values))] + []string{"\n", "\r\n", " \n", ""}[rng.IntN(4)])
			}
		}
		docs = append(docs, b.String())
	}
	read := 0
	for i, doc := range docs {
		got, ok := simpleYAML([]byte(doc))
		if !ok {
			if i < len(mustRead) {
				t.Errorf("simpleYAML does not read %q", doc)
			}
			continue
		}
		read++
		want, err := yamlParsed([]byte(doc))
		if err != nil {
			t.Errorf("simpleYAML reads %q, which YAML refuses: %v", doc, err)
			continue
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Errorf("simpleYAML(%q) = %s, YAML reads %s", doc, dump(got), dump(want))
		}
	}
	if read < 500 {
		t.Errorf("simpleYAML read only %d of %d documents", read, len(docs))
	}
}

func dump(v any) string { return fmt.Sprintf("%#v", v) }

// FuzzSimpleYAML: what simpleYAML reads, YAML reads the same.
func FuzzSimpleYAML(f *testing.F) {
	for _, s := range []string{"title: a\ntags: [x, 'y']\n", "a: \"b\"\r\nc:\n", "a: true\nb: ~\n# c\n", "k: v # c\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got, ok := simpleYAML([]byte(doc))
		if !ok {
			return
		}
		want, err := yamlParsed([]byte(doc))
		if err != nil {
			t.Fatalf("simpleYAML reads %q, which YAML refuses: %v", doc, err)
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Fatalf("simpleYAML(%q) = %s, YAML reads %s", doc, dump(got), dump(want))
		}
	})
}
