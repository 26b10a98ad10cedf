// Package testpeer decides, for tests, what happens when something a
// test talks to is missing: a peer program, root, a device. Locally the
// test is skipped; under CI=true, where .ci/run installs every peer and
// runs as root, it fails, so that a missing peer is never a silent skip.
package testpeer

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI=true.
func CI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it under CI=true, saying why.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("%s (CI=true: every peer must be present; see .ci/run)", msg)
		return
	}
	t.Skip(msg)
}

// Require finds each named program (in PATH, then /usr/sbin and
// /usr/bin) and returns the path of the first; a missing one makes the
// test Unavailable.
func Require(t testing.TB, names ...string) string {
	t.Helper()
	var first string
	for i, name := range names {
		p, ok := Look(name)
		if !ok {
			Unavailable(t, "%s is not installed (make peers installs the test peers)", name)
			return ""
		}
		if i == 0 {
			first = p
		}
	}
	return first
}

// Look finds a program in PATH, then in /usr/sbin and /usr/bin.
func Look(name string) (string, bool) {
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Root makes the test Unavailable unless it runs as root.
func Root(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "%s need root", what)
	}
}
