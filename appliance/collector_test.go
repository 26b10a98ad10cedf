package appliance

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{1 << 20, 100},
		{32 << 20, 100},
		{64 << 20, 50},
		{128 << 20, 25},
		{320 << 20, 10},
		{4 << 30, 10},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// TestReleaseLoadGarbage keeps 128 MiB live and checks that the
// collector is then given 32 MiB of headroom, not as much again.
func TestReleaseLoadGarbage(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	live := make([][]byte, 128)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	releaseLoadGarbage()
	got := debug.SetGCPercent(100)
	if got < 20 || got > 26 {
		t.Errorf("GOGC %d with 128 MiB live, want about 25", got)
	}
	live[0][0] = 1 // live until here
}

// TestTuneCollector lets the live heap grow from 32 to 128 MiB after a
// load, as answers kept do, and checks that the headroom shrinks to
// stay 32 MiB.
func TestTuneCollector(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	live := make([][]byte, 0, 128)
	grow := func(mib int) {
		for len(live) < mib {
			live = append(live, make([]byte, 1<<20))
		}
		runtime.GC()
	}
	grow(32)
	releaseLoadGarbage()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tuneCollector(ctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	grow(128)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		got := s[0].Value.Uint64()
		if got >= 20 && got <= 26 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d with 128 MiB live, want about 25", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	live[0][0] = 1 // live until here
}
