package liquid

import (
	"math/bits"
	"unsafe"
)

// Layouts such as jekyll-compress-html run a few hundred replace and
// remove filters over each page, each on the result of the one before:
// just-the-docs makes 20,000 a render, 60% of them for a string the
// page does not hold, each scanning the whole page to find that out.
// A lineage is such a chain: the last string of it, and a set of
// hashed 4-byte sequences that holds every sequence of every string of
// the chain (more, never fewer). A needle with a sequence not in the
// set is not in the string, and the scan is skipped. A replace adds
// what it wrote, and the sequences across its edges, to the set.

// gramMinText is the shortest string a lineage is kept for: below it
// a scan costs less than the set's upkeep.
const gramMinText = 4 << 10

// gramBuildAfter is how many replaces a lineage sees before its set is
// built: a string replaced once or twice is not worth it.
const gramBuildAfter = 2

// lineages is how many chains a Context follows at once: a layout
// that alternates replaces on two strings keeps both sets.
const lineages = 4

// lineage is a chain of strings a Context's replaces made.
type lineage struct {
	s     string   // its last string, kept alive: its address names it
	set   []uint64 // a bit per hash of a 4-byte sequence; nil until built
	shift uint     // 64 minus the set's size in bits, as a power of two
	uses  int
	used  int      // when it was last used, for the one to give up
	at    []int    // where the last replace wrote, in its output
	spare []uint64 // the memory of a set given up, for the next
}

// forget ends the lineage, keeping its memory for the next.
func (l *lineage) forget() {
	spare := l.spare
	if l.set != nil {
		spare = l.set
	}
	*l = lineage{at: l.at[:0], spare: spare}
}

// lineageOf is the Context's lineage whose last string is s, or a new
// one in place of the one used longest ago.
func (c *Context) lineageOf(s string) *lineage {
	c.lineageTick++
	old := &c.lineages[0]
	for i := range c.lineages {
		l := &c.lineages[i]
		if same(l.s, s) {
			l.used = c.lineageTick
			return l
		}
		if l.used < old.used {
			old = l
		}
	}
	old.forget()
	old.s, old.used = s, c.lineageTick
	if old.at == nil {
		old.at = make([]int, 0, 64) // not nil: replaceAt records where it wrote
	}
	return old
}

// same says whether a and b are one string: the same bytes at the same
// address.
func same(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// gram is the 4 bytes of s at i, as a number.
func gram(s string, i int) uint32 {
	_ = s[i+3]
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

func (l *lineage) hash(g uint32) uint64 {
	return (uint64(g) * 0x9E3779B97F4A7C15) >> l.shift
}

func (l *lineage) add(s string, from, to int) {
	from, to = max(from, 0), min(to, len(s)-3)
	for i := from; i < to; i++ {
		h := l.hash(gram(s, i))
		l.set[h>>6] |= 1 << (h & 63)
	}
}

// build makes the set for s: 8 to 16 bits a byte, so that a sequence
// not in s is taken for one of it about one time in ten.
func (l *lineage) build(s string) {
	n := max(bits.Len(uint(len(s)))+3, 12)
	l.shift = uint(64 - n)
	if words := 1 << n / 64; cap(l.spare) >= words {
		l.set = l.spare[:words]
		clear(l.set)
	} else {
		l.set = make([]uint64, words)
	}
	l.spare = nil
	l.add(s, 0, len(s))
}

// lacks says whether needle, of 4 bytes or more, is surely not in the
// lineage's strings.
func (l *lineage) lacks(needle string) bool {
	for i := 0; i+4 <= len(needle); i++ {
		h := l.hash(gram(needle, i))
		if l.set[h>>6]&(1<<(h&63)) == 0 {
			return true
		}
	}
	return false
}

// replace is replace(s, old, new, limit), through the Context's lineage
// when s is the last string of it. When c.transient is set, what it
// makes is read by the next filter only: it is written to a scratch
// buffer (the one s is not in), not to a new string.
func (c *Context) replace(s, old, new string, limit int) string {
	if len(s) < gramMinText || old == "" || limit == 0 {
		return replace(s, old, new, limit)
	}
	l := c.lineageOf(s)
	if l.uses++; l.set == nil && l.uses > gramBuildAfter {
		l.build(s)
	}
	if len(old) >= 4 && l.set != nil && l.lacks(old) {
		return s
	}
	k, dst := -1, []byte(nil)
	if c.transient {
		k = 0
		if inBuffer(c.scratch[0], s) {
			k = 1
		}
		if dst = c.scratch[k][:0]; dst == nil {
			dst = make([]byte, 0, len(s)+len(s)/4)
		}
		// a lineage that ended in this buffer would be taken for
		// what is written there next, at the same place
		for i := range c.lineages {
			if o := &c.lineages[i]; o != l && inBuffer(c.scratch[k], o.s) {
				o.forget()
			}
		}
	}
	var out string
	out, dst, l.at = replaceAt(s, old, new, limit, l.at[:0], dst)
	if k >= 0 {
		c.scratch[k] = dst
	}
	if l.set != nil && len(l.at) > 0 {
		// the sequences within new, once; then at each place it was
		// written, those across its edges
		l.add(new, 0, len(new))
		for _, at := range l.at {
			end := at + len(new)
			if len(new) < 3 {
				l.add(out, at-3, end)
				continue
			}
			l.add(out, at-3, at)
			l.add(out, end-3, end)
		}
	}
	l.s = out
	return out
}

// inBuffer says whether s's bytes are in b's array.
func inBuffer(b []byte, s string) bool {
	if cap(b) == 0 || len(s) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b[:1])))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return start <= p && p < start+uintptr(cap(b))
}

// inScratch says whether s is in one of c's scratch buffers: made by a
// replace for the next filter only.
func (c *Context) inScratch(s string) bool {
	return inBuffer(c.scratch[0], s) || inBuffer(c.scratch[1], s)
}
