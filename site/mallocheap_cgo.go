//go:build cgo

package site

/*
#include <stdint.h>
#include <stdlib.h> // which says whether this is glibc
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/mman.h>
#endif

// islet_keep_malloc_heap makes glibc's malloc, which libsass allocates
// with, keep what is freed for the next compile: no trimming of the
// heap's top below 256 MiB, and blocks up to 32 MiB (the most glibc
// allows) from the heap, not from mappings of their own.
//
// Then it grows the calling thread's heap by a block it advises for
// huge pages and frees untouched, so that what libsass allocates on
// that thread after is faulted in 2 MiB at a time where the kernel's
// transparent huge pages are "madvise" (Debian's default).
static void islet_keep_malloc_heap(uintptr_t *head, uintptr_t *present) {
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
#ifdef MADV_HUGEPAGE
	size_t n = 24 << 20, huge = 2 << 20;
	char *p = malloc(n);
	if (p != NULL) {
		uintptr_t start = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
		uintptr_t end = ((uintptr_t)p + n) & ~(uintptr_t)(huge - 1);
		if (start < end) {
			madvise((void *)start, end - start, MADV_HUGEPAGE);
		}
#ifdef MADV_POPULATE_WRITE
		// the block's start, up to its first huge page, is not advised
		// and would be faulted in a page at a time, when what is
		// allocated after reuses it: present it at once
		*head = (uintptr_t)p & ~(uintptr_t)4095;
		if (*head < start && madvise((void *)*head, start - *head, MADV_POPULATE_WRITE) == 0) {
			*present = start;
		}
#endif
		free(p);
	}
#endif
#endif
}
*/
import "C"

// keepMallocHeap: a compile of just-the-docs' stylesheets allocates
// some 12 MiB; given back after each, the next faults it all in again,
// page by page (900 faults, 5-15 ms a compile on these machines; the
// first compile's 3,000 are the most of its system time). It is called
// on the thread that compiles. It returns the part of the thread's heap
// it made present, [head, present), for the tests.
func keepMallocHeap() (head, present uintptr) {
	var h, p C.uintptr_t
	C.islet_keep_malloc_heap(&h, &p)
	return uintptr(h), uintptr(p)
}
