package plugins

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
)

// seoTag is jekyll-seo-tag's {% seo %}: title, description, canonical
// link, Open Graph and Twitter tags and JSON-LD, computed as the
// plugin computes them.
type seoTag struct {
	s         Site
	showTitle bool
}

// seo is jekyll-seo-tag: {% seo %}.
type seo struct{}

func (seo) Name() string        { return "jekyll-seo-tag" }
func (seo) Generate(Site) error { return nil }

func (seo) Tags(s Site) map[string]TagParser {
	return map[string]TagParser{"seo": func(markup string) (liquid.Node, error) {
		return &seoTag{s: s, showTitle: !noTitle().MatchString(markup)}, nil
	}}
}

var (
	homeOrAbout = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^/(about/)?(index.html?)?$`)
	})
	noTitle = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)title=false`)
	})
)

// seoFormat is the plugin's format_string: markdownify, strip_html,
// normalize_whitespace, escape_once; "" for nothing.
func seoFormat(s Site, v any) string {
	if v == nil {
		return ""
	}
	html, err := s.Markdownify(liquid.ToString(v))
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
	site := s.Drop()
	siteTitle := seoFormat(s, firstOf(liquid.Lookup(site, "title"), liquid.Lookup(site, "name")))
	siteTagline := seoFormat(s, liquid.Lookup(site, "tagline"))
	siteDescription := seoFormat(s, liquid.Lookup(site, "description"))
	pageTitle := seoFormat(s, pg("title"))
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
		if n, _ := liquid.Lookup(pager, "page").(int); n > 1 && title != "" {
			msg := liquid.LookupString(site, "seo_paginator_message")
			if msg == "" {
				msg = "Page %<current>s of %<total>s for "
			}
			msg = strings.ReplaceAll(msg, "%<current>s", fmt.Sprint(n))
			msg = strings.ReplaceAll(msg, "%<total>s", fmt.Sprint(liquid.Lookup(pager, "total_pages")))
			title = msg + title
		}
	}
	url := liquid.ToString(pg("url"))
	home := homeOrAbout().MatchString(url)
	pageSEO, _ := pg("seo").(*liquid.Map)
	siteSocial, _ := liquid.Lookup(site, "social").(*liquid.Map)
	name := ""
	switch {
	case liquid.Lookup(pageSEO, "name") != nil:
		name = seoFormat(s, liquid.Lookup(pageSEO, "name"))
	case !home:
	case liquid.Lookup(siteSocial, "name") != nil:
		name = seoFormat(s, liquid.Lookup(siteSocial, "name"))
	default:
		name = siteTitle
	}
	description := seoFormat(s, firstOf(pg("description"), pg("excerpt")))
	if description == "" {
		description = siteDescription
	}
	author := seoAuthor(pg, site)
	canonical := liquid.ToString(pg("canonical_url"))
	if canonical == "" {
		canonical = strings.TrimSuffix(s.AbsoluteURL(url), "index.html")
		if !strings.HasSuffix(s.AbsoluteURL(url), "/index.html") {
			canonical = s.AbsoluteURL(url)
		}
	}
	locale := strings.ReplaceAll(liquid.ToString(firstOf(pg("locale"), liquid.Lookup(site, "locale"), pg("lang"), liquid.Lookup(site, "lang"), "en_US")), "-", "_")
	typ := liquid.ToString(liquid.Lookup(pageSEO, "type"))
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
	uriEscape := func(v string) string {
		out, err := c.Engine().Filter("uri_escape", c, v)
		if err != nil {
			return v
		}
		return liquid.ToString(out)
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
		image = liquid.LookupString(im, "path")
	}
	if image != "" && !HasScheme(image) {
		image = s.AbsoluteURL(image)
	}

	line := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	line("<!-- Begin Jekyll SEO tag v2.8.0 -->")
	if t.showTitle && title != "" {
		line("<title>%s</title>", title)
	}
	line(`<meta name="generator" content="Jekyll v%s" />`, liquid.ToString(liquid.PropertyIn(c, c.Get("jekyll"), "version")))
	if pageTitle != "" {
		line(`<meta property="og:title" content="%s" />`, pageTitle)
	}
	if n := liquid.LookupString(author, "name"); n != "" {
		line(`<meta name="author" content="%s" />`, n)
	}
	line(`<meta property="og:locale" content="%s" />`, locale)
	if description != "" {
		line(`<meta name="description" content="%s" />`, description)
		line(`<meta property="og:description" content="%s" />`, description)
	}
	if liquid.Truthy(liquid.Lookup(site, "url")) { // "" is truthy, absent is not, as Liquid has it
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
		if liquid.Lookup(pager, "previous_page") != nil {
			line(`<link rel="prev" href="%s" />`, s.AbsoluteURL(liquid.LookupString(pager, "previous_page_path")))
		}
		if liquid.Lookup(pager, "next_page") != nil {
			line(`<link rel="next" href="%s" />`, s.AbsoluteURL(liquid.LookupString(pager, "next_page_path")))
		}
	}
	if image != "" {
		card := liquid.ToString(firstOf(liquid.Lookup(pg("twitter"), "card"), liquid.Lookup(liquid.Lookup(site, "twitter"), "card"), "summary_large_image"))
		line(`<meta name="twitter:card" content="%s" />`, card)
		line(`<meta property="twitter:image" content="%s" />`, image)
	} else {
		line(`<meta name="twitter:card" content="summary" />`)
	}
	if pageTitle != "" {
		line(`<meta property="twitter:title" content="%s" />`, pageTitle)
	}
	if tw := liquid.Lookup(site, "twitter"); tw != nil {
		line(`<meta name="twitter:site" content="@%s" />`, strings.ReplaceAll(liquid.LookupString(tw, "username"), "@", ""))
		if a := authorTwitter(author); a != "" {
			line(`<meta name="twitter:creator" content="@%s" />`, strings.ReplaceAll(a, "@", ""))
		}
	}
	if fb := liquid.Lookup(site, "facebook"); fb != nil {
		for _, x := range [][2]string{{"admins", `<meta property="fb:admins" content="%s" />`}, {"publisher", `<meta property="article:publisher" content="%s" />`}, {"app_id", `<meta property="fb:app_id" content="%s" />`}} {
			if v := liquid.LookupString(fb, x[0]); v != "" {
				line(x[1], v)
			}
		}
	}
	if wv := liquid.Lookup(site, "webmaster_verifications"); wv != nil {
		for _, x := range [][2]string{{"google", "google-site-verification"}, {"bing", "msvalidate.01"}, {"alexa", "alexaVerifyID"}, {"yandex", "yandex-verification"}, {"baidu", "baidu-site-verification"}, {"facebook", "facebook-domain-verification"}} {
			if v := liquid.LookupString(wv, x[0]); v != "" {
				line(`<meta name="%s" content="%s" />`, x[1], v)
			}
		}
	} else if v := liquid.LookupString(site, "google_site_verification"); v != "" {
		line(`<meta name="google-site-verification" content="%s" />`, v)
	}

	ld := map[string]any{"@context": "https://schema.org", "@type": typ, "url": canonical}
	if pageTitle != "" { // an empty string is nil to the plugin's format_string, and left out
		ld["headline"] = pageTitle
	}
	if name != "" {
		ld["name"] = name
	}
	if description != "" {
		ld["description"] = description
	}
	if date != nil {
		ld["datePublished"] = xmlschema(date)
		ld["dateModified"] = xmlschema(firstOf(liquid.Lookup(pageSEO, "date_modified"), pg("last_modified_at"), date))
	}
	if n := liquid.LookupString(author, "name"); n != "" {
		typ := liquid.LookupString(author, "type")
		if typ == "" || typ == "Person" || typ == "Organization" {
			if typ == "" {
				typ = "Person"
			}
			a := liquid.NewMap()
			a.Set("@type", typ)
			a.Set("name", n)
			if u := liquid.LookupString(author, "url"); u != "" {
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
	if links := firstOf(liquid.Lookup(pageSEO, "links")); links != nil {
		ld["sameAs"] = links
	} else if home && liquid.Lookup(siteSocial, "links") != nil {
		ld["sameAs"] = liquid.Lookup(siteSocial, "links")
	}
	if logo := liquid.LookupString(site, "logo"); logo != "" {
		if !HasScheme(logo) {
			logo = s.AbsoluteURL(logo)
		}
		pub := liquid.NewMap()
		pub.Set("@type", "Organization")
		l := liquid.NewMap()
		l.Set("@type", "ImageObject")
		l.Set("url", uriEscape(logo))
		pub.Set("logo", l)
		if n := liquid.LookupString(author, "name"); n != "" {
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
	line(`<script type="application/ld+json">`)
	line("%s</script>", s.JSON(obj))
	w.WriteString("<!-- End Jekyll SEO tag -->\n")
	return nil
}

// seoAuthor resolves page.author, page.authors[0] or site.author, a
// name looked up in site.data.authors.
func seoAuthor(pg func(string) any, site *liquid.Map) *liquid.Map {
	a := pg("author")
	if a == nil {
		if list, ok := pg("authors").([]any); ok && len(list) > 0 {
			a = list[0]
		}
	}
	if a == nil {
		a = liquid.Lookup(site, "author")
	}
	switch x := a.(type) {
	case *liquid.Map:
		return x
	case string:
		m := liquid.NewMap()
		m.Set("name", x)
		if data, ok := liquid.Lookup(liquid.Lookup(site, "data"), "authors").(*liquid.Map); ok {
			if info, ok := liquid.Lookup(data, x).(*liquid.Map); ok {
				m.DeepMerge(info)
			}
		}
		return m
	}
	return liquid.NewMap()
}

func authorTwitter(a *liquid.Map) string {
	if t := liquid.LookupString(a, "twitter"); t != "" {
		return strings.TrimPrefix(t, "@")
	}
	return strings.TrimPrefix(liquid.LookupString(a, "name"), "@")
}
