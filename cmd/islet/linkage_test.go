//go:build linux

package main

import (
	"debug/elf"
	"strings"
	"testing"
)

// TestLinkage: the command needs no shared libstdc++ or libgcc (linked
// in: loading them cost every start 4-6 ms), only glibc's libraries.
func TestLinkage(t *testing.T) {
	f, err := elf.Open(buildIslet(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if strings.HasPrefix(l, "libstdc++") || strings.HasPrefix(l, "libgcc") {
			t.Errorf("islet needs %s (needs %q)", l, libs)
		}
	}
}
