package liquid

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A Drop is an object whose properties are computed on demand, like a
// Ruby Liquid drop: page, site, forloop.
type Drop interface {
	Get(key string) (any, bool)
}

// emptyValue and blankValue are the special literals `empty` and
// `blank`, which compare equal to empty collections.
type special int

const (
	emptyValue special = iota + 1
	blankValue
)

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	}
	return true
}

// ToString renders a value as Ruby's to_s does, the way output tags
// print it.
func ToString(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
	case []any:
		for _, e := range v {
			writeValue(b, e)
		}
	default:
		b.WriteString(toS(v))
	}
}

// toS is Ruby's to_s of a single value.
func toS(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case int:
		return strconv.Itoa(v)
	case float64:
		return FormatFloat(v)
	case time.Time:
		return v.Format("2006-01-02 15:04:05 -0700")
	case []any:
		return inspect(v)
	case map[string]any, *Map:
		return inspect(v)
	case special:
		return ""
	case fmt.Stringer:
		return v.String()
	case Drop:
		return ""
	}
	return fmt.Sprint(v)
}

// RubyToS is Ruby's to_s, which Jekyll's filters call where Liquid's
// output would join an array: an array is written as inspect writes it
// (["a", "b"]).
func RubyToS(v any) string {
	if a, ok := v.([]any); ok {
		return inspect(a)
	}
	return ToString(v)
}

// Inspect is Ruby's inspect of a value.
func Inspect(v any) string { return inspect(v) }

// inspect is Ruby 3.1's inspect, used for to_s of hashes and inside
// arrays.
func inspect(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = inspect(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + "=>" + inspect(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Map:
		parts := make([]string, len(v.keys))
		for i, k := range v.keys {
			parts[i] = strconv.Quote(k) + "=>" + inspect(v.m[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return toS(v)
}

// FormatFloat writes a float as Ruby's Float#to_s: always a decimal
// point, exponent form outside 1e-4 ≤ |f| < 1e16.
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mant, expPart, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expPart)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	switch {
	case decpt > 0 && decpt <= 16:
		if len(digits) <= decpt {
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		}
		return sign + digits[:decpt] + "." + digits[decpt:]
	case decpt <= 0 && decpt > -4:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return fmt.Sprintf("%s%s.%se%s%02d", sign, digits[:1], frac, es, exp)
}

// isEmpty reports whether v is an empty string, array or hash.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	case *Map:
		return v.Len() == 0
	}
	return false
}

func isBlank(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return strings.TrimSpace(v) == ""
	}
	return isEmpty(v)
}

// equal is Ruby's == as Liquid's Condition uses it.
func equal(a, b any) bool {
	if s, ok := b.(special); ok {
		a, b = b, a
		_ = s
	}
	if s, ok := a.(special); ok {
		if s2, ok := b.(special); ok {
			return s == s2
		}
		if s == emptyValue {
			return isEmpty(b)
		}
		return false // Ruby without ActiveSupport has no blank?
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case int:
		switch y := b.(type) {
		case int:
			return x == y
		case float64:
			return float64(x) == y
		}
		return false
	case float64:
		switch y := b.(type) {
		case int:
			return x == float64(y)
		case float64:
			return x == y
		}
		return false
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			w, ok := y.m[k]
			if !ok || !equal(x.m[k], w) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return sameObject(a, b)
}

func sameObject(a, b any) bool {
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Kind() == reflect.Pointer && rb.Kind() == reflect.Pointer {
		return ra.Pointer() == rb.Pointer()
	}
	if ra.Type() != rb.Type() || !ra.Type().Comparable() {
		return false
	}
	return a == b
}

// compare is Ruby's <=> for the types Liquid compares; ok is false
// where Ruby raises "comparison of X with Y failed".
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return cmpOrdered(x, y), true
		case float64:
			return cmpOrdered(float64(x), y), true
		}
	case float64:
		switch y := b.(type) {
		case int:
			return cmpOrdered(x, float64(y)), true
		case float64:
			return cmpOrdered(x, y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				c, ok := compare(x[i], y[i])
				if !ok {
					return 0, false
				}
				if c != 0 {
					return c, true
				}
			}
			return cmpOrdered(len(x), len(y)), true
		}
	}
	return 0, false
}

func cmpOrdered[T int | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rubyClass names a value's Ruby class for error messages.
func rubyClass(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case int:
		return "Integer"
	case float64:
		return "Float"
	case string:
		return "String"
	case bool:
		if v.(bool) {
			return "true"
		}
		return "false"
	case []any:
		return "Array"
	case map[string]any, *Map:
		return "Hash"
	case time.Time:
		return "Time"
	}
	return "Object"
}

// size is Liquid's `size`: length of strings (in characters), arrays
// and hashes; 0 otherwise.
func size(v any) (int, bool) {
	switch v := v.(type) {
	case string:
		return utf8.RuneCountInString(v), true
	case []any:
		return len(v), true
	case map[string]any:
		return len(v), true
	case *Map:
		return v.Len(), true
	case int:
		return 8, true // Integer#size: bytes of the machine word
	}
	return 0, false
}

// A ContextDrop is a Drop that wants to know which render reads it.
type ContextDrop interface {
	GetIn(c *Context, key string) (any, bool)
}

// propertyIn is property with the reading render made known to
// ContextDrops.
func propertyIn(c *Context, v any, key any) any {
	if d, ok := v.(ContextDrop); ok && c != nil {
		if k, ok := key.(string); ok {
			r, _ := d.GetIn(c, k)
			return r
		}
		return nil
	}
	return property(v, key)
}

// property looks key up in v as Liquid's VariableLookup does: hash
// keys, array indexes, drop properties, then the size/first/last
// commands.
func property(v any, key any) any {
	switch x := v.(type) {
	case map[string]any:
		if k, ok := key.(string); ok {
			if r, ok := x[k]; ok {
				return r
			}
			if k == "size" {
				return len(x)
			}
			if k == "first" {
				// Ruby's Hash#first is the first [key, value] pair.
				return nil
			}
		}
		return nil
	case []any:
		switch k := key.(type) {
		case int:
			if k < 0 {
				k += len(x)
			}
			if k >= 0 && k < len(x) {
				return x[k]
			}
			return nil
		case float64:
			return property(v, int(k))
		case string:
			switch k {
			case "size":
				return len(x)
			case "first":
				if len(x) > 0 {
					return x[0]
				}
			case "last":
				if len(x) > 0 {
					return x[len(x)-1]
				}
			}
		}
		return nil
	case string:
		if key == "size" {
			return utf8.RuneCountInString(x)
		}
		return nil
	case *Map:
		if k, ok := key.(string); ok {
			if r, ok := x.m[k]; ok {
				return r
			}
			if k == "size" {
				return x.Len()
			}
		}
		return nil
	case Drop:
		if k, ok := key.(string); ok {
			if r, ok := x.Get(k); ok {
				return r
			}
		}
		return nil
	}
	return nil
}
