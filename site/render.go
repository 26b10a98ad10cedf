package site

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"islet.dev/islet/site/plugins"

	"islet.dev/islet/site/liquid"
)

// layout is a file of _layouts.
type layout struct {
	name   string
	rel    string
	data   *liquid.Map
	parent string
	tpl    *liquid.Template
	// compress: the layout is jekyll-compress-html, run natively
	// (compresshtml.go)
	compress *compressHTML
	// around is what the layout's last render wrote besides the
	// content, in bytes: the next render's buffer starts that much
	// larger than its content, instead of doubling its way there.
	around atomic.Int64
}

func (s *Site) readLayouts() error {
	for _, root := range s.layoutRoots() {
		err := fs.WalkDir(root.fsys, root.dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if isNotExist(err) && p == root.dir {
					return fs.SkipDir
				}
				return err
			}
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				return nil
			}
			rel := strings.TrimPrefix(p, root.dir+"/")
			name := strings.TrimSuffix(rel, path.Ext(rel))
			if _, ok := s.layouts[name]; ok {
				return nil // the site's own layout wins over the theme's
			}
			src, err := fs.ReadFile(root.fsys, p)
			if err != nil {
				return err
			}
			file := root.prefix + p
			fm, body, line, ok, err := splitFrontMatter(file, src)
			if err != nil {
				return err
			}
			if !ok {
				fm, body, line = liquid.NewMap(), string(src), 1
			}
			tpl, err := s.engine.ParseAt(file, body, line)
			if err != nil {
				return err
			}
			l := &layout{name: name, rel: file, data: fm, tpl: tpl, parent: layoutName(get(fm, "layout"))}
			if l.parent == "" && s.engine.Standard(compressHTMLFilters...) {
				// outermost: no layout after it would read what its
				// Liquid assigns, and the native run assigns nothing
				if l.compress = recognizeCompressHTML(body); l.compress != nil {
					s.log.Debug("layout is jekyll-compress-html, run natively", "file", file, "release", l.compress.release)
				}
			}
			s.layouts[name] = l
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type root struct {
	fsys   fs.FS
	dir    string
	prefix string
}

func (s *Site) layoutRoots() []root {
	roots := []root{{s.src, "_layouts", ""}}
	if s.theme != nil {
		roots = append(roots, root{s.theme.fsys, "_layouts", s.theme.name + ":"})
	}
	return roots
}

// layoutName reads a layout: value; "", "none", "null" and false mean
// none.
func layoutName(v any) string {
	switch x := v.(type) {
	case string:
		if x == "none" || x == "null" {
			return ""
		}
		return x
	case nil, bool:
		return ""
	}
	return liquid.ToString(v)
}

// payload is the outermost scope of a render.
func (s *Site) payload(d *document) map[string]any {
	env := s.env()
	var site any = s.drop
	if d.col != nil && d.col.label == "posts" {
		site = relatedSite{s.drop, s.relatedPosts(d)}
	}
	return map[string]any{
		"site":      site,
		"page":      d.drop,
		"layout":    nil,
		"content":   nil,
		"paginator": pagerOf(d),
		"jekyll":    map[string]any{"version": Version, "environment": env},
	}
}

func (s *Site) registers(d *document) map[string]any {
	return map[string]any{"site": s, "page": d}
}

// renderLiquid renders a document's source through Liquid.
func (s *Site) renderLiquid(d *document, src string, line int, vars map[string]any) (string, error) {
	if !getBool(d.data, "render_with_liquid", true) {
		return src, nil
	}
	tpl, err := s.engine.ParseAt(d.rel, src, line)
	if err != nil {
		return "", err
	}
	c := s.engine.NewContext(vars, s.registers(d))
	var w strings.Builder
	w.Grow(len(src)) // most of a document's source is text
	if err := tpl.RenderTo(c, &w); err != nil {
		return "", err
	}
	return w.String(), nil
}

// convert applies the converter chosen by the source extension.
func (s *Site) convert(d *document, content string) (string, error) {
	if s.cfg.markdownExt[strings.ToLower(d.ext)] {
		out, err := s.md.Convert(content)
		if err != nil {
			return "", fmt.Errorf("%s: markdown: %w", d.rel, err)
		}
		s.checkKramdownOutput(d, out)
		return out, nil
	}
	if d.ext == ".scss" || d.ext == ".sass" {
		var css, sourceMap string
		var err error
		if j := s.earlySass(d); j != nil {
			css, sourceMap, err = j.css, j.sourceMap, j.err
		} else {
			css, sourceMap, err = s.compileSass(d, content)
		}
		if err != nil {
			return "", err
		}
		if sourceMap != "" {
			d.extra = map[string][]byte{strings.TrimSuffix(d.dest, ".css") + ".css.map": []byte(sourceMap)}
		}
		return css, nil
	}
	return content, nil
}

// renderDocument renders content, converts it and places it in its
// layouts.
func (s *Site) renderDocument(d *document) error {
	if s.cfg.markdownExt[strings.ToLower(d.ext)] {
		s.checkKramdown(d)
	}
	vars := s.payload(d)
	content, err := s.renderLiquid(d, d.body, d.bodyLine, vars)
	if err != nil {
		return err
	}
	if content, err = s.convert(d, content); err != nil {
		return err
	}
	d.content = content
	d.contentReady()
	out := content
	name := layoutName(get(d.data, "layout"))
	if d.ext == ".scss" || d.ext == ".sass" {
		name = ""
	}
	seen := map[string]bool{}
	layoutVar := liquid.NewMap()
	from := d.rel
	for name != "" {
		l, ok := s.layouts[name]
		if !ok {
			return fmt.Errorf("%s: layout %q does not exist", s.keyLine(from, "layout"), name)
		}
		if seen[name] {
			return fmt.Errorf("%s: layout %q includes itself", l.rel, name)
		}
		seen[name] = true
		merged := l.data.Clone()
		merged.DeepMerge(layoutVar)
		layoutVar = merged
		vars["content"] = out
		vars["layout"] = layoutVar
		c := s.engine.NewContext(vars, s.registers(d))
		var w strings.Builder
		w.Grow(len(out) + int(l.around.Load()))
		native := false
		if l.compress != nil {
			native = l.compress.render(c, out, &w)
		}
		if !native {
			if err := l.tpl.RenderTo(c, &w); err != nil {
				return err
			}
		}
		l.around.Store(int64(max(0, w.Len()-len(out))))
		out = w.String()
		from = l.rel
		name = l.parent
	}
	for _, p := range s.plugins {
		if pr, ok := p.(plugins.PostRenderer); ok {
			if out, err = pr.PostRender(pluginSite{s}, pluginPage{d}, out); err != nil {
				return fmt.Errorf("%s: %s: %w", d.rel, p.Name(), err)
			}
		}
	}
	d.output = out
	return nil
}

// renderExcerpt renders a post's excerpt: the content up to the
// excerpt separator, through Liquid and the converter.
func (s *Site) renderExcerpt(d *document) error {
	if v, ok := d.data.Get("excerpt"); ok {
		d.excerpt = liquid.ToString(v)
		return nil
	}
	sep := s.cfg.excerptSep
	if v, ok := d.data.Get("excerpt_separator"); ok {
		sep = liquid.ToString(v)
	}
	if sep == "" {
		return nil
	}
	head, tail, found := strings.Cut(d.body, sep)
	if found {
		if strings.Contains(head, "{%") {
			head = closeLiquidBlocks(head)
		}
		if defs := linkDefinitions(tail); len(defs) > 0 {
			head += "\n\n" + strings.Join(defs, "\n")
		}
	}
	out, err := s.renderLiquid(d, head, d.bodyLine, s.payload(d))
	if err != nil {
		return err
	}
	if out, err = s.convert(d, out); err != nil {
		return err
	}
	d.excerpt = out
	return nil
}

// linkDefinitions lists what in text defines a link reference, as
// Jekyll's Excerpt finds it with /^ {0,3}\[[^\]]+\]:.+$/ (the label may
// run over lines).
func linkDefinitions(text string) []string {
	var defs []string
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && j-i < 3 && text[j] == ' ' {
			j++
		}
		if end := linkDefinitionEnd(text, j); end >= 0 {
			defs = append(defs, text[i:end])
			i = end
		}
		nl := strings.IndexByte(text[i:], '\n')
		if nl < 0 {
			break
		}
		i += nl + 1
	}
	return defs
}

// linkDefinitionEnd is where the definition starting at text[i] ends
// (a line end or the end of text), or -1 when none starts there.
func linkDefinitionEnd(text string, i int) int {
	if i >= len(text) || text[i] != '[' {
		return -1
	}
	label := strings.IndexByte(text[i+1:], ']')
	if label < 1 {
		return -1 // no label, or an empty one
	}
	colon := i + 1 + label + 1
	if colon >= len(text) || text[colon] != ':' || colon+1 >= len(text) || text[colon+1] == '\n' {
		return -1
	}
	if nl := strings.IndexByte(text[colon+1:], '\n'); nl >= 0 {
		return colon + 1 + nl
	}
	return len(text)
}

var blockTag = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`{%-?\s*(\w+)`)
})

// closeLiquidBlocks appends the end tags of blocks an excerpt cuts
// open, as Jekyll's Excerpt#sanctify_liquid_tags does.
func closeLiquidBlocks(head string) string {
	blocks := map[string]bool{"if": true, "unless": true, "for": true, "case": true, "capture": true, "raw": true, "comment": true, "highlight": true, "tablerow": true}
	var open []string
	for _, m := range blockTag().FindAllStringSubmatch(head, -1) {
		name := m[1]
		if blocks[name] {
			open = append(open, name)
		} else if strings.HasPrefix(name, "end") && len(open) > 0 && open[len(open)-1] == name[3:] {
			open = open[:len(open)-1]
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		head += "\n{% end" + open[i] + " %}"
	}
	return head
}

func pagerOf(d *document) any {
	if d.pager == nil {
		return nil
	}
	return d.pager
}

// keyLine is "file:line" of a front-matter key in a source or layout
// file, or just the file when the line cannot be found.
func (s *Site) keyLine(file, key string) string {
	if n := s.keyLineNo(file, key); n > 0 {
		return fmt.Sprintf("%s:%d", file, n)
	}
	return file
}

// keyLineNo is the line of key in file's front matter, 0 when not found.
func (s *Site) keyLineNo(file, key string) int {
	fsys := s.src
	name := file
	if s.theme != nil && strings.HasPrefix(file, s.theme.name+":") {
		fsys, name = s.theme.fsys, strings.TrimPrefix(file, s.theme.name+":")
	}
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0
	}
	for i, line := range strings.Split(string(src), "\n") {
		if i > 0 && (line == "---" || line == "...") {
			break
		}
		if strings.HasPrefix(line, key+":") {
			return i + 1
		}
	}
	return 0
}

// relatedSite is site as a post's templates see it: site.related_posts
// is the post's own (Jekyll's Renderer#assign_related_posts!); for
// other documents it is nil.
type relatedSite struct {
	site    *liquid.Map
	related []any
}

func (r relatedSite) Get(key string) (any, bool) {
	if key == "related_posts" {
		return r.related, true
	}
	return r.site.Get(key)
}

// relatedPosts are the ten most recent posts other than d, newest first,
// as Jekyll's RelatedPosts computes them without lsi:
// (site.posts.docs.last(11).reverse - [post]).first(10).
func (s *Site) relatedPosts(d *document) []any {
	posts := s.published[d.col] // oldest first
	out := make([]any, 0, 10)
	for i := len(posts) - 1; i >= max(len(posts)-11, 0) && len(out) < 10; i-- {
		if posts[i] != d {
			out = append(out, posts[i].drop)
		}
	}
	return out
}
