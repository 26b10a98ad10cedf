package site

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"sort"
	"unsafe"
)

// The state an incremental render keeps is written in a format of its
// own: length-prefixed strings in a fixed order, after a magic line
// that names the version. It holds every document's rendered output
// (5 MB for a 600-post blog); gob took 90 ms to write it and 40 ms to
// read it back, more than the render it saved.

const stateMagic = "islet render state 1\n"

var errBadState = errors.New("not a render state islet can read")

// encodeState writes st to w in the state format, its maps in key
// order, through a buffer of its own (the state is megabytes: built
// whole in memory, its pages are faulted in for one write).
func encodeState(w io.Writer, st *renderState) error {
	e := stateWriter{w: bufio.NewWriterSize(w, 64<<10)}
	e.w.WriteString(stateMagic)
	e.string(st.Global)
	if st.Untracked {
		e.w.WriteByte(1)
	} else {
		e.w.WriteByte(0)
	}
	e.uvarint(len(st.Docs))
	for _, rel := range sortedKeys(st.Docs) {
		d := st.Docs[rel]
		e.string(rel)
		e.string(d.Body)
		e.uvarint(len(d.Deps))
		for _, dep := range d.Deps {
			e.string(dep)
		}
		e.string(d.Content)
		e.string(d.Excerpt)
		e.string(d.Output)
		e.uvarint(len(d.Extra))
		for _, k := range sortedKeys(d.Extra) {
			e.string(k)
			e.string(string(d.Extra[k]))
		}
	}
	e.uvarint(len(st.Files))
	for _, p := range sortedKeys(st.Files) {
		e.string(p)
		e.string(st.Files[p])
	}
	return e.w.Flush()
}

// stateWriter writes the state format; bufio.Writer keeps the first
// error for Flush to return.
type stateWriter struct {
	w   *bufio.Writer
	tmp [binary.MaxVarintLen64]byte
}

func (e *stateWriter) uvarint(n int) {
	e.w.Write(binary.AppendUvarint(e.tmp[:0], uint64(n)))
}

func (e *stateWriter) string(s string) {
	e.uvarint(len(s))
	e.w.WriteString(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stateReader reads the state format; the first error sticks.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadState
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count is a number of items that follow, each at least min bytes: no
// more than the bytes left could hold.
func (r *stateReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.err = errBadState
		return 0
	}
	return int(n)
}

// string is the next string, which shares the bytes being read (they
// are never changed: copying them would fault in the state's size in
// pages again).
func (r *stateReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadState
		return ""
	}
	s := unsafe.String(unsafe.SliceData(r.b), int(n))
	r.b = r.b[n:]
	return s
}

func (r *stateReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errBadState
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// decodeState reads what encodeState wrote. The strings of the state
// share b, which must not change after.
func decodeState(b []byte) (*renderState, error) {
	if len(b) < len(stateMagic) || string(b[:len(stateMagic)]) != stateMagic {
		return nil, errBadState
	}
	r := &stateReader{b: b[len(stateMagic):]}
	st := &renderState{Global: r.string()}
	switch r.byte() {
	case 0:
	case 1:
		st.Untracked = true
	default:
		r.err = errBadState
	}
	n := r.count(8)
	st.Docs = make(map[string]docState, n)
	for range n {
		rel := r.string()
		d := docState{Body: r.string()}
		if deps := r.count(1); deps > 0 {
			d.Deps = make([]string, deps)
			for i := range d.Deps {
				d.Deps[i] = r.string()
			}
		}
		d.Content, d.Excerpt, d.Output = r.string(), r.string(), r.string()
		if extra := r.count(2); extra > 0 {
			d.Extra = make(map[string][]byte, extra)
			for range extra {
				k := r.string()
				d.Extra[k] = []byte(r.string()) // a copy, since a []byte may be written to
			}
		}
		st.Docs[rel] = d
	}
	n = r.count(2)
	st.Files = make(map[string]string, n)
	for range n {
		p := r.string()
		st.Files[p] = r.string()
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadState
	}
	if r.err != nil {
		return nil, r.err
	}
	return st, nil
}
