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
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = f(i)
			}
		}()
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
