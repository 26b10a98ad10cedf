package plugins

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// The GitHub Pages plugins that change text in rendered HTML
// (jekyll-mentions, jemoji) run it through html-pipeline: Nokogiri
// parses the body into libxml2's HTML 4 tree and writes it back. The
// page that comes out is libxml2's serialisation, not the input: void
// elements lose their "/>", boolean attributes their value, entities
// become characters, URL attributes are percent-escaped, names are
// lower case, unclosed elements are closed and stray end tags dropped.
// reserialize does the same in one pass over the tokens, calling text
// on each text node outside the elements the filters skip.

// voidElements are HTML 4's empty elements, written without an end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "basefont": true, "br": true, "col": true, "frame": true, "hr": true,
	"img": true, "input": true, "isindex": true, "link": true, "meta": true, "param": true, "embed": true,
}

// booleanAttrs are written as their name alone, whatever their value.
var booleanAttrs = map[string]bool{
	"checked": true, "compact": true, "declare": true, "defer": true, "disabled": true, "ismap": true,
	"multiple": true, "nohref": true, "noresize": true, "noshade": true, "nowrap": true, "readonly": true,
	"selected": true,
}

// autoClose lists, for a start tag, the open elements it closes when
// one of them is the current element (checked again after each close).
var autoClose = func() map[string]map[string]bool {
	heads := []string{"h1", "h2", "h3", "h4", "h5", "h6"}
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	m := map[string]map[string]bool{
		"p":          set(append([]string{"p"}, heads...)...),
		"div":        set("p"),
		"blockquote": set("p"),
		"hr":         set("p"),
		"ul":         set("p", "ol", "menu", "dir", "address", "pre"),
		"ol":         set("p", "ul"),
		"dl":         set("p", "dt", "menu", "dir", "address", "pre"),
		"dt":         set("p", "menu", "dir", "address", "pre", "dd"),
		"dd":         set("p", "menu", "dir", "address", "pre", "dt"),
		"li":         set(append([]string{"p", "dl", "address", "pre", "li"}, heads...)...),
		"pre":        set("p", "ul"),
		"address":    set("p", "ul"),
		"table":      set(append([]string{"p", "pre", "a"}, heads...)...),
		"form":       set(append([]string{"form", "p", "hr", "dl", "ul", "ol", "menu", "dir", "address", "pre"}, heads...)...),
		"tr":         set("th", "td", "tr", "caption", "col", "colgroup", "p"),
		"td":         set("th", "td", "p", "span", "font", "a", "b", "i", "u"),
		"th":         set("th", "td", "p", "span", "font", "a", "b", "i", "u"),
		"thead":      set("caption", "col", "colgroup"),
		"tbody":      set("th", "td", "tr", "caption", "col", "colgroup", "thead", "tfoot", "tbody", "p"),
		"tfoot":      set("th", "td", "tr", "caption", "col", "colgroup", "thead", "tbody", "p"),
		"option":     set("option"),
		"optgroup":   set("option"),
		"a":          set("a"),
	}
	for _, h := range heads {
		m[h] = set(append([]string{"p"}, heads...)...)
	}
	return m
}()

// endPriority: an end tag does not close an open element of higher
// priority to reach its own (it is dropped instead).
func endPriority(name string) int {
	switch name {
	case "div":
		return 150
	case "td", "th":
		return 160
	case "tr":
		return 170
	case "thead", "tbody", "tfoot":
		return 180
	case "table":
		return 190
	case "head", "body":
		return 200
	case "html":
		return 220
	}
	return 100
}

// reserialize parses src as libxml2's HTML parser would and writes it
// back as its serialiser does. text gets each text node, escaped as
// it will be written, and the number of open elements named in skip
// around it; what it returns is written in the node's place.
func reserialize(src string, skip map[string]bool, text func(escaped string, skipped bool) string) string {
	var b strings.Builder
	b.Grow(len(src) + len(src)/16)
	z := html.NewTokenizer(strings.NewReader(src))
	var stack []string
	skipped := 0
	pop := func() {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if skip[name] {
			skipped--
		}
		b.WriteString("</" + name + ">")
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for len(stack) > 0 {
				pop()
			}
			return b.String()
		case html.TextToken:
			raw := z.Raw()
			if n := len(stack); n > 0 && (stack[n-1] == "script" || stack[n-1] == "style") {
				b.Write(raw)
				continue
			}
			b.WriteString(text(escapeLibxmlText(string(z.Text())), skipped > 0))
		case html.CommentToken:
			b.WriteString("<!--" + string(z.Text()) + "-->")
		case html.DoctypeToken:
			b.WriteString("<!DOCTYPE " + string(z.Text()) + ">")
		case html.StartTagToken, html.SelfClosingTagToken:
			bare := valuelessAttrs(z.Raw())
			tok := z.Token()
			name := tok.Data
			if name != "script" && name != "style" {
				z.NextIsNotRawText() // libxml2 reads only these two as raw text
			}
			for len(stack) > 0 && autoClose[name][stack[len(stack)-1]] {
				pop()
			}
			b.WriteString("<" + name)
			for _, a := range tok.Attr {
				writeLibxmlAttr(&b, name, a, bare[a.Key])
			}
			b.WriteString(">")
			if voidElements[name] {
				continue
			}
			if tt == html.SelfClosingTagToken {
				b.WriteString("</" + name + ">")
				continue
			}
			stack = append(stack, name)
			if skip[name] {
				skipped++
			}
		case html.EndTagToken:
			name := z.Token().Data
			if voidElements[name] {
				continue
			}
			i := len(stack) - 1
			for ; i >= 0 && stack[i] != name; i-- {
				if endPriority(stack[i]) > endPriority(name) {
					i = -1
					break
				}
			}
			if i < 0 {
				continue // stray: dropped
			}
			for len(stack) > i {
				pop()
			}
		}
	}
}

// escapeLibxmlText escapes a text node's characters as libxml2 writes
// them in HTML: &, < and >; everything else, non-ASCII included, as it is.
func escapeLibxmlText(s string) string {
	return libxmlTextEscaper.Replace(s)
}

var libxmlTextEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// writeLibxmlAttr writes one attribute as libxml2's HTML serialiser
// does: a boolean attribute's name alone, and an attribute written
// without a value (bare); a URL (href, action, src, and
// name on a) with its leading blanks dropped and percent-escaped, other
// values entity-escaped; quoted with ' when the value holds a " but no '.
func writeLibxmlAttr(b *strings.Builder, elem string, a html.Attribute, bare bool) {
	name := a.Key
	if a.Namespace != "" {
		name = a.Namespace + ":" + a.Key
	}
	b.WriteString(" " + name)
	if booleanAttrs[name] || bare {
		return
	}
	var v string
	if name == "href" || name == "action" || name == "src" || (name == "name" && elem == "a") {
		v = escapeLibxmlText(uriEscape(strings.TrimLeft(a.Val, " \t\n\r")))
	} else {
		v = escapeLibxmlText(a.Val)
	}
	switch {
	case strings.Contains(v, `"`) && !strings.Contains(v, "'"):
		b.WriteString("='" + v + "'")
	default:
		b.WriteString(`="` + strings.ReplaceAll(v, `"`, "&quot;") + `"`)
	}
}

// uriEscape percent-escapes every byte but letters, digits, the URI
// marks -_.!~*'() and @/:=?;#%&,+, as libxml2's xmlURIEscapeStr with
// the list its HTML serialiser passes.
func uriEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-_.!~*'()@/:=?;#%&,+", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// valuelessAttrs names the attributes of the raw start tag that have no
// value (<a data-proofer-ignore href="…">), which libxml2 writes as
// their name alone.
func valuelessAttrs(raw []byte) map[string]bool {
	var out map[string]bool
	i := 1
	for i < len(raw) && !isHTMLSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	for i < len(raw) {
		for i < len(raw) && (isHTMLSpace(raw[i]) || raw[i] == '/') {
			i++
		}
		if i >= len(raw) || raw[i] == '>' {
			break
		}
		j := i
		for j < len(raw) && !isHTMLSpace(raw[j]) && raw[j] != '=' && raw[j] != '>' && !(raw[j] == '/' && j > i) {
			j++
		}
		name := strings.ToLower(string(raw[i:j]))
		k := j
		for k < len(raw) && isHTMLSpace(raw[k]) {
			k++
		}
		if k < len(raw) && raw[k] == '=' {
			k++
			for k < len(raw) && isHTMLSpace(raw[k]) {
				k++
			}
			if k < len(raw) && (raw[k] == '"' || raw[k] == '\'') {
				q := raw[k]
				k++
				for k < len(raw) && raw[k] != q {
					k++
				}
				k++
			} else {
				for k < len(raw) && !isHTMLSpace(raw[k]) && raw[k] != '>' {
					k++
				}
			}
			i = k
			continue
		}
		if out == nil {
			out = map[string]bool{}
		}
		if _, seen := out[name]; !seen {
			out[name] = true
		}
		i = j
	}
	return out
}

func isHTMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
