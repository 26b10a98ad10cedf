// Package pool runs one function over many items on every core: the
// worker pool the renderer, the output writer and the precompressor
// share.
package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Each calls f(i) for every i in [0, n) from up to workers goroutines
// at once (GOMAXPROCS when workers <= 0) and waits for them. It stops
// handing out items once ctx ends, and then returns ctx's error;
// otherwise it returns the error of the lowest i that failed, so that
// the same input fails the same way whatever the scheduling.
func Each(ctx context.Context, n, workers int, f func(i int) error) error {
	return EachAside(ctx, n, workers, nil, f)
}

// EachAside is Each, but the items aside(i) picks are each called on a
// goroutine of its own, started first: items that mostly wait for one
// thread they share (a library that runs one call at a time), which
// would hold workers idle. That thread takes a core: until every item
// aside is done, one worker fewer runs (one at least).
func EachAside(ctx context.Context, n, workers int, aside func(i int) bool, f func(i int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	m := n // the workers' items: [0, n), or rest when some are aside
	var rest, set []int
	if aside != nil {
		for i := range n {
			if aside(i) {
				set = append(set, i)
			} else {
				rest = append(rest, i)
			}
		}
		m = len(rest)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for ctx.Err() == nil {
			k := int(next.Add(1) - 1)
			if k >= m {
				return
			}
			if rest != nil {
				k = rest[k]
			}
			errs[k] = f(k)
		}
	}
	start := min(workers, m)
	held := len(set) > 0 && start == workers && workers > 1 // the items aside hold a worker's core
	if held {
		start--
	}
	var left atomic.Int32
	left.Store(int32(len(set)))
	for _, i := range set {
		wg.Go(func() {
			if ctx.Err() == nil {
				errs[i] = f(i)
			}
			if left.Add(-1) == 0 && held {
				work() // the core the items aside held
			}
		})
	}
	for range start {
		wg.Go(work)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Parts splits [0, n) into one part a core, but no more than one part
// more than n/minPart (small work stays on few goroutines), calls
// f(k, start, end) for
// every part k on a goroutine of its own, waits, and returns the number
// of parts: for work that keeps state of its own per part (scratch
// buffers, results gathered in order).
func Parts(n, minPart int, f func(k, start, end int)) int {
	if n <= 0 {
		return 0
	}
	workers := min(runtime.GOMAXPROCS(0), 1+n/max(1, minPart))
	per := (n + workers - 1) / workers
	parts := (n + per - 1) / per
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() { f(k, k*per, min((k+1)*per, n)) })
	}
	wg.Wait()
	return parts
}
