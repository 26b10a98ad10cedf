package site

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"islet.dev/islet/site/liquid"
)

// defaultExcludes are added to the site's exclude list, as Jekyll 4 does.
var defaultExcludes = []string{".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock",
	"node_modules", "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/"}

// config is _config.yml with Jekyll's defaults applied.
type config struct {
	raw          *liquid.Map // what templates see as site.*
	baseurl      string
	url          string
	permalink    string
	markdownExt  map[string]bool
	exclude      []string
	include      []string
	excerptSep   string
	future       bool
	unpublished  bool
	drafts       bool
	time         time.Time
	loc          *time.Location
	warnings     []Warning        // found while reading the configuration
	now          func() time.Time // what "now" is in a date filter
	collections  []*collection
	defaults     []frontDefault
	paginate     int
	paginatePath string
}

type frontDefault struct {
	path   string
	typ    string
	values *liquid.Map
}

// Options are the command-line switches of a render.
type Options struct {
	Drafts      bool      // render _drafts (jekyll --drafts)
	Future      bool      // publish posts dated after site.time
	Unpublished bool      // render documents with published: false
	Environment string    // jekyll.environment; "development" when empty
	Now         time.Time // site.time when _config.yml has no time:; the current time when zero
	ThemeDir    string    // the folder of the site's theme: (default: the installed gem)
	// Strict makes the render fail when it has warnings (see Warning).
	Strict bool
	// StateDir, if set, keeps what this render did for the next one:
	// documents whose sources (and what they read) did not change are
	// not rendered again, and Output.WriteChanged writes only what
	// changed.
	StateDir string
	// Incremental renders incrementally from Previous, the state an
	// earlier render of the same tree left (Output.State), in memory
	// rather than in StateDir: for renders that follow each other in
	// one process (islet run). Without Previous it renders everything.
	Incremental bool
	Previous    *State
	// Getenv reads the environment variables plugins read as Jekyll's
	// do (jekyll-github-metadata's PAGES_REPO_NWO, PAGES_ENV, …); nil
	// reads none.
	Getenv func(string) string
}

func readConfig(src fs.FS, opt Options) (*config, error) {
	c := &config{raw: liquid.NewMap()}
	data, err := fs.ReadFile(src, "_config.yml")
	if err == nil {
		v, err := decodeYAML("_config.yml", 1, data)
		if err != nil {
			return nil, err
		}
		if v != nil {
			m, ok := v.(*liquid.Map)
			if !ok {
				return nil, fmt.Errorf("_config.yml:1: the configuration must be a mapping")
			}
			c.raw = m
		}
	} else if !isNotExist(err) {
		return nil, fmt.Errorf("_config.yml: %w", err)
	}
	r := c.raw
	setDefault := func(k string, v any) {
		if _, ok := r.Get(k); !ok {
			r.Set(k, v)
		}
	}
	setDefault("permalink", "date")
	setDefault("markdown_ext", "markdown,mkdown,mkdn,mkd,md")
	setDefault("excerpt_separator", "\n\n")
	setDefault("baseurl", nil)
	setDefault("paginate_path", "/page:num")
	c.baseurl = strings.TrimSuffix(getString(r, "baseurl"), "/")
	c.url = strings.TrimSuffix(getString(r, "url"), "/")
	c.permalink = getString(r, "permalink")
	c.markdownExt = map[string]bool{}
	for _, e := range strings.Split(getString(r, "markdown_ext"), ",") {
		c.markdownExt["."+strings.TrimSpace(strings.TrimPrefix(e, "."))] = true
	}
	c.excerptSep = getString(r, "excerpt_separator")
	c.exclude = append(stringList(get(r, "exclude")), defaultExcludes...)
	c.include = append(stringList(get(r, "include")), ".htaccess")
	c.future = opt.Future || getBool(r, "future", false)
	c.unpublished = opt.Unpublished || getBool(r, "unpublished", false)
	c.drafts = opt.Drafts || getBool(r, "show_drafts", false)
	c.paginate, _ = get(r, "paginate").(int)
	c.paginatePath = getString(r, "paginate_path")

	if err := c.checkJekyll4(data); err != nil {
		return nil, err
	}
	c.loc = time.UTC
	if tz := getString(r, "timezone"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("_config.yml: timezone %q: %w", tz, err)
		}
		c.loc = loc
	}
	switch t := get(r, "time").(type) {
	case time.Time:
		c.time = t.In(c.loc)
	case string:
		pt, ok := liquid.ParseTime(t, c.loc)
		if !ok {
			return nil, fmt.Errorf("_config.yml: time %q is not a date", t)
		}
		c.time = pt.In(c.loc) // in the site's zone, whatever offset it was written with
	case nil:
		c.time = opt.Now
		if c.time.IsZero() {
			c.time = time.Now()
		}
		c.time = c.time.In(c.loc)
	default:
		return nil, fmt.Errorf("_config.yml: time must be a date")
	}
	r.Set("time", c.time)
	// "now" in a date filter is the wall clock, as in Jekyll, unless the
	// build is pinned to a time (SOURCE_DATE_EPOCH): then that.
	c.now = time.Now
	if !opt.Now.IsZero() {
		fixed := opt.Now
		c.now = func() time.Time { return fixed }
	}

	if err := c.readCollections(); err != nil {
		return nil, err
	}
	if err := c.readDefaults(); err != nil {
		return nil, err
	}
	return c, nil
}

func stringList(v any) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, liquid.ToString(x))
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

func (c *config) readCollections() error {
	posts := &collection{label: "posts", output: true, permalink: c.permalink, meta: liquid.NewMap()}
	c.collections = []*collection{posts}
	switch v := get(c.raw, "collections").(type) {
	case nil:
	case []any:
		for _, x := range v {
			label := liquid.ToString(x)
			if label == "posts" {
				continue
			}
			c.collections = append(c.collections, &collection{label: label, meta: liquid.NewMap()})
		}
	case *liquid.Map:
		for _, label := range v.Keys() {
			meta, _ := v.Get(label)
			m, _ := meta.(*liquid.Map)
			if m == nil {
				m = liquid.NewMap()
			}
			col := posts
			if label != "posts" {
				col = &collection{label: label}
				c.collections = append(c.collections, col)
			}
			col.meta = m
			if label != "posts" {
				col.output = getBool(m, "output", false)
			}
			if p := getString(m, "permalink"); p != "" {
				col.permalink = p
			}
			col.sortBy = getString(m, "sort_by")
		}
	default:
		return fmt.Errorf("_config.yml: collections must be a list or a mapping")
	}
	return nil
}

func (c *config) readDefaults() error {
	list, ok := get(c.raw, "defaults").([]any)
	if !ok {
		return nil
	}
	for i, x := range list {
		scope := get(x, "scope")
		values, ok := get(x, "values").(*liquid.Map)
		if !ok {
			return fmt.Errorf("_config.yml: defaults[%d] has no values mapping", i)
		}
		d := frontDefault{path: strings.Trim(getString(scope, "path"), "/"), typ: getString(scope, "type"), values: values}
		c.defaults = append(c.defaults, d)
	}
	return nil
}

// defaultsFor merges the front-matter defaults that apply to a file
// (relative path rel, type posts/pages/drafts/<collection>), the more
// specific scope winning, as Jekyll's FrontmatterDefaults does.
func (c *config) defaultsFor(rel, typ string) *liquid.Map {
	out := liquid.NewMap()
	type match struct {
		d     frontDefault
		score int
	}
	var ms []match
	for _, d := range c.defaults {
		if d.typ != "" && d.typ != typ && !(typ == "drafts" && d.typ == "posts") {
			continue
		}
		if !scopeMatches(d.path, rel) {
			continue
		}
		score := strings.Count(d.path, "/") + 1
		if d.path == "" {
			score = 0
		}
		score *= 2
		if d.typ != "" {
			score++
		}
		ms = append(ms, match{d, score})
	}
	// stable order: lower scores first so that more specific ones overwrite
	for s := 0; s <= 200; s++ {
		for _, m := range ms {
			if m.score == s {
				out.DeepMerge(m.d.values)
			}
		}
	}
	return out
}

func scopeMatches(scope, rel string) bool {
	if scope == "" {
		return true
	}
	if strings.ContainsAny(scope, "*?[") {
		ok, _ := path.Match(scope, rel)
		if ok {
			return true
		}
		ok, _ = path.Match(scope, path.Dir(rel))
		return ok
	}
	return rel == scope || strings.HasPrefix(rel, scope+"/")
}

// checkJekyll4 refuses what Jekyll 4 refuses, with its reason, and
// notes what it only warns about. data is _config.yml, for lines.
func (c *config) checkJekyll4(data []byte) error {
	r := c.raw
	line := func(key string) int {
		for i, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, key+":") {
				return i + 1
			}
		}
		return 0
	}
	at := func(key string) string {
		if n := line(key); n > 0 {
			return fmt.Sprintf("_config.yml:%d", n)
		}
		return "_config.yml"
	}
	if md := getString(r, "markdown"); md != "" && !strings.EqualFold(md, "kramdown") {
		return fmt.Errorf("%s: markdown: %q is not a valid Markdown processor; the processors available are: kramdown", at("markdown"), md)
	}
	if getBool(r, "relative_permalinks", false) {
		return fmt.Errorf("%s: relative_permalinks: since v3.0, permalinks for pages in subfolders must be relative to the site source directory, not the parent directory (https://jekyllrb.com/docs/upgrading/)", at("relative_permalinks"))
	}
	if getBool(r, "lsi", false) {
		c.warnings = append(c.warnings, Warning{File: "_config.yml", Line: line("lsi"),
			Msg: "lsi: related posts by latent semantic indexing are not implemented: site.related_posts is the ten most recent posts, as Jekyll gives it without lsi"})
	}
	switch hl := strings.ToLower(getString(r, "highlighter")); hl {
	case "", "rouge":
	case "pygments":
		c.warnings = append(c.warnings, Warning{File: "_config.yml", Line: line("highlighter"),
			Msg: "highlighter: pygments: the highlight tag no longer renders with Pygments; Rouge's classes are written instead, as Jekyll 4 does"})
	default:
		c.warnings = append(c.warnings, Warning{File: "_config.yml", Line: line("highlighter"),
			Msg: fmt.Sprintf("highlighter: %q is not one Jekyll 4 has; Rouge's classes are written instead", hl)})
	}
	return nil
}
