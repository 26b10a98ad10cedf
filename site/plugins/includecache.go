package plugins

// includeCache is jekyll-include-cache: {% include_cached %} is an
// include whose output is rendered once for each set of arguments and
// reused on every page that passes the same ones (a site's navigation,
// rendered once instead of once per page). The site implements the tag;
// the plugin names it.
type includeCache struct{}

func (includeCache) Name() string                   { return "jekyll-include-cache" }
func (includeCache) Tags(Site) map[string]TagParser { return nil }
func (includeCache) Generate(Site) error            { return nil }

// CachedInclude names the tag the site makes a cached include.
func (includeCache) CachedInclude() string { return "include_cached" }
