package zones

import (
	"fmt"
	"strings"
)

// Severity says whether a Diagnostic stops a zone from loading.
type Severity int

const (
	// Warning is reported but does not stop the zone from loading.
	Warning Severity = iota
	// Error stops the zone (and the directory) from loading.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Diagnostic is one problem found in a zone file, with its position.
type Diagnostic struct {
	File     string
	Line     int // 1-based; 0 when the problem has no single line
	Col      int // 1-based; 0 when unknown
	Severity Severity
	Msg      string
}

// String formats the diagnostic as "file:line:col: severity: message".
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
		if d.Col > 0 {
			fmt.Fprintf(&b, ":%d", d.Col)
		}
	}
	fmt.Fprintf(&b, ": %s: %s", d.Severity, d.Msg)
	return b.String()
}

// Diagnostics is the list of problems found while loading.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the diagnostics of severity Error.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// LoadError is returned when a zone directory fails validation; it holds
// every diagnostic, warnings included.
type LoadError struct {
	Diagnostics Diagnostics
}

func (e *LoadError) Error() string {
	errs := e.Diagnostics.Errors()
	if len(errs) == 0 {
		return "zones: load failed"
	}
	msg := errs[0].String()
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %d more errors)", len(errs)-1)
	}
	return msg
}
