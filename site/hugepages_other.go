//go:build !linux

package site

func hugeHeap() {}
