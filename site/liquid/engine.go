package liquid

import (
	"strings"
	"time"
)

// A FilterFunc computes a filter: {{ input | name: args..., key: kw }}.
type FilterFunc func(c *Context, input any, args []any, kw map[string]any) (any, error)

type filterDef struct {
	fn       FilterFunc
	min, max int // positional argument counts; max -1 for any
}

// Node is a parsed custom tag.
type Node interface {
	Render(c *Context, w *strings.Builder) error
}

// TagFunc parses a custom tag's markup.
type TagFunc func(markup string) (Node, error)

// BlockFunc parses a custom block tag; body renders what is between
// the tag and its end tag.
type BlockFunc func(markup string, body Node) (Node, error)

// Engine holds the filters and tags templates may use. It is not
// modified after set-up and may render concurrently.
type Engine struct {
	filters map[string]filterDef
	tags    map[string]TagFunc
	blocks  map[string]BlockFunc
	// Partial loads the template of an include or render tag.
	Partial func(name string) (*Template, error)
	// Now is the time "now" and "today" mean for the date filter.
	Now func() time.Time
	// Location is the zone dates without one are read in.
	Location *time.Location
	// MaxOutput bounds one render's output, in bytes.
	MaxOutput int
	// Warn, if set, hears what the parser accepted as Ruby Liquid's lax
	// parser would, which the strict one rejects (file and line of the
	// tag). When nil, such markup is an error.
	Warn func(file string, line int, msg string)
	// splitJoin: split and join are Liquid's, so that split: " " |
	// join: " " may be computed in one pass (variable.eval).
	splitJoin bool
	// replaces: replace, replace_first, remove and remove_first are
	// Liquid's, so that one followed by another may write its result
	// where the next overwrites it (variable.eval).
	replaces bool
	// replaced names the standard filters registered over since New.
	replaced map[string]bool
}

// New returns an engine with Liquid's standard tags and filters.
func New() *Engine {
	e := &Engine{filters: map[string]filterDef{}, tags: map[string]TagFunc{}, blocks: map[string]BlockFunc{},
		Now: time.Now, Location: time.Local, MaxOutput: 1 << 30}
	registerStandardFilters(e)
	e.splitJoin, e.replaces = true, true
	e.replaced = map[string]bool{}
	return e
}

// RegisterFilter adds or replaces a filter taking between min and max
// positional arguments (max -1: any number).
func (e *Engine) RegisterFilter(name string, min, max int, f FilterFunc) {
	if _, ok := e.filters[name]; ok && e.replaced != nil {
		e.replaced[name] = true
	}
	e.filters[name] = filterDef{fn: f, min: min, max: max}
	switch name {
	case "split", "join":
		e.splitJoin = false
	case "replace", "replace_first", "remove", "remove_first":
		e.replaces = false
	}
}

// Standard says whether each named filter is Liquid's own: present,
// and not registered over since New.
func (e *Engine) Standard(names ...string) bool {
	for _, n := range names {
		if _, ok := e.filters[n]; !ok || e.replaced[n] {
			return false
		}
	}
	return true
}

// RegisterTag adds a custom tag without a body.
func (e *Engine) RegisterTag(name string, f TagFunc) { e.tags[name] = f }

// RegisterBlock adds a custom block tag closed by end<name>.
func (e *Engine) RegisterBlock(name string, f BlockFunc) { e.blocks[name] = f }

// Expr is a parsed expression a custom tag evaluates.
type Expr struct{ e expr }

// ParseExpr parses one Liquid expression (a literal or variable).
func ParseExpr(markup string) (Expr, error) {
	p, err := newParser(markup)
	if err != nil {
		return Expr{}, err
	}
	x, err := p.expression()
	if err != nil {
		return Expr{}, err
	}
	if _, err := p.consume(tEnd); err != nil {
		return Expr{}, err
	}
	return Expr{x}, nil
}

// Eval evaluates the expression in c.
func (x Expr) Eval(c *Context) (any, error) {
	v, err := x.e.eval(c)
	if _, ok := v.(special); ok {
		v = ""
	}
	return v, err
}

// Filtered is an expression with filters, as in an output tag.
type Filtered struct{ v *variable }

// ParseFiltered parses `expr | filter: args`.
func ParseFiltered(markup string) (Filtered, error) {
	v, err := parseVariable(markup)
	return Filtered{v}, err
}

// Eval evaluates the expression and its filters.
func (f Filtered) Eval(c *Context) (any, error) { return f.v.eval(c) }

// Truthy is Liquid's truthiness: everything but nil and false.
func Truthy(v any) bool { return truthy(v) }

// Condition is a parsed if-condition (`a == b and c`).
type Condition struct{ c *condition }

// ParseCondition parses the markup of an if tag.
func ParseCondition(markup string) (Condition, error) {
	c, err := parseCondition(markup)
	return Condition{c}, err
}

// Eval evaluates the condition.
func (c Condition) Eval(ctx *Context) (bool, error) { return c.c.eval(ctx) }

// Split is the split filter's parts, as Ruby's String#split gives them:
// fields between ASCII white space for " ", characters for "", and no
// empty parts at the end.
func Split(s, sep string) []string {
	var parts []string
	switch sep {
	case " ":
		parts = splitSpace(s)
	case "":
		for _, r := range s {
			parts = append(parts, string(r))
		}
	default:
		parts = strings.Split(s, sep)
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// Replace is the replace filter (limit -1) and replace_first (1):
// Ruby's gsub and sub with a string pattern.
func Replace(s, old, new string, limit int) string { return replace(s, old, new, limit) }

// Compare orders two values as Ruby's <=> does; ok is false when they
// cannot be compared.
func Compare(a, b any) (int, bool) { return compare(a, b) }

// PropertyIn looks key up in v as a template's v.key or v[key] does,
// for the render c (see ContextDrop).
func PropertyIn(c *Context, v any, key any) any { return propertyIn(c, v, key) }

// Filter applies a registered filter to a value.
func (e *Engine) Filter(name string, c *Context, input any, args ...any) (any, error) {
	return c.invoke(name, input, args, nil)
}
