package zones

import (
	"context"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/pool"
)

// piece is a part of a zone file's text that parses on its own: it
// begins with an entry that names its owner, and carries the $ORIGIN and
// $TTL in effect where it begins.
type piece struct {
	start, end int // octets of the text
	line       int // the file's line at start
	origin     string
	ttl        defaultTTL
}

// A file smaller than twice this is parsed whole.
const minPieceSize = 1 << 20

// pieceSize is how big the pieces of a bigger file are, at least: small
// enough that a piece the fast reader leaves to the zone parser
// (fastparse.go), the one holding the SOA say, costs little, and that
// the cores finish together.
const pieceSize = 256 << 10

// cutEntries cuts a zone file's text into pieces to be parsed apart, on
// workers cores, or returns nil when it should be parsed whole: it is
// small, there is one core, or it holds a directive whose effect a piece
// could not carry ($INCLUDE, $GENERATE, one that cannot be read). A cut
// is made only at the start of a line that begins an entry with an owner
// of its own, outside parentheses and quotes, which is where the zone
// parser starts a record afresh. The text is followed as the line
// tracker follows it: comments, quotes, escapes and parentheses.
func cutEntries(text, origin string, minPiece, workers int) []piece {
	if minPiece == 0 {
		if workers < 2 || len(text) < 2*minPieceSize {
			return nil
		}
		minPiece = pieceSize
	}
	if len(text) < 2*minPiece || strings.IndexByte(text, synthNewline) >= 0 {
		return nil
	}
	var pieces []piece
	cur := piece{line: 1, origin: origin}
	var ttl defaultTTL // what the directives read so far leave in effect
	line, depth := 1, 0
	var st lexState
	lineStart := true // at the first octet of a line that may begin an entry
	for i := 0; i < len(text); i++ {
		c := text[i]
		if lineStart {
			lineStart = false
			switch {
			case c == '$':
				end := strings.IndexByte(text[i:], '\n')
				if end < 0 {
					end = len(text) - i
				}
				var ok bool
				if origin, ttl, ok = directive(text[i:i+end], origin, ttl); !ok {
					return nil
				}
				i += end - 1 // the newline is seen next
				continue
			case ownerStart(c) && i-cur.start >= minPiece && len(text)-i >= minPiece:
				done := cur
				done.end = i
				pieces = append(pieces, done)
				cur = piece{start: i, line: line, origin: origin, ttl: ttl}
			}
			// A line without anything that opens or closes leaves the
			// state as it was: skip it whole.
			if end := strings.IndexByte(text[i:], '\n'); end >= 0 && plainLine(text[i:i+end]) {
				i += end
				line++
				lineStart = true
				continue
			}
		}
		if !st.inside(c) {
			switch c {
			case ';':
				st.inComment = true
			case '"':
				st.inQuote = true
			case '\\':
				st.esc = true
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			}
		}
		if c == '\n' {
			line++
			// A newline ends the entry unless it is inside parentheses
			// or quotes.
			lineStart = depth == 0 && !st.inQuote
		}
	}
	if len(pieces) == 0 {
		return nil
	}
	cur.end = len(text)
	return append(pieces, cur)
}

// lexState follows what the zone lexer is inside of at an octet of zone
// text: a comment, quotes, an escape.
type lexState struct{ inQuote, inComment, esc bool }

// inside reports whether c is taken by the comment, quotes or escape the
// text is in, and moves past them; a newline ends a comment and is not
// taken by it.
func (s *lexState) inside(c byte) bool {
	switch {
	case s.inComment:
		if c != '\n' {
			return true
		}
		s.inComment = false
	case s.esc:
		s.esc = false
		return true
	case s.inQuote:
		switch c {
		case '\\':
			s.esc = true
		case '"':
			s.inQuote = false
		}
		return true
	}
	return false
}

// opensOrCloses marks the octets that change the state cutEntries follows.
var opensOrCloses = [256]bool{';': true, '"': true, '\\': true, '(': true, ')': true}

func plainLine(s string) bool {
	for i := 0; i < len(s); i++ {
		if opensOrCloses[s[i]] {
			return false
		}
	}
	return true
}

// ownerStart reports whether an entry beginning with c names its owner
// plainly: not blank (the previous owner), a comment, a directive, an
// escape, a quote or a parenthesis.
func ownerStart(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`;$()"\`, rune(c))
}

// directive follows a $ORIGIN or $TTL line as the zone parser does. It
// is not ok for any other directive, or one it cannot read plainly,
// which the whole file's parse then handles (and reports).
func directive(s, origin string, ttl defaultTTL) (string, defaultTTL, bool) {
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	if strings.ContainsAny(s, "()\"\\") {
		return origin, ttl, false
	}
	f := strings.Fields(s)
	if len(f) != 2 {
		return origin, ttl, false
	}
	switch strings.ToUpper(f[0]) {
	case "$TTL":
		v, ok := parseTTL(f[1])
		return origin, defaultTTL{value: v, set: true}, ok
	case "$ORIGIN":
		name := f[1]
		switch {
		case name == "@":
			name = origin
		case dns.IsFqdn(name):
		case origin == "":
			return origin, ttl, false
		case origin == ".":
			name += "."
		default:
			name += "." + origin
		}
		_, ok := dns.IsDomainName(name)
		return name, ttl, ok && name != ""
	}
	return origin, ttl, false
}

// cutSentinel ends every piece but the last: the zone parser reads the
// piece's last entry as it reads it in the whole file, followed by the
// next entry, not by the end of the text, where it accepts some entries
// it would refuse.
const cutSentinel = "cut.invalid. 0 IN A 0.0.0.0\n"

// parsePieces parses the pieces of one zone file on every core, into a
// stream each. It returns false when a piece does not parse cleanly or
// does not end with its sentinel: the whole file's parse then says what
// is wrong, as it says it.
func parsePieces(text, name string, display func(string) string, pieces []piece, workers int) ([]*recStream, Diagnostics, bool) {
	streams := make([]*recStream, len(pieces))
	oks := make([]bool, len(pieces))
	file := display(name)
	pool.Each(context.Background(), len(pieces), workers, func(i int) error {
		p := pieces[i]
		last := i == len(pieces)-1
		src := text[p.start:p.end]
		if !last {
			src += cutSentinel
		}
		// About 16 octets of records per line of zone text
		// and 24 of text: grown once at most.
		s := &recStream{data: make([]byte, 0, len(src)), nameBuf: make([]byte, 0, len(src)/2)}
		ok := fastPiece(src, p, file, s)
		if !ok {
			ttl := p.ttl
			var tracker *lineTracker
			lt := newLineTracker(name, strings.NewReader(src), &tracker, &ttl)
			lt.line = p.line
			tracker = lt
			zp := dns.NewZoneParser(lt, p.origin, name)
			zp.SetDefaultTTL(nsdDefaultTTL) // corrected by readEntries
			out, diags, noTTL := readEntries(zp, &tracker, &ttl, display, make([]parsedRR, 0, (p.end-p.start)/24+16))
			ok = len(diags) == 0
			s = &recStream{noTTL: noTTL}
			var scratch []byte
			for _, r := range out {
				scratch = s.addParsed(r, scratch)
			}
		}
		s.finish()
		if ok && !last {
			ok = s.dropSentinel(pieces[i+1].line)
		}
		streams[i], oks[i] = s, ok
		return nil
	})
	if slices.Contains(oks, false) {
		return nil, nil, false
	}
	var diags Diagnostics
	for _, s := range streams {
		if s.noTTL != nil {
			diags = Diagnostics{*s.noTTL}
			break
		}
	}
	return streams, diags, true
}

// dropSentinel removes the record of cutSentinel, read at line, from
// the end of s; false if it is not there.
func (s *recStream) dropSentinel(line int) bool {
	k := len(s.runs) - 1
	if k < 0 || s.name(&s.runs[k]) != "cut.invalid." {
		return false
	}
	at, p := s.runs[k].start, s.data[s.runs[k].start:]
	for {
		t, l, _, rest := nextRec(p)
		if len(rest) == 0 {
			if t != dns.TypeA || l != line {
				return false
			}
			break
		}
		at += len(p) - len(rest)
		p = rest
	}
	s.data = s.data[:at]
	if at == s.runs[k].start {
		s.runs = s.runs[:k]
	}
	return true
}
