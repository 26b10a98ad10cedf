package site

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"islet.dev/islet/site/liquid"
)

// decodeYAML reads a YAML document into Liquid values: mappings as
// ordered hashes, integers as int, timestamps with a time as
// time.Time. line is the file line the document starts on, for errors.
func decodeYAML(file string, line int, src []byte) (any, error) {
	if m, ok := simpleYAML(src); ok {
		return m, nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, fmt.Errorf("%s:%s", file, yamlErr(err, line))
	}
	if n.Kind == 0 {
		return nil, nil
	}
	return fromNode(file, line, &n)
}

// yamlErr turns "yaml: line 3: x" into "LINE: x" with the offset.
func yamlErr(err error, offset int) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, e := strconv.Atoi(rest[:i]); e == nil {
				return fmt.Sprintf("%d: bad YAML:%s", n+offset-1, rest[i+1:])
			}
		}
	}
	return fmt.Sprintf("%d: bad YAML: %s", offset, msg)
}

func fromNode(file string, line int, n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromNode(file, line, n.Content[0])
	case yaml.AliasNode:
		return fromNode(file, line, n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNode(file, line, c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		m := liquid.NewMap()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merged, err := fromNode(file, line, v)
				if err != nil {
					return nil, err
				}
				if mm, ok := merged.(*liquid.Map); ok {
					for _, key := range mm.Keys() {
						if _, exists := m.Get(key); !exists {
							x, _ := mm.Get(key)
							m.Set(key, x)
						}
					}
				}
				continue
			}
			val, err := fromNode(file, line, v)
			if err != nil {
				return nil, err
			}
			m.Set(k.Value, val)
		}
		return m, nil
	case yaml.ScalarNode:
		return scalar(file, line, n)
	}
	return nil, nil
}

func scalar(file string, line int, n *yaml.Node) (any, error) {
	// A plain scalar starting with ":" is a Ruby symbol to Psych, and
	// Jekyll's safe loader refuses the class: the build stops.
	if n.Style == 0 && n.ShortTag() == "!!str" && len(n.Value) > 1 && n.Value[0] == ':' {
		return nil, fmt.Errorf("%s:%d: %s is a Ruby symbol, which Jekyll's YAML loader refuses (Tried to load unspecified class: Symbol): write %s, or quote it",
			file, line+n.Line-1, n.Value, strings.TrimPrefix(n.Value, ":"))
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, line+n.Line-1, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return n.Value, nil
		}
		return int(i), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return n.Value, nil
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return f, nil
		}
		return f, nil
	case "!!timestamp":
		if len(n.Value) > 10 {
			if t, ok := liquid.ParseTime(n.Value, time.UTC); ok {
				return t, nil
			}
		}
		return n.Value, nil
	}
	return n.Value, nil
}

// get, getString and getBool read a key of a hash value (see
// liquid.Lookup).
func get(v any, key string) any                { return liquid.Lookup(v, key) }
func getString(v any, key string) string       { return liquid.LookupString(v, key) }
func getBool(v any, key string, def bool) bool { return liquid.LookupBool(v, key, def) }
