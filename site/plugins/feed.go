package plugins

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

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
{%- if page.collection != "posts" %}{% assign feed_part = page.collection | capitalize %}{% assign feed_title = feed_title | append: " | " | append: feed_part %}{% endif -%}
{%- if page.category %}{% assign feed_part = page.category | capitalize %}{% assign feed_title = feed_title | append: " | " | append: feed_part %}{% endif -%}
{%- if feed_title %}<title type="html">{{ feed_title | smartify | xml_escape }}</title>{% endif -%}
{%- if site.description %}<subtitle>{{ site.description | xml_escape }}</subtitle>{% endif -%}
{%- if site.author -%}
<author><name>{{ site.author.name | default: site.author | xml_escape }}</name>
{%- if site.author.email %}<email>{{ site.author.email | xml_escape }}</email>{% endif -%}
{%- if site.author.uri %}<uri>{{ site.author.uri | xml_escape }}</uri>{% endif -%}
</author>
{%- endif -%}
{%- if page.tags %}{% assign entries = site.tags[page.tags] %}{% else %}{% assign entries = site[page.collection] %}{% endif -%}
{%- if page.category %}{% assign entries = entries | where: "categories", page.category %}{% endif -%}
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

// feed is jekyll-feed: an Atom feed of the posts (feed.path), one per
// category listed in feed.categories (/feed/CATEGORY.xml), one per
// collection in feed.collections (/feed/LABEL.xml, and its categories),
// one per tag with feed.tags (/feed/by_tag/TAG.xml), and {% feed_meta %}.
type feed struct{}

func (feed) Name() string { return "jekyll-feed" }

func (feed) Tags(s Site) map[string]TagParser {
	return map[string]TagParser{"feed_meta": func(string) (liquid.Node, error) { return feedMeta{s}, nil }}
}

// feedCollection is one collection jekyll-feed writes feeds for.
type feedCollection struct {
	name       string
	path       string // its main feed's, "" for the default
	categories []string
}

// Generate adds the feed pages the site does not have itself, in the
// order jekyll-feed adds them: each collection's category feeds, then
// its own; then the tag feeds.
func (feed) Generate(s Site) error {
	cfg := liquid.Lookup(s.Config(), "feed")
	if liquid.LookupBool(cfg, "disable_in_development", false) && s.Environment() == "development" {
		return nil
	}
	add := func(p, collection string, category, tag any) {
		p = strings.TrimPrefix(p, "/")
		if s.SourceExists(p) {
			return
		}
		d := s.AddPage(p, feedTemplate, "jekyll-feed")
		d.Data().Set("sitemap", false)
		d.Data().Set("xsl", s.SourceExists("feed.xslt.xml"))
		d.Data().Set("collection", collection)
		d.Data().Set("category", category)
		d.Data().Set("tags", tag)
	}
	for _, c := range feedCollections(s) {
		prefix := "/feed/" + c.name
		if c.name == "posts" {
			prefix = "/feed"
		}
		for _, cat := range c.categories {
			add(prefix+"/"+cat+".xml", c.name, cat, nil)
		}
		main := c.path
		if main == "" {
			main = prefix + ".xml"
		}
		add(main, c.name, nil, nil)
	}
	if tagsCfg := liquid.Lookup(cfg, "tags"); liquid.Truthy(tagsCfg) {
		for _, t := range feedTags(s, tagsCfg) {
			path := liquid.LookupString(tagsCfg, "path")
			if path == "" {
				path = "/feed/by_tag/"
			}
			add(path+t+".xml", "posts", nil, t)
		}
	}
	return nil
}

// feedCollections are feed.collections (a list or a mapping), posts
// last unless listed, posts taking feed.path and feed.categories.
func feedCollections(s Site) []feedCollection {
	cfg := liquid.Lookup(s.Config(), "feed")
	var out []feedCollection
	hasPosts := false
	one := func(name string, meta any) feedCollection {
		c := feedCollection{name: name, path: liquid.LookupString(meta, "path")}
		for _, x := range lookupList(meta, "categories") {
			c.categories = appendUnique(c.categories, liquid.ToString(x))
		}
		return c
	}
	switch v := liquid.Lookup(cfg, "collections").(type) {
	case []any:
		for _, x := range v {
			out = append(out, feedCollection{name: liquid.ToString(x)})
		}
	case *liquid.Map:
		for _, k := range v.Keys() {
			meta, _ := v.Get(k)
			out = append(out, one(k, meta))
		}
	}
	for i := range out {
		if out[i].name == "posts" {
			hasPosts = true
			if out[i].path == "" {
				out[i].path = liquid.LookupString(cfg, "path")
			}
			if out[i].categories == nil {
				out[i].categories = one("posts", cfg).categories
			}
		}
	}
	if !hasPosts {
		out = append(out, one("posts", cfg))
	}
	return out
}

// feedTags are the tags jekyll-feed writes a feed for: feed.tags.only
// (default every tag of the posts) but feed.tags.except, those made of
// letters, digits and _ only.
func feedTags(s Site, cfg any) []string {
	var only []string
	if list := lookupList(cfg, "only"); list != nil {
		for _, x := range list {
			only = append(only, liquid.ToString(x))
		}
	} else {
		posts := s.Posts()
		for i := len(posts) - 1; i >= 0; i-- { // oldest first, as site.tags is filled
			for _, t := range lookupList(posts[i].Data(), "tags") {
				only = appendUnique(only, liquid.ToString(t))
			}
		}
	}
	except := map[string]bool{}
	for _, x := range lookupList(cfg, "except") {
		except[liquid.ToString(x)] = true
	}
	var out []string
	for _, t := range only {
		if !except[t] && feedTagName().MatchString(t) {
			out = append(out, t)
		}
	}
	return out
}

var feedTagName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-zA-Z0-9_]+$`)
})

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
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

// lookupList is v[key] when it is a list.
func lookupList(v any, key string) []any {
	l, _ := liquid.Lookup(v, key).([]any)
	return l
}
