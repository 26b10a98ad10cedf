package liquid

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// str is a filter on the input's to_s.
func str(f func(s string) any) FilterFunc {
	return func(_ *Context, in any, _ []any, _ map[string]any) (any, error) { return f(toS(in)), nil }
}

func str1(f func(s, a string) any) FilterFunc {
	return func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
		return f(toS(in), toS(args[0])), nil
	}
}

var (
	newlines = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\r?\n`)
	})
	escapeOnceRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`["><']|&(?:[a-zA-Z]+|#\d+);|&`)
	})
)

const rubySpace = " \t\n\v\f\r\x00"

func registerStandardFilters(e *Engine) {
	r := e.RegisterFilter
	r("size", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		n, _ := size(in)
		return n, nil
	})
	r("downcase", 0, 0, str(func(s string) any { return strings.ToLower(s) }))
	r("upcase", 0, 0, str(func(s string) any { return strings.ToUpper(s) }))
	r("capitalize", 0, 0, str(func(s string) any {
		if s == "" {
			return s
		}
		first, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(first)) + strings.ToLower(s[n:])
	}))
	escape := func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		return escapeHTML(toS(in)), nil
	}
	r("escape", 0, 0, escape)
	r("h", 0, 0, escape)
	r("escape_once", 0, 0, str(func(s string) any { return EscapeOnce(s) }))
	r("url_encode", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		return url.QueryEscape(toS(in)), nil
	})
	r("url_decode", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		s, err := url.QueryUnescape(toS(in))
		if err != nil {
			return nil, fmt.Errorf("url_decode: %w", err)
		}
		return s, nil
	})
	r("base64_encode", 0, 0, str(func(s string) any { return base64.StdEncoding.EncodeToString([]byte(s)) }))
	r("base64_url_safe_encode", 0, 0, str(func(s string) any { return base64.URLEncoding.EncodeToString([]byte(s)) }))
	b64dec := func(enc *base64.Encoding, name string) FilterFunc {
		return func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
			b, err := enc.DecodeString(toS(in))
			if err != nil {
				return nil, fmt.Errorf("invalid base64 provided to %s", name)
			}
			return string(b), nil
		}
	}
	r("base64_decode", 0, 0, b64dec(base64.StdEncoding, "base64_decode"))
	r("base64_url_safe_decode", 0, 0, b64dec(base64.URLEncoding, "base64_url_safe_decode"))
	r("slice", 1, 2, filterSlice)
	r("truncate", 0, 2, filterTruncate)
	r("truncatewords", 0, 2, filterTruncatewords)
	r("split", 1, 1, func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
		return rubySplit(toS(in), toS(args[0])), nil
	})
	r("strip", 0, 0, str(func(s string) any { return strings.Trim(s, rubySpace) }))
	r("lstrip", 0, 0, str(func(s string) any { return strings.TrimLeft(s, rubySpace) }))
	r("rstrip", 0, 0, str(func(s string) any { return strings.TrimRight(s, rubySpace) }))
	r("strip_html", 0, 0, str(func(s string) any { return StripHTML(s) }))
	r("strip_newlines", 0, 0, str(func(s string) any { return newlines().ReplaceAllString(s, "") }))
	r("newline_to_br", 0, 0, str(func(s string) any { return newlines().ReplaceAllString(s, "<br />\n") }))
	r("join", 0, 1, func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
		glue := " "
		if len(args) > 0 {
			glue = toS(args[0])
		}
		var parts []string
		for _, x := range flatten(inputList(in), nil) {
			parts = append(parts, toS(x))
		}
		return strings.Join(parts, glue), nil
	})
	r("sort", 0, 1, func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		return sortList(c, in, args, false)
	})
	r("sort_natural", 0, 1, func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		return sortList(c, in, args, true)
	})
	r("where", 1, 2, func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		prop := toS(args[0])
		var out []any
		for _, x := range inputList(in) {
			v := propertyIn(c, x, prop)
			if len(args) == 1 || args[1] == nil {
				if truthy(v) {
					out = append(out, x)
				}
			} else if equal(v, args[1]) {
				out = append(out, x)
			}
		}
		return nonNil(out), nil
	})
	r("uniq", 0, 1, func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		items := inputList(in)
		var out []any
		var seen []any
		for _, x := range items {
			k := x
			if len(args) > 0 {
				k = propertyIn(c, x, toS(args[0]))
			}
			dup := false
			for _, s := range seen {
				if equal(s, k) {
					dup = true
					break
				}
			}
			if !dup {
				seen = append(seen, k)
				out = append(out, x)
			}
		}
		return nonNil(out), nil
	})
	r("reverse", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		items := inputList(in)
		out := make([]any, len(items))
		for i, x := range items {
			out[len(items)-1-i] = x
		}
		return out, nil
	})
	r("compact", 0, 1, func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		var out []any
		for _, x := range inputList(in) {
			v := x
			if len(args) > 0 {
				v = propertyIn(c, x, toS(args[0]))
			}
			if v != nil {
				out = append(out, x)
			}
		}
		return nonNil(out), nil
	})
	r("map", 1, 1, func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		prop := toS(args[0])
		items := inputList(in)
		out := make([]any, 0, len(items))
		for _, x := range items {
			out = append(out, propertyIn(c, x, prop))
		}
		return out, nil
	})
	r("first", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		if a, ok := in.([]any); ok && len(a) > 0 {
			return a[0], nil
		}
		return nil, nil
	})
	r("last", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		if a, ok := in.([]any); ok && len(a) > 0 {
			return a[len(a)-1], nil
		}
		return nil, nil
	})
	r("concat", 1, 1, func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
		b, ok := args[0].([]any)
		if !ok {
			return nil, fmt.Errorf("concat filter requires an array argument")
		}
		out := append(append([]any{}, inputList(in)...), b...)
		return out, nil
	})
	r("replace", 1, 2, replaceFilter(-1, true))
	r("replace_first", 1, 2, replaceFilter(1, true))
	r("replace_last", 2, 2, str2(replaceLast))
	r("remove", 1, 1, replaceFilter(-1, false))
	r("remove_first", 1, 1, replaceFilter(1, false))
	r("remove_last", 1, 1, str1(func(s, a string) any { return replaceLast(s, a, "") }))
	r("append", 1, 1, str1(func(s, a string) any { return s + a }))
	r("prepend", 1, 1, str1(func(s, a string) any { return a + s }))
	r("date", 1, 1, filterDate)
	r("default", 0, 1, func(_ *Context, in any, args []any, kw map[string]any) (any, error) {
		allowFalse := truthy(kw["allow_false"])
		var def any = ""
		if len(args) > 0 {
			def = args[0]
		}
		if in == nil || isEmpty(in) || (in == false && !allowFalse) {
			return def, nil
		}
		return in, nil
	})
	registerMathFilters(e)
}

// replaceFilter is replace and remove (with, false), of every match
// or (limit 1) the first.
func replaceFilter(limit int, with bool) FilterFunc {
	return func(c *Context, in any, args []any, _ map[string]any) (any, error) {
		b := ""
		if with && len(args) > 1 {
			b = toS(args[1])
		}
		return c.replace(toS(in), toS(args[0]), b, limit), nil
	}
}

func str2(f func(s, a, b string) any) FilterFunc {
	return func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
		b := ""
		if len(args) > 1 {
			b = toS(args[1])
		}
		return f(toS(in), toS(args[0]), b), nil
	}
}

func replaceLast(s, a, b string) any {
	i := strings.LastIndex(s, a)
	if i < 0 {
		return s
	}
	return s[:i] + b + s[i+len(a):]
}

func nonNil(a []any) []any {
	if a == nil {
		return []any{}
	}
	return a
}

// flatten is Array#flatten, as Array#join applies it.
func flatten(a []any, out []any) []any {
	for _, x := range a {
		if inner, ok := x.([]any); ok {
			out = flatten(inner, out)
			continue
		}
		out = append(out, x)
	}
	return out
}

// inputList is Liquid's InputIterator: arrays as they are, a hash as
// one item, nil as nothing, anything else as a one-item list.
func inputList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

func escapeHTML(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// EscapeHTML is Ruby's CGI.escapeHTML.
func EscapeHTML(s string) string { return escapeHTML(s) }

// StripHTML is the strip_html filter: scripts, styles, comments and
// tags removed. Ruby Liquid removes what /<script.*?<\/script>|<!--.*?-->|
// <style.*?<\/style>/m matches (case counts), then what /<.*?>/m does;
// the search index of a documentation site calls it for every section
// of every page, where a regular expression was a tenth of the render.
func StripHTML(s string) string {
	return stripTags(stripBlocks(s))
}

// stripBlocks removes scripts, comments and styles, each from its
// opening to the first end after it; an opening without an end stays.
func stripBlocks(s string) string {
	var b strings.Builder
	done, from := 0, 0
	for {
		i := strings.IndexByte(s[from:], '<')
		if i < 0 {
			break
		}
		i += from
		end := -1
		for _, blk := range [...]struct{ open, close string }{{"<script", "</script>"}, {"<!--", "-->"}, {"<style", "</style>"}} {
			if strings.HasPrefix(s[i:], blk.open) {
				if j := strings.Index(s[i+len(blk.open):], blk.close); j >= 0 {
					end = i + len(blk.open) + j + len(blk.close)
				}
				break
			}
		}
		if end < 0 {
			from = i + 1
			continue
		}
		b.WriteString(s[done:i])
		done, from = end, end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// stripTags removes each "<" with what follows up to the first ">";
// after a "<" without a ">", nothing more is removed.
func stripTags(s string) string {
	var b strings.Builder
	done := 0
	for {
		i := strings.IndexByte(s[done:], '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[done+i+1:], '>')
		if j < 0 {
			break
		}
		if b.Cap() == 0 {
			b.Grow(len(s) - i)
		}
		b.WriteString(s[done : done+i])
		done += i + 1 + j + 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// EscapeOnce is the escape_once filter: HTML-escapes what is not
// already an entity.
func EscapeOnce(s string) string {
	return escapeOnceRe().ReplaceAllStringFunc(s, func(m string) string {
		if len(m) > 1 {
			return m
		}
		return escapeHTML(m)
	})
}

func filterSlice(_ *Context, in any, args []any, _ map[string]any) (any, error) {
	off, err := toInteger(args[0])
	if err != nil {
		return nil, err
	}
	n := 1
	if len(args) > 1 {
		if n, err = toInteger(args[1]); err != nil {
			return nil, err
		}
	}
	if a, ok := in.([]any); ok {
		s, ok := rubySlice(len(a), off, n)
		if !ok {
			return []any{}, nil
		}
		return a[s : s+min(n, len(a)-s)], nil
	}
	r := []rune(toS(in))
	s, ok := rubySlice(len(r), off, n)
	if !ok {
		return "", nil
	}
	return string(r[s : s+min(n, len(r)-s)]), nil
}

// rubySlice resolves Ruby's [offset, length] start.
func rubySlice(n, off, length int) (int, bool) {
	if off < 0 {
		off += n
	}
	if off < 0 || off > n || length < 0 {
		return 0, false
	}
	return off, true
}

func filterTruncate(_ *Context, in any, args []any, _ map[string]any) (any, error) {
	if in == nil {
		return nil, nil
	}
	length, ellipsis := 50, "..."
	var err error
	if len(args) > 0 {
		if length, err = toInteger(args[0]); err != nil {
			return nil, err
		}
	}
	if len(args) > 1 {
		ellipsis = toS(args[1])
	}
	r := []rune(toS(in))
	l := length - utf8.RuneCountInString(ellipsis)
	if l < 0 {
		l = 0
	}
	if len(r) > length {
		return string(r[:min(l, len(r))]) + ellipsis, nil
	}
	return string(r), nil
}

func filterTruncatewords(_ *Context, in any, args []any, _ map[string]any) (any, error) {
	if in == nil {
		return nil, nil
	}
	words, ellipsis := 15, "..."
	var err error
	if len(args) > 0 {
		if words, err = toInteger(args[0]); err != nil {
			return nil, err
		}
	}
	if len(args) > 1 {
		ellipsis = toS(args[1])
	}
	if words <= 0 {
		words = 1
	}
	s := toS(in)
	list := splitSpace(s) // Ruby's split(" ", words+1)
	if len(list) <= words {
		return s, nil
	}
	return strings.Join(list[:words], " ") + ellipsis, nil
}

// rubySplit is Ruby's String#split with a string pattern.
func rubySplit(s, sep string) []any {
	parts := Split(s, sep)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

func sortList(c *Context, in any, args []any, natural bool) (any, error) {
	if in == nil {
		return []any{}, nil
	}
	items := append([]any{}, inputList(in)...)
	key := func(x any) any {
		if len(args) > 0 {
			x = propertyIn(c, x, toS(args[0]))
		}
		if s, ok := x.(string); ok && natural {
			return strings.ToLower(s)
		}
		return x
	}
	var err error
	sort.SliceStable(items, func(i, j int) bool {
		a, b := key(items[i]), key(items[j])
		if a == nil || b == nil {
			return a != nil && b == nil // nils last
		}
		c, ok := compare(a, b)
		if !ok && err == nil {
			err = fmt.Errorf("comparison of %s with %s failed", rubyClass(a), inspectForError(b))
		}
		return c < 0
	})
	if err != nil && len(args) == 0 && !natural {
		return nil, err
	}
	return items, nil
}

// number is Liquid's Utils.to_number: an int, or an exact decimal for
// floats and decimal strings (Ruby's BigDecimal).
type number struct {
	i     int
	r     *big.Rat // non-nil for decimals
	float bool     // the input was a Float (result stays a Float)
}

func toNumber(v any) number {
	switch v := v.(type) {
	case int:
		return number{i: v}
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return number{r: new(big.Rat), float: true}
		}
		r, _ := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
		return number{r: r, float: true}
	case string:
		s := strings.Trim(v, rubySpace)
		if decimalRe().MatchString(s) {
			r, _ := new(big.Rat).SetString(s)
			return number{r: r}
		}
		return number{i: rubyToI(v)}
	}
	return number{}
}

var decimalRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^-?\d+\.\d+$`)
})

// rubyToI is String#to_i: leading integer, else 0.
func rubyToI(s string) int {
	s = strings.TrimLeft(s, rubySpace)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	start := end
	for end < len(s) && (isDigit(s[end]) || (s[end] == '_' && end > start)) {
		end++
	}
	n, _ := strconv.Atoi(strings.ReplaceAll(s[:end], "_", ""))
	return n
}

func (n number) rat() *big.Rat {
	if n.r != nil {
		return n.r
	}
	return new(big.Rat).SetInt64(int64(n.i))
}

func (n number) value() any {
	if n.r != nil {
		f, _ := n.r.Float64()
		return f
	}
	return n.i
}

func arith(a, b number, op byte) (any, error) {
	if a.r == nil && b.r == nil {
		switch op {
		case '+':
			return a.i + b.i, nil
		case '-':
			return a.i - b.i, nil
		case '*':
			return a.i * b.i, nil
		case '/':
			if b.i == 0 {
				return nil, fmt.Errorf("divided by 0")
			}
			return floorDiv(a.i, b.i), nil
		case '%':
			if b.i == 0 {
				return nil, fmt.Errorf("divided by 0")
			}
			m := a.i % b.i
			if m != 0 && (m < 0) != (b.i < 0) {
				m += b.i
			}
			return m, nil
		}
	}
	x, y := a.rat(), b.rat()
	r := new(big.Rat)
	switch op {
	case '+':
		r.Add(x, y)
	case '-':
		r.Sub(x, y)
	case '*':
		r.Mul(x, y)
	case '/':
		if y.Sign() == 0 {
			if b.float || a.float {
				f, _ := x.Float64()
				return f / 0, nil
			}
			return nil, fmt.Errorf("divided by 0")
		}
		r.Quo(x, y)
	case '%':
		if y.Sign() == 0 {
			return nil, fmt.Errorf("divided by 0")
		}
		q := new(big.Rat).Quo(x, y)
		fl := new(big.Int).Div(q.Num(), q.Denom()) // floor for positive denominators
		r.Sub(x, new(big.Rat).Mul(y, new(big.Rat).SetInt(fl)))
	}
	f, _ := r.Float64()
	return f, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func registerMathFilters(e *Engine) {
	for name, op := range map[string]byte{"plus": '+', "minus": '-', "times": '*', "divided_by": '/', "modulo": '%'} {
		e.RegisterFilter(name, 1, 1, func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
			return arith(toNumber(in), toNumber(args[0]), op)
		})
	}
	e.RegisterFilter("abs", 0, 0, func(_ *Context, in any, _ []any, _ map[string]any) (any, error) {
		n := toNumber(in)
		if n.r != nil {
			f, _ := new(big.Rat).Abs(n.r).Float64()
			return f, nil
		}
		if n.i < 0 {
			return -n.i, nil
		}
		return n.i, nil
	})
	rounding := func(mode string) FilterFunc {
		return func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
			n := toNumber(in)
			if n.r == nil {
				return n.i, nil
			}
			f, _ := n.r.Float64()
			switch mode {
			case "ceil":
				return int(math.Ceil(f)), nil
			case "floor":
				return int(math.Floor(f)), nil
			}
			digits := 0
			if len(args) > 0 {
				digits = toNumber(args[0]).i
			}
			if digits == 0 {
				return int(roundHalfUp(n.r, 0)), nil
			}
			return roundHalfUp(n.r, digits), nil
		}
	}
	e.RegisterFilter("round", 0, 1, rounding("round"))
	e.RegisterFilter("ceil", 0, 0, rounding("ceil"))
	e.RegisterFilter("floor", 0, 0, rounding("floor"))
	bound := func(atLeast bool) FilterFunc {
		return func(_ *Context, in any, args []any, _ map[string]any) (any, error) {
			a, b := toNumber(in), toNumber(args[0])
			c := a.rat().Cmp(b.rat())
			if (atLeast && c < 0) || (!atLeast && c > 0) {
				return b.value(), nil
			}
			return a.value(), nil
		}
	}
	e.RegisterFilter("at_least", 1, 1, bound(true))
	e.RegisterFilter("at_most", 1, 1, bound(false))
}

// roundHalfUp rounds a decimal half away from zero (BigDecimal#round).
func roundHalfUp(r *big.Rat, digits int) float64 {
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(digits))), nil))
	x := new(big.Rat).Set(r)
	if digits >= 0 {
		x.Mul(x, scale)
	} else {
		x.Quo(x, scale)
	}
	half := big.NewRat(1, 2)
	if x.Sign() < 0 {
		x.Sub(x, half)
	} else {
		x.Add(x, half)
	}
	q := new(big.Int).Quo(x.Num(), x.Denom()) // truncates toward zero
	res := new(big.Rat).SetInt(q)
	if digits >= 0 {
		res.Quo(res, scale)
	} else {
		res.Mul(res, scale)
	}
	f, _ := res.Float64()
	return f
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
