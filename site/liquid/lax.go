package liquid

import (
	"regexp"
	"strings"
)

// Ruby Liquid's lax parser, as Jekyll falls back on it (error_mode:
// warn) when the strict parser rejects a condition: the markup is cut
// into quoted fragments, and a fragment that is no expression is read
// as a variable made of the names in it ({{include.url}} is
// include.url).
var (
	laxFragment = regexp.MustCompile(`"[^"]*"|'[^']*'|(?:[^\s,|'"]|"[^"]*"|'[^']*')+`)
	laxName     = regexp.MustCompile(`\[[^\]]+\]|[\w-]+\??`)
	laxKeyword  = map[string]bool{"and": true, "or": true, "contains": true, "==": true, "!=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true}
)

// laxCondition rewrites a condition the strict parser rejected as Ruby
// Liquid's lax parser reads it; false when that changes nothing.
func laxCondition(markup string) (string, bool) {
	var parts []string
	changed := false
	for _, f := range laxFragment.FindAllString(markup, -1) {
		if laxKeyword[f] {
			parts = append(parts, f)
			continue
		}
		if p, err := newParser(f); err == nil {
			if _, err := p.expression(); err == nil {
				if _, err := p.consume(tEnd); err == nil {
					parts = append(parts, f)
					continue
				}
			}
		}
		changed = true
		names := laxName.FindAllString(f, -1)
		if len(names) == 0 {
			parts = append(parts, "nil")
			continue
		}
		var b strings.Builder
		for i, n := range names {
			if i > 0 && !strings.HasPrefix(n, "[") {
				b.WriteByte('.')
			}
			b.WriteString(n)
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " "), changed
}
