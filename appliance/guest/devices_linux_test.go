package guest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestBlockDevices: the state disk is looked for on every disk and
// partition sysfs lists, in name order, and never on RAM disks, loop
// devices or optical drives; without sysfs, on the usual whole disks.
func TestBlockDevices(t *testing.T) {
	sys := t.TempDir()
	for _, name := range []string{"vda", "vda2", "vda1", "nvme0n1p2", "nvme0n1", "ram0", "loop3", "sr0", "zram0", "sda"} {
		if err := os.Mkdir(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"/dev/nvme0n1", "/dev/nvme0n1p2", "/dev/sda", "/dev/vda", "/dev/vda1", "/dev/vda2"}
	if got := blockDevices(sys); !slices.Equal(got, want) {
		t.Errorf("blockDevices = %v, want %v", got, want)
	}
	if got := blockDevices(filepath.Join(sys, "none")); !slices.Contains(got, "/dev/vda") || !slices.Contains(got, "/dev/xvda") {
		t.Errorf("without sysfs: %v", got)
	}
}
