package plugins

import (
	"log/slog"

	"islet.dev/islet/site/liquid"
)

// A Plugin is one Jekyll plugin, named as _config.yml's plugins: names
// it. Its methods run once per render, on one goroutine.
type Plugin interface {
	Name() string
	// Tags are the Liquid tags the plugin adds, by name.
	Tags(s Site) map[string]TagParser
	// Generate runs once the site is read, before anything renders
	// (Jekyll's generators): it adds pages and changes documents.
	Generate(s Site) error
}

// A PostRenderer changes the output of each page and document once its
// layouts are applied (Jekyll's :post_render hook for pages and
// documents), in the order the plugins are listed.
type PostRenderer interface {
	PostRender(s Site, p Page, output string) (string, error)
}

// TagParser parses a tag's markup into a node rendered on each use.
type TagParser = func(markup string) (liquid.Node, error)

// Site is what a plugin sees of the site being rendered.
type Site interface {
	// Config is _config.yml, Jekyll's defaults filled in.
	Config() *liquid.Map
	// Environment is jekyll.environment (JEKYLL_ENV, development by
	// default).
	Environment() string
	// Getenv is an environment variable of the render ("" when unset).
	Getenv(key string) string
	// ReadSource reads a file of the source tree (.git/HEAD).
	ReadSource(rel string) ([]byte, error)
	// Drop is the site variable templates see (site.posts, site.data,
	// …); it is complete once the pages render, not during Generate.
	Drop() *liquid.Map
	AbsoluteURL(path string) string
	// RelativeURL is the relative_url filter: baseurl prepended.
	RelativeURL(path string) string
	// Markdownify converts Markdown as the site's converter does.
	Markdownify(text string) (string, error)
	// JSON writes a value as Ruby's to_json does.
	JSON(v any) string
	Logger() *slog.Logger
	// Warn records a render warning about file (a source path) at line
	// (0: the whole file).
	Warn(file string, line int, msg string)
	// KeyLine is the line of key in the front matter of the source file
	// rel, 0 when it is not there.
	KeyLine(rel, key string) int

	// Pages lists the pages, generated ones included, in order.
	Pages() []Page
	// Documents lists the published documents of the collections that
	// are written out, posts included.
	Documents() []Page
	// Posts lists the published posts, newest first.
	Posts() []Page
	// StaticFiles lists the static files whose names end in one of exts
	// (all when none), as templates see them.
	StaticFiles(exts ...string) []any
	// HasSource reports whether the site has its own page or static file
	// at rel; HasURL whether any page or static file is at url;
	// SourceExists whether the source tree has a file at rel, read or
	// excluded.
	HasSource(rel string) bool
	HasURL(url string) bool
	SourceExists(rel string) bool
	// AddPage adds a page that has no file (Jekyll's PageWithoutAFile)
	// at rel, its body a Liquid template, made by plugin.
	AddPage(rel, body, plugin string) Page
	// AddLayout adds a layout of that name unless the site has one;
	// rel names it in errors.
	AddLayout(name, rel, body string) error
	// HasLayout reports whether the site (or its theme) has the layout.
	HasLayout(name string) bool
	// MarkdownStatics lists the site's own static files (no front
	// matter, outside collections) that Markdown converts, by rel.
	MarkdownStatics() []string
	// PageFromStatic makes a page of the static file at rel, its whole
	// text the body, as Jekyll's Page.new does for a file without front
	// matter (the static file stays unless RemoveStatic).
	PageFromStatic(rel string) (Page, error)
	RemoveStatic(rel string)
}

// Page is a page or document of the site.
type Page interface {
	Rel() string
	URL() string
	// Data is the front matter, defaults applied; a plugin may change it.
	Data() *liquid.Map
	// Drop is the page as templates see it.
	Drop() any
	// SetBody replaces the page's content.
	SetBody(body string)
	// Relocate computes the URL again, after Data's permalink changed.
	Relocate() error
	// Generated is the plugin that made the page; "" for the site's own.
	Generated() string
	// Markdown reports whether the page is converted as Markdown.
	Markdown() bool
	// Collection is the label of the page's collection; "" for a page.
	Collection() string
	// Body is the page's content before Liquid and conversion.
	Body() string
	// OutputExt is the extension of the written file (.html for
	// Markdown); Written whether the page is written out (a page, or a
	// document of a collection with output).
	OutputExt() string
	Written() bool
	// Paginate makes the page a pager (paginator is its paginator
	// variable); CopyAt adds a copy of it at url with paginator.
	Paginate(paginator *liquid.Map)
	CopyAt(url string, paginator *liquid.Map)
}
