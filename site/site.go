package site

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"islet.dev/islet/internal/pool"

	"islet.dev/islet/site/liquid"
	"islet.dev/islet/site/markup"
	"islet.dev/islet/site/plugins"
)

// Version is the Jekyll version templates see as jekyll.version.
const Version = "4.3.1"

// Site is one render of a source tree.
type Site struct {
	src       fs.FS
	theme     *theme
	plugins   []plugins.Plugin // enabled, in the order their generators run
	reused    int
	cfg       *config
	opt       Options
	engine    *liquid.Engine
	pages     []*document
	static    []*staticFile
	layouts   map[string]*layout
	data      *liquid.Map
	drop      *liquid.Map // site.*
	published map[*collection][]*document
	includes  sync.Map // name → *includeEntry
	// cachedIncludes are include_cached outputs by file and arguments
	cachedIncludes sync.Map
	md             *markup.Markdown
	log            *slog.Logger
	warnings       warnings

	depMu     sync.Mutex
	deps      map[*document]map[*document]bool // reader → documents whose content it read
	untracked atomic.Bool                      // content was read outside a render

	sassJobs  map[*document]*sassJob // added to under sassMu while the site is read, read-only in the render stages
	sassMu    sync.Mutex
	sassLane  sassLane                       // where libsass compiles, one at a time
	sassFiles sync.Map                       // what the compiles' imports read, by path as they know it
	sassMemo  map[sassMemoKey]*sassMemoEntry // compiles done, by input (sassmemo.go); on sassLane's thread only
	abort     <-chan struct{}                // closed when the render is cancelled: a page waiting for another stops
}

type includeEntry struct {
	once sync.Once
	tpl  *liquid.Template
	err  error
}

// Render renders the Jekyll source tree src and returns its output.
// Progress and warnings go to log (nil: discarded).
func Render(ctx context.Context, src fs.FS, opt Options, log *slog.Logger) (*Output, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hugeHeap()
	cfg, err := readConfig(src, opt)
	if err != nil {
		return nil, err
	}
	s := &Site{src: src, cfg: cfg, opt: opt, layouts: map[string]*layout{}, log: log, published: map[*collection][]*document{}}
	defer s.sassLane.stop() // first deferred, so last run: after the early stylesheets are waited for
	for _, w := range cfg.warnings {
		s.warnings.add(w)
	}
	if name := getString(cfg.raw, "theme"); name != "" {
		t, err := findTheme(name, opt.ThemeDir)
		if err != nil {
			return nil, err
		}
		s.theme = t
	}
	if err := s.enablePlugins(); err != nil {
		return nil, err
	}
	s.md = markup.NewMarkdown()
	s.engine = s.newEngine()
	if !s.incremental() {
		// Stylesheets without Liquid need nothing the rest of the
		// preparation makes: each compiles from when it is read,
		// beside the rest. (An incremental render knows which need
		// compiling only later.)
		s.sassJobs = map[*document]*sassJob{}
		defer s.waitSass()
	}
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	if err := s.readLayouts(); err != nil {
		return nil, err
	}
	if err := s.readData(); err != nil {
		return nil, err
	}
	if err := s.prepare(); err != nil {
		return nil, err
	}
	log.Debug("site read", "pages", len(s.pages), "posts", len(s.published[s.collection("posts")]), "static", len(s.static))
	var prev *renderState
	var global string
	if s.incremental() {
		if opt.Incremental {
			if opt.Previous != nil {
				prev = opt.Previous.st
			}
		} else {
			prev = loadState(opt.StateDir)
		}
		if global, err = s.globalHash(); err != nil {
			return nil, err
		}
		s.reused = s.reuse(prev, global)
	}
	out, err := s.renderAll(ctx)
	if err != nil {
		return nil, err
	}
	out.Warnings = s.warnings.sorted()
	if opt.Strict && len(out.Warnings) > 0 {
		return nil, &StrictError{Warnings: out.Warnings}
	}
	if s.incremental() {
		out.stateDir = opt.StateDir
		out.state = s.newState(global, out)
		out.Reused = s.reused
		if prev != nil {
			out.prevFiles = prev.Files
		}
	}
	return out, nil
}

// incremental says the render tracks what each document reads, for
// the next render: one kept in StateDir, or in memory.
func (s *Site) incremental() bool { return s.opt.StateDir != "" || s.opt.Incremental }

func (s *Site) env() string {
	if s.opt.Environment == "" {
		return "development"
	}
	return s.opt.Environment
}

// prepare decides what is published, computes URLs and builds the
// site drop.
func (s *Site) prepare() error {
	// URLs on every core: each document's is its own (its data, its
	// name, the configuration). The first error in order wins.
	all := slices.Clone(s.pages)
	for _, col := range s.cfg.collections {
		all = append(all, col.docs...)
	}
	if err := pool.Each(context.Background(), len(all), 0, func(i int) error { return all[i].computeURL() }); err != nil {
		return err
	}
	for _, d := range all {
		d.drop = &docDrop{d}
	}

	var pages []*document
	for _, d := range s.pages {
		if d.published() {
			pages = append(pages, d)
		}
	}
	s.pages = pages
	for _, col := range s.cfg.collections {
		var docs []*document
		for _, d := range col.docs {
			if d.published() {
				docs = append(docs, d)
			}
		}
		s.published[col] = docs
		for _, d := range col.docs {
			d.index = -1
		}
		for i, d := range docs {
			d.index = i
		}
	}
	// Plugins' pages, in the order Jekyll's generators run.
	if err := s.generate(); err != nil {
		return err
	}
	site := s.cfg.raw.Clone()
	posts := s.published[s.collection("posts")]
	postList := make([]any, len(posts))
	for i, p := range posts {
		postList[len(posts)-1-i] = p.drop
	}
	site.Set("posts", postList)
	s.drop = site
	site.Set("related_posts", nil) // a post's own: relatedSite
	pageList, htmlPages := []any{}, []any{}
	for _, p := range s.pages {
		pageList = append(pageList, p.drop)
		if strings.HasSuffix(p.dest, ".html") || strings.HasSuffix(p.dest, ".htm") {
			htmlPages = append(htmlPages, p.drop)
		}
	}
	site.Set("pages", pageList)
	site.Set("html_pages", htmlPages)
	statics := []any{}
	for _, f := range s.static {
		statics = append(statics, s.staticDrop(f))
	}
	var docs []any
	var cols []any
	for _, col := range s.cfg.collections {
		list := []any{}
		for _, d := range s.published[col] {
			list = append(list, d.drop)
			docs = append(docs, d.drop)
		}
		files := []any{}
		for _, f := range col.files {
			fd := s.staticDrop(f)
			files = append(files, fd)
			if col.output {
				statics = append(statics, fd)
			}
		}
		cd := col.meta.Clone()
		cd.Set("label", col.label)
		cd.Set("docs", list)
		cd.Set("files", files)
		cd.Set("output", col.output)
		cd.Set("relative_directory", "_"+col.label)
		cd.Set("directory", "_"+col.label)
		if col.permalink != "" {
			cd.Set("permalink", col.permalink)
		}
		col.drop = cd
		cols = append(cols, cd)
		if col.label != "posts" {
			site.Set(col.label, list)
		}
	}
	site.Set("static_files", statics)
	site.Set("documents", nonNilList(docs))
	// site.collections is sorted by label, as Jekyll's site drop sorts it
	slices.SortStableFunc(cols, func(a, b any) int {
		return strings.Compare(liquid.ToString(get(a, "label")), liquid.ToString(get(b, "label")))
	})
	site.Set("collections", nonNilList(cols))
	site.Set("html_files", []any{})
	site.Set("data", s.data)
	site.Set("categories", s.postIndex(posts, "categories"))
	site.Set("tags", s.postIndex(posts, "tags"))
	s.drop = site
	return nil
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// postIndex is site.tags or site.categories: name → posts, newest
// first, names in the order first seen going through posts oldest first.
func (s *Site) postIndex(posts []*document, key string) *liquid.Map {
	m := liquid.NewMap()
	lists := map[string][]any{}
	for _, p := range posts {
		for _, x := range listOf(get(p.data, key)) {
			name := x.(string)
			if _, ok := lists[name]; !ok {
				m.Set(name, nil) // the names in the order they first come
			}
			lists[name] = append(lists[name], p.drop)
		}
	}
	for _, name := range m.Keys() {
		l := lists[name]
		slices.Reverse(l) // the newest post first
		m.Set(name, l)
	}
	return m
}

func (s *Site) staticDrop(f *staticFile) *liquid.Map {
	if f.drop != nil {
		return f.drop
	}
	m := liquid.NewMap()
	base := path.Base(f.rel)
	ext := path.Ext(base)
	m.Set("path", "/"+f.rel)
	m.Set("modified_time", f.mtime.In(s.cfg.loc))
	m.Set("name", base)
	m.Set("basename", strings.TrimSuffix(base, ext))
	m.Set("extname", ext)
	if f.col != nil {
		m.Set("collection", f.col.label)
	} else {
		m.Set("collection", nil)
	}
	m.Set("url", f.url())
	// Front-matter defaults reach static files too, below the drop's
	// own keys (Jekyll's StaticFileDrop falls back to the file's data).
	typ := ""
	if f.col != nil {
		typ = f.col.label
	}
	defaults := s.cfg.defaultsFor(f.rel, typ)
	for _, k := range defaults.Keys() {
		if _, own := m.Get(k); !own {
			v, _ := defaults.Get(k)
			m.Set(k, v)
		}
	}
	f.drop = m
	return m
}

// renderAll renders excerpts, then collection documents, then pages,
// each stage in parallel, and collects the output.
func (s *Site) renderAll(ctx context.Context) (*Output, error) {
	var docs []*document
	for _, col := range s.cfg.collections {
		docs = append(docs, s.published[col]...)
	}
	fresh := func(list []*document) []*document {
		var out []*document
		for _, d := range list {
			if !d.reused {
				out = append(out, d)
			}
		}
		return out
	}
	if s.sassJobs == nil {
		defer s.startSass(fresh(s.pages))()
	}
	// Every collection document has an excerpt (Jekyll 4's
	// Document#generate_excerpt?), posts and the rest alike.
	if err := parallel(ctx, fresh(docs), func(d *document) error { return s.renderExcerpt(d) }); err != nil {
		return nil, err
	}
	if err := parallel(ctx, fresh(docs), func(d *document) error { return s.renderDocument(d) }); err != nil {
		return nil, err
	}
	for _, d := range docs {
		d.rendered = true
	}
	for i, d := range s.pages {
		d.order = i
	}
	// A stylesheet, or a page that calls scssify or sassify, spends its
	// render waiting for libsass's one thread (sassLane): it waits on a
	// goroutine of its own, not in a worker.
	pages := fresh(s.pages)
	aside := func(i int) bool {
		d := pages[i]
		return d.ext == ".scss" || d.ext == ".sass" || strings.Contains(d.body, "scssify") || strings.Contains(d.body, "sassify")
	}
	// A page that reads the content of one before it waits for it
	// (docDrop.GetIn), as Jekyll's render in order gives it rendered.
	for _, d := range pages {
		d.contentDone = make(chan struct{})
	}
	s.abort = ctx.Done()
	err := pool.EachAside(ctx, len(pages), 0, aside, func(i int) error {
		defer pages[i].contentReady() // failed before its content was: its readers fail with it
		return s.renderDocument(pages[i])
	})
	if err != nil {
		return nil, err
	}
	for _, d := range s.pages {
		d.rendered = true
	}
	out := newOutput()
	// add adds what a document wrote, or (src set) a file copied.
	add := func(dest, from string, data string, src *copySource) error {
		if prev, ok := out.owner[dest]; ok {
			return fmt.Errorf("%s and %s both write %s", prev, from, dest)
		}
		out.owner[dest] = from
		if src == nil {
			out.files[dest] = data
		} else {
			out.copies[dest] = *src
		}
		return nil
	}
	for _, d := range append(docs, s.pages...) {
		if d.col != nil && !d.col.output {
			continue
		}
		if err := add(d.dest, d.rel, d.output, nil); err != nil {
			return nil, err
		}
		for dest, data := range d.extra {
			if err := add(dest, d.rel, string(data), nil); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range s.static {
		if err := add(strings.TrimPrefix(f.url(), "/"), f.rel, "", &copySource{f.source(s), f.rel}); err != nil {
			return nil, err
		}
	}
	for _, col := range s.cfg.collections {
		if !col.output {
			continue
		}
		for _, f := range col.files {
			if err := add(strings.TrimPrefix(f.url(), "/"), f.rel, "", &copySource{f.source(s), f.rel}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// parallel runs f over items on every core; the error of the first
// item in order that failed wins.
func parallel(ctx context.Context, items []*document, f func(*document) error) error {
	return pool.Each(ctx, len(items), 0, func(i int) error { return f(items[i]) })
}

// sortedDests lists an output's paths in order.
func sortedDests(o *Output) []string {
	var out []string
	for k := range o.owner {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
