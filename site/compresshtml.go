package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"islet.dev/islet/site/liquid"
)

// jekyll-compress-html is a layout, one line of Liquid, that themes
// copy into their _layouts to strip an HTML page of optional end tags,
// comments and white space. Liquid runs it as some 150 replaces of the
// whole page, one after the other: a third of just-the-docs' render.
// A layout whose Liquid is one of its releases, byte for byte, is run
// here instead, by the same steps on the same values, but the clipping
// of white space around tags, which works from an index of the page's
// tags. Its output is the template's; a configuration it does not
// follow step for step is left to the template.

// compressHTMLReleases are the SHA-256 digests of the Liquid of each
// release's layout, from its {% capture _LINE_FEED %} to its end
// (_third_party/jekyll-compress-html holds them).
var compressHTMLReleases = map[string]string{
	"11fa2ee47baabed543b705a8f84b36ea817472accc41bc5c1703eba80ad533ea": "v3.0.4",
	"813e86a1a6cff9076a465d3862c368624f384aea49122ad98bd4a348041540f6": "v3.1.0",
	"5acc185d642e996d7e034cb3cc8af2d9461879ee751dc68f9fbf57c1e4a4dac6": "v3.2.0", // and v3.2.1
}

// The releases' condition for writing the content as it is (which v3.2.0
// widened) is what stands between these two.
const (
	compressHTMLIfOpen  = "{% capture _LINE_FEED %}\n{% endcapture %}{% if "
	compressHTMLIfClose = " %}{{ content }}{% else %}"
)

// compressHTML is a recognised jekyll-compress-html layout.
type compressHTML struct {
	release     string
	lead, trail string           // the white space around its Liquid, written as it is
	ignore      liquid.Condition // its condition for leaving the content as it is
	// the settings it reads, and the variable it reads before setting
	endings, startings, comments, clippings, blanklines, profile, carry liquid.Expr
}

// recognizeCompressHTML returns the layout body as a compressHTML when
// its Liquid is a release's; nil otherwise.
func recognizeCompressHTML(body string) *compressHTML {
	core := strings.TrimLeft(body, " \t\r\n")
	lead := body[:len(body)-len(core)]
	core = strings.TrimRight(core, " \t\r\n")
	trail := body[len(lead)+len(core):]
	sum := sha256.Sum256([]byte(core))
	release, ok := compressHTMLReleases[hex.EncodeToString(sum[:])]
	if !ok {
		return nil
	}
	rest, ok := strings.CutPrefix(core, compressHTMLIfOpen)
	if !ok {
		return nil
	}
	markup, _, ok := strings.Cut(rest, compressHTMLIfClose)
	if !ok {
		return nil
	}
	k := &compressHTML{release: release, lead: lead, trail: trail}
	var err error
	if k.ignore, err = liquid.ParseCondition(markup); err != nil {
		return nil
	}
	for _, e := range []struct {
		to     *liquid.Expr
		markup string
	}{
		{&k.endings, "site.compress_html.endings"},
		{&k.startings, "site.compress_html.startings"},
		{&k.comments, "site.compress_html.comments"},
		{&k.clippings, "site.compress_html.clippings"},
		{&k.blanklines, "site.compress_html.blanklines"},
		{&k.profile, "site.compress_html.profile"},
		{&k.carry, "_carry"},
	} {
		if *e.to, err = liquid.ParseExpr(e.markup); err != nil {
			return nil
		}
	}
	return k
}

// compressHTMLFilters are the filters the layout's Liquid applies: the
// layout is run here only while they are Liquid's own.
var compressHTMLFilters = []string{"split", "join", "replace", "remove", "remove_first", "first"}

const (
	compressHTMLEndings   = "html head body li dt dd optgroup option colgroup caption thead tbody tfoot tr td th"
	compressHTMLClippings = "html head title base link meta style body article section nav aside h1 h2 h3 h4 h5 h6 hgroup header footer address p hr blockquote ol ul li dl dt dd figure figcaption main div table caption colgroup col tbody thead tfoot tr td th"
)

// compressSettings are the layout's settings, as its steps use them.
type compressSettings struct {
	endings, startings, clippings []string
	comments                      []string // none, or the opening and closing marks
	blanklines                    bool
}

// settings evaluates the layout's settings in c; ok is false when one
// is of a kind the layout is left to the template for (profile on, a
// list holding other than strings, a string where a list belongs).
func (k *compressHTML) settings(c *liquid.Context) (st compressSettings, ok bool) {
	eval := func(e liquid.Expr) any {
		v, err := e.Eval(c)
		if err != nil {
			ok = false
		}
		return v
	}
	ok = true
	if liquid.Truthy(eval(k.profile)) {
		return st, false
	}
	var okE, okS, okC, okK bool
	st.endings, okE = compressList(eval(k.endings), compressHTMLEndings)
	st.startings, okS = compressList(eval(k.startings), "")
	st.clippings, okC = compressList(eval(k.clippings), compressHTMLClippings)
	st.comments, okK = compressList(eval(k.comments), "<!-- -->")
	if len(st.comments) != 2 {
		st.comments = nil // the layout removes comments for two marks only
	}
	st.blanklines = liquid.Truthy(eval(k.blanklines))
	return st, ok && okE && okS && okC && okK
}

// compressList reads a list setting: nil is none, "all" the layout's
// own list (where it has one), a list of strings itself.
func compressList(v any, all string) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		if all != "" && v == "all" {
			return liquid.Split(all, " "), true
		}
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// render writes the layout's output for content to w, in the render c
// of the layout. It writes nothing and returns false when the layout
// is left to the template (which also says what is wrong, when
// something is).
func (k *compressHTML) render(c *liquid.Context, content string, w *strings.Builder) bool {
	ignore, err := k.ignore.Eval(c)
	if err != nil {
		return false // the template says what is wrong
	}
	if ignore {
		w.WriteString(k.lead)
		w.WriteString(content)
		w.WriteString(k.trail)
		return true
	}
	st, ok := k.settings(c)
	if !ok {
		return false
	}
	carry, err := k.carry.Eval(c)
	if err != nil {
		return false
	}
	s := removeTags(content, st.endings, st.startings)
	if st.comments != nil {
		s = removeComments(s, st.comments[0], st.comments[1], liquid.Truthy(carry))
	}
	s = collapseOutsidePre(s, st.blanklines)
	w.WriteString(k.lead)
	clipTags(w, s, st.clippings)
	w.WriteString(k.trail)
	return true
}

// removeComments is the layout's removal of comments between the marks
// open and close, as its loop does it: from the text after each open
// mark, the part up to the first close mark is removed, once, with the
// marks; a part without a close mark carries on into the next.
func removeComments(s, open, close string, carry bool) string {
	befores := liquid.Split("."+s, open)
	var b, comment []byte // s as the removals leave it (nil: s); the comment removed
	for i, before := range befores {
		if i == 0 {
			continue
		}
		outside := before
		if carry {
			outside = open + before
		}
		comment = comment[:0]
		if !carry {
			comment = append(comment, open...)
		}
		if parts := liquid.Split(outside, close); len(parts) > 0 {
			comment = append(comment, parts[0]...)
		}
		carry = !strings.Contains(outside, close)
		if !carry {
			comment = append(comment, close...)
		}
		// remove_first: the first place it is, if any
		if len(comment) == 0 {
			continue
		}
		if b == nil {
			if !strings.Contains(s, string(comment)) {
				continue
			}
			b = []byte(s)
		}
		if at := bytes.Index(b, comment); at >= 0 {
			b = append(b[:at], b[at+len(comment):]...)
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// collapseOutsidePre is the layout's loop over the parts of the page
// between "<pre": what is inside <pre>…</pre> is kept, what is outside
// has its runs of white space made one space (or, with blanklines, its
// blank lines dropped).
func collapseOutsidePre(s string, blanklines bool) string {
	var out strings.Builder
	out.Grow(len(s))
	for _, before := range liquid.Split(s, "<pre") {
		pres := liquid.Split(before, "</pre>")
		after := ""
		if len(pres) != 0 {
			last := pres[len(pres)-1]
			if blanklines {
				after = dropBlankLines(last)
			} else {
				after = liquid.JoinFields(last)
			}
		}
		closes := strings.Contains(before, "</pre>")
		if closes {
			out.WriteString("<pre")
			if len(pres) > 0 {
				out.WriteString(pres[0])
			}
			out.WriteString("</pre>")
		}
		if !(closes && len(pres) == 1) {
			out.WriteString(after)
		}
	}
	return out.String()
}

// dropBlankLines is the layout's blanklines loop: the lines of s but
// those of white space only (the last one is kept).
func dropBlankLines(s string) string {
	lines := liquid.Split(s, "\n")
	var out strings.Builder
	for i, line := range lines {
		if liquid.JoinFields(line) != "" || i == len(lines)-1 {
			if i != 0 {
				out.WriteByte('\n')
			}
			out.WriteString(line)
		}
	}
	return out.String()
}
