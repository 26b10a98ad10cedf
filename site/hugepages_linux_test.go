package site

import (
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"islet.dev/islet/internal/testpeer"
)

// TestHugeHeap: after hugeHeap, the heap a render then allocates (many
// small objects, touched) is given in huge pages, where the kernel
// gives them on request.
func TestHugeHeap(t *testing.T) {
	skipWithoutHugePages(t)
	before := anonHuge(t)
	hugeHeap()
	runtime.GC() // the block is garbage now: a render's first collection comes at once
	var keep [][]byte
	for range 32 << 10 {
		b := make([]byte, 1024)
		b[0], b[len(b)-1] = 1, 1
		keep = append(keep, b)
	}
	after := anonHuge(t)
	t.Logf("AnonHugePages %d kB before, %d kB after 32 MiB in small objects", before, after)
	if after-before < 8<<10 {
		t.Errorf("AnonHugePages grew by %d kB, want 8 MiB at least", after-before)
	}
	_ = keep
}

// skipWithoutHugePages skips where the kernel gives no transparent
// huge pages on request; under CI=true, whose machines give them, it
// fails.
func skipWithoutHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") && !strings.Contains(string(mode), "[always]") {
		testpeer.Unavailable(t, "transparent huge pages are off here (%q)", strings.TrimSpace(string(mode)))
	}
}

// anonHuge is the process's anonymous memory in huge pages, in kB.
func anonHuge(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		testpeer.Unavailable(t, "%v", err)
	}
	m := regexp.MustCompile(`AnonHugePages:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no AnonHugePages in smaps_rollup:\n%s", b)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
