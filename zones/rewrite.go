package zones

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/pool"
)

// miekg/dns's zone parser refuses some valid records that NSD, Knot and
// BIND accept: LOC with the minutes given but the seconds left out (RFC
// 1876 lets either go); IPSECKEY whenever another record follows it or
// it has no public key (RFC 4025 §2.5: the key is optional), its parser
// then reading the next line as part of the record; NID and L64 locators
// and EUI48 and EUI64 addresses without their leading zeros.
// rewriteRecords works around them before the parser sees the text: LOC
// records get their missing minutes and seconds as "0", IPSECKEY records
// are written in the generic form (RFC 3597 §5), which the parser turns
// back into an IPSECKEY, and hex groups get their zeros. Newlines and
// parentheses are kept, so every line stays where it was.

// token is one word of an entry and where it lies in the text.
type token struct {
	text       string
	start, end int
}

// rewriteRecords returns the zone text with those records made readable
// by the parser; other text is returned as it was.
func rewriteRecords(data string) string {
	if !mentionsRewritten(data) {
		return data
	}
	generate := strings.IndexByte(data, synthNewline) < 0
	var b strings.Builder
	done := 0
	eachEntry(data, func(tokens []token, blankOwner bool) {
		i := 0
		if !blankOwner {
			i = 1
		}
		if len(tokens) <= i {
			return
		}
		if strings.HasPrefix(tokens[0].text, "$") {
			if repl := expandGenerate(tokens); repl != "" && generate {
				start, end := tokens[0].start, tokens[len(tokens)-1].end
				b.WriteString(data[done:start])
				b.WriteString(repl)
				for _, c := range []byte(data[start:end]) { // keep the lines
					if c == '\n' {
						b.WriteByte(c)
					}
				}
				done = end
			}
			return
		}
		for n := 0; n < 2 && i < len(tokens); n++ { // TTL and class, in either order
			t := strings.ToUpper(tokens[i].text)
			if _, ok := parseTTL(t); ok {
				i++
				continue
			}
			if _, ok := dns.StringToClass[t]; ok || strings.HasPrefix(t, "CLASS") {
				i++
				continue
			}
			break
		}
		if i >= len(tokens) {
			return
		}
		rdata := tokens[i+1:]
		var repl string
		switch strings.ToUpper(tokens[i].text) {
		case "LOC":
			repl = locFull(rdata)
		case "IPSECKEY":
			repl = ipseckeyGeneric(rdata)
		case "NID", "L64":
			if len(rdata) == 2 {
				if loc := padGroups(rdata[1].text, ":", 4, 4); loc != "" {
					repl = rdata[0].text + " " + loc
				}
			}
		case "EUI48":
			if len(rdata) == 1 {
				repl = padGroups(rdata[0].text, "-", 6, 2)
			}
		case "EUI64":
			if len(rdata) == 1 {
				repl = padGroups(rdata[0].text, "-", 8, 2)
			}
		}
		if repl == "" || len(rdata) == 0 {
			return
		}
		start, end := rdata[0].start, rdata[len(rdata)-1].end
		b.WriteString(data[done:start])
		b.WriteString(repl)
		for _, c := range []byte(data[start:end]) { // keep the lines and the parentheses
			if c == '\n' || c == '(' || c == ')' {
				b.WriteByte(' ')
				b.WriteByte(c)
			}
		}
		done = end
	})
	if done == 0 {
		return data
	}
	b.WriteString(data[done:])
	return b.String()
}

// padGroups writes groups of hex digits with their leading zeros (NID and
// L64 locators, RFC 6742; EUI48 and EUI64, RFC 7043), which NSD and BIND
// let go and the parser requires; "" when nothing is missing or the text
// is not of that shape.
func padGroups(s, sep string, groups, width int) string {
	parts := strings.Split(s, sep)
	if len(parts) != groups {
		return ""
	}
	changed := false
	for i, p := range parts {
		if p == "" || len(p) > width {
			return ""
		}
		if _, err := strconv.ParseUint(p, 16, 16); err != nil {
			return ""
		}
		if len(p) < width {
			parts[i] = strings.Repeat("0", width-len(p)) + p
			changed = true
		}
	}
	if !changed {
		return ""
	}
	return strings.Join(parts, sep)
}

// mentionsRewritten reports whether the text holds, in any case, one of
// the type names rewriteRecords looks at; most zones do not, and are
// passed on untouched after this one look, on every core for a big one.
func mentionsRewritten(data string) bool {
	found := make([]bool, runtime.GOMAXPROCS(0))
	parts := pool.Parts(len(data), 1<<20, func(k, start, end int) {
		// Each part runs on into the next by a word's length, so that
		// none is missed where they meet.
		found[k] = mentionsIn(data[start:min(end+len("$GENERATE"), len(data))])
	})
	return slices.Contains(found[:parts], true)
}

// mentionsIn is mentionsRewritten for one part of the text.
func mentionsIn(data string) bool {
	for i := 0; i+3 <= len(data); i++ {
		switch data[i] | 0x20 {
		case '$':
			if i+9 <= len(data) && strings.EqualFold(data[i:i+9], "$GENERATE") {
				return true
			}
		case 'l':
			if strings.EqualFold(data[i:i+3], "LOC") || strings.EqualFold(data[i:i+3], "L64") {
				return true
			}
		case 'i':
			if i+8 <= len(data) && strings.EqualFold(data[i:i+8], "IPSECKEY") {
				return true
			}
		case 'n':
			if strings.EqualFold(data[i:i+3], "NID") {
				return true
			}
		case 'e':
			if strings.EqualFold(data[i:i+3], "EUI") {
				return true
			}
		}
	}
	return false
}

// eachEntry splits zone text into entries (records and directives) and
// their words, following quotes, escapes, comments and parentheses. A
// quoted word keeps its quotes.
func eachEntry(data string, fn func(tokens []token, blankOwner bool)) {
	var tokens []token
	depth, tokStart := 0, -1
	lineStart, blank := true, false
	var st lexState
	flush := func(at int) {
		if tokStart >= 0 {
			tokens = append(tokens, token{data[tokStart:at], tokStart, at})
			tokStart = -1
		}
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if st.inside(c) {
			continue
		}
		switch c {
		case '\\':
			if tokStart < 0 {
				tokStart = i
			}
			st.esc = true
		case '"':
			if tokStart < 0 {
				tokStart = i
			}
			st.inQuote = true
		case ';':
			flush(i)
			st.inComment = true
		case '(':
			flush(i)
			depth++
		case ')':
			flush(i)
			if depth > 0 {
				depth--
			}
		case ' ', '\t', '\r':
			flush(i)
			if lineStart && len(tokens) == 0 {
				blank = true
			}
		case '\n':
			flush(i)
			if depth == 0 {
				if len(tokens) > 0 {
					fn(tokens, blank)
				}
				tokens, blank = nil, false
			}
			lineStart = true
			continue
		default:
			if tokStart < 0 {
				tokStart = i
			}
		}
		lineStart = false
	}
	flush(len(data))
	if len(tokens) > 0 {
		fn(tokens, blank)
	}
}

// locFull writes LOC data with its minutes and seconds spelled out, or ""
// when it has none missing or cannot be read (the parser then reports
// it).
func locFull(rdata []token) string {
	var out []string
	i, changed := 0, false
	for _, hemis := range []string{"NS", "EW"} {
		if i >= len(rdata) {
			return ""
		}
		deg := []string{rdata[i].text}
		i++
		for len(deg) < 3 && i < len(rdata) && !isHemisphere(rdata[i].text, hemis) {
			deg = append(deg, rdata[i].text)
			i++
		}
		if i >= len(rdata) || !isHemisphere(rdata[i].text, hemis) {
			return ""
		}
		for len(deg) < 3 {
			deg = append(deg, "0")
			changed = true
		}
		out = append(out, deg...)
		out = append(out, rdata[i].text)
		i++
	}
	if !changed {
		return ""
	}
	for ; i < len(rdata); i++ {
		out = append(out, rdata[i].text)
	}
	return strings.Join(out, " ")
}

func isHemisphere(s, letters string) bool {
	return len(s) == 1 && strings.ContainsRune(letters, rune(s[0]&^0x20))
}

// ipseckeyGeneric writes IPSECKEY data (RFC 4025 §3) in the generic
// form, or "" when it cannot be read (the parser then reports it).
func ipseckeyGeneric(rdata []token) string {
	if len(rdata) < 4 {
		return ""
	}
	var wire []byte
	for _, t := range rdata[:3] {
		v, err := strconv.ParseUint(t.text, 10, 8)
		if err != nil {
			return ""
		}
		wire = append(wire, byte(v))
	}
	gw := rdata[3].text
	switch wire[1] {
	case 0:
		if gw != "." {
			return ""
		}
	case 1, 2:
		a, err := netip.ParseAddr(gw)
		if err != nil || a.Is4() != (wire[1] == 1) {
			return ""
		}
		wire = append(wire, a.AsSlice()...)
	case 3:
		if !dns.IsFqdn(gw) {
			return "" // a relative gateway needs the origin: left to the parser
		}
		buf := make([]byte, 256)
		n, err := dns.PackDomainName(gw, buf, 0, nil, false)
		if err != nil {
			return ""
		}
		wire = append(wire, buf[:n]...)
	default:
		return ""
	}
	var key strings.Builder
	for _, t := range rdata[4:] {
		key.WriteString(t.text)
	}
	if key.Len() > 0 {
		k, err := base64.StdEncoding.DecodeString(key.String())
		if err != nil {
			return ""
		}
		wire = append(wire, k...)
	}
	return fmt.Sprintf(`\# %d %s`, len(wire), hex.EncodeToString(wire))
}
