package plugins

import (
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
)

// relativeLinks is jekyll-relative-links 0.7: in a Markdown page's
// source, an inline or reference link to another file of the site by
// its path ([guide](docs/guide.md)) becomes a link to that file's URL,
// fragment and title kept. relative_links: {enabled: false} turns it
// off, collections: true adds collection documents, exclude: skips
// paths.
type relativeLinks struct{}

func (relativeLinks) Name() string                   { return "jekyll-relative-links" }
func (relativeLinks) Tags(Site) map[string]TagParser { return nil }

// The plugin's regular expressions; RE2 has no lookbehind, so a title's
// closing quote may not follow a backslash by the class instead. (The
// single-quoted title opens with a double quote, as in the plugin.)
const (
	rlText      = `(.*?)`
	rlFragTitle = `(#.+?|)?(\s+"(?:\\.|[^"\\])*"|\s+"(?:\\'|[^'])*')?`
)

var relativeLink = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)(\[` + rlText + `\]\(([^)]+?)` + rlFragTitle + `\)|^\s*?\[` + rlText + `\]: (.+?)` + rlFragTitle + `\s*?$)`)
})

var urlScheme = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
})

func (relativeLinks) Generate(s Site) error {
	cfg := liquid.Lookup(s.Config(), "relative_links")
	if v, ok := liquid.Lookup(cfg, "enabled").(bool); ok && !v {
		return nil
	}
	targets := map[string]string{} // source path → URL
	for _, p := range append(s.Pages(), s.Documents()...) {
		if _, ok := targets[p.Rel()]; !ok && p.URL() != "" {
			targets[p.Rel()] = p.URL()
		}
	}
	for _, f := range s.StaticFiles() {
		rel := strings.TrimPrefix(liquid.LookupString(f, "path"), "/")
		if _, ok := targets[rel]; !ok {
			targets[rel] = liquid.LookupString(f, "url")
		}
	}
	docs := s.Pages()
	if v, _ := liquid.Lookup(cfg, "collections").(bool); v {
		docs = append(docs, s.Documents()...)
	}
	exclude, _ := liquid.Lookup(cfg, "exclude").([]any)
	for _, d := range docs {
		if !d.Markdown() || d.Generated() != "" || excludedBy(exclude, d.Rel()) {
			continue
		}
		base := path.Dir(d.Rel())
		body := relativeLink().ReplaceAllStringFunc(d.Body(), func(orig string) string {
			idx := relativeLink().FindStringSubmatchIndex(orig)
			group := func(i int) string {
				if idx[2*i] < 0 {
					return ""
				}
				return orig[idx[2*i]:idx[2*i+1]]
			}
			inline := idx[4] >= 0 // the inline form's text took part
			text, target, frag, title := group(6), group(7), group(8), group(9)
			if inline {
				text, target, frag, title = group(2), group(3), group(4), group(5)
			}
			if target == "" || strings.HasPrefix(target, "#") || urlScheme().MatchString(target) {
				return orig
			}
			abs := strings.HasPrefix(target, "/")
			p := strings.TrimPrefix(target, "/")
			if !abs {
				p = path.Join(base, p)
			}
			p = path.Clean(p)
			if strings.HasPrefix(p, "../") || p == ".." {
				return orig
			}
			if un, err := url.QueryUnescape(p); err == nil {
				p = un
			}
			u, ok := targets[p]
			if !ok || u == "" {
				return orig
			}
			if inline {
				return "[" + text + "](" + s.RelativeURL(u) + frag + title + ")"
			}
			return "\n[" + text + "]: " + s.RelativeURL(u) + frag + title
		})
		d.SetBody(body)
	}
	return nil
}

// excludedBy reports whether rel matches one of the globs.
func excludedBy(globs []any, rel string) bool {
	for _, g := range globs {
		pat := strings.TrimPrefix(liquid.ToString(g), "/")
		if ok, _ := path.Match(pat, rel); ok || strings.HasPrefix(rel, strings.TrimSuffix(pat, "/")+"/") {
			return true
		}
	}
	return false
}
