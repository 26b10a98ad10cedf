package zones

import (
	"net"
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

// fastPiece reads the piece src (the text of p) and returns its records,
// the first record's warning of a missing $TTL, and whether it could.
func fastPiece(src string, p piece, file string) ([]parsedRR, *Diagnostic, bool) {
	out := make([]parsedRR, 0, len(src)/16+16) // a short entry a line: grown once at most
	origin, ttl := p.origin, p.ttl
	var noTTL *Diagnostic
	prevOwner := ""
	prevToken := "" // the owner as written on the line that named prevOwner
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
			return nil, nil, false
		}
		f := fields{s: l}
		owner, blank := "", l != "" && (l[0] == ' ' || l[0] == '\t')
		if !blank {
			owner = f.next()
		}
		if owner == "" && (!blank || !f.rest()) { // an empty or comment line
			if f.rest() {
				return nil, nil, false
			}
			continue
		}
		if owner != "" && owner[0] == '$' {
			arg := f.next()
			if f.rest() {
				return nil, nil, false
			}
			switch {
			case strings.EqualFold(owner, "$TTL"):
				v, ok := plainUint(arg, 1<<31-1)
				if !ok {
					return nil, nil, false
				}
				ttl = defaultTTL{value: uint32(v), set: true}
			case strings.EqualFold(owner, "$ORIGIN") && len(arg) > 1 && arg[len(arg)-1] == '.' && fastName(arg[:len(arg)-1]):
				if _, ok := dns.IsDomainName(arg); !ok {
					return nil, nil, false
				}
				origin = arg
				prevToken = ""
			default:
				return nil, nil, false
			}
			continue
		}
		var name string
		switch {
		case blank:
			if prevOwner == "" {
				return nil, nil, false
			}
			name = prevOwner
		case owner == prevToken: // the name of the line before, written again
			name = prevOwner
		case owner == "@":
			name = origin
		case owner[len(owner)-1] == '.':
			if !fastName(owner[:len(owner)-1]) {
				return nil, nil, false
			}
			name = owner
		default:
			if !fastName(owner) {
				return nil, nil, false
			}
			name = owner + "." + origin
			if origin == "." {
				name = owner + "."
			}
		}
		if _, ok := dns.IsDomainName(name); !ok || name == "" {
			return nil, nil, false
		}
		hasTTL, hasClass, recTTL, typ := false, false, uint32(0), ""
		for i := 0; i < 3 && typ == ""; i++ {
			w := f.next()
			switch {
			case w == "":
				return nil, nil, false
			case w[0] >= '0' && w[0] <= '9':
				v, ok := plainUint(w, 1<<31-1)
				if !ok || hasTTL {
					return nil, nil, false
				}
				hasTTL, recTTL = true, uint32(v)
			case strings.EqualFold(w, "IN"):
				if hasClass {
					return nil, nil, false
				}
				hasClass = true
			default:
				typ = w
			}
		}
		h := dns.RR_Header{Name: name, Class: dns.ClassINET}
		rr, ok := fastRdata(&h, typ, &f, origin)
		if !ok || f.rest() || f.bad {
			return nil, nil, false
		}
		switch {
		case hasTTL:
			h.Ttl = recTTL
		case ttl.set:
			h.Ttl = ttl.value
		default:
			h.Ttl = nsdDefaultTTL
			if noTTL == nil {
				noTTL = noTTLWarning(file, at)
			}
		}
		*rr.Header() = h
		prevOwner = name
		if !blank {
			prevToken = owner
		}
		out = append(out, parsedRR{rr: rr, file: file, line: at})
	}
	return out, noTTL, true
}

// fastRdata reads the data of a record of type typ for h, setting h's
// type.
func fastRdata(h *dns.RR_Header, typ string, f *fields, origin string) (dns.RR, bool) {
	switch strings.ToUpper(typ) {
	case "A":
		w := f.next()
		ip := net.ParseIP(w)
		if ip == nil || strings.IndexByte(w, ':') >= 0 {
			return nil, false
		}
		h.Rrtype = dns.TypeA
		return &dns.A{A: ip}, true
	case "AAAA":
		w := f.next()
		ip := net.ParseIP(w)
		if ip == nil || strings.IndexByte(w, ':') < 0 {
			return nil, false
		}
		h.Rrtype = dns.TypeAAAA
		return &dns.AAAA{AAAA: ip}, true
	case "NS", "CNAME", "PTR":
		target, ok := fastTarget(f.next(), origin)
		if !ok {
			return nil, false
		}
		switch strings.ToUpper(typ) {
		case "NS":
			h.Rrtype = dns.TypeNS
			return &dns.NS{Ns: target}, true
		case "CNAME":
			h.Rrtype = dns.TypeCNAME
			return &dns.CNAME{Target: target}, true
		}
		h.Rrtype = dns.TypePTR
		return &dns.PTR{Ptr: target}, true
	case "MX":
		pref, ok := plainUint(f.next(), 65535)
		if !ok {
			return nil, false
		}
		target, ok := fastTarget(f.next(), origin)
		if !ok {
			return nil, false
		}
		h.Rrtype = dns.TypeMX
		return &dns.MX{Preference: uint16(pref), Mx: target}, true
	case "TXT":
		var txt []string
		for f.skipBlanks() && f.s[0] == '"' {
			end := strings.IndexByte(f.s[1:], '"')
			if end < 0 || end > 255 {
				return nil, false
			}
			s := f.s[1 : 1+end]
			for i := 0; i < len(s); i++ {
				if s[i] < 0x20 || s[i] > 0x7e {
					return nil, false
				}
			}
			txt = append(txt, s)
			f.s = f.s[2+end:]
			if f.s != "" && f.s[0] != ' ' && f.s[0] != '\t' {
				return nil, false
			}
		}
		if len(txt) == 0 {
			return nil, false
		}
		h.Rrtype = dns.TypeTXT
		return &dns.TXT{Txt: txt}, true
	}
	return nil, false
}

// fastTarget is a name in record data made absolute, as the parser makes
// it.
func fastTarget(w, origin string) (string, bool) {
	var name string
	switch {
	case w == "@":
		name = origin
	case w == "" || w == ".":
		return "", false
	case w[len(w)-1] == '.':
		if !fastName(w[:len(w)-1]) {
			return "", false
		}
		name = w
	default:
		if !fastName(w) {
			return "", false
		}
		name = w + "." + origin
		if origin == "." {
			name = w + "."
		}
	}
	_, ok := dns.IsDomainName(name)
	return name, ok
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
