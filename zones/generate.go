package zones

import (
	"fmt"
	"strconv"
	"strings"
)

// miekg/dns's $GENERATE knows BIND's d, o, x and X modifiers but not the
// nibble ones, n and N (${0,4,n}: lowercase hex nibbles, lowest first,
// dot-separated, as ip6.arpa names want them). A $GENERATE that uses
// them is expanded here, before the parser sees the text; the records it
// makes are separated by synthNewline, which the line tracker hands on
// as a newline without counting a line, so every later line keeps its
// number.

// synthNewline separates generated records; a file that holds it is left
// to the parser as it is.
const synthNewline = '\x00'

// maxGenerated bounds the records one $GENERATE expanded here makes.
const maxGenerated = 65536

// expandGenerate returns the records a $GENERATE entry with a nibble
// modifier makes, or "" to leave the entry to the parser.
func expandGenerate(tokens []token) string {
	if len(tokens) < 4 || !strings.EqualFold(tokens[0].text, "$GENERATE") || !usesNibbles(tokens) {
		return ""
	}
	start, stop, step, ok := generateRange(tokens[1].text)
	if !ok || (stop-start)/step+1 > maxGenerated {
		return ""
	}
	var b strings.Builder
	for i := start; i <= stop; i += step {
		if i > start {
			b.WriteByte(synthNewline)
		}
		for k, t := range tokens[2:] {
			if k > 0 {
				b.WriteByte(' ')
			}
			s, ok := substitute(t.text, i)
			if !ok {
				return ""
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func usesNibbles(tokens []token) bool {
	for _, t := range tokens[2:] {
		if strings.Contains(t.text, ",n}") || strings.Contains(t.text, ",N}") {
			return true
		}
	}
	return false
}

// generateRange reads "start-stop[/step]".
func generateRange(s string) (start, stop, step int64, ok bool) {
	step = 1
	if r, st, found := strings.Cut(s, "/"); found {
		v, err := strconv.ParseInt(st, 10, 64)
		if err != nil || v <= 0 {
			return 0, 0, 0, false
		}
		s, step = r, v
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, 0, false
	}
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || x < 0 || y < x || y > 1<<31-1 {
		return 0, 0, 0, false
	}
	return x, y, step, true
}

// substitute puts value i in for every "$" and "${offset,width,base}" of
// s; "\$" is a literal "$".
func substitute(s string, i int64) (string, bool) {
	var b strings.Builder
	for k := 0; k < len(s); k++ {
		switch {
		case s[k] == '\\' && k+1 < len(s) && s[k+1] == '$':
			b.WriteByte('$')
			k++
		case s[k] == '$' && k+1 < len(s) && s[k+1] == '{':
			end := strings.IndexByte(s[k:], '}')
			if end < 0 {
				return "", false
			}
			v, ok := modifier(s[k+2:k+end], i)
			if !ok {
				return "", false
			}
			b.WriteString(v)
			k += end
		case s[k] == '$':
			b.WriteString(strconv.FormatInt(i, 10))
		default:
			b.WriteByte(s[k])
		}
	}
	return b.String(), true
}

// modifier formats i+offset as "offset[,width[,base]]" asks.
func modifier(m string, i int64) (string, bool) {
	parts := strings.Split(m, ",")
	if len(parts) > 3 {
		return "", false
	}
	offset, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return "", false
	}
	width := 0
	if len(parts) > 1 {
		w, err := strconv.Atoi(parts[1])
		if err != nil || w < 0 || w > 255 {
			return "", false
		}
		width = w
	}
	base := "d"
	if len(parts) > 2 {
		base = parts[2]
	}
	v := i + offset
	if v < 0 {
		return "", false
	}
	switch base {
	case "d":
		return fmt.Sprintf("%0*d", width, v), true
	case "o":
		return fmt.Sprintf("%0*o", width, v), true
	case "x":
		return fmt.Sprintf("%0*x", width, v), true
	case "X":
		return fmt.Sprintf("%0*X", width, v), true
	case "n", "N":
		return nibbles(v, width, base == "N"), true
	}
	return "", false
}

// nibbles writes v as BIND's nibble modifier does: hex digits from the
// lowest up, each followed by a dot while digits remain or the width
// (which counts the dots) is not yet filled.
func nibbles(v int64, width int, upper bool) string {
	digits := "0123456789abcdef"
	if upper {
		digits = "0123456789ABCDEF"
	}
	var b strings.Builder
	for {
		b.WriteByte(digits[v&0xf])
		v >>= 4
		if width > 0 {
			width--
		}
		if width > 0 || v != 0 {
			b.WriteByte('.')
			if width > 0 {
				width--
			}
		}
		if v == 0 && width == 0 {
			return b.String()
		}
	}
}
