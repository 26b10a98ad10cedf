package site

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"islet.dev/islet/site/liquid"
	"islet.dev/islet/site/plugins"
)

// enablePlugins reads plugins: (and gems:) and the theme's own; a
// plugin islet does not have is an error rather than a silently
// different site.
func (s *Site) enablePlugins() error {
	enabled := map[string]bool{}
	for _, key := range []string{"plugins", "gems"} {
		for _, name := range stringList(get(s.cfg.raw, key)) {
			if _, err := plugins.Lookup(name); err != nil {
				return fmt.Errorf("_config.yml: %w", err)
			}
			enabled[name] = true
		}
	}
	if s.theme != nil {
		for _, p := range plugins.ThemeDependencies(s.theme.name) {
			enabled[p] = true
		}
	}
	s.plugins = plugins.Ordered(enabled)
	return nil
}

// registerPluginTags adds the enabled plugins' Liquid tags to e.
func (s *Site) registerPluginTags(e *liquid.Engine) {
	for _, p := range s.plugins {
		for name, parse := range p.Tags(pluginSite{s}) {
			e.RegisterTag(name, parse)
		}
		if ci, ok := p.(interface{ CachedInclude() string }); ok {
			e.RegisterTag(ci.CachedInclude(), func(markup string) (liquid.Node, error) { return s.parseCachedInclude(markup) })
		}
	}
}

// generate runs the enabled plugins' generators, in order.
func (s *Site) generate() error {
	for _, p := range s.plugins {
		if err := p.Generate(pluginSite{s}); err != nil {
			return fmt.Errorf("%s: %w", p.Name(), err)
		}
		// a generator may set url and baseurl (jekyll-github-metadata)
		s.cfg.baseurl = strings.TrimSuffix(getString(s.cfg.raw, "baseurl"), "/")
		s.cfg.url = strings.TrimSuffix(getString(s.cfg.raw, "url"), "/")
	}
	return nil
}

// pluginSite is what a plugin sees of the site (plugins.Site).
type pluginSite struct{ s *Site }

var _ plugins.Site = pluginSite{}

func (p pluginSite) Config() *liquid.Map                   { return p.s.cfg.raw }
func (p pluginSite) Environment() string                   { return p.s.env() }
func (p pluginSite) ReadSource(rel string) ([]byte, error) { return fs.ReadFile(p.s.src, rel) }
func (p pluginSite) Getenv(key string) string {
	if p.s.opt.Getenv == nil {
		return ""
	}
	return p.s.opt.Getenv(key)
}
func (p pluginSite) Drop() *liquid.Map                      { return p.s.drop }
func (p pluginSite) AbsoluteURL(u string) string            { return p.s.absoluteURL(u) }
func (p pluginSite) RelativeURL(u string) string            { return p.s.relativeURL(u) }
func (p pluginSite) Markdownify(t string) (string, error)   { return p.s.md.Convert(t) }
func (p pluginSite) Logger() *slog.Logger                   { return p.s.log }
func (p pluginSite) Warn(file string, line int, msg string) { p.s.warnf(file, line, "%s", msg) }
func (p pluginSite) KeyLine(rel, key string) int            { return p.s.keyLineNo(rel, key) }

func (p pluginSite) JSON(v any) string {
	var b bytes.Buffer
	writeJSON(&b, v, 0)
	return b.String()
}

func (p pluginSite) Pages() []plugins.Page { return pagesOf(p.s.pages) }

func (p pluginSite) Documents() []plugins.Page {
	var docs []*document
	for _, col := range p.s.cfg.collections {
		if col.output {
			docs = append(docs, p.s.published[col]...)
		}
	}
	return pagesOf(docs)
}

func (p pluginSite) Posts() []plugins.Page {
	posts := p.s.published[p.s.collection("posts")]
	out := make([]plugins.Page, len(posts))
	for i, d := range posts {
		out[len(posts)-1-i] = pluginPage{d}
	}
	return out
}

func (p pluginSite) StaticFiles(exts ...string) []any {
	var out []any
	for _, f := range p.s.static {
		if len(exts) == 0 || slicesContains(exts, extOf(f.rel)) {
			out = append(out, p.s.staticDrop(f))
		}
	}
	return out
}

// HasSource reports whether the site has its own file (a page or a
// static file) at rel.
func (p pluginSite) HasSource(rel string) bool {
	for _, f := range p.s.static {
		if f.rel == rel {
			return true
		}
	}
	for _, d := range p.s.pages {
		if d.rel == rel && d.generated == "" {
			return true
		}
	}
	return false
}

func (p pluginSite) HasURL(url string) bool {
	for _, d := range p.s.pages {
		if d.url == url {
			return true
		}
	}
	for _, f := range p.s.static {
		if f.url() == url {
			return true
		}
	}
	return false
}

func (p pluginSite) SourceExists(rel string) bool {
	_, err := fs.Stat(p.s.src, rel)
	return err == nil
}

func (p pluginSite) AddPage(rel, body, plugin string) plugins.Page {
	return pluginPage{p.s.generatedPage(rel, body, plugin)}
}

func (p pluginSite) MarkdownStatics() []string {
	var out []string
	for _, f := range p.s.static {
		if f.fsys == nil && f.col == nil && p.s.cfg.markdownExt[strings.ToLower(extOf(f.rel))] {
			out = append(out, f.rel)
		}
	}
	return out
}

func (p pluginSite) PageFromStatic(rel string) (plugins.Page, error) {
	src, err := fs.ReadFile(p.s.src, rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	s := p.s
	d := &document{site: s, rel: rel, body: string(src), bodyLine: 1, ext: extOf(rel),
		bodyHash: hashBytes(src)}
	d.data = s.cfg.defaultsFor(rel, "pages")
	if err := d.computeURL(); err != nil {
		return nil, err
	}
	d.drop = &docDrop{d}
	s.pages = append(s.pages, d)
	return pluginPage{d}, nil
}

func (p pluginSite) RemoveStatic(rel string) {
	for i, f := range p.s.static {
		if f.rel == rel && f.fsys == nil {
			p.s.static = append(p.s.static[:i], p.s.static[i+1:]...)
			return
		}
	}
}

func (p pluginSite) HasLayout(name string) bool {
	_, ok := p.s.layouts[name]
	return ok
}

func (p pluginSite) AddLayout(name, rel, body string) error {
	if _, ok := p.s.layouts[name]; ok {
		return nil
	}
	tpl, err := p.s.engine.Parse(rel, body)
	if err != nil {
		return err
	}
	p.s.layouts[name] = &layout{name: name, rel: rel, data: liquid.NewMap(), tpl: tpl}
	return nil
}

func pagesOf(docs []*document) []plugins.Page {
	out := make([]plugins.Page, len(docs))
	for i, d := range docs {
		out[i] = pluginPage{d}
	}
	return out
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pluginPage is a document as a plugin sees it (plugins.Page).
type pluginPage struct{ d *document }

func (p pluginPage) Rel() string         { return p.d.rel }
func (p pluginPage) URL() string         { return p.d.url }
func (p pluginPage) Data() *liquid.Map   { return p.d.data }
func (p pluginPage) Drop() any           { return p.d.drop }
func (p pluginPage) SetBody(body string) { p.d.body = body }
func (p pluginPage) Relocate() error     { return p.d.computeURL() }
func (p pluginPage) Generated() string   { return p.d.generated }
func (p pluginPage) Markdown() bool      { return p.d.site.cfg.markdownExt[strings.ToLower(p.d.ext)] }
func (p pluginPage) Body() string        { return p.d.body }
func (p pluginPage) OutputExt() string   { return p.d.outputExt() }
func (p pluginPage) Written() bool       { return p.d.col == nil || p.d.col.output }
func (p pluginPage) Collection() string {
	if p.d.col == nil {
		return ""
	}
	return p.d.col.label
}
func (p pluginPage) Paginate(pager *liquid.Map) { p.d.pager = pager }

// CopyAt adds a copy of the page at url (ending in "/") listing pager's
// posts: pages 2… of jekyll-paginate.
func (p pluginPage) CopyAt(url string, pager *liquid.Map) {
	t := p.d
	c := &document{site: t.site, rel: t.rel, body: t.body, bodyLine: t.bodyLine, ext: t.ext, data: t.data, fsys: t.fsys, generated: "jekyll-paginate", pager: pager}
	c.url = url
	c.dest = strings.TrimPrefix(url, "/") + "index.html"
	c.drop = &docDrop{c}
	t.site.pages = append(t.site.pages, c)
}

// generatedPage adds a page a plugin makes (Jekyll's PageWithoutAFile).
func (s *Site) generatedPage(rel, body, plugin string) *document {
	d := &document{site: s, rel: rel, body: body, bodyLine: 1, ext: extOf(rel), data: liquid.NewMap(), generated: plugin}
	d.data.Set("layout", nil)
	if err := d.computeURL(); err == nil {
		d.drop = &docDrop{d}
	}
	s.pages = append(s.pages, d)
	return d
}

func extOf(p string) string {
	for i := len(p) - 1; i >= 0 && p[i] != '/'; i-- {
		if p[i] == '.' {
			return p[i:]
		}
	}
	return ""
}
