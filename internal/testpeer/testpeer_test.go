package testpeer

import (
	"testing"
)

// recorder is a testing.TB that notes a skip or a failure instead of
// ending the goroutine.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(args ...any)      { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		ci                  string
		wantSkip, wantFatal bool
	}{
		{ci: "", wantSkip: true},
		{ci: "false", wantSkip: true},
		{ci: "true", wantFatal: true},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		Require(r, "islet-no-such-program")
		if r.skipped != tc.wantSkip || r.failed != tc.wantFatal {
			t.Errorf("CI=%q: skipped %v failed %v, want %v %v", tc.ci, r.skipped, r.failed, tc.wantSkip, tc.wantFatal)
		}
	}
}

func TestRequireFinds(t *testing.T) {
	r := &recorder{TB: t}
	if p := Require(r, "sh"); p == "" || r.skipped || r.failed {
		t.Errorf("Require(sh) = %q, skipped %v failed %v", p, r.skipped, r.failed)
	}
}
