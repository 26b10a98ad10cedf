package site

import (
	"bytes"
	"strings"

	"islet.dev/islet/site/liquid"
)

// redirectLayout is the page jekyll-redirect-from writes for a moved
// URL; the HTTPS server recognises it and answers with a real redirect.
const redirectLayout = `<!DOCTYPE html>
<html lang="en-US">
  <meta charset="utf-8">
  <title>Redirecting&hellip;</title>
  <link rel="canonical" href="{{ page.redirect.to }}">
  <script>location="{{ page.redirect.to }}"</script>
  <meta http-equiv="refresh" content="0; url={{ page.redirect.to }}">
  <meta name="robots" content="noindex">
  <h1>Redirecting&hellip;</h1>
  <a href="{{ page.redirect.to }}">Click here if you are not redirected.</a>
</html>
`

// addRedirects is jekyll-redirect-from: a redirect page for each
// redirect_from of a document or page, redirect_to turning a page into
// one, and redirects.json listing them all.
func (s *Site) addRedirects() error {
	if !s.plugins["jekyll-redirect-from"] {
		return nil
	}
	if _, ok := s.layouts["redirect"]; !ok {
		tpl, err := s.engine.Parse("jekyll-redirect-from:redirect.html", redirectLayout)
		if err != nil {
			return err
		}
		s.layouts["redirect"] = &layout{name: "redirect", rel: "jekyll-redirect-from:redirect.html", data: liquid.NewMap(), tpl: tpl}
	}
	redirects := liquid.NewMap()
	target := func(to string) string {
		if strings.HasPrefix(to, "http://") || strings.HasPrefix(to, "https://") {
			return to
		}
		return s.absoluteURL(to)
	}
	redirectData := func(from, to string) *liquid.Map {
		m := liquid.NewMap()
		m.Set("from", from)
		m.Set("to", to)
		return m
	}
	var docs []*document
	for _, col := range s.cfg.collections {
		if col.output {
			docs = append(docs, s.published[col]...)
		}
	}
	docs = append(docs, s.pages...)
	for _, d := range docs {
		for _, from := range listOfAny(get(d.data, "redirect_from")) {
			from = "/" + strings.TrimPrefix(from, "/")
			to := target(d.url)
			p := s.generatedPage("redirect.html", "", "jekyll-redirect-from")
			p.data.Set("sitemap", false)
			p.data.Set("layout", "redirect")
			p.data.Set("permalink", from)
			p.data.Set("redirect", redirectData(from, to))
			if err := p.computeURL(); err != nil {
				return err
			}
			redirects.Set(from, to)
		}
		if to := firstString(get(d.data, "redirect_to")); to != "" {
			to = target(to)
			d.data.Set("sitemap", false)
			d.data.Set("layout", "redirect")
			d.data.Set("redirect", redirectData(d.url, to))
			d.body = ""
			d.data.Set("render_with_liquid", false)
			redirects.Set(d.url, to)
		}
	}
	if getBool(get(s.cfg.raw, "redirect_from"), "json", true) {
		if !s.hasSource("redirects.json") {
			var b bytes.Buffer
			writeJSON(&b, redirects, 0)
			p := s.generatedPage("redirects.json", "", "jekyll-redirect-from")
			p.body = b.String()
			p.data.Set("render_with_liquid", false)
		}
	}
	return nil
}

// listOfAny reads a value that may be one string or a list of them.
func listOfAny(v any) []string {
	if _, ok := v.([]any); !ok && v != nil {
		return []string{liquid.ToString(v)}
	}
	var out []string
	for _, x := range listOf(v) {
		out = append(out, x.(string))
	}
	return out
}

func firstString(v any) string {
	if l := listOfAny(v); len(l) > 0 {
		return l[0]
	}
	return ""
}

// hasSource reports whether the site has its own file (a page or a
// static file) at rel.
func (s *Site) hasSource(rel string) bool {
	for _, f := range s.static {
		if f.rel == rel {
			return true
		}
	}
	for _, p := range s.pages {
		if p.rel == rel && p.generated == "" {
			return true
		}
	}
	return false
}
