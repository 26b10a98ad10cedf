package liquid

// Map is a hash that keeps its keys in insertion order, as Ruby's
// Hash does: templates iterating over data files or site.tags see
// keys in the order they were written.
type Map struct {
	keys []string
	m    map[string]any
}

// NewMap returns an empty ordered hash.
func NewMap() *Map { return &Map{m: map[string]any{}} }

// Set adds or replaces a key; a new key goes last.
func (h *Map) Set(k string, v any) {
	if _, ok := h.m[k]; !ok {
		h.keys = append(h.keys, k)
	}
	h.m[k] = v
}

// Get returns the value of k.
func (h *Map) Get(k string) (any, bool) {
	if h == nil {
		return nil, false
	}
	v, ok := h.m[k]
	return v, ok
}

// Keys returns the keys in order.
func (h *Map) Keys() []string { return h.keys }

// Len is the number of keys.
func (h *Map) Len() int { return len(h.keys) }

// Delete removes k.
func (h *Map) Delete(k string) {
	if _, ok := h.m[k]; !ok {
		return
	}
	delete(h.m, k)
	for i, x := range h.keys {
		if x == k {
			h.keys = append(h.keys[:i:i], h.keys[i+1:]...)
			break
		}
	}
}

// Clone copies the hash (not its values).
func (h *Map) Clone() *Map {
	n := &Map{keys: append([]string(nil), h.keys...), m: make(map[string]any, len(h.m))}
	for k, v := range h.m {
		n.m[k] = v
	}
	return n
}

// Lookup reads key of v when v is a hash; nil otherwise, or when the
// key is absent.
func Lookup(v any, key string) any {
	if m, ok := v.(*Map); ok {
		x, _ := m.Get(key)
		return x
	}
	return nil
}

// LookupString is Lookup as a string: "" for nil, other values as
// templates print them.
func LookupString(v any, key string) string {
	switch x := Lookup(v, key).(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return ToString(x)
	}
}

// LookupBool is Lookup as Liquid's truth, def when absent.
func LookupBool(v any, key string, def bool) bool {
	x := Lookup(v, key)
	if x == nil {
		return def
	}
	return Truthy(x)
}

// DeepMerge copies src into h, merging nested hashes (Jekyll's
// Utils.deep_merge_hashes); nested hashes of h are copied, not changed.
func (h *Map) DeepMerge(src *Map) {
	for _, k := range src.Keys() {
		v, _ := src.Get(k)
		if sm, ok := v.(*Map); ok {
			n := NewMap()
			if dm, ok := Lookup(h, k).(*Map); ok {
				n = dm.Clone()
			}
			n.DeepMerge(sm)
			h.Set(k, n)
			continue
		}
		h.Set(k, v)
	}
}
