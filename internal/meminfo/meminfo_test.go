package meminfo

import (
	"os"
	"testing"
)

func TestReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo")
	}
	total, avail := Total(), Available()
	if total < 16<<20 || avail <= 0 || avail > total {
		t.Fatalf("MemTotal %d, MemAvailable %d", total, avail)
	}
}
