package liquid

import (
	"errors"
	"fmt"
	"strings"
)

// forloop is the forloop (and tablerowloop) drop.
type forloop struct {
	name   string
	length int
	index  int // 0-based
	parent *forloop
	cols   int // tablerow only
}

func (f *forloop) Get(key string) (any, bool) {
	switch key {
	case "name":
		return f.name, true
	case "length":
		return f.length, true
	case "index":
		return f.index + 1, true
	case "index0":
		return f.index, true
	case "rindex":
		return f.length - f.index, true
	case "rindex0":
		return f.length - f.index - 1, true
	case "first":
		return f.index == 0, true
	case "last":
		return f.index == f.length-1, true
	case "parentloop":
		if f.parent == nil {
			return nil, true
		}
		return f.parent, true
	}
	if f.cols > 0 {
		col := f.index%f.cols + 1
		switch key {
		case "col":
			return col, true
		case "col0":
			return col - 1, true
		case "col_first":
			return col == 1, true
		case "col_last":
			return col == f.cols, true
		case "row":
			return f.index/f.cols + 1, true
		}
	}
	return nil, false
}

type forNode struct {
	variable   string
	collection expr
	name       string
	reversed   bool
	limit      expr
	offset     expr
	continued  bool // offset:continue
	b, els     *body
	line       int
	blank      bool
}

func (p *tplParser) parseFor(t *rawTok) (*forNode, error) {
	n, err := p.parseForHeader(t)
	if err != nil {
		// Jekyll warns and reads it with Ruby Liquid's lax parser
		// ({% for p in site.pages | sort: "x" %} loops over site.pages,
		// unsorted): so does islet.
		lax, ok := laxForHeader(t.markup)
		if !ok || p.e.Warn == nil {
			return nil, err
		}
		p.e.Warn(p.name, t.line, fmt.Sprintf("Liquid syntax error: %v in \"%s\"; read as Ruby Liquid's lax parser reads it: \"%s\"",
			errors.Unwrap(err), strings.TrimSpace(t.markup), lax.markup))
		n = lax.node
		n.line = t.line
	}
	b, stop, err := p.parseBlock(t, "else", "endfor")
	if err != nil {
		return nil, err
	}
	n.b = b
	n.blank = b.blank
	if stop.name == "else" {
		els, _, err := p.parseBlock(t, "endfor")
		if err != nil {
			return nil, err
		}
		n.els = els
		n.blank = n.blank && els.blank
	}
	if n.blank {
		n.b.removeBlankStrings()
		if n.els != nil {
			n.els.removeBlankStrings()
		}
	}
	return n, nil
}

// parseForHeader reads the markup of a for tag with the strict parser.
func (p *tplParser) parseForHeader(t *rawTok) (*forNode, error) {
	pp, err := newParser(t.markup)
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	bad := p.errorf(t.line, "syntax error in tag 'for' - valid syntax: for [item] in [collection]")
	v, err := pp.consume(tID)
	if err != nil {
		return nil, bad
	}
	if !pp.id("in") {
		return nil, p.errorf(t.line, "for loops require an 'in' clause")
	}
	start := pp.p
	coll, err := pp.expression()
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	n := &forNode{variable: v, collection: coll, line: t.line}
	n.name = v + "-" + collMarkup(pp.toks[start:pp.p])
	n.reversed = pp.id("reversed")
	for pp.look(tID, 0) && pp.look(tColon, 1) {
		attr := pp.toks[pp.p].text
		pp.p += 2
		if attr == "offset" && pp.look(tID, 0) && pp.toks[pp.p].text == "continue" {
			pp.p++
			n.continued = true
			continue
		}
		e, err := pp.expression()
		if err != nil {
			return nil, p.wrap(t.line, err)
		}
		switch attr {
		case "limit":
			n.limit = e
		case "offset":
			n.offset = e
		default:
			return nil, p.errorf(t.line, "invalid attribute in for loop. valid attributes are limit and offset")
		}
		pp.accept(tComma)
	}
	if _, err := pp.consume(tEnd); err != nil {
		return nil, p.wrap(t.line, err)
	}
	return n, nil
}

// collMarkup rebuilds the collection's markup for the loop's name,
// which offset:continue keys on.
func collMarkup(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tString {
			b.WriteString("'" + t.text + "'")
			continue
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// segment evaluates the collection and slices it by offset and limit.
func segment(c *Context, coll expr, offset, limit expr, continued bool, name string) ([]any, int, error) {
	v, err := coll.eval(c)
	if err != nil {
		return nil, 0, err
	}
	from := 0
	if continued {
		from = c.forOffset[name]
	} else if offset != nil {
		o, err := offset.eval(c)
		if err != nil {
			return nil, 0, err
		}
		if o != nil {
			if from, err = toInteger(o); err != nil {
				return nil, 0, err
			}
		}
	}
	to := -1
	if limit != nil {
		l, err := limit.eval(c)
		if err != nil {
			return nil, 0, err
		}
		if l != nil {
			n, err := toInteger(l)
			if err != nil {
				return nil, 0, err
			}
			to = n + from
		}
	}
	items := iterable(v)
	lo, hi := min(max(from, 0), len(items)), len(items)
	if to >= 0 {
		hi = min(to, hi)
	}
	if hi <= lo {
		return nil, from, nil
	}
	return items[lo:hi:hi], from, nil // read only: the collection itself
}

// iterable is what Liquid's for iterates: arrays, a string as one
// item, a hash as [key, value] pairs.
func iterable(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case string:
		if v == "" {
			return nil
		}
		return []any{v}
	case map[string]any:
		out := make([]any, 0, len(v))
		for _, k := range sortedKeys(v) {
			out = append(out, []any{k, v[k]})
		}
		return out
	case *Map:
		out := make([]any, 0, v.Len())
		for _, k := range v.keys {
			out = append(out, []any{k, v.m[k]})
		}
		return out
	}
	return nil
}

func (n *forNode) render(c *Context, w *strings.Builder) error {
	seg, from, err := segment(c, n.collection, n.offset, n.limit, n.continued, n.name)
	if err != nil {
		return c.wrap(n.line, err)
	}
	if n.reversed {
		r := make([]any, len(seg))
		for i, x := range seg {
			r[len(seg)-1-i] = x
		}
		seg = r
	}
	c.forOffset[n.name] = from + len(seg)
	if len(seg) == 0 {
		if n.els != nil {
			return n.els.render(c, w)
		}
		return nil
	}
	var parent *forloop
	if len(c.forStack) > 0 {
		parent = c.forStack[len(c.forStack)-1]
	}
	loop := &forloop{name: n.name, length: len(seg), parent: parent}
	c.forStack = append(c.forStack, loop)
	defer func() { c.forStack = c.forStack[:len(c.forStack)-1] }()
	return c.Stack(func() error {
		c.Set("forloop", loop)
		for i, item := range seg {
			loop.index = i
			c.Set(n.variable, item)
			if err := n.b.render(c, w); err != nil {
				return err
			}
			if c.takeBreak() {
				break
			}
		}
		return nil
	})
}

type tablerowNode struct {
	variable   string
	collection expr
	attrs      map[string]expr
	b          *body
	line       int
}

func (p *tplParser) parseTablerow(t *rawTok) (node, error) {
	pp, err := newParser(t.markup)
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	v, err := pp.consume(tID)
	if err != nil || !pp.id("in") {
		return nil, p.errorf(t.line, "syntax error in tag 'tablerow' - valid syntax: tablerow [item] in [collection] cols=3")
	}
	coll, err := pp.expression()
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	n := &tablerowNode{variable: v, collection: coll, attrs: map[string]expr{}, line: t.line}
	for pp.look(tID, 0) && pp.look(tColon, 1) {
		attr := pp.toks[pp.p].text
		pp.p += 2
		e, err := pp.expression()
		if err != nil {
			return nil, p.wrap(t.line, err)
		}
		n.attrs[attr] = e
		pp.accept(tComma)
	}
	b, _, err := p.parseBlock(t, "endtablerow")
	if err != nil {
		return nil, err
	}
	n.b = b
	return n, nil
}

func (n *tablerowNode) render(c *Context, w *strings.Builder) error {
	coll, err := n.collection.eval(c)
	if err != nil {
		return c.wrap(n.line, err)
	}
	if coll == nil {
		return nil
	}
	seg, _, err := segment(c, literal{coll}, n.attrs["offset"], n.attrs["limit"], false, "")
	if err != nil {
		return c.wrap(n.line, err)
	}
	cols := 0
	if e, ok := n.attrs["cols"]; ok {
		v, err := e.eval(c)
		if err != nil {
			return c.wrap(n.line, err)
		}
		cols, _ = toInteger(v)
	}
	if cols <= 0 {
		cols = len(seg) + 1 // Ruby: col_last never true when cols is 0
		if cols == 0 {
			cols = 1
		}
	}
	w.WriteString("<tr class=\"row1\">\n")
	loop := &forloop{length: len(seg), cols: cols}
	err = c.Stack(func() error {
		c.Set("tablerowloop", loop)
		for i, item := range seg {
			loop.index = i
			c.Set(n.variable, item)
			col := i%cols + 1
			fmt.Fprintf(w, "<td class=\"col%d\">", col)
			if err := n.b.render(c, w); err != nil {
				return err
			}
			w.WriteString("</td>")
			if col == cols && i != len(seg)-1 {
				fmt.Fprintf(w, "</tr>\n<tr class=\"row%d\">", i/cols+2)
			}
			if c.takeBreak() {
				break
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteString("</tr>\n")
	return nil
}

// partialNode is Liquid's own include and render tags (Jekyll
// replaces include with its own).
type partialNode struct {
	isRender bool
	name     expr
	with     expr
	isFor    bool
	alias    string
	attrs    []kwarg
	line     int
	nameText string
}

func (p *tplParser) parsePartial(t *rawTok) (node, error) {
	pp, err := newParser(t.markup)
	if err != nil {
		return nil, p.wrap(t.line, err)
	}
	n := &partialNode{isRender: t.name == "render", line: t.line}
	if n.isRender && !pp.look(tString, 0) {
		return nil, p.errorf(t.line, "syntax error in tag 'render' - template name must be a quoted string")
	}
	if pp.look(tString, 0) {
		n.nameText = pp.toks[pp.p].text
	}
	if n.name, err = pp.expression(); err != nil {
		return nil, p.wrap(t.line, err)
	}
	if pp.id("with") || func() bool { n.isFor = pp.id("for"); return n.isFor }() {
		if n.with, err = pp.expression(); err != nil {
			return nil, p.wrap(t.line, err)
		}
	}
	if pp.id("as") {
		if n.alias, err = pp.consume(tID); err != nil {
			return nil, p.wrap(t.line, err)
		}
	}
	for {
		pp.accept(tComma)
		if !(pp.look(tID, 0) && pp.look(tColon, 1)) {
			break
		}
		key := pp.toks[pp.p].text
		pp.p += 2
		e, err := pp.expression()
		if err != nil {
			return nil, p.wrap(t.line, err)
		}
		n.attrs = append(n.attrs, kwarg{key, e})
	}
	if _, err := pp.consume(tEnd); err != nil {
		return nil, p.wrap(t.line, err)
	}
	return n, nil
}

func (n *partialNode) render(c *Context, w *strings.Builder) error {
	nv, err := n.name.eval(c)
	if err != nil {
		return c.wrap(n.line, err)
	}
	name, ok := nv.(string)
	if !ok {
		return c.wrap(n.line, fmt.Errorf("illegal template name"))
	}
	if c.engine.Partial == nil {
		return c.wrap(n.line, fmt.Errorf("this liquid context does not allow includes"))
	}
	tpl, err := c.engine.Partial(name)
	if err != nil {
		return c.wrap(n.line, err)
	}
	leave, err := c.Enter()
	if err != nil {
		return c.wrap(n.line, err)
	}
	defer leave()
	varName := n.alias
	if varName == "" {
		varName = name[strings.LastIndex(name, "/")+1:]
	}
	var with any
	if n.with != nil {
		if with, err = n.with.eval(c); err != nil {
			return c.wrap(n.line, err)
		}
	} else if !n.isRender {
		with = c.find(name)
	}
	if n.isRender {
		one := func(v any, loop *forloop) error {
			inner := c.Isolated()
			if loop != nil {
				inner.Set("forloop", loop)
			}
			for _, a := range n.attrs {
				x, err := a.val.eval(c)
				if err != nil {
					return err
				}
				inner.Set(a.key, x)
			}
			if v != nil {
				inner.Set(varName, v)
			}
			return tpl.RenderTo(inner, w)
		}
		if arr, ok := with.([]any); ok && n.isFor {
			loop := &forloop{name: name, length: len(arr)}
			for i, v := range arr {
				loop.index = i
				if err := one(v, loop); err != nil {
					return err
				}
			}
			return nil
		}
		return one(with, nil)
	}
	return c.Stack(func() error {
		for _, a := range n.attrs {
			x, err := a.val.eval(c)
			if err != nil {
				return err
			}
			c.Set(a.key, x)
		}
		if arr, ok := with.([]any); ok {
			for _, v := range arr {
				c.Set(varName, v)
				if err := tpl.RenderTo(c, w); err != nil {
					return err
				}
			}
			return nil
		}
		c.Set(varName, with)
		return tpl.RenderTo(c, w)
	})
}

// takeBreak clears a pending break or continue and reports whether it
// was a break (the loop stops).
func (c *Context) takeBreak() bool {
	brk := c.interrupt == 1
	c.interrupt = 0
	return brk
}
