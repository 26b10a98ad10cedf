package site

import (
	"strings"
)

// Two stylesheets of a site often compile the same Sass: a theme's
// default and its light scheme render the same imports, one of them
// after a Liquid tag's line, so that they differ by a leading blank
// line only (just-the-docs' default and light sheets: a whole
// framework compiled twice). libsass's CSS does not depend on blank
// lines before the first statement, and its source map only by the
// lines it gives the input file, so the second is made from the
// first's result, not compiled again.

// sassMemoKey is what a compile's result depends on, besides its file
// names and its input's leading newlines.
type sassMemoKey struct {
	dir, ext, style string // ext: .scss or .sass, which picks the syntax
	sourceMap       bool
	body            string // the input after its leading newlines
}

// sassMemoEntry is a compile's result and the names and leading
// newlines it was compiled with.
type sassMemoEntry struct {
	css, sourceMap string
	base, input    string // "main" and "main.scss" for css/main.scss
	newlines       int
}

// leadingNewlines splits s into the count of its leading "\n" and the
// rest.
func leadingNewlines(s string) (int, string) {
	rest := strings.TrimLeft(s, "\n")
	return len(s) - len(rest), rest
}

// plainName says whether a file name is written as it is in libsass's
// source map and sourceMappingURL comment: no character JSON or a URL
// would escape.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// derive is e's result as a compile of the same input under other
// names (base, input) with newlines leading newlines would give it;
// ok false when e's output is not in the form this knows how to
// rewrite, and the input must be compiled.
func (e *sassMemoEntry) derive(base, input string, newlines int) (css, sourceMap string, ok bool) {
	if e.sourceMap == "" {
		// compiled without a map, unless libsass gave none
		return e.css, "", !strings.Contains(e.css, "sourceMappingURL=")
	}
	if !plainName(base) || !plainName(input) || !plainName(e.base) || !plainName(e.input) {
		return "", "", false
	}
	oldURL := "/*# sourceMappingURL=" + e.base + ".css.map */"
	body, found := strings.CutSuffix(e.css, oldURL)
	if !found {
		return "", "", false
	}
	css = body + "/*# sourceMappingURL=" + base + ".css.map */"
	m := e.sourceMap
	m, ok = replaceOnce(m, `"file": "`+e.base+`.css"`, `"file": "`+base+`.css"`)
	if !ok {
		return "", "", false
	}
	m, ok = replaceFirstItem(m, `"sources": [`, `"`+e.input+`"`, `"`+input+`"`)
	if !ok {
		return "", "", false
	}
	m, ok = replaceFirstItem(m, `"sourcesContent": [`, `"`+strings.Repeat(`\n`, e.newlines), `"`+strings.Repeat(`\n`, newlines))
	if !ok {
		return "", "", false
	}
	const key = `"mappings": "`
	i := strings.Index(m, key)
	if i < 0 {
		return "", "", false
	}
	i += len(key)
	j := strings.IndexByte(m[i:], '"')
	if j < 0 {
		return "", "", false
	}
	shifted, ok := shiftSourceLines(m[i:i+j], 0, newlines-e.newlines)
	if !ok {
		return "", "", false
	}
	return css, m[:i] + shifted + m[i+j:], true
}

// replaceOnce replaces old by new in s, which must hold old exactly
// once.
func replaceOnce(s, old, new string) (string, bool) {
	if strings.Count(s, old) != 1 {
		return s, false
	}
	return strings.Replace(s, old, new, 1), true
}

// replaceFirstItem replaces the start of the first item of the JSON
// array that opens with open, which must start with old, by new.
func replaceFirstItem(s, open, old, new string) (string, bool) {
	if strings.Count(s, open) != 1 {
		return s, false
	}
	i := strings.Index(s, open) + len(open)
	item := strings.TrimLeft(s[i:], " \t\r\n")
	if !strings.HasPrefix(item, old) {
		return s, false
	}
	at := len(s) - len(item)
	return s[:at] + new + s[at+len(old):], true
}

// shiftSourceLines moves by delta the source lines of the segments of
// a source map's mappings (version 3: Base64 VLQ, every field after
// the first relative to the segment before) that point into the
// source of index src; ok false when mappings does not decode.
func shiftSourceLines(mappings string, src, delta int) (string, bool) {
	if delta == 0 {
		return mappings, true
	}
	var out strings.Builder
	out.Grow(len(mappings) + len(mappings)/8)
	var in, was [4]int // source, line, column, name: absolute, as read and as written
	var f [5]int
	for pos := 0; pos < len(mappings); {
		switch mappings[pos] {
		case ';', ',':
			out.WriteByte(mappings[pos])
			pos++
			continue
		}
		n := 0
		for pos < len(mappings) && mappings[pos] != ',' && mappings[pos] != ';' {
			if n == len(f) {
				return "", false
			}
			v, next, ok := readVLQ(mappings, pos)
			if !ok {
				return "", false
			}
			f[n], pos, n = v, next, n+1
		}
		switch n {
		case 1:
			writeVLQ(&out, f[0])
		case 4, 5:
			writeVLQ(&out, f[0])
			for k := 0; k < n-1; k++ {
				in[k] += f[k+1]
			}
			now := in
			if in[0] == src {
				now[1] += delta
			}
			for k := 0; k < n-1; k++ {
				writeVLQ(&out, now[k]-was[k])
				was[k] = now[k]
			}
		default:
			return "", false
		}
	}
	return out.String(), true
}

const base64VLQ = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// readVLQ reads one Base64 VLQ value of s at pos.
func readVLQ(s string, pos int) (v, next int, ok bool) {
	var u uint64
	for shift := 0; pos < len(s) && shift < 60; shift += 5 {
		d := strings.IndexByte(base64VLQ, s[pos])
		if d < 0 {
			return 0, pos, false
		}
		pos++
		u |= uint64(d&31) << shift
		if d&32 == 0 {
			v = int(u >> 1)
			if u&1 != 0 {
				v = -v
			}
			return v, pos, true
		}
	}
	return 0, pos, false
}

// writeVLQ writes v in Base64 VLQ.
func writeVLQ(b *strings.Builder, v int) {
	u := uint64(v) << 1
	if v < 0 {
		u = uint64(-v)<<1 | 1
	}
	for {
		d := u & 31
		u >>= 5
		if u != 0 {
			d |= 32
		}
		b.WriteByte(base64VLQ[d])
		if u == 0 {
			return
		}
	}
}
