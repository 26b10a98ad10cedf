package liquid

import (
	"testing"
)

// FuzzTemplate: any source either fails to parse with an error or
// renders (or fails) without panicking.
func FuzzTemplate(f *testing.F) {
	for _, c := range cases {
		f.Add(c.src)
	}
	f.Add("{% if {{a}} and {{h.k}} > 1 %}x{% elsif {{[s]}} %}y{% endif %}")
	f.Fuzz(func(t *testing.T, src string) {
		e := New()
		e.MaxOutput = 1 << 20
		e.Partial = func(name string) (*Template, error) { return e.Parse(name, "{{ x }}") }
		e.Warn = func(string, int, string) {} // the lax reading of conditions too
		tpl, err := e.Parse("f", src)
		if err != nil {
			return
		}
		tpl.Render(e, map[string]any{"a": []any{1, "b", nil}, "h": map[string]any{"k": 1.5}, "s": "str"}, nil)
	})
}
