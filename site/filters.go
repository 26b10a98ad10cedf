package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"islet.dev/islet/site/liquid"
	"islet.dev/islet/site/plugins"
)

// registerFilters adds Jekyll's filters.
func (s *Site) registerFilters(e *liquid.Engine) {
	r := e.RegisterFilter
	r("relative_url", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		return s.relativeURL(urlOf(in)), nil
	})
	r("absolute_url", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		return s.absoluteURL(urlOf(in)), nil
	})
	timeFilter := func(f func(t time.Time, args []any) string) liquid.FilterFunc {
		return func(_ *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
			if in == nil || in == "" {
				return in, nil
			}
			t, ok := liquid.ToTime(in, s.cfg.now, s.cfg.loc)
			if !ok {
				return nil, fmt.Errorf("invalid date '%v': could not convert to a time", liquid.ToString(in))
			}
			return f(t.In(s.cfg.loc), args), nil
		}
	}
	r("date_to_xmlschema", 0, 0, timeFilter(func(t time.Time, _ []any) string { return liquid.Strftime(t, "%Y-%m-%dT%H:%M:%S%:z") }))
	r("date_to_rfc822", 0, 0, timeFilter(func(t time.Time, _ []any) string { return liquid.Strftime(t, "%a, %d %b %Y %H:%M:%S %z") }))
	stringify := func(month string) func(t time.Time, args []any) string {
		return func(t time.Time, args []any) string {
			if len(args) > 0 && liquid.ToString(args[0]) == "ordinal" {
				day := strconv.Itoa(t.Day()) + ordinal(t.Day())
				if len(args) > 1 && liquid.ToString(args[1]) == "US" {
					return liquid.Strftime(t, month+" "+day+", %Y")
				}
				return liquid.Strftime(t, day+" "+month+" %Y")
			}
			return liquid.Strftime(t, "%d "+month+" %Y")
		}
	}
	r("date_to_string", 0, 2, timeFilter(stringify("%b")))
	r("date_to_long_string", 0, 2, timeFilter(stringify("%B")))
	r("xml_escape", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		return xmlEscape(liquid.RubyToS(in)), nil // input.to_s: an array as Ruby writes it
	})
	r("cgi_escape", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		return url.QueryEscape(liquid.ToString(in)), nil
	})
	r("uri_escape", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		return normalizeURI(liquid.ToString(in)), nil
	})
	r("number_of_words", 0, 1, func(_ *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		s := liquid.ToString(in)
		mode := ""
		if len(args) > 0 {
			mode = liquid.ToString(args[0])
		}
		if mode == "cjk" || mode == "auto" {
			cjk := 0
			var rest strings.Builder
			for _, r := range s {
				if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
					cjk++
					rest.WriteByte(' ')
				} else {
					rest.WriteRune(r)
				}
			}
			if mode == "cjk" || cjk > 0 {
				return cjk + len(strings.Fields(rest.String())), nil
			}
		}
		return len(strings.Fields(s)), nil
	})
	r("array_to_sentence_string", 0, 1, func(_ *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		conn := "and"
		if len(args) > 0 {
			conn = liquid.ToString(args[0])
		}
		a, _ := in.([]any)
		parts := make([]string, len(a))
		for i, x := range a {
			parts[i] = liquid.ToString(x)
		}
		switch len(parts) {
		case 0:
			return "", nil
		case 1:
			return parts[0], nil
		case 2:
			return parts[0] + " " + conn + " " + parts[1], nil
		}
		return strings.Join(parts[:len(parts)-1], ", ") + ", " + conn + " " + parts[len(parts)-1], nil
	})
	r("markdownify", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		return s.md.Convert(liquid.ToString(in))
	})
	r("smartify", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		return s.md.Smartify(liquid.ToString(in))
	})
	// sassify and scssify: the site's Sass converter (style, load
	// paths) on a string, without a source map.
	for name, ext := range map[string]string{"sassify": ".sass", "scssify": ".scss"} {
		r(name, 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
			css, _, err := s.compileSassMap(&document{site: s, rel: name + ext, ext: ext}, liquid.ToString(in), false)
			if err != nil {
				return nil, err
			}
			return css, nil
		})
	}
	r("strip_index", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		u := liquid.ToString(in)
		if u == "" {
			return in, nil
		}
		return indexSuffix().ReplaceAllString(u, "/"), nil
	})
	r("slugify", 0, 1, func(_ *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		if in == nil {
			return nil, nil
		}
		mode := "default"
		if len(args) > 0 && args[0] != nil {
			mode = liquid.ToString(args[0])
		}
		return Slugify(liquid.ToString(in), mode, false), nil
	})
	r("jsonify", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		var b bytes.Buffer
		writeJSON(&b, in, 0)
		return b.String(), nil
	})
	r("where", 2, 2, func(c *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		list, ok := listInput(in)
		if !ok || args[0] == nil {
			return in, nil
		}
		if _, isList := args[1].([]any); isList {
			return in, nil
		}
		path, target := strings.Split(liquid.ToString(args[0]), "."), targetOf(args[1])
		out := []any{}
		for _, x := range list {
			if target.matches(itemProperty(c, x, path)) {
				out = append(out, x)
			}
		}
		return out, nil
	})
	r("find", 2, 2, func(c *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		list, ok := listInput(in)
		if !ok || args[0] == nil {
			return in, nil
		}
		path, target := strings.Split(liquid.ToString(args[0]), "."), targetOf(args[1])
		for _, x := range list {
			if target.matches(itemProperty(c, x, path)) {
				return x, nil
			}
		}
		return nil, nil
	})
	exp := func(find bool) liquid.FilterFunc {
		return func(c *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
			list, ok := listInput(in)
			if !ok {
				return in, nil
			}
			cond, err := liquid.ParseCondition(liquid.ToString(args[1]))
			if err != nil {
				return nil, err
			}
			v := liquid.ToString(args[0])
			out := []any{}
			err = c.Stack(func() error {
				for _, x := range list {
					c.Set(v, x)
					ok, err := cond.Eval(c)
					if err != nil {
						return err
					}
					if ok {
						out = append(out, x)
						if find {
							return nil
						}
					}
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			if find {
				if len(out) == 0 {
					return nil, nil
				}
				return out[0], nil
			}
			return out, nil
		}
	}
	r("where_exp", 2, 2, exp(false))
	r("find_exp", 2, 2, exp(true))
	r("group_by", 1, 1, func(c *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		list, _ := listInput(in)
		prop := liquid.ToString(args[0])
		return groups(list, func(x any) (any, error) { return liquid.ToString(itemProperty(c, x, strings.Split(prop, "."))), nil })
	})
	r("group_by_exp", 2, 2, func(c *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		list, _ := listInput(in)
		expr, err := liquid.ParseFiltered(liquid.ToString(args[1]))
		if err != nil {
			return nil, err
		}
		v := liquid.ToString(args[0])
		var out any
		err = c.Stack(func() error {
			var err error
			out, err = groups(list, func(x any) (any, error) {
				c.Set(v, x)
				return expr.Eval(c)
			})
			return err
		})
		return out, err
	})
	r("sort", 0, 2, func(c *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		return jekyllSort(c, in, args)
	})
	r("sample", 0, 1, func(_ *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
		list, ok := in.([]any)
		if !ok || len(list) == 0 {
			return in, nil
		}
		if len(args) == 0 {
			return list[rand.IntN(len(list))], nil
		}
		n, _ := args[0].(int)
		perm := rand.Perm(len(list))
		out := []any{}
		for i := 0; i < n && i < len(list); i++ {
			out = append(out, list[perm[i]])
		}
		return out, nil
	})
	arrayOp := func(f func(a []any, args []any) []any) liquid.FilterFunc {
		return func(_ *liquid.Context, in any, args []any, _ map[string]any) (any, error) {
			a, ok := in.([]any)
			if !ok {
				return in, nil
			}
			return f(append([]any{}, a...), args), nil
		}
	}
	r("push", 1, 1, arrayOp(func(a, args []any) []any { return append(a, args[0]) }))
	r("pop", 0, 1, arrayOp(func(a, args []any) []any { return a[:max(0, len(a)-count(args))] }))
	r("shift", 0, 1, arrayOp(func(a, args []any) []any { return a[min(len(a), count(args)):] }))
	r("unshift", 1, 1, arrayOp(func(a, args []any) []any { return append([]any{args[0]}, a...) }))
	r("normalize_whitespace", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		return normalizeWhitespace(liquid.ToString(in)), nil
	})
	r("to_integer", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		switch x := in.(type) {
		case int:
			return x, nil
		case float64:
			return int(x), nil
		case bool:
			if x {
				return 1, nil
			}
			return 0, nil
		}
		n, _ := strconv.Atoi(strings.TrimSpace(liquid.ToString(in)))
		return n, nil
	})
	r("inspect", 0, 0, func(_ *liquid.Context, in any, _ []any, _ map[string]any) (any, error) {
		var b bytes.Buffer
		writeJSON(&b, in, 0)
		return xmlEscape(b.String()), nil
	})
}

func count(args []any) int {
	if len(args) == 0 {
		return 1
	}
	n, _ := args[0].(int)
	return n
}

func ordinal(n int) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

// urlOf is Jekyll's input.url for objects that have one.
func urlOf(in any) string {
	if d, ok := in.(liquid.Drop); ok {
		if u, ok := d.Get("url"); ok {
			return liquid.ToString(u)
		}
	}
	return liquid.ToString(in)
}

// relativeURL prefixes baseurl, as Jekyll's relative_url filter does.
func (s *Site) relativeURL(u string) string {
	if plugins.HasScheme(u) {
		return u
	}
	lead := func(p string) string {
		if p == "" || strings.HasPrefix(p, "/") {
			return p
		}
		return "/" + p
	}
	return normalizeURI(lead(s.cfg.baseurl) + lead(u))
}

func (s *Site) absoluteURL(u string) string {
	if plugins.HasScheme(u) {
		return u
	}
	if s.cfg.url == "" {
		return s.relativeURL(u)
	}
	return normalizeURI(s.cfg.url + s.relativeURL(u))
}

// normalizeURI percent-encodes what a URI may not hold, keeping what
// it may (Addressable's normalize for the common cases).
func normalizeURI(u string) string {
	clean := true
	for i := 0; i < len(u) && clean; i++ {
		clean = uriByte(u[i]) || u[i] == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2])
	}
	if clean {
		return u
	}
	return escapeURI(u)
}

// escapeURI is normalizeURI without its first look for a URI that
// needs nothing.
func escapeURI(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]):
			b.WriteByte(c)
		case uriByte(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// uriByte says c may stand in a URI as it is.
func uriByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// xmlEscape escapes &, <, > and double quotes (Jekyll's xml_escape).
func xmlEscape(s string) string { return xmlEscaper.Replace(s) }

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func listInput(in any) ([]any, bool) {
	switch x := in.(type) {
	case []any:
		return x, true
	case *liquid.Map:
		out := []any{}
		for _, k := range x.Keys() {
			v, _ := x.Get(k)
			out = append(out, v)
		}
		return out, true
	}
	return nil, false
}

// itemProperty reads a property, its path split at the dots for
// nested ones.
func itemProperty(c *liquid.Context, x any, path []string) any {
	for _, p := range path {
		x = liquid.PropertyIn(c, x, p)
	}
	return x
}

// target is the value where and find compare a property with, turned
// into a string once for the whole list.
type target struct {
	isNil bool
	s     string
}

func targetOf(v any) target {
	if v == nil {
		return target{isNil: true}
	}
	return target{s: liquid.ToString(v)}
}

// matches is Jekyll's compare_property_vs_target.
func (t target) matches(prop any) bool {
	if t.isNil {
		return prop == nil
	}
	if s, ok := prop.(string); ok {
		return s == t.s
	}
	if a, ok := prop.([]any); ok {
		for _, x := range a {
			if liquid.ToString(x) == t.s {
				return true
			}
		}
		return false
	}
	if prop == nil {
		return false
	}
	return liquid.ToString(prop) == t.s
}

func groups(list []any, key func(any) (any, error)) (any, error) {
	var order []any
	items := map[string][]any{}
	names := map[string]any{}
	for _, x := range list {
		k, err := key(x)
		if err != nil {
			return nil, err
		}
		ks := fmt.Sprintf("%T:%s", k, liquid.ToString(k))
		if _, ok := items[ks]; !ok {
			order = append(order, ks)
			names[ks] = k
		}
		items[ks] = append(items[ks], x)
	}
	out := []any{}
	for _, ks := range order {
		g := liquid.NewMap()
		g.Set("name", names[ks.(string)])
		g.Set("items", items[ks.(string)])
		g.Set("size", len(items[ks.(string)]))
		out = append(out, g)
	}
	return out, nil
}

// sortedPairs is what Ruby's Hash#sort gives, and so Jekyll's sort of a
// hash (site.categories, site.tags): its [key, value] pairs, sorted by
// key.
func sortedPairs(m *liquid.Map) []any {
	keys := append([]string(nil), m.Keys()...)
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		v, _ := m.Get(k)
		out = append(out, []any{k, v})
	}
	return out
}

// jekyllSort is Jekyll's sort filter: by property, nils first unless
// told "last"; a hash without a property sorts as Ruby's Hash#sort.
func jekyllSort(c *liquid.Context, in any, args []any) (any, error) {
	if in == nil {
		return nil, fmt.Errorf("cannot sort a null object")
	}
	if m, ok := in.(*liquid.Map); ok && (len(args) == 0 || args[0] == nil) {
		return sortedPairs(m), nil
	}
	list, ok := listInput(in)
	if !ok {
		return in, nil
	}
	list = append([]any{}, list...)
	if len(args) == 0 || args[0] == nil {
		var err error
		sort.SliceStable(list, func(i, j int) bool {
			n, ok := liquid.Compare(list[i], list[j])
			if !ok && err == nil {
				err = fmt.Errorf("comparison of %v with %v failed", liquid.ToString(list[i]), liquid.ToString(list[j]))
			}
			return n < 0
		})
		return list, err
	}
	path := strings.Split(liquid.ToString(args[0]), ".")
	order := -1
	if len(args) > 1 {
		switch liquid.ToString(args[1]) {
		case "first":
		case "last":
			order = 1
		default:
			return nil, fmt.Errorf("invalid nils order: '%s' is not a valid nils order; it must be 'first' or 'last'", liquid.ToString(args[1]))
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := itemProperty(c, list[i], path), itemProperty(c, list[j], path)
		switch {
		case a == nil && b == nil:
			return false
		case a == nil:
			return order < 0
		case b == nil:
			return order > 0
		}
		n, ok := liquid.Compare(a, b)
		if !ok {
			n = strings.Compare(liquid.ToString(a), liquid.ToString(b))
		}
		return n < 0
	})
	return list, nil
}

// writeJSON writes a value as Ruby's to_json does.
func writeJSON(b *bytes.Buffer, v any, depth int) {
	if depth > 20 {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool, int:
		fmt.Fprint(b, x)
	case float64:
		b.WriteString(liquid.FormatFloat(x))
	case string:
		var sb bytes.Buffer
		enc := json.NewEncoder(&sb)
		enc.SetEscapeHTML(false)
		enc.Encode(x)
		b.Write(bytes.TrimRight(sb.Bytes(), "\n"))
	case time.Time:
		writeJSON(b, liquid.ToString(x), depth)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e, depth+1)
		}
		b.WriteByte(']')
	case *liquid.Map:
		b.WriteByte('{')
		for i, k := range x.Keys() {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, k, depth)
			b.WriteByte(':')
			e, _ := x.Get(k)
			writeJSON(b, e, depth+1)
		}
		b.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, k, depth)
			b.WriteByte(':')
			writeJSON(b, x[k], depth+1)
		}
		b.WriteByte('}')
	case *docDrop:
		m := liquid.NewMap()
		for _, k := range []string{"content", "url", "path", "relative_path", "id", "collection", "excerpt"} {
			if v, ok := x.Get(k); ok {
				m.Set(k, v)
			}
		}
		for _, k := range x.d.data.Keys() {
			v, _ := x.d.data.Get(k)
			m.Set(k, v)
		}
		writeJSON(b, m, depth+1)
	default:
		writeJSON(b, liquid.ToString(x), depth)
	}
}

// indexSuffix is what Jekyll's strip_index takes off a URL.
var indexSuffix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`/index\.html?$`)
})

// normalizeWhitespace is Jekyll's gsub(/\s+/, " ").strip: runs of ASCII
// white space (Ruby's \s; not a no-break space) made one space, then
// white space and NUL taken from both ends.
func normalizeWhitespace(s string) string {
	return strings.Trim(liquid.JoinFields(s), " \x00")
}
