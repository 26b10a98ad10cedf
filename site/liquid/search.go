package liquid

import (
	"slices"
	"strings"
	"unsafe"
)

// The string filters (replace, remove, split) run over whole pages in
// layouts such as jekyll-compress-html: 180 replaces of " <div" and the
// like over every page. strings.Index scans for a needle's first byte,
// a space there, and so stops every few bytes; the search here scans
// for the needle's least common byte instead, which in HTML and prose
// turns up a few times in a kilobyte.

// byteRank is how common a byte is in HTML and prose, 0 (rare) to 255
// (the space): an estimate, which only makes a search faster or slower.
var byteRank = func() (r [256]uint8) {
	for i := range r {
		switch {
		case i < 0x20:
			r[i] = 20
		case i >= 0x80:
			r[i] = 130 // the bytes of text in other scripts
		default:
			r[i] = 60
		}
	}
	// lower-case letters from the most common in English text on
	lower := "etaoinshrdlcumfpgwybvkxjqz"
	for i := 0; i < len(lower); i++ {
		r[lower[i]] = uint8(250 - 6*i)
		r[lower[i]-'a'+'A'] = uint8(130 - 3*i)
	}
	for i := '0'; i <= '9'; i++ {
		r[i] = 150
	}
	for _, c := range []struct {
		b    string
		rank uint8
	}{{" ", 255}, {"\n", 200}, {"<>", 190}, {`"/`, 180}, {"=.", 170}, {"-", 160}, {",", 150},
		{":", 140}, {"'", 130}, {";\t", 120}, {"_()", 110}, {"#&", 100}, {"{}[]", 90}} {
		for i := 0; i < len(c.b); i++ {
			r[c.b[i]] = c.rank
		}
	}
	return r
}()

// needle is a string searched for, with the offset of its rarest byte.
type needle struct {
	s    string
	rare int
}

func newNeedle(s string) needle {
	n := needle{s: s}
	for i := 1; i < len(s); i++ {
		if byteRank[s[i]] < byteRank[s[n.rare]] {
			n.rare = i
		}
	}
	return n
}

// index is strings.Index(s, n.s).
func (n needle) index(s string) int {
	if len(n.s) < 2 || len(s) < 256 {
		return strings.Index(s, n.s)
	}
	c := n.s[n.rare]
	fails := 0
	for i := n.rare; i < len(s); {
		j := strings.IndexByte(s[i:], c)
		if j < 0 {
			return -1
		}
		p := i + j - n.rare // where the needle would start
		if p+len(n.s) > len(s) {
			return -1
		}
		if s[p:p+len(n.s)] == n.s {
			return p
		}
		i += j + 1
		// c is common in this text after all: the library's
		// search, from the next place the needle could start
		if fails++; fails > 8+i>>5 {
			if r := strings.Index(s[p+1:], n.s); r >= 0 {
				return p + 1 + r
			}
			return -1
		}
	}
	return -1
}

// replace is strings.Replace(s, old, new, limit), limit < 0 for all,
// in one pass over s (the library's counts the matches first).
func replace(s, old, new string, limit int) string {
	out, _, _ := replaceAt(s, old, new, limit, nil, nil)
	return out
}

// replaceAt is replace, and appends to at where new was written in the
// result, when at is not nil. When dst is not nil, the result is
// written to it (grown as needed and returned) and the string returned
// is its bytes, which change when dst is written again.
func replaceAt(s, old, new string, limit int, at []int, dst []byte) (string, []byte, []int) {
	if old == "" || limit == 0 {
		return strings.Replace(s, old, new, limit), dst, at // where is not asked for these
	}
	n := newNeedle(old)
	i := n.index(s)
	if i < 0 {
		return s, dst, at
	}
	var b strings.Builder
	size := len(s)
	if len(new) > len(old) {
		size += 4 * (len(new) - len(old))
	}
	write := b.WriteString
	if dst != nil {
		dst = slices.Grow(dst[:0], size)
		write = func(p string) (int, error) { dst = append(dst, p...); return len(p), nil }
	} else {
		b.Grow(size)
	}
	done := 0
	for i >= 0 {
		write(s[done : done+i])
		if at != nil {
			at = append(at, b.Len()+len(dst))
		}
		write(new)
		done += i + len(old)
		if limit--; limit == 0 {
			break
		}
		i = n.index(s[done:])
	}
	write(s[done:])
	if dst == nil {
		return b.String(), dst, at
	}
	if len(dst) == 0 {
		return "", dst, at
	}
	return unsafe.String(unsafe.SliceData(dst), len(dst)), dst, at
}

// asciiSpace says whether c is white space to Ruby's split(" ") and
// \s: ASCII's six (a NUL is not, though strip takes it).
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// splitSpace is Ruby's split(" "): the fields between runs of ASCII
// white space (a NUL is not, there, though strip takes it).
func splitSpace(s string) []string {
	n := 0
	for i := 0; i < len(s); {
		for i < len(s) && asciiSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		n++
		for i < len(s) && !asciiSpace(s[i]) {
			i++
		}
	}
	out := make([]string, 0, n)
	for i := 0; i < len(s); {
		for i < len(s) && asciiSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && !asciiSpace(s[i]) {
			i++
		}
		out = append(out, s[start:i])
	}
	return out
}

// JoinFields is splitSpace(s) joined by single spaces: split: " " |
// join: " " without the array between, and Ruby's gsub(/\s+/, " ")
// without the ends. s itself when it is so already.
func JoinFields(s string) string {
	clean := len(s) == 0 || !asciiSpace(s[0]) && !asciiSpace(s[len(s)-1])
	for i := 0; clean && i < len(s); i++ {
		if asciiSpace(s[i]) && (s[i] != ' ' || asciiSpace(s[i+1])) { // the last byte is not space
			clean = false
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		for i < len(s) && asciiSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !asciiSpace(s[j]) {
			j++
		}
		if j > i {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}
