package main

import (
	"runtime/debug"
	"testing"
)

// TestCollectForRender: a render collects at renderGCPercent, unless
// GOGC is set, which wins.
func TestCollectForRender(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	collectForRender()
	if got := debug.SetGCPercent(100); got != renderGCPercent {
		t.Errorf("GC percent %d, want %d", got, renderGCPercent)
	}
	t.Setenv("GOGC", "100")
	collectForRender()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: GC percent %d, want 100", got)
	}
}
