package plugins

// defaultLayout is jekyll-default-layout: a Markdown page or post
// whose front matter names no layout gets home (the page at /), page
// (pages), post (posts), or default, the first the site has.
type defaultLayout struct{}

func (defaultLayout) Name() string                   { return "jekyll-default-layout" }
func (defaultLayout) Tags(Site) map[string]TagParser { return nil }

func (defaultLayout) Generate(s Site) error {
	for _, d := range append(s.Pages(), s.Posts()...) {
		if !d.Markdown() {
			continue
		}
		if _, ok := d.Data().Get("layout"); ok {
			continue
		}
		var name string
		switch {
		case d.URL() == "/" && s.HasLayout("home"):
			name = "home"
		case d.Collection() == "" && s.HasLayout("page"):
			name = "page"
		case d.Collection() == "posts" && s.HasLayout("post"):
			name = "post"
		case s.HasLayout("default"):
			name = "default"
		default:
			continue
		}
		d.Data().Set("layout", name)
	}
	return nil
}
