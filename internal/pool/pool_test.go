package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestEach(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		workers  int
		failAt   []int
		wantErr  string
		wantBusy int // most calls at once, at most
	}{
		{name: "none", n: 0},
		{name: "one worker", n: 50, workers: 1, wantBusy: 1},
		{name: "three workers", n: 50, workers: 3, wantBusy: 3},
		{name: "more workers than items", n: 2, workers: 8, wantBusy: 2},
		{name: "every core", n: 100},
		{name: "the lowest failure wins", n: 100, workers: 4, failAt: []int{70, 13, 41}, wantErr: "item 13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := make([]atomic.Int32, tc.n)
			var busy, most atomic.Int32
			err := Each(context.Background(), tc.n, tc.workers, func(i int) error {
				b := busy.Add(1)
				defer busy.Add(-1)
				for m := most.Load(); b > m && !most.CompareAndSwap(m, b); m = most.Load() {
				}
				time.Sleep(100 * time.Microsecond)
				seen[i].Add(1)
				for _, f := range tc.failAt {
					if f == i {
						return fmt.Errorf("item %d", i)
					}
				}
				return nil
			})
			if got := fmt.Sprint(err); tc.wantErr == "" && err != nil || tc.wantErr != "" && got != tc.wantErr {
				t.Errorf("err %v, want %q", err, tc.wantErr)
			}
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Errorf("item %d done %d times", i, c)
				}
			}
			if tc.wantBusy > 0 && int(most.Load()) > tc.wantBusy {
				t.Errorf("%d calls at once, want at most %d", most.Load(), tc.wantBusy)
			}
		})
	}
}

// TestEachAside: the items set aside each run on a goroutine of their
// own, all at once, never on a worker; until they are all done one
// worker fewer runs, then every worker; every item runs once; the
// lowest failure wins, aside or not.
func TestEachAside(t *testing.T) {
	const n = 40
	aside := func(i int) bool { return i == 0 || i == 5 || i == 9 }
	var started atomic.Int32
	allAside := make(chan struct{})
	var asideLeft atomic.Int32
	asideLeft.Store(3)
	var busy, mostWhileAside, most atomic.Int32
	record := func(m *atomic.Int32, b int32) {
		for v := m.Load(); b > v && !m.CompareAndSwap(v, b); v = m.Load() {
		}
	}
	seen := make([]atomic.Int32, n)
	err := EachAside(context.Background(), n, 2, aside, func(i int) error {
		seen[i].Add(1)
		if aside(i) {
			// each waits for the other two: on a worker, it would
			// wait for ever
			if started.Add(1) == 3 {
				close(allAside)
			}
			select {
			case <-allAside:
			case <-time.After(10 * time.Second):
				return fmt.Errorf("item %d waited alone", i)
			}
			time.Sleep(5 * time.Millisecond)
			asideLeft.Add(-1)
			if i == 9 {
				return fmt.Errorf("item %d", i)
			}
			return nil
		}
		b := busy.Add(1)
		defer busy.Add(-1)
		if asideLeft.Load() > 0 {
			record(&mostWhileAside, b)
		}
		record(&most, b)
		time.Sleep(time.Millisecond)
		if i == 30 {
			return fmt.Errorf("item %d", i)
		}
		return nil
	})
	if got := fmt.Sprint(err); got != "item 9" {
		t.Errorf("err %v, want item 9", err)
	}
	for i := range seen {
		if c := seen[i].Load(); c != 1 {
			t.Errorf("item %d done %d times", i, c)
		}
	}
	if m := mostWhileAside.Load(); m != 1 {
		t.Errorf("%d workers busy at once while items aside ran, want 1", m)
	}
	if m := most.Load(); m != 2 {
		t.Errorf("%d workers busy at once, want 2 once the items aside were done", m)
	}
}

// TestEachStops: once ctx ends no item is started, and Each says so.
func TestEachStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int32
	err := Each(ctx, 1000, 2, func(i int) error {
		if done.Add(1) == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if d := done.Load(); d > 12 {
		t.Errorf("%d items done after the stop at the tenth", d)
	}
}

// TestParts: the parts cover [0, n) once, in order, one a core at
// most and no more than one more than n/minPart.
func TestParts(t *testing.T) {
	for _, c := range []struct{ n, minPart int }{{0, 10}, {1, 10}, {9, 10}, {10, 10}, {25, 10}, {1000, 1}, {1000, 4096}} {
		var ranges [64][2]int
		var calls atomic.Int64
		parts := Parts(c.n, c.minPart, func(k, start, end int) {
			calls.Add(1)
			ranges[k] = [2]int{start, end}
		})
		if int(calls.Load()) != parts || parts > runtime.GOMAXPROCS(0) || parts > 1+c.n/c.minPart || (c.n > 0) != (parts > 0) {
			t.Errorf("%+v: %d parts, %d calls", c, parts, calls.Load())
			continue
		}
		next := 0
		for k := range parts {
			start, end := ranges[k][0], ranges[k][1]
			if start != next || end <= start {
				t.Errorf("%+v: part %d is [%d, %d), after %d", c, k, start, end, next)
			}
			next = end
		}
		if next != c.n {
			t.Errorf("%+v: the parts end at %d", c, next)
		}
	}
}
