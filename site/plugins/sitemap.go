package plugins

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

// sitemap is jekyll-sitemap: sitemap.xml and robots.txt.
type sitemap struct{}

func (sitemap) Name() string                   { return "jekyll-sitemap" }
func (sitemap) Tags(Site) map[string]TagParser { return nil }

// Generate adds sitemap.xml and robots.txt unless the site has pages
// or files of those names.
func (sitemap) Generate(s Site) error {
	if !s.HasURL("/sitemap.xml") {
		statics := s.StaticFiles(".htm", ".html", ".xhtml", ".pdf")
		if statics == nil {
			statics = []any{}
		}
		d := s.AddPage("sitemap.xml", sitemapTemplate, "jekyll-sitemap")
		d.Data().Set("static_files", statics)
		d.Data().Set("xsl", s.HasURL("/sitemap.xsl"))
	}
	if !s.HasURL("/robots.txt") {
		s.AddPage("robots.txt", robotsTemplate, "jekyll-sitemap")
	}
	return nil
}
