package site

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeHeapSize is the part of the heap given huge pages: more than a
// large site's render holds at once.
const hugeHeapSize = 64 << 20

// hugePage is the size of a transparent huge page on amd64 and arm64.
const hugePage = 2 << 20

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
//
// The heap before the block (what start-up allocated) is reused first,
// and its untouched pages were faulted in one at a time (600 faults for
// just-the-docs): they are made present now, in one call.
func hugeHeap() {
	hugeHeapOnce.Do(growHugeHeap)
}

// growHugeHeap is hugeHeap, every time.
func growHugeHeap() {
	adviseHeap(heapBlock())
	// The block's allocation may start a collection that finds it
	// still in use: the next one would then wait for five times its
	// size, and a render fault in that much fresh memory (one run in
	// fifteen did). Collected now, it is free for what the render
	// allocates.
	runtime.GC()
}

// adviseHeap advises the heap from its mapping's start to the end of
// the block at p for huge pages, and makes present its pages up to the
// first huge page boundary in the block, which it returns.
func adviseHeap(p uintptr) (head uintptr) {
	end := p + hugeHeapSize
	// the mapping may have merged with others before the heap: no more
	// than start-up's heap and then some is made present
	lo := max(mappingStart(p), p-min(p, 16<<20))
	madvise(lo, end-lo, unix.MADV_HUGEPAGE)
	head = min((p+hugePage-1)&^(hugePage-1), end)
	if head > lo {
		madvise(lo, head-lo, unix.MADV_POPULATE_WRITE)
	}
	return head
}

// heapBlock grows the heap by an untouched block of hugeHeapSize and
// returns its address, the block dropped before the mappings are read.
//
//go:noinline
func heapBlock() uintptr {
	b := make([]byte, hugeHeapSize)
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// madvise advises the kernel about n bytes at address a, of the heap.
// Both pieces of advice used change no content, so one the kernel does
// not know (MADV_POPULATE_WRITE came with Linux 5.14) is ignored.
func madvise(a, n uintptr, advice int) {
	unix.Syscall(unix.SYS_MADVISE, a, n, uintptr(advice))
}

// mappingStart is where the mapping that holds address p begins, from
// /proc/self/maps; p itself when that cannot be read.
func mappingStart(p uintptr) uintptr {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return p
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		span, _, _ := strings.Cut(sc.Text(), " ")
		from, to, ok := strings.Cut(span, "-")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(from, 16, 64)
		z, err2 := strconv.ParseUint(to, 16, 64)
		if err1 == nil && err2 == nil && uintptr(a) <= p && p < uintptr(z) {
			return uintptr(a)
		}
	}
	return p
}
