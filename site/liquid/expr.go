package liquid

import (
	"fmt"
	"strconv"
	"strings"
)

// tokKind is the kind of a token inside tag and output markup.
type tokKind int

const (
	tEnd tokKind = iota
	tComparison
	tString
	tNumber
	tID
	tDotDot
	tPipe
	tDot
	tColon
	tComma
	tOpenSquare
	tCloseSquare
	tOpenRound
	tCloseRound
	tQuestion
	tDash
)

type token struct {
	kind tokKind
	text string
}

// lex splits markup as Liquid's strict lexer does.
func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<>"):
			out = append(out, token{tComparison, s[i : i+2]})
			i += 2
		case c == '<' || c == '>':
			n := 1
			if i+1 < len(s) && s[i+1] == '=' {
				n = 2
			}
			out = append(out, token{tComparison, s[i : i+n]})
			i += n
		case strings.HasPrefix(s[i:], "contains") && i+8 < len(s) && isSpace(s[i+8]):
			out = append(out, token{tComparison, "contains"})
			i += 8
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unexpected character %c", c)
			}
			out = append(out, token{tString, s[i+1 : i+1+j]})
			i += j + 2
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
				j++
				for j < len(s) && isDigit(s[j]) {
					j++
				}
			}
			out = append(out, token{tNumber, s[i:j]})
			i = j
		case isLetter(c) || c == '_':
			j := i + 1
			for j < len(s) && (isWord(s[j]) || s[j] == '-') {
				j++
			}
			if j < len(s) && s[j] == '?' {
				j++
			}
			out = append(out, token{tID, s[i:j]})
			i = j
		case strings.HasPrefix(s[i:], ".."):
			out = append(out, token{tDotDot, ".."})
			i += 2
		default:
			k, ok := specials[c]
			if !ok {
				return nil, fmt.Errorf("unexpected character %c", c)
			}
			out = append(out, token{k, string(c)})
			i++
		}
	}
	return append(out, token{kind: tEnd}), nil
}

var specials = map[byte]tokKind{
	'|': tPipe, '.': tDot, ':': tColon, ',': tComma, '[': tOpenSquare,
	']': tCloseSquare, '(': tOpenRound, ')': tCloseRound, '?': tQuestion, '-': tDash,
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isWord(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' }

// parser walks a token list.
type parser struct {
	toks []token
	p    int
}

func newParser(markup string) (*parser, error) {
	toks, err := lex(markup)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks}, nil
}

func (p *parser) look(k tokKind, ahead int) bool {
	i := p.p + ahead
	return i < len(p.toks) && p.toks[i].kind == k
}

func (p *parser) consume(k tokKind) (string, error) {
	t := p.toks[p.p]
	if t.kind != k {
		return "", fmt.Errorf("expected %s but found %s", kindName(k), kindName(t.kind))
	}
	p.p++
	return t.text, nil
}

func (p *parser) accept(k tokKind) (string, bool) {
	if p.toks[p.p].kind != k {
		return "", false
	}
	p.p++
	return p.toks[p.p-1].text, true
}

func (p *parser) id(name string) bool {
	t := p.toks[p.p]
	if t.kind == tID && t.text == name {
		p.p++
		return true
	}
	return false
}

func kindName(k tokKind) string {
	return [...]string{"end_of_string", "comparison", "string", "number", "id", "dotdot", "pipe", "dot",
		"colon", "comma", "open_square", "close_square", "open_round", "close_round", "question", "dash"}[k]
}

// An expr is a parsed Liquid expression.
type expr interface {
	eval(c *Context) (any, error)
}

type literal struct{ v any }

func (l literal) eval(*Context) (any, error) { return l.v, nil }

// lookup is a variable with its chain of properties: a.b[0]["c"].
type lookup struct {
	name  expr // a literal string for plain names
	parts []expr
}

func (l *lookup) eval(c *Context) (any, error) {
	n, err := l.name.eval(c)
	if err != nil {
		return nil, err
	}
	key, ok := n.(string)
	if !ok {
		key = toS(n)
	}
	v := c.find(key)
	for _, part := range l.parts {
		k, err := part.eval(c)
		if err != nil {
			return nil, err
		}
		v = propertyIn(c, v, k)
	}
	return v, nil
}

type rangeExpr struct{ from, to expr }

func (r rangeExpr) eval(c *Context) (any, error) {
	a, err := r.from.eval(c)
	if err != nil {
		return nil, err
	}
	b, err := r.to.eval(c)
	if err != nil {
		return nil, err
	}
	ia, err := toInteger(a)
	if err != nil {
		return nil, err
	}
	ib, err := toInteger(b)
	if err != nil {
		return nil, err
	}
	if ib-ia > 10_000_000 {
		return nil, fmt.Errorf("range (%d..%d) too large", ia, ib)
	}
	out := []any{}
	for i := ia; i <= ib; i++ {
		out = append(out, i)
	}
	return out, nil
}

// toInteger is Liquid's Utils.to_integer (Ruby's Integer()).
func toInteger(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case nil:
		return 0, fmt.Errorf("invalid integer")
	case float64:
		return int(v), nil
	}
	s := strings.TrimSpace(toS(v))
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil {
		return 0, fmt.Errorf("invalid integer")
	}
	return n, nil
}

// expression parses one expression (Parser#expression).
func (p *parser) expression() (expr, error) {
	t := p.toks[p.p]
	switch t.kind {
	case tID:
		p.p++
		var e expr
		switch t.text {
		case "nil", "null":
			e = literal{nil}
		case "true":
			e = literal{true}
		case "false":
			e = literal{false}
		case "empty":
			e = literal{emptyValue}
		case "blank":
			e = literal{blankValue}
		default:
			l := &lookup{name: literal{t.text}}
			if err := p.lookups(l); err != nil {
				return nil, err
			}
			return l, nil
		}
		if p.look(tDot, 0) || p.look(tOpenSquare, 0) {
			l := &lookup{name: literal{t.text}}
			if err := p.lookups(l); err != nil {
				return nil, err
			}
			return l, nil
		}
		return e, nil
	case tOpenSquare:
		p.p++
		inner, err := p.expression()
		if err != nil {
			return nil, err
		}
		if _, err := p.consume(tCloseSquare); err != nil {
			return nil, err
		}
		l := &lookup{name: inner}
		if err := p.lookups(l); err != nil {
			return nil, err
		}
		return l, nil
	case tString:
		p.p++
		return literal{t.text}, nil
	case tNumber:
		p.p++
		if strings.Contains(t.text, ".") {
			f, _ := strconv.ParseFloat(t.text, 64)
			return literal{f}, nil
		}
		n, err := strconv.Atoi(t.text)
		if err != nil {
			return nil, fmt.Errorf("number %s out of range", t.text)
		}
		return literal{n}, nil
	case tOpenRound:
		p.p++
		from, err := p.expression()
		if err != nil {
			return nil, err
		}
		if _, err := p.consume(tDotDot); err != nil {
			return nil, err
		}
		to, err := p.expression()
		if err != nil {
			return nil, err
		}
		if _, err := p.consume(tCloseRound); err != nil {
			return nil, err
		}
		return rangeExpr{from, to}, nil
	}
	return nil, fmt.Errorf("%s is not a valid expression", describe(t))
}

func describe(t token) string {
	if t.kind == tEnd {
		return "end of tag"
	}
	if t.kind == tString {
		return strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

func (p *parser) lookups(l *lookup) error {
	for {
		switch {
		case p.look(tOpenSquare, 0):
			p.p++
			e, err := p.expression()
			if err != nil {
				return err
			}
			if _, err := p.consume(tCloseSquare); err != nil {
				return err
			}
			l.parts = append(l.parts, e)
		case p.look(tDot, 0):
			p.p++
			name, err := p.consume(tID)
			if err != nil {
				return err
			}
			l.parts = append(l.parts, literal{name})
		default:
			return nil
		}
	}
}

// filterCall is one `| name: args` of an output or assign.
type filterCall struct {
	name   string
	args   []expr
	kwargs []kwarg
}

// splitsOnSpace says whether f is split: " ".
func (f filterCall) splitsOnSpace() bool {
	return f.name == "split" && len(f.args) == 1 && len(f.kwargs) == 0 && isSpaceLiteral(f.args[0])
}

// joinsWithSpace says whether f is join or join: " ".
func (f filterCall) joinsWithSpace() bool {
	return f.name == "join" && len(f.kwargs) == 0 && (len(f.args) == 0 || len(f.args) == 1 && isSpaceLiteral(f.args[0]))
}

// replaces says whether f is replace, replace_first, remove or
// remove_first, with a needle and no more than a replacement.
func (f filterCall) replaces() bool {
	switch f.name {
	case "replace", "replace_first", "remove", "remove_first":
		return len(f.kwargs) == 0
	}
	return false
}

// isSpaceLiteral says whether e is the literal " ".
func isSpaceLiteral(e expr) bool {
	l, ok := e.(literal)
	return ok && l.v == any(" ")
}

type kwarg struct {
	key string
	val expr
}

// variable is an expression followed by filters: {{ x | f: a }}.
type variable struct {
	e       expr
	filters []filterCall
}

func (p *parser) variable() (*variable, error) {
	v := &variable{e: literal{nil}}
	if p.look(tEnd, 0) {
		return v, nil
	}
	e, err := p.expression()
	if err != nil {
		return nil, err
	}
	v.e = e
	for {
		if _, ok := p.accept(tPipe); !ok {
			break
		}
		name, err := p.consume(tID)
		if err != nil {
			return nil, err
		}
		f := filterCall{name: name}
		if _, ok := p.accept(tColon); ok {
			for {
				if p.look(tID, 0) && p.look(tColon, 1) {
					key := p.toks[p.p].text
					p.p += 2
					val, err := p.expression()
					if err != nil {
						return nil, err
					}
					f.kwargs = append(f.kwargs, kwarg{key, val})
				} else {
					a, err := p.expression()
					if err != nil {
						return nil, err
					}
					f.args = append(f.args, a)
				}
				if _, ok := p.accept(tComma); !ok {
					break
				}
			}
		}
		v.filters = append(v.filters, f)
	}
	return v, nil
}

func (v *variable) eval(c *Context) (any, error) {
	x, err := v.e.eval(c)
	if err != nil {
		return nil, err
	}
	if s, ok := x.(special); ok && s != 0 {
		x = ""
	}
	transient := false
	for i := 0; i < len(v.filters); i++ {
		f := v.filters[i]
		if c.engine.splitJoin && i+1 < len(v.filters) && f.splitsOnSpace() && v.filters[i+1].joinsWithSpace() {
			// the words between white space, joined by a space: the
			// array between is not seen, so it is not made
			x = JoinFields(toS(x))
			i++
			continue
		}
		args := make([]any, len(f.args))
		for i, a := range f.args {
			if args[i], err = a.eval(c); err != nil {
				return nil, err
			}
			if _, ok := args[i].(special); ok {
				args[i] = ""
			}
		}
		var kw map[string]any
		if len(f.kwargs) > 0 {
			kw = make(map[string]any, len(f.kwargs))
			for _, k := range f.kwargs {
				if kw[k.key], err = k.val.eval(c); err != nil {
					return nil, err
				}
			}
		}
		// a replace followed by another: the one after reads its
		// result and nothing else does
		c.transient = c.engine.replaces && i+1 < len(v.filters) && f.replaces() && v.filters[i+1].replaces()
		if c.transient {
			transient = true
		}
		x, err = c.invoke(f.name, x, args, kw)
		c.transient = false
		if err != nil {
			return nil, err
		}
	}
	if s, ok := x.(string); ok && transient && c.inScratch(s) {
		x = strings.Clone(s) // the last replace found nothing to replace
	}
	return x, nil
}

// parseVariable parses a whole output markup.
func parseVariable(markup string) (*variable, error) {
	p, err := newParser(markup)
	if err != nil {
		return nil, err
	}
	v, err := p.variable()
	if err != nil {
		return nil, err
	}
	if _, err := p.consume(tEnd); err != nil {
		return nil, err
	}
	return v, nil
}

// condition is one comparison of an if/unless/elsif, chained to the
// next by and/or evaluated right to left, as Liquid does.
type condition struct {
	left, right expr
	op          string
	relation    string // "and", "or" or ""
	child       *condition
}

func parseCondition(markup string) (*condition, error) {
	p, err := newParser(markup)
	if err != nil {
		return nil, err
	}
	first, err := p.comparison()
	if err != nil {
		return nil, err
	}
	cur := first
	for {
		var rel string
		switch {
		case p.id("and"):
			rel = "and"
		case p.id("or"):
			rel = "or"
		}
		if rel == "" {
			break
		}
		next, err := p.comparison()
		if err != nil {
			return nil, err
		}
		cur.relation, cur.child = rel, next
		cur = next
	}
	if _, err := p.consume(tEnd); err != nil {
		return nil, err
	}
	return first, nil
}

func (p *parser) comparison() (*condition, error) {
	a, err := p.expression()
	if err != nil {
		return nil, err
	}
	c := &condition{left: a}
	if op, ok := p.accept(tComparison); ok {
		b, err := p.expression()
		if err != nil {
			return nil, err
		}
		c.op, c.right = op, b
	}
	return c, nil
}

func (cond *condition) eval(c *Context) (bool, error) {
	for cur := cond; ; cur = cur.child {
		r, err := cur.interpret(c)
		if err != nil {
			return false, err
		}
		switch cur.relation {
		case "or":
			if r {
				return true, nil
			}
		case "and":
			if !r {
				return false, nil
			}
		default:
			return r, nil
		}
	}
}

func (cond *condition) interpret(c *Context) (bool, error) {
	left, err := cond.left.eval(c)
	if err != nil {
		return false, err
	}
	if cond.op == "" {
		if _, ok := left.(special); ok {
			return true, nil // the literals empty and blank are '' , which is truthy
		}
		return truthy(left), nil
	}
	right, err := cond.right.eval(c)
	if err != nil {
		return false, err
	}
	return compareOp(cond.op, left, right)
}

func compareOp(op string, left, right any) (bool, error) {
	switch op {
	case "==":
		return equal(left, right), nil
	case "!=", "<>":
		return !equal(left, right), nil
	case "contains":
		return contains(left, right), nil
	}
	if _, ok := left.(special); ok {
		left = ""
	}
	if _, ok := right.(special); ok {
		right = ""
	}
	if !orderable(left) || !orderable(right) {
		return false, nil
	}
	n, ok := compare(left, right)
	if !ok {
		return false, fmt.Errorf("comparison of %s with %s failed", rubyClass(left), inspectForError(right))
	}
	switch op {
	case "<":
		return n < 0, nil
	case ">":
		return n > 0, nil
	case "<=":
		return n <= 0, nil
	case ">=":
		return n >= 0, nil
	}
	return false, fmt.Errorf("unknown operator %s", op)
}

// orderable: values that respond to < in Ruby (Comparable, not Hash).
func orderable(v any) bool {
	switch v.(type) {
	case int, float64, string:
		return true
	}
	_, ok := v.(interface{ Compare(any) int })
	return ok || isTime(v)
}

func inspectForError(v any) string {
	switch v.(type) {
	case int, float64:
		return toS(v)
	case string:
		return "String"
	}
	return rubyClass(v)
}

func contains(left, right any) bool {
	if left == nil || right == nil {
		return false
	}
	switch l := left.(type) {
	case string:
		return strings.Contains(l, toS(right))
	case []any:
		for _, e := range l {
			if equal(e, right) {
				return true
			}
		}
	case map[string]any:
		if k, ok := right.(string); ok {
			_, has := l[k]
			return has
		}
	case *Map:
		if k, ok := right.(string); ok {
			_, has := l.m[k]
			return has
		}
	}
	return false
}
