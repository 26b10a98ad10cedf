package appliance

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// collectorHeadroom is how far the heap may grow past what is live
// before the collector runs, once a load is done. Go's default lets it
// grow by as much again as is live: 90 MiB more for a million-record
// zone, and as much again as the answers compiled when names are asked.
// What a server allocates once its answers are compiled is the garbage
// of answers built for each query past the compiled answers' bound: with
// 32 MiB, a million-record zone asked 80,000 such queries a second is
// collected about every quarter second, for 9% of the CPU time
// (GODEBUG=gctrace=1).
const collectorHeadroom = 32 << 20

// collectorTuning is how often the headroom is fitted to what is live.
const collectorTuning = 5 * time.Second

// releaseLoadGarbage hands the garbage a zone load or a signing leaves
// back to the system now rather than keep it as headroom for the
// collector, then bounds that headroom for what is live: GOGC stays 100
// for a heap of 32 MiB or less, and goes down to 10 for one of 320 MiB
// or more. The heap a server keeps is what it loaded; what it allocates
// afterwards (answers compiled once, bounded) is small, so the collector
// runs seldom even so. A GOGC the user set is left alone.
func releaseLoadGarbage() {
	debug.FreeOSMemory()
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(gcPercentFor(liveHeap()))
}

// tuneCollector keeps the collector's headroom fitted to the live heap
// until ctx ends, checking every interval: it grows after a load as
// answers are compiled and kept. A GOGC the user set is left alone.
func tuneCollector(ctx context.Context, every time.Duration) {
	if os.Getenv("GOGC") != "" {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if p := gcPercentFor(liveHeap()); p != last {
			debug.SetGCPercent(p)
			last = p
		}
	}
}

// gcPercentFor is the GOGC that lets a heap of live octets grow by
// collectorHeadroom, between 10 and 100.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(max(10, min(100, 100*collectorHeadroom/live)))
}

// liveHeap is the heap the last collection found live, in octets.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
