package site

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
	"islet.dev/islet/site/markup"
)

func (s *Site) newEngine() *liquid.Engine {
	e := liquid.New()
	e.Location = s.cfg.loc
	e.Now = s.cfg.now
	e.Warn = func(file string, line int, msg string) { s.warnf(file, line, "%s", msg) }
	e.RegisterTag("include", func(markup string) (liquid.Node, error) { return s.parseInclude(markup, false) })
	e.RegisterTag("include_relative", func(markup string) (liquid.Node, error) { return s.parseInclude(markup, true) })
	e.RegisterTag("link", func(markup string) (liquid.Node, error) { return &linkTag{s: s, arg: strings.TrimSpace(markup)}, nil })
	e.RegisterTag("post_url", func(markup string) (liquid.Node, error) {
		return &postURLTag{s: s, arg: strings.TrimSpace(markup)}, nil
	})
	e.RegisterBlock("highlight", s.parseHighlight)
	s.registerPluginTags(e)
	s.registerFilters(e)
	return e
}

var (
	includeParam = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`([\w-]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|([\w.-]+))`)
	})
	includeVariable = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)^(?P<variable>[^{]*(\{\{\s*[\w\-.]+\s*(\|.*)?\}\}[^\s{}]*)+)(?P<params>.*)$`)
	})
	includeFullValid = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\s*(?:` + includeParam().String() + `(?:\s+|$)\s*)*$`)
	})
	includeFileChars = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[\w/.\-()+~#@]+$`)
	})
	includeBadSeq = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`[./]{2,}`)
	})
	spaces = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\s+`)
	})
)

type includeTag struct {
	s        *Site
	relative bool
	cached   bool // include_cached: the output is reused for equal arguments
	file     string
	fileTpl  *liquid.Template // when the name holds {{ }}
	params   *string

	// The parameters, read on the first render (as Jekyll reads them
	// at each) and kept: a loop's include reads them once.
	argsOnce sync.Once
	args     []includeArg
	argsErr  error
	// fileOK says a name without {{ }} is a valid one, checked once.
	fileOnce sync.Once
	fileOK   bool
}

// includeArg is one key=value parameter of an include: a quoted
// string's value, or an expression evaluated at each render.
type includeArg struct {
	key    string
	quoted string
	expr   *liquid.Expr
}

// readArgs reads the include's parameters.
func (t *includeTag) readArgs() ([]includeArg, error) {
	t.argsOnce.Do(func() {
		ps := *t.params
		for _, m := range includeParam().FindAllStringSubmatchIndex(ps, -1) {
			a := includeArg{key: ps[m[2]:m[3]]}
			switch {
			case m[4] >= 0:
				a.quoted = strings.ReplaceAll(ps[m[4]:m[5]], `\"`, `"`)
			case m[6] >= 0:
				a.quoted = strings.ReplaceAll(ps[m[6]:m[7]], `\'`, `'`)
			default:
				x, err := liquid.ParseExpr(ps[m[8]:m[9]])
				if err != nil {
					t.argsErr = err
					return
				}
				a.expr = &x
			}
			t.args = append(t.args, a)
		}
	})
	return t.args, t.argsErr
}

// validFile says file is a name an include may take.
func validFile(file string) bool {
	return !includeBadSeq().MatchString(file) && includeFileChars().MatchString(file)
}

// plainValue says whether v is made of strings, numbers, booleans, nil,
// arrays and hashes only, so that its inspect tells equal arguments
// apart (a page or document passed to an include is not).
func plainValue(v any) bool {
	switch v := v.(type) {
	case nil, string, int, float64, bool:
		return true
	case []any:
		for _, e := range v {
			if !plainValue(e) {
				return false
			}
		}
		return true
	case *liquid.Map:
		for _, k := range v.Keys() {
			e, _ := v.Get(k)
			if !plainValue(e) {
				return false
			}
		}
		return true
	}
	return false
}

// parseCachedInclude parses jekyll-include-cache's include_cached.
func (s *Site) parseCachedInclude(markup string) (liquid.Node, error) {
	n, err := s.parseInclude(markup, false)
	if t, ok := n.(*includeTag); ok {
		t.cached = true
	}
	return n, err
}

func (s *Site) parseInclude(markup string, relative bool) (liquid.Node, error) {
	markup = strings.TrimSpace(markup)
	t := &includeTag{s: s, relative: relative}
	if m := includeVariable().FindStringSubmatch(markup); m != nil && strings.Contains(markup, "{{") {
		t.file = strings.TrimSpace(m[1])
		p := strings.TrimSpace(m[4])
		t.params = &p
		tpl, err := s.engine.Parse("include name", t.file)
		if err != nil {
			return nil, err
		}
		t.fileTpl = tpl
	} else {
		parts := spaces().Split(markup, 2)
		t.file = parts[0]
		if len(parts) > 1 {
			t.params = &parts[1]
		}
	}
	if t.file == "" {
		return nil, fmt.Errorf("include needs a file name")
	}
	if t.params != nil && !includeFullValid().MatchString(*t.params) {
		return nil, fmt.Errorf("invalid syntax for include tag: %q; valid syntax: {%% include file.ext param='value' param2='value' %%}", *t.params)
	}
	return t, nil
}

func (t *includeTag) Render(c *liquid.Context, w *strings.Builder) error {
	file := t.file
	ok := false
	if t.fileTpl != nil {
		var b strings.Builder
		if err := t.fileTpl.RenderTo(c, &b); err != nil {
			return err
		}
		file = b.String()
		ok = validFile(file)
	} else {
		t.fileOnce.Do(func() { t.fileOK = validFile(file) })
		ok = t.fileOK
	}
	if !ok {
		return fmt.Errorf("invalid syntax for include tag: file %q contains invalid characters or sequences", file)
	}
	var rel string
	if t.relative {
		d, _ := c.Registers["page"].(*document)
		dir := "."
		if d != nil {
			dir = path.Dir(d.rel)
		}
		rel = path.Join(dir, file)
	} else {
		rel = path.Join("_includes", file)
	}
	tpl, err := t.s.include(rel)
	if err != nil {
		return err
	}
	leave, err := c.Enter()
	if err != nil {
		return err
	}
	defer leave()
	var params *liquid.Map
	if t.params != nil {
		args, err := t.readArgs()
		if err != nil {
			return err
		}
		params = liquid.NewMap()
		for _, a := range args {
			if a.expr == nil {
				params.Set(a.key, a.quoted)
				continue
			}
			v, err := a.expr.Eval(c)
			if err != nil {
				return err
			}
			params.Set(a.key, v)
		}
	}
	render := func(w *strings.Builder) error {
		return c.Stack(func() error {
			if params != nil {
				c.Set("include", params)
			}
			return tpl.RenderTo(c, w)
		})
	}
	// An incremental render tracks what each document reads, which a
	// reused output would hide: there include_cached renders each time.
	if !t.cached || t.s.incremental() || (params != nil && !plainValue(params)) {
		return render(w)
	}
	key := rel
	if params != nil {
		key += "\x00" + liquid.Inspect(params)
	}
	if v, ok := t.s.cachedIncludes.Load(key); ok {
		w.WriteString(v.(string))
		return nil
	}
	var b strings.Builder
	if err := render(&b); err != nil {
		return err
	}
	v, _ := t.s.cachedIncludes.LoadOrStore(key, b.String())
	w.WriteString(v.(string))
	return nil
}

// include parses an include file once per render.
func (s *Site) include(rel string) (*liquid.Template, error) {
	v, _ := s.includes.LoadOrStore(rel, &includeEntry{})
	e := v.(*includeEntry)
	e.once.Do(func() {
		name := rel
		src, err := fs.ReadFile(s.src, rel)
		if err != nil && isNotExist(err) && s.theme != nil && strings.HasPrefix(rel, "_includes/") {
			name = s.theme.name + ":" + rel
			src, err = fs.ReadFile(s.theme.fsys, rel)
		}
		if err != nil {
			if isNotExist(err) {
				e.err = fmt.Errorf("could not locate the included file '%s'; ensure it exists", rel)
			} else {
				e.err = fmt.Errorf("include %s: %w", rel, err)
			}
			return
		}
		e.tpl, e.err = s.engine.Parse(name, string(src))
	})
	return e.tpl, e.err
}

type linkTag struct {
	s   *Site
	arg string
}

func (t *linkTag) Render(c *liquid.Context, w *strings.Builder) error {
	target := t.arg
	if strings.Contains(target, "{{") {
		tpl, err := t.s.engine.Parse("link", target)
		if err != nil {
			return err
		}
		var b strings.Builder
		if err := tpl.RenderTo(c, &b); err != nil {
			return err
		}
		target = b.String()
	}
	target = strings.TrimPrefix(target, "/")
	for _, d := range t.s.pages {
		if d.rel == target {
			w.WriteString(t.s.relativeURL(d.url))
			return nil
		}
	}
	for _, col := range t.s.cfg.collections {
		for _, d := range t.s.published[col] {
			if d.rel == target {
				w.WriteString(t.s.relativeURL(d.url))
				return nil
			}
		}
		for _, f := range col.files {
			if f.rel == target {
				w.WriteString(t.s.relativeURL(f.url()))
				return nil
			}
		}
	}
	for _, f := range t.s.static {
		if f.rel == target {
			w.WriteString(t.s.relativeURL(f.url()))
			return nil
		}
	}
	return fmt.Errorf("could not find document '%s' in tag 'link'; make sure the document exists and the path is correct", target)
}

type postURLTag struct {
	s   *Site
	arg string
}

func (t *postURLTag) Render(c *liquid.Context, w *strings.Builder) error {
	name := t.arg
	dir, base := path.Split(name)
	if !postName().MatchString(base + ".md") {
		return fmt.Errorf("post_url: %q is not a valid post name (YYYY-MM-DD-title)", name)
	}
	for _, d := range t.s.published[t.s.collection("posts")] {
		b := strings.TrimSuffix(path.Base(d.rel), d.ext)
		if b != base {
			continue
		}
		if dir != "" && !strings.HasPrefix(d.rel, dir) && !strings.Contains(d.rel, "/"+dir) {
			continue
		}
		w.WriteString(t.s.relativeURL(d.url))
		return nil
	}
	return fmt.Errorf("could not find post \"%s\" in tag 'post_url'; make sure the post exists and the name is correct", name)
}

var highlightSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-zA-Z0-9.+#_-]+)((\s+\w+(=(\w+|"([0-9]+\s)*[0-9]+"))?)*)$`)
})

type highlightTag struct {
	lang    string
	linenos bool
	body    liquid.Node
}

func (s *Site) parseHighlight(markup string, body liquid.Node) (liquid.Node, error) {
	m := highlightSyntax().FindStringSubmatch(strings.TrimSpace(markup))
	if m == nil {
		return nil, fmt.Errorf("syntax error in tag 'highlight' while parsing %q: valid syntax: highlight <lang> [linenos]", markup)
	}
	t := &highlightTag{lang: m[1], body: body}
	for _, opt := range strings.Fields(m[2]) {
		if strings.HasPrefix(opt, "linenos") {
			t.linenos = true
		}
	}
	return t, nil
}

func (t *highlightTag) Render(c *liquid.Context, w *strings.Builder) error {
	var b strings.Builder
	if err := t.body.Render(c, &b); err != nil {
		return err
	}
	code := strings.Trim(b.String(), "\r\n")
	out := markup.Highlight(t.lang, code)
	if t.linenos {
		n := strings.Count(code, "\n") + 1
		var g strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&g, "%d\n", i)
		}
		out = `<table class="rouge-table"><tbody><tr><td class="gutter gl"><pre class="lineno">` + g.String() +
			`</pre></td><td class="code"><pre>` + out + "\n</pre></td></tr></tbody></table>"
	}
	w.WriteString(`<figure class="highlight"><pre><code class="language-` + strings.ReplaceAll(t.lang, "+", "-") +
		`" data-lang="` + t.lang + `">` + strings.TrimSuffix(out, "\n") + "</code></pre></figure>")
	return nil
}
