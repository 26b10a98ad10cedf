package site

import "fmt"

// builtinPlugins are the Jekyll plugins islet implements.
var builtinPlugins = map[string]bool{
	"jekyll-feed": true, "jekyll-seo-tag": true, "jekyll-sitemap": true,
	"jekyll-redirect-from": true, "jekyll-paginate": true,
}

// themePlugins are the runtime dependencies a theme gem brings, which
// Jekyll loads with the theme.
var themePlugins = map[string][]string{
	"minima": {"jekyll-feed", "jekyll-seo-tag"},
}

// enablePlugins reads plugins: (and gems:); a plugin islet does not
// implement is an error rather than a silently different site.
func (s *Site) enablePlugins() error {
	s.plugins = map[string]bool{}
	for _, key := range []string{"plugins", "gems"} {
		for _, name := range stringList(get(s.cfg.raw, key)) {
			if !builtinPlugins[name] {
				return fmt.Errorf("_config.yml: plugin %q is not built into islet (it has %s)", name, pluginNames())
			}
			s.plugins[name] = true
		}
	}
	if s.theme != nil {
		for _, p := range themePlugins[s.theme.name] {
			s.plugins[p] = true
		}
	}
	return nil
}

func pluginNames() string {
	return "jekyll-feed, jekyll-seo-tag, jekyll-sitemap, jekyll-redirect-from, jekyll-paginate"
}
