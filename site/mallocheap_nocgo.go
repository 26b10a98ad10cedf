//go:build !cgo

package site

func keepMallocHeap() {}
