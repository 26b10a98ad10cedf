package liquid

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unsafe"
)

// parseTag parses one tag. It returns a nil node for a tag the caller
// must handle (end tags, else, when, unknown names).
func (p *tplParser) parseTag(t *rawTok) (node, bool, error) {
	switch t.name {
	case "assign":
		return p.parseAssign(t)
	case "capture":
		return p.parseCapture(t)
	case "if", "unless":
		n, err := p.parseIf(t)
		return n, n != nil && n.blank, err
	case "case":
		n, err := p.parseCase(t)
		return n, n != nil && n.blank, err
	case "for":
		n, err := p.parseFor(t)
		return n, n != nil && n.blank, err
	case "tablerow":
		n, err := p.parseTablerow(t)
		return n, false, err
	case "cycle":
		n, err := p.parseCycle(t)
		return n, false, err
	case "increment", "decrement":
		return &counterNode{name: strings.TrimSpace(t.markup), dec: t.name == "decrement"}, false, nil
	case "echo":
		v, err := parseVariable(t.markup)
		if err != nil {
			return nil, false, p.wrap(t.line, err)
		}
		return &outputNode{v: v, line: t.line}, false, nil
	case "#":
		if inlineCommentLine().MatchString(t.markup) {
			return nil, false, p.errorf(t.line, "syntax error in tag '#' - each line of comments must be prefixed by the '#' character")
		}
		return nopNode{}, true, nil
	case "comment":
		if err := p.skipComment(t); err != nil {
			return nil, false, err
		}
		return nopNode{}, true, nil
	case "raw":
		if strings.TrimSpace(t.markup) != "" {
			return nil, false, p.errorf(t.line, "syntax error in tag 'raw' - valid syntax: raw")
		}
		if p.i < len(p.toks) && p.toks[p.i].name == "raw" && p.toks[p.i].kind == tokText {
			s := p.toks[p.i].text
			p.i++
			return textNode(s), s == "", nil
		}
		return textNode(""), true, nil
	case "break":
		return interruptNode(1), false, nil
	case "continue":
		return interruptNode(2), false, nil
	case "ifchanged":
		b, _, err := p.parseBlock(t, "endifchanged")
		if err != nil {
			return nil, false, err
		}
		return &ifchangedNode{b}, b.blank, nil
	case "include", "render":
		if f, ok := p.e.tags[t.name]; ok {
			return p.custom(t, f)
		}
		n, err := p.parsePartial(t)
		return n, false, err
	}
	if f, ok := p.e.tags[t.name]; ok {
		return p.custom(t, f)
	}
	if f, ok := p.e.blocks[t.name]; ok {
		b, _, err := p.parseBlock(t, "end"+t.name)
		if err != nil {
			return nil, false, err
		}
		n, err := f(t.markup, bodyNode{b})
		if err != nil {
			return nil, false, p.wrap(t.line, err)
		}
		return &customNode{n: n, line: t.line}, false, nil
	}
	return nil, false, nil
}

func (p *tplParser) custom(t *rawTok, f TagFunc) (node, bool, error) {
	n, err := f(t.markup)
	if err != nil {
		return nil, false, p.wrap(t.line, fmt.Errorf("in tag '%s': %w", t.name, err))
	}
	return &customNode{n: n, line: t.line}, false, nil
}

type customNode struct {
	n    Node
	line int
}

func (n *customNode) render(c *Context, w *strings.Builder) error {
	return c.wrap(n.line, n.n.Render(c, w))
}

type bodyNode struct{ b *body }

func (b bodyNode) Render(c *Context, w *strings.Builder) error { return b.b.render(c, w) }

type nopNode struct{}

func (nopNode) render(*Context, *strings.Builder) error { return nil }

func (p *tplParser) skipComment(open *rawTok) error {
	// The body is parsed (a syntax error in it is still an error) and
	// unknown tags are ignored, as Liquid does.
	for {
		_, end, err := p.parseBody(func(name string) bool { return name == "endcomment" })
		if err != nil {
			return err
		}
		if end == nil {
			return p.errorf(open.line, "'comment' tag was never closed")
		}
		if end.name == "endcomment" {
			return nil
		}
	}
}

var inlineCommentLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\n\s*[^#\s]`)
})

var assignSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)^([\w\-.\[\]]+)\s*=\s*(.*?)\s*$`)
})

type assignNode struct {
	to   string
	v    *variable
	line int
}

func (p *tplParser) parseAssign(t *rawTok) (node, bool, error) {
	m := assignSyntax().FindStringSubmatch(t.markup)
	if m == nil {
		return nil, false, p.errorf(t.line, "syntax error in tag 'assign' - valid syntax: assign [var] = [source]")
	}
	v, err := parseVariable(m[2])
	if err != nil {
		return nil, false, p.wrap(t.line, fmt.Errorf("%v in \"{%% assign %s %%}\"", err, t.markup))
	}
	return &assignNode{to: m[1], v: v, line: t.line}, true, nil
}

func (n *assignNode) render(c *Context, _ *strings.Builder) error {
	v, err := n.v.eval(c)
	if err != nil {
		return c.wrap(n.line, err)
	}
	c.assign(n.to, v)
	return nil
}

var captureSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\(?[\w\-.\[\]]+\)?`)
})

type captureNode struct {
	to string
	b  *body
	// appends: the body begins by writing out the variable it
	// captures into, {% capture x %}{{ x }}…{% endcapture %}, the way
	// templates build a string in a loop (jekyll-compress-html does
	// for every <pre> of a page)
	appends bool
}

// capturedBuf is the buffer behind the string an appending capture
// last made: while the variable still holds that string, the next
// capture appends to the buffer instead of copying the string.
type capturedBuf struct{ b []byte }

func (p *tplParser) parseCapture(t *rawTok) (node, bool, error) {
	name := captureSyntax().FindString(strings.TrimSpace(t.markup))
	if name == "" {
		return nil, false, p.errorf(t.line, "syntax error in tag 'capture' - valid syntax: capture [var]")
	}
	b, _, err := p.parseBlock(t, "endcapture")
	if err != nil {
		return nil, false, err
	}
	n := &captureNode{to: name, b: b}
	if len(b.nodes) > 0 {
		if o, ok := b.nodes[0].(*outputNode); ok && len(o.v.filters) == 0 {
			if l, ok := o.v.e.(*lookup); ok && len(l.parts) == 0 && l.name == (literal{name}) {
				n.appends = true
			}
		}
	}
	return n, true, nil
}

func (n *captureNode) render(c *Context, _ *strings.Builder) error {
	base := c.outBase
	defer func() { c.outBase = base }()
	c.outBase = 0
	if n.appends {
		return n.renderAppending(c)
	}
	var w strings.Builder
	if err := n.b.render(c, &w); err != nil {
		return err
	}
	c.assign(n.to, w.String())
	return nil
}

// renderAppending renders a capture whose body begins with its own
// variable: that value, then the rest of the body, appended to the
// buffer behind the value when the capture made it (strings of the
// buffer are its prefixes, which an append beyond them leaves as they
// are), copied into a new buffer otherwise.
func (n *captureNode) renderAppending(c *Context) error {
	first := n.b.nodes[0].(*outputNode)
	v, err := first.v.eval(c)
	if err != nil {
		return c.wrap(first.line, err)
	}
	prev, ok := v.(string)
	if !ok {
		var w strings.Builder
		writeValue(&w, v)
		prev = w.String()
	}
	if len(prev) > c.engine.MaxOutput {
		return c.wrap(first.line, fmt.Errorf("output larger than %d bytes", c.engine.MaxOutput))
	}
	var tail strings.Builder
	c.outBase = len(prev)
	for _, nd := range n.b.nodes[1:] {
		if err := nd.render(c, &tail); err != nil {
			return err
		}
		if c.interrupt != 0 {
			break
		}
	}
	buf := c.captured[n]
	if buf == nil || len(buf.b) != len(prev) || len(prev) == 0 || unsafe.SliceData(buf.b) != unsafe.StringData(prev) {
		if c.captured == nil {
			c.captured = map[*captureNode]*capturedBuf{}
		}
		buf = &capturedBuf{b: make([]byte, 0, 2*(len(prev)+tail.Len()))}
		buf.b = append(buf.b, prev...)
		c.captured[n] = buf
	}
	buf.b = append(buf.b, tail.String()...)
	c.assign(n.to, unsafe.String(unsafe.SliceData(buf.b), len(buf.b)))
	return nil
}

// ifNode is if/elsif/else and unless.
type ifNode struct {
	conds  []*condition // nil for else
	bodies []*body
	unless bool
	line   int
	blank  bool
}

func (p *tplParser) parseIf(t *rawTok) (*ifNode, error) {
	n := &ifNode{unless: t.name == "unless", line: t.line}
	markup, line := t.markup, t.line
	end := "end" + t.name
	for {
		var cond *condition
		if markup != "\x00else" {
			c, err := parseCondition(markup)
			if err != nil {
				// Jekyll warns and reads it with Ruby Liquid's lax
				// parser: so does islet, when that gives a condition.
				lax, changed := laxCondition(markup)
				if lc, lerr := parseCondition(lax); changed && lerr == nil && p.e.Warn != nil {
					p.e.Warn(p.name, line, fmt.Sprintf("Liquid syntax error: %v in \"%s\"; read as Ruby Liquid's lax parser reads it: \"%s\"", err, strings.TrimSpace(markup), lax))
					c, err = lc, nil
				}
			}
			if err != nil {
				return nil, p.wrap(line, fmt.Errorf("%v in \"%s\"", err, strings.TrimSpace(markup)))
			}
			cond = c
		}
		b, stop, err := p.parseBlock(t, "elsif", "else", end)
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, b)
		if stop.name == end {
			break
		}
		if cond == nil { // a second else or elsif after else is ignored content in Liquid; keep it an error
			return nil, p.errorf(stop.line, "'%s' after 'else' in '%s'", stop.name, t.name)
		}
		markup, line = stop.markup, stop.line
		if stop.name == "else" {
			markup = "\x00else"
		}
	}
	n.blank = true
	for _, b := range n.bodies {
		n.blank = n.blank && b.blank
	}
	if n.blank {
		for _, b := range n.bodies {
			b.removeBlankStrings()
		}
	}
	return n, nil
}

func (n *ifNode) render(c *Context, w *strings.Builder) error {
	for i, cond := range n.conds {
		ok := true
		if cond != nil {
			r, err := cond.eval(c)
			if err != nil {
				return c.wrap(n.line, err)
			}
			ok = r
			if n.unless && i == 0 {
				ok = !r
			}
		}
		if ok {
			return n.bodies[i].render(c, w)
		}
	}
	return nil
}

// caseNode is case/when/else.
type caseNode struct {
	left  expr
	whens []caseWhen
	line  int
	blank bool
}

type caseWhen struct {
	values []expr // nil for else
	b      *body
}

func (p *tplParser) parseCase(t *rawTok) (*caseNode, error) {
	pp, err := newParser(t.markup)
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	left, err := pp.expression()
	if err != nil {
		return nil, p.errorf(t.line, "syntax error in tag 'case' - valid syntax: case [condition]")
	}
	n := &caseNode{left: left, line: t.line}
	// Text before the first when is parsed and dropped.
	if _, stop, err := p.parseBlock(t, "when", "else", "endcase"); err != nil {
		return nil, err
	} else {
		n.blank = true
		for stop.name != "endcase" {
			var w caseWhen
			if stop.name == "when" {
				vals, err := parseWhen(stop.markup)
				if err != nil {
					return nil, p.wrap(stop.line, err)
				}
				w.values = vals
			} else if strings.TrimSpace(stop.markup) != "" {
				return nil, p.errorf(stop.line, "syntax error in tag 'case' - valid else condition: {%% else %%} (no parameters)")
			}
			b, next, err := p.parseBlock(t, "when", "else", "endcase")
			if err != nil {
				return nil, err
			}
			w.b = b
			n.blank = n.blank && b.blank
			n.whens = append(n.whens, w)
			stop = next
		}
	}
	if n.blank {
		for _, w := range n.whens {
			w.b.removeBlankStrings()
		}
	}
	return n, nil
}

func parseWhen(markup string) ([]expr, error) {
	p, err := newParser(markup)
	if err != nil {
		return nil, err
	}
	var out []expr
	for {
		e, err := p.expression()
		if err != nil {
			return nil, fmt.Errorf("syntax error in tag 'case' - valid when condition: {%% when [condition] [or condition2...] %%}")
		}
		out = append(out, e)
		if _, ok := p.accept(tComma); ok {
			continue
		}
		if p.id("or") {
			continue
		}
		break
	}
	if _, err := p.consume(tEnd); err != nil {
		return nil, err
	}
	return out, nil
}

func (n *caseNode) render(c *Context, w *strings.Builder) error {
	left, err := n.left.eval(c)
	if err != nil {
		return c.wrap(n.line, err)
	}
	runElse := true
	for _, wh := range n.whens {
		if wh.values == nil {
			if runElse {
				if err := wh.b.render(c, w); err != nil {
					return err
				}
			}
			continue
		}
		for _, v := range wh.values {
			right, err := v.eval(c)
			if err != nil {
				return c.wrap(n.line, err)
			}
			if equal(left, right) {
				runElse = false
				if err := wh.b.render(c, w); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type counterNode struct {
	name string
	dec  bool
}

func (n *counterNode) render(c *Context, w *strings.Builder) error {
	v, _ := c.counters[n.name].(int)
	if n.dec {
		v--
		c.counters[n.name] = v
		w.WriteString(toS(v))
		return nil
	}
	c.counters[n.name] = v + 1
	w.WriteString(toS(v))
	return nil
}

type interruptNode int

func (n interruptNode) render(c *Context, _ *strings.Builder) error {
	c.interrupt = int(n)
	return nil
}

type ifchangedNode struct{ b *body }

func (n *ifchangedNode) render(c *Context, w *strings.Builder) error {
	var out strings.Builder
	if err := n.b.render(c, &out); err != nil {
		return err
	}
	s := out.String()
	if c.changed == nil || *c.changed != s {
		c.changed = &s
		w.WriteString(s)
	}
	return nil
}

type cycleNode struct {
	group  expr // nil: the values' markup names the cycle
	key    string
	values []expr
	line   int
}

func (p *tplParser) parseCycle(t *rawTok) (node, error) {
	n := &cycleNode{line: t.line}
	markup := t.markup
	pp, err := newParser(markup)
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	first, err := pp.expression()
	if err != nil {
		return nil, p.errorf(t.line, "syntax error in tag 'cycle' - valid syntax: cycle [name :] var [, var2, var3 ...]")
	}
	if _, ok := pp.accept(tColon); ok {
		n.group = first
	} else {
		n.values = append(n.values, first)
		if _, ok := pp.accept(tComma); !ok && !pp.look(tEnd, 0) {
			return nil, p.errorf(t.line, "syntax error in tag 'cycle' - valid syntax: cycle [name :] var [, var2, var3 ...]")
		}
	}
	for !pp.look(tEnd, 0) {
		v, err := pp.expression()
		if err != nil {
			return nil, p.wrap(t.line, err)
		}
		n.values = append(n.values, v)
		if _, ok := pp.accept(tComma); !ok {
			break
		}
	}
	if _, err := pp.consume(tEnd); err != nil {
		return nil, p.wrap(t.line, err)
	}
	if n.group == nil {
		var parts []string
		for _, v := range strings.Split(markup, ",") {
			parts = append(parts, strings.TrimSpace(v))
		}
		n.key = "\x00" + strings.Join(parts, ",")
	}
	return n, nil
}

func (n *cycleNode) render(c *Context, w *strings.Builder) error {
	key := n.key
	if n.group != nil {
		g, err := n.group.eval(c)
		if err != nil {
			return c.wrap(n.line, err)
		}
		key = toS(g)
	}
	i := c.cycles[key]
	v, err := n.values[i].eval(c)
	if err != nil {
		return c.wrap(n.line, err)
	}
	if _, ok := v.(special); ok {
		v = ""
	}
	writeValue(w, v)
	i++
	if i >= len(n.values) {
		i = 0
	}
	c.cycles[key] = i
	return nil
}
