package site

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Warning is something the render did otherwise than Jekyll would, or
// that Jekyll itself warns about: a construct islet does not implement,
// a setting it ignores. islet render prints them, and --strict (islet
// build too) makes them errors.
type Warning struct {
	File string // source path, slash-separated
	Line int    // 0 when it is about the whole file
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: warning: %s", w.File, w.Line, w.Msg)
	}
	return fmt.Sprintf("%s: warning: %s", w.File, w.Msg)
}

// warnings collects a render's warnings, once each, from every worker.
type warnings struct {
	mu   sync.Mutex
	list []Warning
	seen map[Warning]bool
}

func (ws *warnings) add(w Warning) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.seen == nil {
		ws.seen = map[Warning]bool{}
	}
	if ws.seen[w] {
		return
	}
	ws.seen[w] = true
	ws.list = append(ws.list, w)
}

// sorted returns the warnings by file and line.
func (ws *warnings) sorted() []Warning {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	out := append([]Warning(nil), ws.list...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Msg < out[j].Msg
	})
	return out
}

// warnf records a warning about file at line.
func (s *Site) warnf(file string, line int, format string, a ...any) {
	s.warnings.add(Warning{File: file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

// StrictError is the error of a render with Options.Strict that had
// warnings.
type StrictError struct{ Warnings []Warning }

func (e *StrictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d warning(s), which --strict makes errors:", len(e.Warnings))
	for _, w := range e.Warnings {
		b.WriteString("\n")
		b.WriteString(w.String())
	}
	return b.String()
}
