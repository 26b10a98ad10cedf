package site

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
	"islet.dev/islet/internal/testpeer"
)

// TestHugeHeap: after hugeHeap, the heap a render then allocates (many
// small objects, touched) is given in huge pages, where the kernel
// gives them on request.
func TestHugeHeap(t *testing.T) {
	skipWithoutHugePages(t)
	before := anonHuge(t)
	growHugeHeap()
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	if metrics.Read(live); live[0].Value.Uint64() >= hugeHeapSize {
		t.Errorf("the heap holds %d bytes after hugeHeap: the block is live", live[0].Value.Uint64())
	}
	runtime.GC() // the block is garbage now: a render's first collection comes at once
	var keep [][]byte
	for range 32 << 10 {
		b := make([]byte, 1024)
		b[0], b[len(b)-1] = 1, 1
		keep = append(keep, b)
	}
	after := anonHuge(t)
	t.Logf("AnonHugePages %d kB before, %d kB after 32 MiB in small objects", before, after)
	if after < 8<<10 { // of the 32 MiB held (not grown by: a run before may have left huge pages free)
		t.Errorf("AnonHugePages %d kB with 32 MiB held, want 8 MiB at least", after)
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

// TestHeapHeadPresent: the heap before the block's first huge page,
// the part a render reuses first, is present at once, not faulted in
// a page at a time.
func TestHeapHeadPresent(t *testing.T) {
	// a block larger than the heap has been: fresh from the kernel,
	// untouched; in it, an address off a huge page boundary, with the
	// whole huge page around it in the block
	b := make([]byte, 3*hugeHeapSize)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := (start+hugePage-1)&^(hugePage-1) + hugePage + 3*4096
	head := adviseHeap(p)
	from := p &^ (hugePage - 1)
	absent, pages, err := absentPages(from, head-from)
	runtime.KeepAlive(b)
	if err != nil {
		t.Fatal(err)
	}
	if absent > 0 {
		t.Errorf("%d of the %d pages of the huge page the block's start is on are not present", absent, pages)
	}
}

// absentPages counts the pages of the n bytes at address from that are
// not present (mincore).
func absentPages(from, n uintptr) (absent, pages int, err error) {
	vec := make([]byte, (n+4095)/4096)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, from, n, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return 0, 0, fmt.Errorf("mincore: %w", errno)
	}
	for _, v := range vec {
		if v&1 == 0 {
			absent++
		}
	}
	return absent, len(vec), nil
}
