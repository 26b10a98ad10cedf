package site

import (
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeHeapSize is the part of the heap given huge pages: more than a
// large site's render holds at once.
const hugeHeapSize = 64 << 20

var hugeHeapOnce sync.Once

// hugeHeap asks the kernel for the first 64 MiB of the Go heap in huge
// pages where transparent huge pages are "madvise" (Debian's default).
// A render's heap grows to tens of megabytes in a fraction of a second,
// and faulting it in 4 KiB at a time was a tenth of its CPU on these
// virtual machines (10,500 faults for just-the-docs; 6,000 with this).
// The runtime no longer asks for huge pages itself, so the heap is
// grown by an untouched block, the block's pages advised, and the
// block dropped: the allocations after the first collection reuse its
// pages. Once a process.
func hugeHeap() {
	hugeHeapOnce.Do(func() {
		b := make([]byte, hugeHeapSize)
		p := unsafe.Pointer(unsafe.SliceData(b))
		unix.Madvise(unsafe.Slice((*byte)(p), len(b)), unix.MADV_HUGEPAGE)
		runtime.KeepAlive(b)
	})
}
