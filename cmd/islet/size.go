package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSize reads a size such as 16M, 512K, 1G or a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	num := strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B")
	if n := len(num); n > 0 {
		switch num[n-1] {
		case 'K', 'k':
			mult, num = 1<<10, num[:n-1]
		case 'M', 'm':
			mult, num = 1<<20, num[:n-1]
		case 'G', 'g':
			mult, num = 1<<30, num[:n-1]
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 || v > 1<<40/mult {
		return 0, fmt.Errorf("%q is not a size (16M, 512K, 1G)", s)
	}
	return v * mult, nil
}
