package site

import (
	"context"
	"strings"
	"testing"
)

// What islet's Markdown leaves of kramdown's syntax in its output is a
// warning at the file and, when it can tell, the line: a markdown
// attribute nested where islet does not read it, an attribute list it
// found no element for. Code keeps both without a word.
func TestKramdownLeftoversWarned(t *testing.T) {
	page := "---\n---\n<div markdown=\"1\">\n<div class=\"inner\" markdown=\"1\">\n[Link](/x){: .btn }\n</div>\n</div>\n\n" +
		"<details markdown=\"block\">\n  <summary>\n    S\n  </summary>\n  {: .text-delta }\n- a\n</details>\n\n" +
		"```\n<p markdown=\"1\">code</p>\n{: .code }\n```\n"
	out, err := Render(context.Background(), mapFS(map[string]string{"a.md": page}), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range out.Warnings {
		got = append(got, w.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"a.md:4: warning: an element's markdown attribute was not read",
		"a.md:5: warning: an attribute list was written as text",
		"a.md:13: warning: an attribute list was written as text",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d warnings, want 3 (none for the fenced code):\n%s", len(got), all)
	}
}
