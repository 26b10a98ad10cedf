package pool

import (
	"context"
	"errors"
	"fmt"
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
