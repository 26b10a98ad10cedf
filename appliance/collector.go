package appliance

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// collectorHeadroom is how far the heap may grow past what is live
// before the collector runs, once a load is done. Go's default lets it
// grow by as much again as is live: 260 MiB more for a million-record
// zone, most of it taken when answers are compiled as names are asked.
const collectorHeadroom = 64 << 20

// releaseLoadGarbage hands the garbage a zone load or a signing leaves
// back to the system now rather than keep it as headroom for the
// collector, then bounds that headroom for what is live: GOGC stays 100
// for a heap of 64 MiB or less, and goes down to 10 for one of 640 MiB
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
