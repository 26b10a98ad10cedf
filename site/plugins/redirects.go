package plugins

import (
	"fmt"
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

// redirectFrom is jekyll-redirect-from: a redirect page for each
// redirect_from of a document or page, redirect_to turning a page into
// one, and redirects.json listing them all.
type redirectFrom struct{}

func (redirectFrom) Name() string                   { return "jekyll-redirect-from" }
func (redirectFrom) Tags(Site) map[string]TagParser { return nil }

func (redirectFrom) Generate(s Site) error {
	if err := s.AddLayout("redirect", "jekyll-redirect-from:redirect.html", redirectLayout); err != nil {
		return err
	}
	redirects := liquid.NewMap()
	target := func(to string) string {
		if strings.HasPrefix(to, "http://") || strings.HasPrefix(to, "https://") {
			return to
		}
		return s.AbsoluteURL(to)
	}
	redirectData := func(from, to string) *liquid.Map {
		m := liquid.NewMap()
		m.Set("from", from)
		m.Set("to", to)
		return m
	}
	type stub struct {
		page Page
		by   string // the document whose redirect_from made it
	}
	stubs := map[string]stub{}
	for _, d := range append(s.Documents(), s.Pages()...) {
		for _, from := range listOfAny(liquid.Lookup(d.Data(), "redirect_from")) {
			from = "/" + strings.TrimPrefix(from, "/")
			to := target(d.URL())
			if prev, ok := stubs[from]; ok {
				// Jekyll writes both stubs, the later last: that one is
				// what the folder holds.
				s.Warn(d.Rel(), s.KeyLine(d.Rel(), "redirect_from"), fmt.Sprintf("redirect_from %s is also %s's: the redirect to this document's URL is written, as Jekyll writes the later one", from, prev.by))
				prev.page.Data().Set("redirect", redirectData(from, to))
				stubs[from] = stub{prev.page, d.Rel()}
				redirects.Set(from, to)
				continue
			}
			p := s.AddPage("redirect.html", "", "jekyll-redirect-from")
			stubs[from] = stub{p, d.Rel()}
			p.Data().Set("sitemap", false)
			p.Data().Set("layout", "redirect")
			p.Data().Set("permalink", from)
			p.Data().Set("redirect", redirectData(from, to))
			if err := p.Relocate(); err != nil {
				return err
			}
			redirects.Set(from, to)
		}
		if to := firstString(liquid.Lookup(d.Data(), "redirect_to")); to != "" {
			to = target(to)
			d.Data().Set("sitemap", false)
			d.Data().Set("layout", "redirect")
			d.Data().Set("redirect", redirectData(d.URL(), to))
			d.SetBody("")
			d.Data().Set("render_with_liquid", false)
			redirects.Set(d.URL(), to)
		}
	}
	if liquid.LookupBool(liquid.Lookup(s.Config(), "redirect_from"), "json", true) && !s.HasSource("redirects.json") {
		p := s.AddPage("redirects.json", s.JSON(redirects), "jekyll-redirect-from")
		p.Data().Set("render_with_liquid", false)
	}
	return nil
}

// listOfAny reads a value that may be one string or a list of them.
func listOfAny(v any) []string {
	list, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil
		}
		return []string{liquid.ToString(v)}
	}
	var out []string
	for _, x := range list {
		if x != nil {
			out = append(out, liquid.ToString(x))
		}
	}
	return out
}

func firstString(v any) string {
	if l := listOfAny(v); len(l) > 0 {
		return l[0]
	}
	return ""
}
