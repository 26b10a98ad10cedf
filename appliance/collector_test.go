package appliance

import (
	"runtime/debug"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{1 << 20, 100},
		{64 << 20, 100},
		{128 << 20, 50},
		{256 << 20, 25},
		{640 << 20, 10},
		{4 << 30, 10},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// TestReleaseLoadGarbage keeps 256 MiB live and checks that the
// collector is then given 64 MiB of headroom, not as much again.
func TestReleaseLoadGarbage(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	live := make([][]byte, 256)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	releaseLoadGarbage()
	got := debug.SetGCPercent(100)
	if got < 20 || got > 26 {
		t.Errorf("GOGC %d with 256 MiB live, want about 25", got)
	}
	live[0][0] = 1 // live until here
}
