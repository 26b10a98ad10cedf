package plugins

import (
	"path"
	"strings"

	"islet.dev/islet/site/liquid"
)

// readmeIndex is jekyll-readme-index 0.3: a README.md (any Markdown
// extension, any case) in a folder with no index page becomes that
// folder's index, its static copy kept unless remove_originals: true.
// readme_index: {enabled: false} turns it off; with_frontmatter: true
// also moves a README that has front matter to its folder's URL.
type readmeIndex struct{}

func (readmeIndex) Name() string                   { return "jekyll-readme-index" }
func (readmeIndex) Tags(Site) map[string]TagParser { return nil }

func (readmeIndex) Generate(s Site) error {
	cfg := liquid.Lookup(s.Config(), "readme_index")
	if v, ok := liquid.Lookup(cfg, "enabled").(bool); ok && !v {
		return nil
	}
	cleanup := liquid.Lookup(cfg, "remove_originals") == true
	hasIndex := func(dir string) bool {
		if !strings.HasSuffix(dir, "/") {
			dir += "/"
		}
		for _, u := range []string{dir, dir + "index.html", dir + "index.htm", dir + "index.xhtml", dir + "index.xml"} {
			if s.HasURL(u) {
				return true
			}
		}
		return false
	}
	for _, rel := range s.MarkdownStatics() {
		base := path.Base(rel)
		if !strings.EqualFold(strings.TrimSuffix(base, path.Ext(base)), "readme") {
			continue
		}
		dir := "/" + path.Dir(rel)
		if dir == "/." {
			dir = "/"
		}
		if hasIndex(dir) {
			continue
		}
		p, err := s.PageFromStatic(rel)
		if err != nil {
			return err
		}
		p.Data().Set("permalink", strings.TrimSuffix(dir, "/")+"/")
		if err := p.Relocate(); err != nil {
			return err
		}
		if cleanup {
			s.RemoveStatic(rel)
		}
	}
	if v, _ := liquid.Lookup(cfg, "with_frontmatter").(bool); v {
		for _, p := range s.Pages() {
			base := path.Base(p.Rel())
			if p.Generated() != "" || !p.Markdown() || !strings.EqualFold(strings.TrimSuffix(base, path.Ext(base)), "readme") {
				continue
			}
			dir := "/" + path.Dir(p.Rel())
			if dir == "/." {
				dir = "/"
			}
			if hasIndex(dir) {
				continue
			}
			p.Data().Set("permalink", strings.TrimSuffix(dir, "/")+"/")
			if err := p.Relocate(); err != nil {
				return err
			}
		}
	}
	return nil
}
