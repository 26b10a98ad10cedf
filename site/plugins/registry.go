package plugins

import (
	"fmt"
	"strings"
)

// builtin lists the plugins islet has, in the order their generators
// run, as Jekyll orders them by priority: the site's GitHub metadata
// first (set when the site is made, before any generator); the pages
// made of Markdown
// without front matter and of READMEs (normal, low) first, then
// redirects, the sitemap after what adds pages; titles and layouts
// (lowest) at the end.
var builtin = []Plugin{githubMetadata{}, optionalFrontMatter{}, readmeIndex{}, redirectFrom{}, paginate{}, feed{}, sitemap{}, seo{},
	includeCache{}, avatar{}, titlesFromHeadings{}, defaultLayout{}, relativeLinks{}, gist{}, mentions{}}

// Lookup returns the plugin of that name; a plugin islet does not have
// is an error naming those it has, rather than a silently different
// site.
func Lookup(name string) (Plugin, error) {
	for _, p := range builtin {
		if p.Name() == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range builtin {
		names = append(names, p.Name())
	}
	return nil, fmt.Errorf("plugin %q is not built into islet (it has %s)", name, strings.Join(names, ", "))
}

// Ordered returns the named plugins in the order their generators run.
func Ordered(enabled map[string]bool) []Plugin {
	var out []Plugin
	for _, p := range builtin {
		if enabled[p.Name()] {
			out = append(out, p)
		}
	}
	return out
}

// ThemeDependencies are the plugins a theme gem brings, which Jekyll
// loads with the theme.
func ThemeDependencies(theme string) []string {
	return map[string][]string{
		"minima": {"jekyll-feed", "jekyll-seo-tag"},
	}[theme]
}
