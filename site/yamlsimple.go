package site

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"islet.dev/islet/site/liquid"
)

// simpleYAML reads the front matter most documents have, one line per
// key (key: a plain or quoted string, true, false, null, or a flow
// list of such), without the YAML parser, which costs ten times more.
// ok is false for anything else (an indented line, a number, a date, a
// comment after a value, an anchor, ...): decodeYAML then parses it.
// What it reads, it reads as decodeYAML does (TestSimpleYAML).
func simpleYAML(src []byte) (m *liquid.Map, ok bool) {
	if !utf8.Valid(src) || bytes.ContainsAny(src, "\u0085\u2028\u2029\ufeff") {
		return nil, false // what YAML reads as line breaks or marks
	}
	m = liquid.NewMap()
	for len(src) > 0 {
		var line []byte
		if nl := bytes.IndexByte(src, '\n'); nl >= 0 {
			line, src = src[:nl], src[nl+1:]
		} else {
			line, src = src, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.Trim(line, " ")) == 0 || line[0] == '#' {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !simpleKey(line[:colon]) {
			return nil, false
		}
		key := string(line[:colon])
		rest := line[colon+1:]
		if len(rest) > 0 && rest[0] != ' ' {
			return nil, false
		}
		if _, dup := m.Get(key); dup {
			return nil, false
		}
		v, ok := simpleValue(string(bytes.Trim(rest, " ")), false)
		if !ok {
			return nil, false
		}
		m.Set(key, v)
	}
	if m.Len() == 0 {
		return nil, false // an empty document is nil, not a mapping
	}
	return m, true
}

// simpleKey says k is a bare word YAML reads as itself.
func simpleKey(k []byte) bool {
	for i, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}

// simpleValue reads a value of simpleYAML's kinds; inList is true for an
// item of a flow list.
func simpleValue(v string, inList bool) (any, bool) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return nil, false
		}
	}
	switch {
	case v == "":
		return nil, !inList
	case v[0] == '"':
		inner, ok := strings.CutSuffix(v[1:], `"`)
		return inner, ok && !strings.ContainsAny(inner, `"\`)
	case v[0] == '\'':
		inner, ok := strings.CutSuffix(v[1:], `'`)
		return inner, ok && !strings.Contains(inner, `'`)
	case v[0] == '[' && !inList:
		inner, ok := strings.CutSuffix(v[1:], "]")
		if !ok {
			return nil, false
		}
		list := []any{}
		if strings.Trim(inner, " ") == "" {
			return list, true
		}
		for _, item := range strings.Split(inner, ",") {
			x, ok := simpleValue(strings.Trim(item, " "), true)
			if !ok {
				return nil, false
			}
			list = append(list, x)
		}
		return list, true
	}
	switch v {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	case "null", "Null", "NULL", "~":
		return nil, true
	}
	// A plain string: not starting with what makes it something else
	// (an indicator, a number, a date, a special float), holding no
	// comment, no ": " and (in a list) no flow indicator or colon.
	if strings.IndexByte("-?:,[]{}#&*!|>'\"%@`+.~0123456789 \t", v[0]) >= 0 || v[len(v)-1] == '\t' ||
		strings.Contains(v, ": ") || strings.HasSuffix(v, ":") || strings.Contains(v, " #") || strings.Contains(v, "\t#") ||
		inList && strings.ContainsAny(v, "[]{}:#\"'") {
		return nil, false
	}
	return v, true
}
