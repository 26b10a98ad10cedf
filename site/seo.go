package site

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"islet.dev/islet/site/liquid"
)

// seoTag is jekyll-seo-tag's {% seo %}: title, description, canonical
// link, Open Graph and Twitter tags and JSON-LD, computed as the
// plugin computes them.
type seoTag struct {
	s         *Site
	showTitle bool
}

func (s *Site) parseSEO(markup string) (liquid.Node, error) {
	return &seoTag{s: s, showTitle: !noTitle.MatchString(markup)}, nil
}

var (
	homeOrAbout = regexp.MustCompile(`^/(about/)?(index.html?)?$`)
	noTitle     = regexp.MustCompile(`(?i)title=false`)
)

// seoFormat is the plugin's format_string: markdownify, strip_html,
// normalize_whitespace, escape_once; "" for nothing.
func (s *Site) seoFormat(v any) string {
	if v == nil {
		return ""
	}
	html, err := s.md.convert(liquid.ToString(v))
	if err != nil {
		return ""
	}
	text := strings.Join(strings.Fields(liquid.StripHTML(html)), " ")
	return liquid.EscapeOnce(text)
}

func firstOf(vals ...any) any {
	for _, v := range vals {
		if v != nil && v != "" && v != false {
			return v
		}
	}
	return nil
}

func (t *seoTag) Render(c *liquid.Context, w *strings.Builder) error {
	s := t.s
	page, _ := c.Get("page").(liquid.Drop)
	if page == nil {
		return fmt.Errorf("seo: no page")
	}
	pg := func(k string) any { return liquid.PropertyIn(c, page, k) }
	site := s.drop
	siteTitle := s.seoFormat(firstOf(get(site, "title"), get(site, "name")))
	siteTagline := s.seoFormat(get(site, "tagline"))
	siteDescription := s.seoFormat(get(site, "description"))
	pageTitle := s.seoFormat(pg("title"))
	if pageTitle == "" {
		pageTitle = siteTitle
	}
	var title string
	switch {
	case siteTitle != "" && pageTitle != siteTitle:
		title = pageTitle + " | " + siteTitle
	case siteDescription != "" && siteTitle != "":
		tag := siteTagline
		if tag == "" {
			tag = siteDescription
		}
		title = siteTitle + " | " + tag
	default:
		title = pageTitle
	}
	if pager, ok := c.Get("paginator").(*liquid.Map); ok {
		if n, _ := get(pager, "page").(int); n > 1 && title != "" {
			msg := getString(site, "seo_paginator_message")
			if msg == "" {
				msg = "Page %<current>s of %<total>s for "
			}
			msg = strings.ReplaceAll(msg, "%<current>s", fmt.Sprint(n))
			msg = strings.ReplaceAll(msg, "%<total>s", fmt.Sprint(get(pager, "total_pages")))
			title = msg + title
		}
	}
	url := liquid.ToString(pg("url"))
	home := homeOrAbout.MatchString(url)
	pageSEO, _ := pg("seo").(*liquid.Map)
	siteSocial, _ := get(site, "social").(*liquid.Map)
	name := ""
	switch {
	case get(pageSEO, "name") != nil:
		name = s.seoFormat(get(pageSEO, "name"))
	case !home:
	case get(siteSocial, "name") != nil:
		name = s.seoFormat(get(siteSocial, "name"))
	default:
		name = siteTitle
	}
	description := s.seoFormat(firstOf(pg("description"), pg("excerpt")))
	if description == "" {
		description = siteDescription
	}
	author := s.seoAuthor(pg, site)
	canonical := liquid.ToString(pg("canonical_url"))
	if canonical == "" {
		canonical = strings.TrimSuffix(s.absoluteURL(url), "index.html")
		if !strings.HasSuffix(s.absoluteURL(url), "/index.html") {
			canonical = s.absoluteURL(url)
		}
	}
	locale := strings.ReplaceAll(liquid.ToString(firstOf(pg("locale"), get(site, "locale"), pg("lang"), get(site, "lang"), "en_US")), "-", "_")
	typ := liquid.ToString(get(pageSEO, "type"))
	date := pg("date")
	if typ == "" {
		switch {
		case home:
			typ = "WebSite"
		case date != nil:
			typ = "BlogPosting"
		default:
			typ = "WebPage"
		}
	}
	xmlschema := func(v any) string {
		out, err := c.Engine().Filter("date_to_xmlschema", c, v)
		if err != nil {
			return ""
		}
		return liquid.ToString(out)
	}
	image := ""
	switch im := pg("image").(type) {
	case string:
		image = im
	case *liquid.Map:
		image = getString(im, "path")
	}
	if image != "" && !absoluteURL.MatchString(image) {
		image = normalizeURI(s.absoluteURL(image))
	}

	line := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	line("<!-- Begin Jekyll SEO tag v2.8.0 -->")
	if t.showTitle && title != "" {
		line("<title>%s</title>", title)
	}
	line(`<meta name="generator" content="Jekyll v%s" />`, Version)
	if pageTitle != "" {
		line(`<meta property="og:title" content="%s" />`, pageTitle)
	}
	if n := getString(author, "name"); n != "" {
		line(`<meta name="author" content="%s" />`, n)
	}
	line(`<meta property="og:locale" content="%s" />`, locale)
	if description != "" {
		line(`<meta name="description" content="%s" />`, description)
		line(`<meta property="og:description" content="%s" />`, description)
	}
	if liquid.Truthy(get(site, "url")) || true {
		line(`<link rel="canonical" href="%s" />`, canonical)
		line(`<meta property="og:url" content="%s" />`, canonical)
	}
	if siteTitle != "" {
		line(`<meta property="og:site_name" content="%s" />`, siteTitle)
	}
	if image != "" {
		line(`<meta property="og:image" content="%s" />`, image)
	}
	if date != nil {
		line(`<meta property="og:type" content="article" />`)
		line(`<meta property="article:published_time" content="%s" />`, xmlschema(date))
	} else {
		line(`<meta property="og:type" content="website" />`)
	}
	if pager, ok := c.Get("paginator").(*liquid.Map); ok {
		if get(pager, "previous_page") != nil {
			line(`<link rel="prev" href="%s" />`, s.absoluteURL(getString(pager, "previous_page_path")))
		}
		if get(pager, "next_page") != nil {
			line(`<link rel="next" href="%s" />`, s.absoluteURL(getString(pager, "next_page_path")))
		}
	}
	if image != "" {
		card := liquid.ToString(firstOf(get(pg("twitter"), "card"), get(get(site, "twitter"), "card"), "summary_large_image"))
		line(`<meta name="twitter:card" content="%s" />`, card)
		line(`<meta property="twitter:image" content="%s" />`, image)
	} else {
		line(`<meta name="twitter:card" content="summary" />`)
	}
	if pageTitle != "" {
		line(`<meta property="twitter:title" content="%s" />`, pageTitle)
	}
	if tw := get(site, "twitter"); tw != nil {
		line(`<meta name="twitter:site" content="@%s" />`, strings.ReplaceAll(getString(tw, "username"), "@", ""))
		if a := authorTwitter(author); a != "" {
			line(`<meta name="twitter:creator" content="@%s" />`, strings.ReplaceAll(a, "@", ""))
		}
	}
	if fb := get(site, "facebook"); fb != nil {
		for _, x := range [][2]string{{"admins", `<meta property="fb:admins" content="%s" />`}, {"publisher", `<meta property="article:publisher" content="%s" />`}, {"app_id", `<meta property="fb:app_id" content="%s" />`}} {
			if v := getString(fb, x[0]); v != "" {
				line(x[1], v)
			}
		}
	}
	if wv := get(site, "webmaster_verifications"); wv != nil {
		for _, x := range [][2]string{{"google", "google-site-verification"}, {"bing", "msvalidate.01"}, {"alexa", "alexaVerifyID"}, {"yandex", "yandex-verification"}, {"baidu", "baidu-site-verification"}, {"facebook", "facebook-domain-verification"}} {
			if v := getString(wv, x[0]); v != "" {
				line(`<meta name="%s" content="%s" />`, x[1], v)
			}
		}
	} else if v := getString(site, "google_site_verification"); v != "" {
		line(`<meta name="google-site-verification" content="%s" />`, v)
	}

	ld := map[string]any{"@context": "https://schema.org", "@type": typ, "headline": pageTitle, "url": canonical}
	if name != "" {
		ld["name"] = name
	}
	if description != "" {
		ld["description"] = description
	}
	if date != nil {
		ld["datePublished"] = xmlschema(date)
		ld["dateModified"] = xmlschema(firstOf(get(pageSEO, "date_modified"), pg("last_modified_at"), date))
	}
	if n := getString(author, "name"); n != "" {
		typ := getString(author, "type")
		if typ == "" || typ == "Person" || typ == "Organization" {
			if typ == "" {
				typ = "Person"
			}
			a := liquid.NewMap()
			a.Set("@type", typ)
			a.Set("name", n)
			if u := getString(author, "url"); u != "" {
				a.Set("url", u)
			}
			ld["author"] = a
		}
	}
	if image != "" {
		ld["image"] = image
	}
	if typ == "BlogPosting" || typ == "CreativeWork" {
		m := liquid.NewMap()
		m.Set("@type", "WebPage")
		m.Set("@id", canonical)
		ld["mainEntityOfPage"] = m
	}
	if links := firstOf(get(pageSEO, "links")); links != nil {
		ld["sameAs"] = links
	} else if home && get(siteSocial, "links") != nil {
		ld["sameAs"] = get(siteSocial, "links")
	}
	if logo := getString(site, "logo"); logo != "" {
		if !absoluteURL.MatchString(logo) {
			logo = s.absoluteURL(logo)
		}
		pub := liquid.NewMap()
		pub.Set("@type", "Organization")
		l := liquid.NewMap()
		l.Set("@type", "ImageObject")
		l.Set("url", normalizeURI(logo))
		pub.Set("logo", l)
		if n := getString(author, "name"); n != "" {
			pub.Set("name", n)
		}
		ld["publisher"] = pub
	}
	keys := make([]string, 0, len(ld))
	for k := range ld {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	obj := liquid.NewMap()
	for _, k := range keys {
		obj.Set(k, ld[k])
	}
	var js bytes.Buffer
	writeJSON(&js, obj, 0)
	line(`<script type="application/ld+json">`)
	line("%s</script>", js.String())
	w.WriteString("<!-- End Jekyll SEO tag -->\n")
	return nil
}

// seoAuthor resolves page.author, page.authors[0] or site.author, a
// name looked up in site.data.authors.
func (s *Site) seoAuthor(pg func(string) any, site *liquid.Map) *liquid.Map {
	a := pg("author")
	if a == nil {
		if list, ok := pg("authors").([]any); ok && len(list) > 0 {
			a = list[0]
		}
	}
	if a == nil {
		a = get(site, "author")
	}
	switch x := a.(type) {
	case *liquid.Map:
		return x
	case string:
		m := liquid.NewMap()
		m.Set("name", x)
		if data, ok := get(get(site, "data"), "authors").(*liquid.Map); ok {
			if info, ok := get(data, x).(*liquid.Map); ok {
				deepMerge(m, info)
			}
		}
		return m
	}
	return liquid.NewMap()
}

func authorTwitter(a *liquid.Map) string {
	if t := getString(a, "twitter"); t != "" {
		return strings.TrimPrefix(t, "@")
	}
	return strings.TrimPrefix(getString(a, "name"), "@")
}
