// Package meminfo reads how much memory the machine has, from the
// kernel's /proc/meminfo.
package meminfo

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Total is MemTotal in bytes, 0 if it cannot be read.
func Total() int64 { return read("MemTotal:") }

// Available is MemAvailable in bytes: what can be had without
// swapping; 0 if it cannot be read.
func Available() int64 { return read("MemAvailable:") }

func read(field string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil || kb < 0 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
