package site

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSassLaneWiden: the lane runs one compile at a time until it is
// widened, and then two.
func TestSassLaneWiden(t *testing.T) {
	var l sassLane
	defer l.stop()
	var busy, most atomic.Int32
	job := func() {
		b := busy.Add(1)
		defer busy.Add(-1)
		for m := most.Load(); b > m && !most.CompareAndSwap(m, b); m = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
	}
	runAll := func() {
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { l.run(job) })
		}
		wg.Wait()
	}
	runAll()
	if most.Load() != 1 {
		t.Errorf("%d compiles at once before the lane was widened", most.Load())
	}
	l.widen()
	most.Store(0)
	runAll()
	if most.Load() != 2 {
		t.Errorf("%d compiles at once after the lane was widened, want 2", most.Load())
	}
}
