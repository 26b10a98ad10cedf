package liquid

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Context is the state of one render: scopes of variables, counters,
// registers shared with custom tags and filters.
type Context struct {
	engine      *Engine
	scopes      []map[string]any // scopes[0] is the outermost (assign writes there)
	counters    map[string]any   // increment/decrement, Liquid's environment
	Registers   map[string]any   // host state for custom tags and filters
	cycles      map[string]int
	forOffset   map[string]int
	changed     *string
	forStack    []*forloop
	interrupt   int // 1 break, 2 continue
	file        string
	depth       int
	captured    map[*captureNode]*capturedBuf // the buffers of appending captures
	outBase     int                           // what an appending capture holds before the output being written
	lineages    [lineages]lineage             // what the replace filters made (grams.go)
	lineageTick int
	// transient: the filter called is a replace whose result only the
	// replace after it in the same chain reads; it writes it to one of
	// the scratch buffers (grams.go).
	transient bool
	scratch   [2][]byte
}

func newContext(e *Engine, vars, registers map[string]any) *Context {
	if vars == nil {
		vars = map[string]any{}
	}
	if registers == nil {
		registers = map[string]any{}
	}
	return &Context{engine: e, scopes: []map[string]any{vars}, counters: map[string]any{}, Registers: registers,
		cycles: map[string]int{}, forOffset: map[string]int{}}
}

// NewContext starts a render context.
func (e *Engine) NewContext(vars, registers map[string]any) *Context {
	return newContext(e, vars, registers)
}

// Engine is the engine this context renders with.
func (c *Context) Engine() *Engine { return c.engine }

// File is the template being rendered.
func (c *Context) File() string { return c.file }

// Get looks a variable up as templates see it.
func (c *Context) Get(name string) any { return c.find(name) }

func (c *Context) find(name string) any {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v, ok := c.scopes[i][name]; ok {
			return v
		}
	}
	if v, ok := c.counters[name]; ok {
		return v
	}
	return nil
}

// Set assigns in the innermost scope.
func (c *Context) Set(name string, v any) { c.scopes[len(c.scopes)-1][name] = v }

// assign writes the outermost scope, as Liquid's assign and capture do.
func (c *Context) assign(name string, v any) { c.scopes[0][name] = v }

// Stack runs f in a new innermost scope.
func (c *Context) Stack(f func() error) error {
	if len(c.scopes) > 100 {
		return fmt.Errorf("nesting too deep")
	}
	c.scopes = append(c.scopes, map[string]any{})
	defer func() { c.scopes = c.scopes[:len(c.scopes)-1] }()
	return f()
}

// Isolated returns a context that shares registers and counters but
// none of the variables (the render tag's scope).
func (c *Context) Isolated() *Context {
	n := newContext(c.engine, nil, c.Registers)
	n.depth = c.depth + 1
	return n
}

// Depth counts nested partials; past 100 rendering stops.
func (c *Context) Enter() (func(), error) {
	c.depth++
	if c.depth > 100 {
		c.depth--
		return nil, fmt.Errorf("nesting too deep")
	}
	return func() { c.depth-- }, nil
}

func (c *Context) wrap(line int, err error) error {
	if err == nil {
		return nil
	}
	var le *Error
	if errors.As(err, &le) {
		return err
	}
	var ie *interruptErr
	if errors.As(err, &ie) {
		return err
	}
	return &Error{File: c.file, Line: line, Err: err}
}

func (c *Context) invoke(name string, input any, args []any, kw map[string]any) (any, error) {
	f, ok := c.engine.filters[name]
	if !ok {
		return nil, fmt.Errorf("unknown filter %q", name)
	}
	if len(args) < f.min || (f.max >= 0 && len(args) > f.max) {
		want := fmt.Sprint(f.min)
		if f.max < 0 {
			want += "+"
		} else if f.max != f.min {
			want = fmt.Sprintf("%d..%d", f.min, f.max)
		}
		return nil, fmt.Errorf("%s: wrong number of arguments (given %d, expected %s)", name, len(args)+1, plusOne(want))
	}
	return f.fn(c, input, args, kw)
}

func plusOne(s string) string {
	var a, b int
	if n, _ := fmt.Sscanf(s, "%d..%d", &a, &b); n == 2 {
		return fmt.Sprintf("%d..%d", a+1, b+1)
	}
	if strings.HasSuffix(s, "+") {
		fmt.Sscanf(s, "%d", &a)
		return fmt.Sprintf("%d+", a+1)
	}
	fmt.Sscanf(s, "%d", &a)
	return fmt.Sprint(a + 1)
}

func isTime(v any) bool {
	_, ok := v.(time.Time)
	return ok
}
