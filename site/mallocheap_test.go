//go:build cgo && linux

package site

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/bep/golibsass/libsass"
	"islet.dev/islet/internal/testpeer"
)

// TestSassLaneHugeHeap: what libsass allocates on the lane's thread
// comes in huge pages, where the kernel gives them on request.
func TestSassLaneHugeHeap(t *testing.T) {
	skipWithoutHugePages(t)
	var src strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&src, ".c%d { .d%d { color: darken(#%06x, %d%%); margin: %dpx; } }\n", i, i, i*97%0xffffff, i%50, i%40)
	}
	var l sassLane
	defer l.stop()
	before := anonHuge(t)
	var css string
	l.run(func() {
		tr, err := libsass.New(libsass.Options{OutputStyle: libsass.CompactStyle})
		if err != nil {
			t.Error(err)
			return
		}
		r, err := tr.Execute(src.String())
		if err != nil {
			t.Error(err)
			return
		}
		css = r.CSS
		after := anonHuge(t)
		t.Logf("AnonHugePages %d kB before, %d kB after a compile (%d bytes of CSS)", before, after, len(css))
		if after-before < 4<<10 {
			t.Errorf("AnonHugePages grew by %d kB, want 4 MiB at least", after-before)
		}
	})
	runtime.KeepAlive(css)
}

// TestSassLaneHeapHead: the first huge page of the lane thread's malloc
// heap, which glibc hands out from first and which is not advised for
// huge pages, is present before the first compile.
func TestSassLaneHeapHead(t *testing.T) {
	var l sassLane
	defer l.stop()
	var absent, pages int
	var err error
	l.run(func() { // before any compile on the lane
		if l.heapPresent != 0 {
			absent, pages, err = absentPages(l.heapHead, l.heapPresent-l.heapHead)
		}
	})
	switch {
	case l.heapPresent == 0:
		testpeer.Unavailable(t, "glibc's heap was not made present (MADV_POPULATE_WRITE needs Linux 5.14)")
	case err != nil:
		t.Fatal(err)
	case absent > 0:
		t.Errorf("%d of the %d pages at the head of the lane's heap are not present", absent, pages)
	}
}
