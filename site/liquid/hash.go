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
