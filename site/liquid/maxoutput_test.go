package liquid

import (
	"strings"
	"testing"
)

// TestMaxOutput: a render that would write more than MaxOutput bytes
// fails at the output that crosses it, whether it is written out,
// captured, or captured by a capture that appends to itself (whose
// value so far counts with what its body writes).
func TestMaxOutput(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		fails     bool
	}{
		{"output", "{% for i in (1..40) %}{{ s }}{% endfor %}", true},
		{"under", "{% for i in (1..3) %}{{ s }}{% endfor %}", false},
		{"capture", "{% capture c %}{% for i in (1..40) %}{{ s }}{% endfor %}{% endcapture %}", true},
		{"appending", "{% for i in (1..40) %}{% capture c %}{{ c }}{{ s }}{% endcapture %}{% endfor %}", true},
		{"appending under", "{% for i in (1..3) %}{% capture c %}{{ c }}{{ s }}{% endcapture %}{% endfor %}{{ c | size }}", false},
		{"appending once", "{% assign c = big %}{% capture c %}{{ c }}{{ s }}{% endcapture %}", true},
		{"appending value", "{% for i in (1..40) %}{% capture c %}{{ c }}x{{ s | size }}{% endcapture %}{% assign c = c | append: s %}{% endfor %}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New()
			e.MaxOutput = 1000
			tpl, err := e.Parse("t", tc.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.Render(e, map[string]any{"s": strings.Repeat("x", 100), "big": strings.Repeat("x", 950)}, nil)
			if tc.fails && (err == nil || !strings.Contains(err.Error(), "output larger than 1000 bytes")) {
				t.Errorf("err %v, want output larger than 1000 bytes", err)
			}
			if !tc.fails && err != nil {
				t.Errorf("err %v", err)
			}
		})
	}
}
