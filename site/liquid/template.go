package liquid

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Error is a Liquid syntax or render error with its place in the
// template.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Template is a parsed template, safe for concurrent rendering.
type Template struct {
	name string
	body *body
}

// Name is the file name given to Parse.
func (t *Template) Name() string { return t.name }

// Render renders the template with vars as its outermost scope.
func (t *Template) Render(e *Engine, vars map[string]any, registers map[string]any) (string, error) {
	c := newContext(e, vars, registers)
	var w strings.Builder
	if err := t.RenderTo(c, &w); err != nil {
		return "", err
	}
	return w.String(), nil
}

// RenderTo renders into w with an existing context (for includes and
// layouts sharing a context).
func (t *Template) RenderTo(c *Context, w *strings.Builder) error {
	prev := c.file
	c.file = t.name
	defer func() { c.file = prev }()
	err := t.body.render(c, w)
	var ie *interruptErr
	if errors.As(err, &ie) {
		return nil // break/continue outside a loop end the template
	}
	return err
}

// rawTok is one token of a template's source.
type rawTok struct {
	kind      int // tokText, tokTag, tokOutput
	text      string
	name      string // tag name
	markup    string
	line      int
	trimLeft  bool
	trimRight bool
}

const (
	tokText = iota
	tokTag
	tokOutput
)

// tokenize splits a template as Liquid's TemplateParser does and
// applies whitespace control.
func tokenize(src string, line int) ([]rawTok, error) {
	var toks []rawTok
	trimNext := false
	for len(src) > 0 {
		i := indexStart(src)
		if i < 0 {
			i = len(src)
		}
		if i > 0 {
			text := src[:i]
			if trimNext {
				text = strings.TrimLeft(text, " \t\n\r\f\v\x00")
			}
			toks = append(toks, rawTok{kind: tokText, text: text, line: line})
			line += strings.Count(src[:i], "\n")
			src = src[i:]
			trimNext = false
			continue
		}
		trimNext = false
		var end int
		if src[1] == '%' {
			j := strings.Index(src[2:], "%}")
			if j < 0 {
				return nil, &Error{Line: line, Err: fmt.Errorf("tag '%s' was not properly terminated with regexp: /\\%%\\}/", firstLine(src))}
			}
			end = j + 4
		} else {
			j := strings.IndexByte(src[2:], '}')
			if j < 0 || j+3 >= len(src) || src[j+3] != '}' {
				return nil, &Error{Line: line, Err: fmt.Errorf("variable '%s' was not properly terminated with regexp: /\\}\\}/", firstLine(src))}
			}
			end = j + 4
		}
		raw := src[:end]
		t := rawTok{text: raw, line: line}
		inner := raw[2 : len(raw)-2]
		if strings.HasPrefix(inner, "-") {
			t.trimLeft = true
			inner = inner[1:]
		}
		if strings.HasSuffix(inner, "-") {
			t.trimRight = true
			inner = inner[:len(inner)-1]
		}
		if raw[1] == '%' {
			t.kind = tokTag
			s := strings.TrimLeft(inner, " \t\n\r\f\v")
			n := 0
			if strings.HasPrefix(s, "#") {
				n = 1
			} else {
				for n < len(s) && isWord(s[n]) {
					n++
				}
			}
			if n == 0 {
				return nil, &Error{Line: line, Err: fmt.Errorf("tag '%s' was not properly terminated with regexp: /\\%%\\}/", raw)}
			}
			t.name = s[:n]
			t.markup = strings.TrimLeft(s[n:], " \t\n\r\f\v")
		} else {
			t.kind = tokOutput
			t.markup = inner
		}
		if t.trimLeft && len(toks) > 0 && toks[len(toks)-1].kind == tokText {
			toks[len(toks)-1].text = strings.TrimRight(toks[len(toks)-1].text, " \t\n\r\f\v\x00")
		}
		trimNext = t.trimRight
		toks = append(toks, t)
		line += strings.Count(raw, "\n")
		src = src[end:]
		if t.kind == tokTag && t.name == "raw" {
			// The raw body is every token up to {% endraw %}, verbatim.
			var b strings.Builder
			found := false
			for len(src) > 0 {
				k := indexStart(src)
				if k < 0 {
					b.WriteString(src)
					line += strings.Count(src, "\n")
					src = ""
					break
				}
				if k > 0 {
					b.WriteString(src[:k])
					line += strings.Count(src[:k], "\n")
					src = src[k:]
					continue
				}
				tokEnd := 2
				if src[1] == '%' {
					if j := strings.Index(src[2:], "%}"); j >= 0 {
						tokEnd = j + 4
					}
				} else if j := strings.IndexByte(src[2:], '}'); j >= 0 {
					tokEnd = j + 3
					if tokEnd < len(src) && src[tokEnd] == '}' {
						tokEnd++
					}
				}
				tk := src[:tokEnd]
				// Ruby Liquid ends raw at a token that ends with
				// {% endraw %}, even one that opened earlier ({% foo
				// {% endraw %}, {{ x {% endraw %}): what comes before
				// the endraw is raw text.
				if m := endrawSuffix().FindStringSubmatchIndex(tk); m != nil {
					b.WriteString(tk[:m[3]])
					line += strings.Count(tk, "\n")
					src = src[tokEnd:]
					trimNext = strings.HasSuffix(tk, "-%}")
					found = true
					break
				}
				b.WriteString(tk)
				line += strings.Count(tk, "\n")
				src = src[tokEnd:]
			}
			if !found {
				return nil, &Error{Line: t.line, Err: fmt.Errorf("'raw' tag was never closed")}
			}
			toks = append(toks, rawTok{kind: tokText, text: b.String(), line: t.line, name: "raw"})
		}
	}
	return toks, nil
}

// endrawSuffix is a token that ends with the endraw tag; group 1 is
// what comes before it.
var endrawSuffix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)\A(.*)\{%-?\s*endraw\s*-?%\}\z`)
})

func indexStart(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && (s[i+1] == '{' || s[i+1] == '%') {
			return i
		}
	}
	return -1
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// Parse parses a template; name is used in error messages.
func (e *Engine) Parse(name, src string) (*Template, error) {
	return e.ParseAt(name, src, 1)
}

// ParseAt parses a template whose first line is line of file name (a
// body after front matter).
func (e *Engine) ParseAt(name, src string, line int) (*Template, error) {
	toks, err := tokenize(src, line)
	if err != nil {
		var le *Error
		if errors.As(err, &le) {
			le.File = name
		}
		return nil, err
	}
	p := &tplParser{e: e, toks: toks, name: name}
	b, end, err := p.parseBody(nil)
	if err != nil {
		return nil, err
	}
	if end != nil {
		return nil, p.errorf(end.line, "unknown tag '%s'", end.name)
	}
	return &Template{name: name, body: b}, nil
}

type tplParser struct {
	e     *Engine
	toks  []rawTok
	i     int
	name  string
	depth int
}

func (p *tplParser) errorf(line int, format string, args ...any) error {
	return &Error{File: p.name, Line: line, Err: fmt.Errorf(format, args...)}
}

func (p *tplParser) wrap(line int, err error) error {
	var le *Error
	if errors.As(err, &le) {
		return err
	}
	return &Error{File: p.name, Line: line, Err: err}
}

// parseBody parses nodes until a tag that is not a known tag (an end
// tag, else, when...). It returns that tag, or nil at end of input.
func (p *tplParser) parseBody(stop func(name string) bool) (*body, *rawTok, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 100 {
		return nil, nil, p.errorf(p.toks[min(p.i, len(p.toks)-1)].line, "nesting too deep")
	}
	b := &body{blank: true}
	for p.i < len(p.toks) {
		t := &p.toks[p.i]
		p.i++
		switch t.kind {
		case tokText:
			if t.text == "" {
				continue
			}
			b.nodes = append(b.nodes, textNode(t.text))
			if t.name == "raw" || strings.TrimSpace(t.text) != "" {
				b.blank = false
			}
		case tokOutput:
			v, err := parseVariable(t.markup)
			if err != nil {
				return nil, nil, p.wrap(t.line, fmt.Errorf("%v in \"{{%s}}\"", err, t.markup))
			}
			b.nodes = append(b.nodes, &outputNode{v: v, line: t.line})
			b.blank = false
		case tokTag:
			if t.name == "liquid" {
				if err := p.parseLiquidTag(b, t); err != nil {
					return nil, nil, err
				}
				continue
			}
			if stop != nil && stop(t.name) {
				return b, t, nil
			}
			n, isBlank, err := p.parseTag(t)
			if err != nil {
				return nil, nil, err
			}
			if n == nil {
				return b, t, nil
			}
			b.nodes = append(b.nodes, n)
			b.blank = b.blank && isBlank
		}
	}
	return b, nil, nil
}

// parseLiquidTag parses {% liquid %}: one tag per line, no delimiters.
func (p *tplParser) parseLiquidTag(b *body, t *rawTok) error {
	var toks []rawTok
	for i, line := range strings.Split(t.markup, "\n") {
		s := strings.TrimSpace(line)
		if s == "" {
			continue
		}
		n := 0
		if strings.HasPrefix(s, "#") {
			n = 1
		}
		for n < len(s) && isWord(s[n]) {
			n++
		}
		if n == 0 {
			return p.errorf(t.line+i, "in 'liquid' tag: %q is not a tag", s)
		}
		toks = append(toks, rawTok{kind: tokTag, name: s[:n], markup: strings.TrimSpace(s[n:]), line: t.line + i, text: s})
	}
	sub := &tplParser{e: p.e, toks: toks, name: p.name, depth: p.depth}
	inner, end, err := sub.parseBody(nil)
	if err != nil {
		return err
	}
	if end != nil {
		return p.errorf(end.line, "unknown tag '%s' in 'liquid' tag", end.name)
	}
	b.nodes = append(b.nodes, inner.nodes...)
	b.blank = b.blank && inner.blank
	return nil
}

// parseBlock parses a block's body up to one of the given tags and
// reports an unclosed block as Liquid does.
func (p *tplParser) parseBlock(open *rawTok, ends ...string) (*body, *rawTok, error) {
	b, end, err := p.parseBody(func(name string) bool {
		for _, e := range ends {
			if name == e {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, nil, err
	}
	if end == nil {
		return nil, nil, p.errorf(open.line, "'%s' tag was never closed", open.name)
	}
	for _, e := range ends {
		if end.name == e {
			return b, end, nil
		}
	}
	return nil, nil, p.unknownInBlock(open, end)
}

func (p *tplParser) unknownInBlock(open, t *rawTok) error {
	switch {
	case t.name == "else":
		return p.errorf(t.line, "%s tag does not expect 'else' tag", open.name)
	case strings.HasPrefix(t.name, "end"):
		return p.errorf(t.line, "'%s' is not a valid delimiter for %s tags. use end%s", t.name, open.name, open.name)
	}
	return p.errorf(t.line, "unknown tag '%s'", t.name)
}

// body is a list of nodes; blank when it holds only whitespace and
// tags that print nothing.
type body struct {
	nodes []node
	blank bool
}

type node interface {
	render(c *Context, w *strings.Builder) error
}

// removeBlankStrings drops the whitespace text of a blank body, as
// Liquid does for control-flow tags whose every branch is blank.
func (b *body) removeBlankStrings() {
	out := b.nodes[:0]
	for _, n := range b.nodes {
		if _, ok := n.(textNode); !ok {
			out = append(out, n)
		}
	}
	b.nodes = out
}

func (b *body) render(c *Context, w *strings.Builder) error {
	for _, n := range b.nodes {
		if err := n.render(c, w); err != nil {
			return err
		}
		if c.interrupt != 0 {
			return nil
		}
	}
	return nil
}

type textNode string

func (t textNode) render(_ *Context, w *strings.Builder) error {
	w.WriteString(string(t))
	return nil
}

type outputNode struct {
	v    *variable
	line int
}

func (o *outputNode) render(c *Context, w *strings.Builder) error {
	v, err := o.v.eval(c)
	if err != nil {
		return c.wrap(o.line, err)
	}
	writeValue(w, v)
	if w.Len()+c.outBase > c.engine.MaxOutput {
		return c.wrap(o.line, fmt.Errorf("output larger than %d bytes", c.engine.MaxOutput))
	}
	return nil
}

type interruptErr struct{}

func (*interruptErr) Error() string { return "interrupt" }
