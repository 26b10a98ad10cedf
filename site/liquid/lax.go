package liquid

import (
	"regexp"
	"strings"
	"sync"
)

// Ruby Liquid's lax parser, as Jekyll falls back on it (error_mode:
// warn) when the strict parser rejects a condition: the markup is cut
// into quoted fragments, and a fragment that is no expression is read
// as a variable made of the names in it ({{include.url}} is
// include.url).
var (
	laxFragment = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`"[^"]*"|'[^']*'|(?:[^\s,|'"]|"[^"]*"|'[^']*')+`)
	})
	laxName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\[[^\]]+\]|[\w-]+\??`)
	})
	laxKeyword = map[string]bool{"and": true, "or": true, "contains": true, "==": true, "!=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true}
)

// laxCondition rewrites a condition the strict parser rejected as Ruby
// Liquid's lax parser reads it; false when that changes nothing.
func laxCondition(markup string) (string, bool) {
	var parts []string
	changed := false
	for _, f := range laxFragment().FindAllString(markup, -1) {
		if laxKeyword[f] {
			parts = append(parts, f)
			continue
		}
		if _, ok := laxExpression(f); ok {
			parts = append(parts, f)
			continue
		}
		changed = true
		names := laxName().FindAllString(f, -1)
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

var (
	// Ruby Liquid's For::Syntax and TagAttributes, its QuotedFragment
	// spelt out.
	laxFor = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\A\s*(\[[^\]]+\]|[\w-]+\??)\s+in\s+((?:"[^"]*"|'[^']*'|[^\s,|'"])+)\s*(reversed)?`)
	})
	laxAttribute = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(\w[\w-]*)\s*:\s*((?:"[^"]*"|'[^']*'|[^\s,|'"])+)`)
	})
)

// laxForLoop is a for tag's header as Ruby Liquid's lax parser reads it.
type laxForLoop struct {
	node   *forNode
	markup string // the header as it was read, for the warning
}

// laxForHeader reads a for tag's markup the strict parser rejected as
// Ruby Liquid's lax parser does: the variable, "in" and the collection
// up to the first space, comma or pipe, then reversed; limit and
// offset wherever they appear as name: value, other such pairs
// ignored. False when even that does not read it.
func laxForHeader(markup string) (laxForLoop, bool) {
	m := laxFor().FindStringSubmatch(markup)
	if m == nil {
		return laxForLoop{}, false
	}
	coll, ok := laxExpression(m[2])
	if !ok {
		return laxForLoop{}, false
	}
	n := &forNode{variable: m[1], collection: coll, name: m[1] + "-" + m[2], reversed: m[3] != ""}
	read := []string{m[1], "in", m[2]}
	if n.reversed {
		read = append(read, "reversed")
	}
	for _, a := range laxAttribute().FindAllStringSubmatch(markup, -1) {
		switch a[1] {
		case "offset":
			if a[2] == "continue" {
				n.continued = true
				read = append(read, "offset: continue")
				continue
			}
			if n.offset, ok = laxExpression(a[2]); !ok {
				return laxForLoop{}, false
			}
		case "limit":
			if n.limit, ok = laxExpression(a[2]); !ok {
				return laxForLoop{}, false
			}
		default:
			continue
		}
		read = append(read, a[1]+": "+a[2])
	}
	return laxForLoop{node: n, markup: strings.Join(read, " ")}, true
}

// laxExpression parses one fragment as an expression.
func laxExpression(fragment string) (expr, bool) {
	p, err := newParser(fragment)
	if err != nil {
		return nil, false
	}
	e, err := p.expression()
	if err != nil {
		return nil, false
	}
	if _, err := p.consume(tEnd); err != nil {
		return nil, false
	}
	return e, true
}
