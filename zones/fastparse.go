package zones

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// A piece of a big zone file (cut.go) made only of the commonest entries
// is read here rather than by the zone parser, which spends most of a
// big zone's load on its lexer: one entry a line, an owner of letters,
// digits, '-', '_' and '*' (or blank, or '@'), a TTL in seconds and the
// class IN or neither, and A, AAAA, NS, CNAME, PTR, MX or TXT data of
// the plainest form; comments, blank lines, $TTL in seconds and an
// absolute $ORIGIN. Anything else in a piece, however valid, has the
// whole piece read by the zone parser, so what this reader does not
// know it never guesses at: it makes exactly the records the parser
// would (TestCutParse, FuzzCutParse compare the two).

// fastPiece reads the piece src (the text of p) into s, records of file,
// and reports whether it could. When it could not, s holds part of the
// piece and is to be dropped.
func fastPiece(src string, p piece, file string, s *recStream) bool {
	origin, ttl := p.origin, p.ttl
	ow, oname, ok := fastOrigin(origin)
	if !ok || origin == "" { // no origin: the parser refuses relative names
		return false
	}
	haveOwner := false
	prevToken := "" // the owner as written on the line that named the current one
	line := p.line
	for len(src) > 0 {
		var l string
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			l, src = src[:i], src[i+1:]
		} else {
			l, src = src, ""
		}
		at := line
		line++
		if strings.IndexByte(l, '\r') >= 0 || strings.IndexByte(l, '(') >= 0 || strings.IndexByte(l, ')') >= 0 || strings.IndexByte(l, '\\') >= 0 {
			return false
		}
		f := fields{s: l}
		owner, blank := "", l != "" && (l[0] == ' ' || l[0] == '\t')
		if !blank {
			owner = f.next()
		}
		if owner == "" && (!blank || !f.rest()) { // an empty or comment line
			if f.rest() {
				return false
			}
			continue
		}
		if owner != "" && owner[0] == '$' {
			arg := f.next()
			if f.rest() {
				return false
			}
			switch {
			case strings.EqualFold(owner, "$TTL"):
				v, ok := plainUint(arg, 1<<31-1)
				if !ok {
					return false
				}
				ttl = defaultTTL{value: uint32(v), set: true}
			case strings.EqualFold(owner, "$ORIGIN") && len(arg) > 1 && arg[len(arg)-1] == '.' && fastName(arg[:len(arg)-1]):
				if ow, oname, ok = fastOrigin(arg); !ok {
					return false
				}
				origin = arg
				prevToken = ""
			default:
				return false
			}
			continue
		}
		switch {
		case blank:
			if !haveOwner {
				return false
			}
		case owner == prevToken: // the name of the line before, written again
		default:
			mark := len(s.nameBuf)
			var ok bool
			if s.nameBuf, ok = appendFastName(s.nameBuf, owner, ow); !ok {
				return false
			}
			wlen := len(s.nameBuf) - mark
			switch {
			case owner == "@":
				s.nameBuf = append(s.nameBuf, oname...)
			case owner[len(owner)-1] == '.':
				s.nameBuf = appendLower(s.nameBuf, owner)
			default:
				s.nameBuf = appendLower(s.nameBuf, owner)
				if origin != "." {
					s.nameBuf = append(s.nameBuf, '.')
				}
				s.nameBuf = append(s.nameBuf, oname...)
			}
			s.endOwner(mark, wlen, file, false)
			haveOwner = true
			prevToken = owner
		}
		hasTTL, hasClass, recTTL, typ := false, false, uint32(0), ""
		for i := 0; i < 3 && typ == ""; i++ {
			w := f.next()
			switch {
			case w == "":
				return false
			case w[0] >= '0' && w[0] <= '9':
				v, ok := plainUint(w, 1<<31-1)
				if !ok || hasTTL {
					return false
				}
				hasTTL, recTTL = true, uint32(v)
			case strings.EqualFold(w, "IN"):
				if hasClass {
					return false
				}
				hasClass = true
			default:
				typ = w
			}
		}
		var rttl uint32
		switch {
		case hasTTL:
			rttl = recTTL
		case ttl.set:
			rttl = ttl.value
		default:
			rttl = nsdDefaultTTL
			if s.noTTL == nil {
				s.noTTL = noTTLWarning(file, at)
			}
		}
		t := fastType(typ)
		if t == 0 {
			return false
		}
		head := s.recHead(t, at, rttl)
		if !fastRdata(s, t, &f, ow) || f.rest() || f.bad || !s.recEnd(head) {
			return false
		}
	}
	return true
}

// fastOrigin is an origin's lowercase wire form and name.
func fastOrigin(origin string) (w, name string, ok bool) {
	w, err := wireName(origin)
	return w, strings.ToLower(origin), err == nil
}

// fastType is the type of the records fastRdata reads, 0 for others.
func fastType(typ string) uint16 {
	switch strings.ToUpper(typ) {
	case "A":
		return dns.TypeA
	case "AAAA":
		return dns.TypeAAAA
	case "NS":
		return dns.TypeNS
	case "CNAME":
		return dns.TypeCNAME
	case "PTR":
		return dns.TypePTR
	case "MX":
		return dns.TypeMX
	case "TXT":
		return dns.TypeTXT
	}
	return 0
}

// fastRdata reads the data of a record of type t and appends its wire
// form to s.data; names in it are relative to the origin ow (wire form)
// and lowercased, as addParsed lowercases them.
func fastRdata(s *recStream, t uint16, f *fields, ow string) bool {
	switch t {
	case dns.TypeA, dns.TypeAAAA:
		w := f.next()
		ip, err := netip.ParseAddr(w)
		if err != nil || ip.Zone() != "" || (t == dns.TypeAAAA) != (strings.IndexByte(w, ':') >= 0) {
			return false
		}
		if t == dns.TypeA {
			a := ip.As4()
			s.data = append(s.data, a[:]...)
		} else {
			a := ip.As16()
			s.data = append(s.data, a[:]...)
		}
		return true
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR:
		var ok bool
		s.data, ok = appendFastTarget(s.data, f.next(), ow)
		return ok
	case dns.TypeMX:
		pref, ok := plainUint(f.next(), 65535)
		if !ok {
			return false
		}
		s.data = binary.BigEndian.AppendUint16(s.data, uint16(pref))
		s.data, ok = appendFastTarget(s.data, f.next(), ow)
		return ok
	case dns.TypeTXT:
		strs := 0
		for f.skipBlanks() && f.s[0] == '"' {
			end := strings.IndexByte(f.s[1:], '"')
			if end < 0 || end > 255 {
				return false
			}
			txt := f.s[1 : 1+end]
			for i := 0; i < len(txt); i++ {
				if txt[i] < 0x20 || txt[i] > 0x7e {
					return false
				}
			}
			s.data = append(s.data, byte(len(txt)))
			s.data = append(s.data, txt...)
			strs++
			f.s = f.s[2+end:]
			if f.s != "" && f.s[0] != ' ' && f.s[0] != '\t' {
				return false
			}
		}
		return strs > 0
	}
	return false
}

// appendFastTarget appends the lowercase wire form of a name in record
// data, made absolute as the parser makes it.
func appendFastTarget(b []byte, w, ow string) ([]byte, bool) {
	if w == "" || w == "." {
		return b, false
	}
	return appendFastName(b, w, ow)
}

// appendFastName appends the lowercase wire form of the name w as
// written in a zone file: "@", absolute, or relative to the origin ow
// (wire form). It is false for a name fastName does not know, or too
// long.
func appendFastName(b []byte, w, ow string) ([]byte, bool) {
	start := len(b)
	if w != "@" {
		rel := w
		if rel[len(rel)-1] == '.' {
			rel = rel[:len(rel)-1]
		}
		if !fastName(rel) {
			return b, false
		}
		for rel != "" {
			label := rel
			if i := strings.IndexByte(rel, '.'); i >= 0 {
				label, rel = rel[:i], rel[i+1:]
			} else {
				rel = ""
			}
			if len(label) > 63 {
				return b, false
			}
			b = append(b, byte(len(label)))
			b = appendLower(b, label)
		}
		if w[len(w)-1] == '.' {
			b = append(b, 0)
			return b, len(b)-start <= 255
		}
	}
	b = append(b, ow...)
	return b, len(b)-start <= 255
}

// appendLower appends s with A-Z lowercased.
func appendLower(b []byte, s string) []byte {
	start := len(b)
	b = append(b, s...)
	lowerASCII(b[start:])
	return b
}

// fastName reports whether s is a relative name this reader knows: one
// or more labels of letters, digits, '-', '_' and '*', none empty.
func fastName(s string) bool {
	if s == "" {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		default:
			return false
		}
		label++
	}
	return label > 0
}

// plainUint reads a number of decimal digits no greater than max.
func plainUint(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v <= max
}

// fields splits a line into blank-separated words. bad is set when a
// word runs into a quote, which the parser may read otherwise.
type fields struct {
	s   string
	bad bool
}

// skipBlanks drops leading blanks and reports whether anything is left.
func (f *fields) skipBlanks() bool {
	f.s = strings.TrimLeft(f.s, " \t")
	return f.s != ""
}

// next returns the next word, "" at the end of the line or a comment.
func (f *fields) next() string {
	if !f.skipBlanks() || f.s[0] == ';' || f.s[0] == '"' {
		return ""
	}
	i := strings.IndexAny(f.s, " \t;\"")
	if i < 0 {
		i = len(f.s)
	}
	w := f.s[:i]
	f.s = f.s[i:]
	f.bad = f.bad || f.s != "" && f.s[0] == '"'
	return w
}

// rest reports whether anything but blanks and a comment is left.
func (f *fields) rest() bool {
	return f.skipBlanks() && f.s[0] != ';'
}
