//go:build cgo

package site

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestSassMemo: stylesheets whose input differs by leading blank lines
// only are compiled once, and each comes out as its own compile does,
// CSS and source map byte for byte.
func TestSassMemo(t *testing.T) {
	body := "@import \"base\";\n@import \"more\";\n// a comment\n/* kept */\nh1 { .x & { color: darken($accent, 10%); } content: \"é\"; }\n"
	common := map[string]string{
		"_sass/_base.scss": "$accent: #c00;\n%box { padding: 1px; }\n.note { color: $accent; }\n",
		"_sass/_more.scss": ".more { @extend %box; margin: 0; }\n",
		"s/_more.scss":     ".more { margin: 1px; }\n",
	}
	sheets := map[string]string{
		"css/a.scss": "---\n---\n" + body,
		"css/b.scss": "---\n---\n\n" + body,
		"css/c.scss": "---\n---\n{% comment %}three blank lines from Liquid{% endcomment %}\n\n\n" + body,
		"css/d.scss": "---\n---\n\n\n" + body + "p { margin: 0; }\n", // another input
		"s/a.scss":   "---\n---\n" + body,                            // the same, but more is s/_more.scss there
	}
	render := func(t *testing.T, sheets map[string]string) (map[string]string, string) {
		t.Helper()
		files := map[string]string{}
		for k, v := range common {
			files[k] = v
		}
		for k, v := range sheets {
			files[k] = v
		}
		var log bytes.Buffer
		out, err := Render(context.Background(), mapFS(files), Options{}, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range out.Paths() {
			b, err := out.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			got[p] = string(b)
		}
		return got, log.String()
	}
	all, log := render(t, sheets)
	if n := strings.Count(log, "its result reused"); n != 2 {
		t.Errorf("%d results reused, want 2 (b and c from a, or the like):\n%s", n, log)
	}
	for name, src := range sheets {
		alone, _ := render(t, map[string]string{name: src})
		css := strings.TrimSuffix(name, ".scss") + ".css"
		for _, p := range []string{css, css + ".map"} {
			if alone[p] == "" {
				t.Fatalf("%s: no %s", name, p)
			}
			if all[p] != alone[p] {
				t.Errorf("%s beside the others:\n%s\ncompiled alone:\n%s", p, all[p], alone[p])
			}
		}
	}
}
