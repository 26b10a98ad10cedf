package site

import (
	"islet.dev/islet/site/liquid"
)

// sitemapTemplate lists what jekyll-sitemap lists: output documents,
// HTML pages but the 404 page, and static HTML and PDF files.
const sitemapTemplate = `<?xml version="1.0" encoding="UTF-8"?>
{%- if page.xsl %}<?xml-stylesheet type="text/xsl" href="{{ "/sitemap.xsl" | absolute_url }}"?>{% endif -%}
<urlset xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.sitemaps.org/schemas/sitemap/0.9 http://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd" xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{%- assign shown = site.collections | where_exp: 'c', 'c.output != false' -%}
{%- for c in shown -%}
{%- assign docs = c.docs | where_exp: 'd', 'd.sitemap != false' -%}
{%- for d in docs -%}
<url><loc>{{ d.url | replace: '/index.html', '/' | absolute_url | xml_escape }}</loc>
{%- if d.last_modified_at or d.date %}<lastmod>{{ d.last_modified_at | default: d.date | date_to_xmlschema }}</lastmod>{% endif -%}
</url>
{%- endfor -%}
{%- endfor -%}
{%- assign listed = site.html_pages | where_exp: 'p', 'p.sitemap != false' | where_exp: 'p', 'p.url != "/404.html"' -%}
{%- for p in listed -%}
<url><loc>{{ p.url | replace: '/index.html', '/' | absolute_url | xml_escape }}</loc>
{%- if p.last_modified_at %}<lastmod>{{ p.last_modified_at | date_to_xmlschema }}</lastmod>{% endif -%}
</url>
{%- endfor -%}
{%- assign files = page.static_files | where_exp: 'f', 'f.sitemap != false' | where_exp: 'f', 'f.name != "404.html"' -%}
{%- for f in files -%}
<url><loc>{{ f.path | replace: '/index.html', '/' | absolute_url | xml_escape }}</loc><lastmod>{{ f.modified_time | date_to_xmlschema }}</lastmod></url>
{%- endfor -%}
</urlset>
`

const robotsTemplate = "Sitemap: {{ \"sitemap.xml\" | absolute_url }}\n"

// addSitemap adds jekyll-sitemap's sitemap.xml and robots.txt unless
// the site has pages or files of those names.
func (s *Site) addSitemap() {
	if !s.plugins["jekyll-sitemap"] {
		return
	}
	has := func(url string) bool {
		for _, p := range s.pages {
			if p.url == url {
				return true
			}
		}
		for _, f := range s.static {
			if f.url() == url {
				return true
			}
		}
		return false
	}
	if !has("/sitemap.xml") {
		var statics []any
		for _, f := range s.static {
			switch extOf(f.rel) {
			case ".htm", ".html", ".xhtml", ".pdf":
				statics = append(statics, s.staticDrop(f))
			}
		}
		d := s.generatedPage("sitemap.xml", sitemapTemplate, "jekyll-sitemap")
		d.data.Set("static_files", nonNilList(statics))
		d.data.Set("xsl", has("/sitemap.xsl"))
	}
	if !has("/robots.txt") {
		s.generatedPage("robots.txt", robotsTemplate, "jekyll-sitemap")
	}
}

// generatedPage adds a page a plugin makes (Jekyll's PageWithoutAFile).
func (s *Site) generatedPage(rel, body, plugin string) *document {
	d := &document{site: s, rel: rel, body: body, bodyLine: 1, ext: extOf(rel), data: liquid.NewMap(), generated: plugin}
	d.data.Set("layout", nil)
	if err := d.computeURL(); err == nil {
		d.drop = &docDrop{d}
	}
	s.pages = append(s.pages, d)
	return d
}

func extOf(p string) string {
	for i := len(p) - 1; i >= 0 && p[i] != '/'; i-- {
		if p[i] == '.' {
			return p[i:]
		}
	}
	return ""
}
