package plugins

import (
	"path"
	"strings"

	"islet.dev/islet/site/liquid"
)

// optionalFrontMatter is jekyll-optional-front-matter 0.3: a Markdown
// file without front matter is a page too (its static copy stays unless
// remove_originals: true), but README, LICENSE, CONTRIBUTING and the
// like, unless include: names them. optional_front_matter: {enabled:
// false} or require_front_matter: true turns it off.
type optionalFrontMatter struct{}

func (optionalFrontMatter) Name() string                   { return "jekyll-optional-front-matter" }
func (optionalFrontMatter) Tags(Site) map[string]TagParser { return nil }

var frontMatterOptional = map[string]bool{"README": true, "LICENSE": true, "LICENCE": true, "COPYING": true, "CODE_OF_CONDUCT": true,
	"CONTRIBUTING": true, "ISSUE_TEMPLATE": true, "PULL_REQUEST_TEMPLATE": true}

func (optionalFrontMatter) Generate(s Site) error {
	cfg := liquid.Lookup(s.Config(), "optional_front_matter")
	require := liquid.Truthy(liquid.Lookup(s.Config(), "require_front_matter"))
	if v, ok := liquid.Lookup(cfg, "enabled").(bool); (ok && !v) || require {
		return nil
	}
	cleanup := liquid.Lookup(cfg, "remove_originals") == true || require
	included := liquid.Lookup(s.Config(), "include")
	for _, rel := range s.MarkdownStatics() {
		base := path.Base(rel)
		base = strings.TrimSuffix(base, path.Ext(base))
		if frontMatterOptional[strings.ToUpper(base)] && !includedByConfig(included, rel) {
			continue
		}
		if _, err := s.PageFromStatic(rel); err != nil {
			return err
		}
		if cleanup {
			s.RemoveStatic(rel)
		}
	}
	return nil
}

// includedByConfig reports whether _config.yml's include: (a list)
// names rel or a folder of it, as Jekyll's EntryFilter#included? does.
func includedByConfig(include any, rel string) bool {
	list, ok := include.([]any)
	if !ok {
		return false
	}
	for _, v := range list {
		pat := strings.TrimPrefix(liquid.ToString(v), "/")
		if ok, _ := path.Match(pat, rel); ok || pat == rel || strings.HasPrefix(rel, pat+"/") || pat == path.Base(rel) {
			return true
		}
	}
	return false
}
