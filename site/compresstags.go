package site

import (
	"math/bits"
	"strings"

	"islet.dev/islet/site/liquid"
)

// removeTags is the layout's removal of end tags (</el> for each of
// endings, in turn) and then of start tags (<el> for each of
// startings). Each tag is found once, in one pass over the page. That
// gives the removes' result unless a removal joins text into a new tag
// (an unclosed "<" before it and a ">" after), which is checked for:
// then the removes are made one after the other, as the layout does.
func removeTags(s string, endings, startings []string) string {
	if len(endings)+len(startings) == 0 {
		return s
	}
	tags := make(map[string]bool, len(endings)+len(startings))
	longest, whole := 0, true
	add := func(tag string) {
		// a tag of the set is found as what runs from a "<" to the
		// first ">" after it: it has no other
		if strings.ContainsAny(tag[1:len(tag)-1], "<>") {
			whole = false
		}
		tags[tag] = true
		longest = max(longest, len(tag))
	}
	for _, el := range endings {
		add("</" + el + ">")
	}
	for _, el := range startings {
		add("<" + el + ">")
	}
	if whole {
		if out, ok := removeWholeTags(s, tags, longest); ok {
			return out
		}
	}
	for _, el := range endings {
		s = liquid.Replace(s, "</"+el+">", "", -1)
	}
	for _, el := range startings {
		s = liquid.Replace(s, "<"+el+">", "", -1)
	}
	return s
}

// joinScan bounds the look, either side of a removal, for the nearest
// "<" or ">": past it, the removal is taken to be unsafe.
const joinScan = 4096

// removeWholeTags removes from s every tag of the set (each from a "<"
// to the first ">" after it, at most longest bytes); ok is false when
// a removal joined what is around it into a new "<…>".
func removeWholeTags(s string, tags map[string]bool, longest int) (string, bool) {
	var b strings.Builder
	var joins []int // where in the result a removal was
	done := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		p := i + j
		q := strings.IndexByte(s[p+1:min(len(s), p+longest)], '>')
		if q < 0 || !tags[s[p:p+q+2]] {
			i = p + 1
			continue
		}
		if done == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[done:p])
		if len(joins) == 0 || joins[len(joins)-1] != b.Len() {
			joins = append(joins, b.Len())
		}
		done = p + q + 2
		i = done
	}
	if done == 0 {
		return s, true
	}
	b.WriteString(s[done:])
	out := b.String()
	for _, at := range joins {
		if !closedBefore(out, at) || !openAfter(out, at) {
			return "", false
		}
	}
	return out, true
}

// closedBefore says whether the nearest "<" or ">" before at in b is a
// ">", or there is none.
func closedBefore(b string, at int) bool {
	for i := at - 1; i >= max(0, at-joinScan); i-- {
		switch b[i] {
		case '>':
			return true
		case '<':
			return false
		}
	}
	return at <= joinScan
}

// openAfter says whether the nearest "<" or ">" from at in b is a "<",
// or there is none.
func openAfter(b string, at int) bool {
	for i := at; i < min(len(b), at+joinScan); i++ {
		switch b[i] {
		case '<':
			return true
		case '>':
			return false
		}
	}
	return len(b)-at <= joinScan
}

// clipEdges is the layout's pattern of the three replaces of an
// element e: " <e" by "<e", " </e>" by "</e>" and "</e> " by "</e>".
const clipEdges = " <e;<e; </e>;</e>;</e> ;</e>"

// clipTags writes to w s after the layout's loop over the clipped
// elements: for each,
// in turn, the space before its start tags (" <e", which " <elong"
// matches too), the space before its end tags, then the space after
// them, removed. With elements that are names, the spaces are marked
// removed in one copy of the page, from an index of its tags: a
// removal takes a space from before a "<" or after a ">", so the tags
// stay as they were and each replace finds at its tags what it would
// find in the page made so far. Other elements take the layout's
// replaces, one after the other.
func clipTags(w *strings.Builder, s string, elements []string) {
	for _, el := range elements {
		if !clipName(el) {
			w.WriteString(clipTagsInTurn(s, elements))
			return
		}
	}
	x := newTagIndex(s)
	for _, el := range elements {
		x.clip(el)
	}
	x.writeTo(w)
}

// clipName says whether el can be clipped from the index: it has bytes
// and none of "<>/;" or white space.
func clipName(el string) bool {
	return el != "" && !strings.ContainsAny(el, "<>/; \t\n\v\f\r")
}

// clipTagsInTurn is clipTags by the layout's own steps.
func clipTagsInTurn(s string, elements []string) string {
	for _, el := range elements {
		edges := liquid.Split(liquid.Replace(clipEdges, "e", el, -1), ";")
		edge := func(i int) string {
			if i < len(edges) {
				return edges[i]
			}
			return ""
		}
		for i := 0; i < 6; i += 2 {
			s = liquid.Replace(s, edge(i), edge(i+1), -1)
		}
	}
	return s
}

// tagIndex is a page with the positions of its "<", by the byte after
// it (start tags) or after "</" (end tags), and the spaces marked
// removed.
type tagIndex struct {
	s       string
	at      []int32    // positions of "<", by key
	from    [513]int32 // at[from[k]:from[k+1]] hold key k: 0-255 start tags, 256-511 end tags
	removed []uint64   // a bit a byte
}

func newTagIndex(s string) *tagIndex {
	x := &tagIndex{s: s, removed: make([]uint64, (len(s)+63)/64)}
	key := func(p int) int {
		if p+1 >= len(s) {
			return -1
		}
		if s[p+1] != '/' {
			return int(s[p+1])
		}
		if p+2 >= len(s) {
			return -1
		}
		return 256 + int(s[p+2])
	}
	var count [513]int32
	n := 0
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		if k := key(i + j); k >= 0 {
			count[k+1]++
			n++
		}
		i += j + 1
	}
	for k := 1; k <= 512; k++ {
		count[k] += count[k-1]
	}
	x.from = count
	x.at = make([]int32, n)
	next := count
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		if k := key(i + j); k >= 0 {
			x.at[next[k]] = int32(i + j)
			next[k]++
		}
		i += j + 1
	}
	return x
}

func (x *tagIndex) isRemoved(i int) bool { return x.removed[i>>6]&(1<<(i&63)) != 0 }
func (x *tagIndex) remove(i int)         { x.removed[i>>6] |= 1 << (i & 63) }

// before is the position of the byte before p that is not removed, -1
// if none; after the one from p on, len(s) if none.
func (x *tagIndex) before(p int) int {
	p--
	for p >= 0 && x.isRemoved(p) {
		p--
	}
	return p
}

func (x *tagIndex) after(p int) int {
	for p < len(x.s) && x.isRemoved(p) {
		p++
	}
	return p
}

// removeSpace marks the byte at i removed if it is a space.
func (x *tagIndex) removeSpace(i int) {
	if i >= 0 && i < len(x.s) && x.s[i] == ' ' {
		x.remove(i)
	}
}

// clip makes the element's three replaces, each over all its tags.
func (x *tagIndex) clip(el string) {
	s := x.s
	starts := x.at[x.from[el[0]]:x.from[int(el[0])+1]]
	for _, p := range starts {
		if strings.HasPrefix(s[p+1:], el) {
			x.removeSpace(x.before(int(p)))
		}
	}
	ends := x.at[x.from[256+int(el[0])]:x.from[256+int(el[0])+1]]
	isEnd := func(p int32) bool {
		e := int(p) + 2 + len(el)
		return e < len(s) && s[e] == '>' && s[p+2:e] == el
	}
	for _, p := range ends {
		if isEnd(p) {
			x.removeSpace(x.before(int(p)))
		}
	}
	for _, p := range ends {
		if isEnd(p) {
			x.removeSpace(x.after(int(p) + 3 + len(el)))
		}
	}
}

// writeTo writes the page without the removed bytes to w.
func (x *tagIndex) writeTo(w *strings.Builder) {
	done := 0
	for i, word := range x.removed {
		for word != 0 {
			at := i*64 + bits.TrailingZeros64(word)
			word &= word - 1
			w.WriteString(x.s[done:at])
			done = at + 1
		}
	}
	w.WriteString(x.s[done:])
}
