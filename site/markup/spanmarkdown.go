package markup

import (
	"regexp"
	"strings"
	"sync"
)

// kramdown's markdown attribute on an HTML element that holds span-level
// content (a heading, a p, a span, …): markdown="1" there, or
// markdown="span" on any element, parses the element's content as the
// text of a paragraph (emphasis, links, code, typography) without the
// <p>; markdown="0" leaves it as written. Either way the attribute is
// dropped. Block content (markdown="1" on a div, markdown="block") is
// preprocess's.

// spanModel are the elements kramdown gives span-level content.
var spanModel = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields("a abbr acronym b bdo big button caption cite code del dfn dt em h1 h2 h3 h4 h5 h6 i ins label legend optgroup p q rb rbc rp rt rtc ruby select small span strong sub sup th tt") {
		m[n] = true
	}
	return m
}()

var markdownAttrAny = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`<([A-Za-z][A-Za-z0-9]*)\b([^>]*?)\s+markdown=(?:"(1|span|0|block)"|'(1|span|0|block)'|(1|span|0|block)\b)([^>]*)>`)
})

// spanMarkdown converts the content of elements marked for span-level
// Markdown, and drops markdown="0", in src outside fenced code.
func (m *Markdown) spanMarkdown(src string) string {
	if !strings.Contains(src, "markdown=") {
		return src
	}
	var out strings.Builder
	var fences Fences
	lines := strings.SplitAfter(src, "\n")
	for i := 0; i < len(lines); i++ {
		ln := lines[i]
		if fences.Code(strings.TrimRight(ln, "\r\n")) || !strings.Contains(ln, "markdown=") {
			out.WriteString(ln)
			continue
		}
		rest := strings.Join(lines[i:], "")
		done, consumed := m.spanElement(rest)
		if consumed == 0 {
			out.WriteString(ln)
			continue
		}
		out.WriteString(done)
		// skip the lines consumed, keeping the rest of the last one
		n := consumed
		for n > 0 && i < len(lines) && len(lines[i]) <= n {
			n -= len(lines[i])
			i++
		}
		if n > 0 && i < len(lines) {
			lines[i] = lines[i][n:]
		}
		i--
	}
	return out.String()
}

// spanElement handles the first marked element in s that is span-level
// (or markdown="0"): it returns the text up to and including the
// element, rewritten, and how much of s that was; 0 when s has none.
func (m *Markdown) spanElement(s string) (string, int) {
	for start := 0; ; {
		loc := markdownAttrAny().FindStringSubmatchIndex(s[start:])
		if loc == nil {
			return "", 0
		}
		for k := range loc {
			if loc[k] >= 0 {
				loc[k] += start
			}
		}
		sub := func(g int) string {
			if loc[2*g] < 0 {
				return ""
			}
			return s[loc[2*g]:loc[2*g+1]]
		}
		tag := strings.ToLower(sub(1))
		mode := sub(3) + sub(4) + sub(5)
		if !(mode == "0" || mode == "span" || (mode == "1" && spanModel[tag])) {
			if nl := strings.IndexByte(s[start:], '\n'); nl >= 0 && start+nl < loc[0] {
				return "", 0 // the first line has none to handle
			}
			start = loc[1]
			continue
		}
		openTag := "<" + sub(1) + sub(2) + sub(6) + ">"
		body := s[loc[1]:]
		end := indexFold(body, "</"+tag)
		if end < 0 {
			return "", 0
		}
		inner := body[:end]
		if mode != "0" {
			// span content: one paragraph's text, whatever its lines'
			// indentation or blank lines
			var text []string
			for _, ln := range strings.Split(inner, "\n") {
				if t := strings.TrimSpace(ln); t != "" {
					text = append(text, t)
				}
			}
			html, err := m.Convert(strings.Join(text, "\n"))
			if err == nil {
				inner = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(html), "<p>"), "</p>")
			}
		}
		return s[:loc[0]] + openTag + inner, loc[1] + end
	}
}
