package plugins

import (
	"fmt"
	"strings"

	"islet.dev/islet/site/liquid"
)

// feedTemplate writes the Atom feed jekyll-feed writes, entry for
// entry; islet's own template of the same document.
const feedTemplate = `<?xml version="1.0" encoding="utf-8"?>
{%- if page.xsl %}<?xml-stylesheet type="text/xml" href="{{ '/feed.xslt.xml' | absolute_url }}"?>{% endif -%}
<feed xmlns="http://www.w3.org/2005/Atom" {% if site.lang %}xml:lang="{{ site.lang }}"{% endif %}>
<generator uri="https://jekyllrb.com/" version="{{ jekyll.version }}">Jekyll</generator>
<link href="{{ page.url | absolute_url }}" rel="self" type="application/atom+xml" />
<link href="{{ '/' | absolute_url }}" rel="alternate" type="text/html" {% if site.lang %}hreflang="{{ site.lang }}" {% endif %}/>
<updated>{{ site.time | date_to_xmlschema }}</updated>
<id>{{ page.url | absolute_url | xml_escape }}</id>
{%- assign feed_title = site.title | default: site.name -%}
{%- if feed_title %}<title type="html">{{ feed_title | smartify | xml_escape }}</title>{% endif -%}
{%- if site.description %}<subtitle>{{ site.description | xml_escape }}</subtitle>{% endif -%}
{%- if site.author -%}
<author><name>{{ site.author.name | default: site.author | xml_escape }}</name>
{%- if site.author.email %}<email>{{ site.author.email | xml_escape }}</email>{% endif -%}
{%- if site.author.uri %}<uri>{{ site.author.uri | xml_escape }}</uri>{% endif -%}
</author>
{%- endif -%}
{%- assign entries = site.posts -%}
{%- unless site.show_drafts %}{% assign entries = entries | where_exp: "post", "post.draft != true" %}{% endunless -%}
{%- assign entries = entries | sort: "date" | reverse -%}
{%- assign entries_limit = site.feed.posts_limit | default: 10 -%}
{%- for post in entries limit: entries_limit -%}
<entry{% if post.lang %}{{ " " }}xml:lang="{{ post.lang }}"{% endif %}>
{%- assign entry_title = post.title | smartify | strip_html | normalize_whitespace | xml_escape -%}
<title type="html">{{ entry_title }}</title>
<link href="{{ post.url | absolute_url }}" rel="alternate" type="text/html" title="{{ entry_title }}" />
<published>{{ post.date | date_to_xmlschema }}</published>
<updated>{{ post.last_modified_at | default: post.date | date_to_xmlschema }}</updated>
<id>{{ post.id | absolute_url | xml_escape }}</id>
{%- assign only_excerpt = post.feed.excerpt_only | default: site.feed.excerpt_only -%}
{%- unless only_excerpt %}<content type="html" xml:base="{{ post.url | absolute_url | xml_escape }}"><![CDATA[{{ post.content | strip }}]]></content>{% endunless -%}
{%- assign who = post.author | default: post.authors[0] | default: site.author -%}
{%- assign who = site.data.authors[who] | default: who -%}
<author><name>{{ who.name | default: who | default: "" | xml_escape }}</name>
{%- if who.email %}<email>{{ who.email | xml_escape }}</email>{% endif -%}
{%- if who.uri %}<uri>{{ who.uri | xml_escape }}</uri>{% endif -%}
</author>
{%- if post.category %}<category term="{{ post.category | xml_escape }}" />
{%- elsif post.categories %}{% for c in post.categories %}<category term="{{ c | xml_escape }}" />{% endfor %}{% endif -%}
{%- for t in post.tags %}<category term="{{ t | xml_escape }}" />{% endfor -%}
{%- assign summary = post.description | default: post.excerpt -%}
{%- if summary and summary != empty %}<summary type="html"><![CDATA[{{ summary | strip_html | normalize_whitespace }}]]></summary>{% endif -%}
{%- assign picture = post.image.path | default: post.image -%}
{%- if picture -%}
{%- unless picture contains "://" %}{% assign picture = picture | absolute_url %}{% endunless -%}
<media:thumbnail xmlns:media="http://search.yahoo.com/mrss/" url="{{ picture | xml_escape }}" />
<media:content medium="image" url="{{ picture | xml_escape }}" xmlns:media="http://search.yahoo.com/mrss/" />
{%- endif -%}
</entry>
{%- endfor -%}
</feed>
`

// feed is jekyll-feed: an Atom feed of the posts, and {% feed_meta %}.
type feed struct{}

func (feed) Name() string { return "jekyll-feed" }

func (feed) Tags(s Site) map[string]TagParser {
	return map[string]TagParser{"feed_meta": func(string) (liquid.Node, error) { return feedMeta{s}, nil }}
}

// Generate adds the feed page unless the site has its own.
func (feed) Generate(s Site) error {
	p := feedPath(s)
	if s.SourceExists(p) {
		return nil
	}
	d := s.AddPage(p, feedTemplate, "jekyll-feed")
	d.Data().Set("sitemap", false)
	d.Data().Set("collection", "posts")
	return nil
}

func feedPath(s Site) string {
	p := strings.TrimPrefix(liquid.LookupString(liquid.Lookup(s.Config(), "feed"), "path"), "/")
	if p == "" {
		p = "feed.xml"
	}
	return p
}

// feedMeta is {% feed_meta %}.
type feedMeta struct{ s Site }

func (f feedMeta) Render(c *liquid.Context, w *strings.Builder) error {
	xmlEscape := func(s string) string {
		out, err := c.Engine().Filter("xml_escape", c, s)
		if err != nil {
			return s
		}
		return liquid.ToString(out)
	}
	fmt.Fprintf(w, `<link type="application/atom+xml" rel="alternate" href="%s"`, xmlEscape(f.s.AbsoluteURL(feedPath(f.s))))
	title := liquid.LookupString(f.s.Config(), "title")
	if title == "" {
		title = liquid.LookupString(f.s.Config(), "name")
	}
	if title != "" {
		fmt.Fprintf(w, ` title="%s"`, xmlEscape(title))
	}
	w.WriteString(" />")
	return nil
}
