package site

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"islet.dev/islet/site/liquid"
)

// document is a page, a post or a collection document.
type document struct {
	site     *Site
	rel      string // path in the source tree
	col      *collection
	data     *liquid.Map // front matter over defaults, plus what Jekyll adds
	body     string
	bodyLine int
	ext      string
	postDir  string // for posts: the folder holding _posts ("" or "blog/")
	draft    bool
	date     time.Time
	slug     string
	url      string
	dest     string

	excerpt   string // rendered excerpt (posts)
	content   string // converted content, before layouts
	output    string
	extra     map[string][]byte // files written beside the output (a Sass source map)
	fsys      fs.FS             // where the source lives: the site or its theme
	generated string            // the plugin that made this page, for errors
	pager     *liquid.Map       // paginator, for the pages jekyll-paginate lists posts on
	frontHash string            // of the front matter text, in incremental renders only
	bodyHash  string            // of the body
	reused    bool              // taken from the previous render's state
	deps      []string          // what a reused document read, from that state
	index     int               // place among its collection's published documents; -1: none
	rendered  bool
	dated     bool // its front matter gives a date (the others get site.time)
	order     int  // a page's place in site.pages, for what it sees of others
	// contentDone is closed once content is final, for the pages that
	// render in parallel: a page that reads one before it waits for it
	// there.
	contentDone chan struct{}
	once        sync.Once
	drop        *docDrop
}

func (d *document) isPage() bool { return d.col == nil }

// contentReady tells the pages waiting for d's content that it is
// final; called on d's render's goroutine only.
func (d *document) contentReady() {
	if d.contentDone == nil {
		return
	}
	select {
	case <-d.contentDone: // closed before (the only closer is this goroutine)
	default:
		close(d.contentDone)
	}
}

// outputExt is the extension of the converted file.
func (d *document) outputExt() string {
	switch {
	case d.site.cfg.markdownExt[strings.ToLower(d.ext)]:
		return ".html"
	case d.ext == ".scss" || d.ext == ".sass":
		return ".css"
	}
	return d.ext
}

// setupDocument computes date, slug, categories, tags and title of a
// collection document or post.
func (d *document) setupDocument() error {
	c := d.site.cfg
	base := path.Base(d.rel)
	name := strings.TrimSuffix(base, path.Ext(base))
	if d.col.label == "posts" {
		if m := postName().FindStringSubmatch(base); m != nil {
			t, err := time.ParseInLocation("2006-1-2", m[1], c.loc)
			if err != nil {
				return fmt.Errorf("%s: invalid date in the file name: %v", d.rel, err)
			}
			d.date = t
			name = m[2]
		} else if d.draft {
			d.date = c.time
		}
	}
	d.slug = name
	if s := getString(d.data, "slug"); s != "" {
		d.slug = s
	}
	if v := get(d.data, "date"); v != nil {
		d.dated = true
		switch t := v.(type) {
		case time.Time:
			d.date = t.In(c.loc)
		case string:
			pt, ok := liquid.ParseTime(t, c.loc)
			if !ok {
				return fmt.Errorf("%s: front matter date %q is not a date", d.site.keyLine(d.rel, "date"), t)
			}
			d.date = pt.In(c.loc) // Jekyll's parse_date: Time.parse(…).localtime
		default:
			return fmt.Errorf("%s: front matter date must be a date", d.site.keyLine(d.rel, "date"))
		}
	}
	// every document has a date: the file name's, the front matter's,
	// or site.time (Jekyll's Document#date)
	if d.date.IsZero() {
		d.date = c.time
	}
	d.data.Set("date", d.date)
	if d.col.label == "posts" {
		cats := []any{}
		for _, part := range strings.Split(strings.Trim(d.postDir, "/"), "/") {
			if part != "" {
				cats = append(cats, part)
			}
		}
		for _, x := range listOf(get(d.data, "category")) {
			cats = appendUnique(cats, x)
		}
		for _, x := range listOf(get(d.data, "categories")) {
			cats = appendUnique(cats, x)
		}
		d.data.Set("categories", cats)
		tags := []any{}
		for _, x := range listOf(get(d.data, "tags")) {
			tags = appendUnique(tags, x)
		}
		for _, x := range listOf(get(d.data, "tag")) {
			tags = appendUnique(tags, x)
		}
		d.data.Set("tags", tags)
		d.data.Set("draft", d.draft)
	}
	if _, ok := d.data.Get("title"); !ok {
		d.data.Set("title", titleize(d.slug))
	}
	d.data.Set("slug", d.slug)
	d.data.Set("ext", d.ext)
	return nil
}

// listOf reads a front-matter list: a YAML list or a space-separated
// string.
func listOf(v any) []any {
	switch v := v.(type) {
	case []any:
		var out []any
		for _, x := range v {
			if x != nil {
				out = append(out, liquid.ToString(x))
			}
		}
		return out
	case string:
		var out []any
		for _, f := range strings.Fields(v) {
			out = append(out, f)
		}
		return out
	case nil:
		return nil
	}
	return []any{liquid.ToString(v)}
}

func appendUnique(list []any, x any) []any {
	for _, y := range list {
		if y == x {
			return list
		}
	}
	return append(list, x)
}

// titleize is Jekyll's Utils.titleize_slug: "hello-world" → "Hello World".
func titleize(slug string) string {
	parts := strings.Split(slug, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// published reports whether the document is written.
func (d *document) published() bool {
	c := d.site.cfg
	if !c.unpublished && !getBool(d.data, "published", true) {
		return false
	}
	if d.col != nil && d.col.label == "posts" && !c.future && d.date.After(c.time) {
		return false
	}
	return true
}

// docDrop is what templates see as page (or post, or doc).
type docDrop struct{ d *document }

// GetIn is Get for a render: reading another document's content,
// excerpt or output makes the reader depend on it (for incremental
// renders).
func (p *docDrop) GetIn(c *liquid.Context, key string) (any, bool) {
	switch key {
	case "content", "excerpt", "output":
		if reader, ok := c.Registers["page"].(*document); ok && reader != p.d {
			p.d.site.dependsOn(reader, p.d)
			// Jekyll renders pages one after the other: a page sees
			// the content of the pages before it rendered, and of
			// those after it as written. Pages render in parallel
			// here, so a page that reads one before it waits for its
			// content. Such waits go from a page to one before it,
			// which the pool handed out earlier (renderAll), so they
			// end.
			if key == "content" && reader.isPage() && p.d.isPage() && reader.col == nil && p.d.col == nil && p.d.generated == "" {
				if p.d.order > reader.order {
					return p.d.body, true
				}
				if p.d.contentDone != nil { // nil: rendered before, or reused
					select {
					case <-p.d.contentDone:
					case <-p.d.site.abort: // the render fails
					}
				}
				return p.d.content, true
			}
		}
	}
	return p.get(key)
}

// Get is for readers that are not a render (jsonify, islet's own
// code): what they read is not tracked, so the next incremental render
// renders everything.
func (p *docDrop) Get(key string) (any, bool) {
	switch key {
	case "content", "excerpt", "output":
		p.d.site.untracked.Store(true)
	}
	return p.get(key)
}

func (p *docDrop) get(key string) (any, bool) {
	d := p.d
	switch key {
	case "content":
		if d.rendered {
			return d.content, true
		}
		return d.body, true
	case "url":
		return d.url, true
	case "path":
		if d.isPage() {
			if v, ok := d.data.Get("path"); ok {
				return v, true
			}
		}
		return d.rel, true
	case "relative_path":
		if !d.isPage() {
			return d.rel, true
		}
	case "name":
		if d.isPage() {
			return path.Base(d.rel), true
		}
	case "dir":
		if d.isPage() {
			dir := path.Dir(d.url)
			if strings.HasSuffix(d.url, "/") {
				dir = d.url
			} else if !strings.HasSuffix(dir, "/") {
				dir += "/"
			}
			return dir, true
		}
	case "id":
		if !d.isPage() {
			// Jekyll: the URL's folder (File.dirname) and the slug
			return path.Join(path.Dir(strings.TrimSuffix(d.url, "/")), d.slug), true
		}
	case "collection":
		if !d.isPage() {
			return d.col.label, true
		}
	case "excerpt":
		if !d.isPage() {
			return d.excerpt, true
		}
	case "next", "previous":
		if !d.isPage() {
			n := d.neighbour(key == "next")
			if n == nil {
				return nil, true
			}
			return n.drop, true
		}
	case "output":
		if d.rendered {
			return d.output, true
		}
		return nil, true
	}
	v, ok := d.data.Get(key)
	return v, ok
}

// neighbour is the next or previous published document of the
// collection (d.index is d's place in it).
func (d *document) neighbour(next bool) *document {
	docs := d.site.published[d.col]
	i := d.index - 1
	if next {
		i = d.index + 1
	}
	if d.index < 0 || i < 0 || i >= len(docs) {
		return nil
	}
	return docs[i]
}
