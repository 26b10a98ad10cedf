package markup

import (
	"strings"

	"github.com/yuin/goldmark/ast"
)

// kramdown parses the HTML in a Markdown document and writes its tags
// back in its own form: names in lower case, every attribute quoted
// with " and escaped (an & that starts no entity, <, > and "), an
// attribute without a value given "", and elements without content
// closed with " />". Text between the tags has its <, > and bare &
// escaped; comments and the content of script, style and textarea are
// left as they were. kramdownTags does
// the same to the raw HTML islet's Markdown passes through.

// voidTags are kramdown's elements without a body.
var voidTags = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "command": true, "embed": true, "hr": true,
	"img": true, "input": true, "keygen": true, "link": true, "meta": true, "param": true,
	"source": true, "track": true, "wbr": true,
}

// rawTags keep their content as written.
var rawTags = map[string]bool{"script": true, "style": true, "textarea": true}

// kramdownTags rewrites the tags in s as kramdown writes them.
func kramdownTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			b.WriteString(escapeHTMLText(s[i:]))
			break
		}
		b.WriteString(escapeHTMLText(s[i : i+lt]))
		i += lt
		switch {
		case strings.HasPrefix(s[i:], "<!--"):
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(s[i : i+4+end+3])
			i += 4 + end + 3
		case i+1 < len(s) && isTagLetter(s[i+1]):
			name, n, ok := writeStartTag(&b, s[i:])
			if !ok {
				b.WriteString("&lt;")
				i++
				continue
			}
			i += n
			if rawTags[name] {
				end := indexFold(s[i:], "</"+name)
				if end < 0 {
					b.WriteString(s[i:])
					return b.String()
				}
				b.WriteString(s[i : i+end])
				i += end
			}
		case strings.HasPrefix(s[i:], "</") && i+2 < len(s) && isTagLetter(s[i+2]):
			j := i + 2
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			k := j
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			if k >= len(s) || s[k] != '>' {
				b.WriteString("&lt;")
				i++
				continue
			}
			b.WriteString("</" + strings.ToLower(s[i+2:j]) + ">")
			i = k + 1
		default:
			b.WriteString("&lt;")
			i++
		}
	}
	return b.String()
}

// escapeHTMLText escapes text between tags as kramdown writes it: <, >
// and every & that does not start an entity; quotes stay.
func escapeHTMLText(t string) string { return escapeKeepingEntities(t, false) }

// writeStartTag writes the start tag at the beginning of s, returning
// its name, its length in s, and false when s holds no whole tag there.
func writeStartTag(b *strings.Builder, s string) (string, int, bool) {
	j := 1
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	name := strings.ToLower(s[1:j])
	var out strings.Builder
	out.WriteString("<" + name)
	for {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return "", 0, false
		}
		if s[j] == '>' || (s[j] == '/' && j+1 < len(s) && s[j+1] == '>') {
			if s[j] == '/' {
				j++
			}
			j++
			break
		}
		k := j
		for k < len(s) && !isSpace(s[k]) && s[k] != '=' && s[k] != '>' && s[k] != '"' && s[k] != '\'' && !(s[k] == '/' && k+1 < len(s) && s[k+1] == '>') {
			k++
		}
		if k == j {
			return "", 0, false
		}
		attr := strings.ToLower(s[j:k])
		j = k
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		val := ""
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if j >= len(s) {
				return "", 0, false
			}
			switch q := s[j]; q {
			case '"', '\'':
				end := strings.IndexByte(s[j+1:], q)
				if end < 0 {
					return "", 0, false
				}
				val = s[j+1 : j+1+end]
				j += end + 2
			default:
				k := j
				for k < len(s) && !isSpace(s[k]) && s[k] != '>' {
					k++
				}
				val = s[j:k]
				j = k
			}
		}
		out.WriteString(" " + attr + `="` + escapeAttr(val) + `"`)
	}
	if voidTags[name] || s[j-2] == '/' {
		out.WriteString(" />")
	} else {
		out.WriteString(">")
	}
	b.WriteString(out.String())
	return name, j, true
}

// escapeAttr escapes an attribute value as kramdown does: <, >, " and
// every & that does not start an entity.
func escapeAttr(v string) string { return escapeKeepingEntities(v, true) }

// escapeKeepingEntities escapes <, >, every & that does not start an
// entity and, with quot, ".
func escapeKeepingEntities(s string, quot bool) string {
	if !strings.ContainsAny(s, "<>&") && !(quot && strings.Contains(s, `"`)) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '"' && quot:
			b.WriteString("&quot;")
		case c == '&' && !entityAt(s[i:]):
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// entityAt says whether s starts with an entity: &name; &#1; or &#x1;.
func entityAt(s string) bool {
	j := 1
	if j < len(s) && s[j] == '#' {
		j++
		if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
			j++
		}
	}
	k := j
	for k < len(s) && (isTagLetter(s[k]) || s[k] >= '0' && s[k] <= '9' || s[k] == '_') {
		k++
	}
	return k > j && k < len(s) && s[k] == ';'
}

func isTagLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameByte(c byte) bool {
	return isTagLetter(c) || c >= '0' && c <= '9' || c == '-' || c == ':' || c == '_'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

// addAttributes adds attrs to the start tag written by kramdownTags: a
// class is added to the tag's own, another attribute replaces its.
func addAttributes(tag string, attrs []ast.Attribute) string {
	end := len(tag) - 1
	if strings.HasSuffix(tag, " />") {
		end = len(tag) - 3
	}
	if end < 1 || !strings.HasPrefix(tag, "<") || strings.HasPrefix(tag, "</") {
		return tag
	}
	head, tail := tag[:end], tag[end:]
	for _, a := range attrs {
		name := string(a.Name)
		v, _ := a.Value.([]byte)
		val := string(v)
		key := " " + name + `="`
		if i := strings.Index(head, key); i >= 0 {
			j := strings.IndexByte(head[i+len(key):], '"')
			if j >= 0 {
				old := head[i+len(key) : i+len(key)+j]
				if name == "class" {
					val = old + " " + val
				}
				head = head[:i] + head[i+len(key)+j+1:]
			}
		}
		head += key + escapeAttr(val) + `"`
	}
	return head + tail
}
