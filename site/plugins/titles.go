package plugins

import (
	"regexp"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
)

// titlesFromHeadings is jekyll-titles-from-headings 0.5: a Markdown
// page without a title takes its first heading's text (an atx heading
// of level 1 to 3, or a setext one, at the very start), as markdownify,
// strip_html and normalize_whitespace leave it, footnote marks removed.
// titles_from_headings: {enabled: false} turns it off, collections:
// true adds collection documents (whose slug-made titles it replaces),
// strip_title: true (or per page) takes the heading out of the content.
type titlesFromHeadings struct{}

func (titlesFromHeadings) Name() string                   { return "jekyll-titles-from-headings" }
func (titlesFromHeadings) Tags(Site) map[string]TagParser { return nil }

var (
	titleHeading = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?m)\A\s*(?:#{1,3}\s+(.*)(?:\s+#{1,3})?|(.*)\r?\n[-=]+\s*)$`)
	})
	footnoteMark = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\[\^[^\]]*\]`)
	})
	whitespaceRun = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\s+`)
	})
)

func (titlesFromHeadings) Generate(s Site) error {
	cfg := liquid.Lookup(s.Config(), "titles_from_headings")
	if v, ok := liquid.Lookup(cfg, "enabled").(bool); ok && !v {
		return nil
	}
	docs := s.Pages()
	if v, _ := liquid.Lookup(cfg, "collections").(bool); v {
		docs = append(docs, s.Documents()...)
	}
	stripAll, _ := liquid.Lookup(cfg, "strip_title").(bool)
	for _, d := range docs {
		if !d.Markdown() {
			continue
		}
		// A page's own title stands; a document's is made from its
		// slug, and gives way.
		if t, ok := d.Data().Get("title"); ok && t != nil && d.Collection() == "" {
			continue
		}
		m := titleHeading().FindStringSubmatch(d.Body())
		if m == nil {
			continue
		}
		text := m[1]
		if text == "" {
			text = m[2]
		}
		html, err := s.Markdownify(text)
		if err != nil {
			return err
		}
		title := strings.TrimSpace(whitespaceRun().ReplaceAllString(liquid.StripHTML(html), " "))
		d.Data().Set("title", footnoteMark().ReplaceAllString(title, ""))
		strip := stripAll
		if v, ok := d.Data().Get("strip_title"); ok {
			strip = v == true
		}
		if strip {
			d.SetBody(strings.TrimSpace(titleHeading().ReplaceAllString(d.Body(), "")))
		}
	}
	return nil
}
