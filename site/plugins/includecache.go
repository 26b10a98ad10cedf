package plugins

// includeCache is jekyll-include-cache: {% include_cached %} is an
// include whose output the plugin keeps for equal arguments. islet
// parses each include once per render and renders it in microseconds,
// so the tag is include under another name, with the same output.
type includeCache struct{}

func (includeCache) Name() string                   { return "jekyll-include-cache" }
func (includeCache) Tags(Site) map[string]TagParser { return nil }
func (includeCache) Generate(Site) error            { return nil }

// Aliases makes include_cached an include.
func (includeCache) Aliases() map[string]string {
	return map[string]string{"include_cached": "include"}
}
