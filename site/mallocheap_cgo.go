//go:build cgo

package site

/*
#include <stdlib.h> // which says whether this is glibc
#ifdef __GLIBC__
#include <malloc.h>
#endif

// islet_keep_malloc_heap makes glibc's malloc, which libsass allocates
// with, keep what is freed for the next compile: no trimming of the
// heap's top below 256 MiB, and blocks up to 32 MiB (the most glibc
// allows) from the heap, not from mappings of their own.
static void islet_keep_malloc_heap(void) {
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}
*/
import "C"

// keepMallocHeap: a compile of just-the-docs' stylesheets allocates
// some 12 MiB; given back after each, the next faults it all in again,
// page by page (900 faults, 5-15 ms a compile on these machines).
func keepMallocHeap() { C.islet_keep_malloc_heap() }
