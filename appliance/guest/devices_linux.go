//go:build linux

package guest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// watchPowerButton calls stop when an ACPI power button is pressed
// (qemu's system_powerdown, "virsh shutdown", cloud-hypervisor's
// power-button): the kernel's button driver reports KEY_POWER on an
// input device named "Power Button". It returns how many buttons it
// watches.
func watchPowerButton(ctx context.Context, stop func(), log *slog.Logger) int {
	events, _ := filepath.Glob("/sys/class/input/event*")
	n := 0
	for _, ev := range events {
		name, err := os.ReadFile(filepath.Join(ev, "device", "name"))
		if err != nil || !strings.Contains(string(name), "Power Button") {
			continue
		}
		f, err := os.Open(filepath.Join("/dev/input", filepath.Base(ev)))
		if err != nil {
			log.Warn("power button", "component", "guest", "err", err)
			continue
		}
		n++
		go func() {
			<-ctx.Done()
			f.Close()
		}()
		go func() {
			if readPowerKey(f) {
				log.Info("power button pressed", "component", "guest")
				stop()
			}
		}()
	}
	return n
}

// readPowerKey reads input events until KEY_POWER goes down; false when
// the device ends first.
func readPowerKey(r io.Reader) bool {
	const (
		evKey    = 1
		keyPower = 116
	)
	var ev [24]byte // struct input_event on 64-bit: timeval, type, code, value
	for {
		if _, err := io.ReadFull(r, ev[:]); err != nil {
			return false
		}
		typ := binary.LittleEndian.Uint16(ev[16:])
		code := binary.LittleEndian.Uint16(ev[18:])
		value := int32(binary.LittleEndian.Uint32(ev[20:]))
		if typ == evKey && code == keyPower && value == 1 {
			return true
		}
	}
}

// stateMount is where the state disk is mounted.
const stateMount = "/state"

// tsigKeysFile, on the state disk, holds the TSIG keys in the form of
// islet serve's --tsig-keys file.
const tsigKeysFile = "tsig.keys"

// stateDiskLabel is the label islet build gives the state disk's ext4.
const stateDiskLabel = "islet-state"

// mountStateDisk mounts the first disk or partition whose ext4 file
// system carries the state disk's label at /state, and returns the
// folder for the certificate cache; "" when there is none. A disk with
// another label is never mounted.
func mountStateDisk(log *slog.Logger) string {
	for _, dev := range blockDevices("/sys/class/block") {
		label, err := ext4Label(dev)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil { // a partition table, another file system
			log.Debug("no ext4 on the disk; left alone", "component", "guest", "device", dev, "err", err)
			continue
		}
		if label != stateDiskLabel {
			log.Info("disk is not islet's state disk; left alone", "component", "guest", "device", dev, "label", label)
			continue
		}
		if err := unix.Mount(dev, stateMount, "ext4", unix.MS_NOATIME|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOSUID, ""); err != nil {
			log.Error("state disk not mounted: certificates stay in memory", "component", "guest", "device", dev, "err", err)
			return ""
		}
		log.Info("state disk mounted", "component", "guest", "device", dev, "at", stateMount)
		return filepath.Join(stateMount, "certs")
	}
	return ""
}

// blockDevices lists the block devices the kernel has, partitions
// included (vda, vda2, nvme0n1p2, sda2), in name order: the state disk
// is a whole disk beside the image (qemu, libvirt, Firecracker) or a
// partition of the boot disk (a cloud's disk image). RAM disks, loop
// devices and optical drives are left out. Without sysfs it gives the
// usual whole disks.
func blockDevices(sys string) []string {
	entries, err := os.ReadDir(sys)
	if err != nil {
		return []string{"/dev/vda", "/dev/xvda", "/dev/vdb", "/dev/xvdb", "/dev/sda"}
	}
	var devs []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "sr") || strings.HasPrefix(name, "zram") {
			continue
		}
		devs = append(devs, "/dev/"+name)
	}
	sort.Strings(devs)
	return devs
}

// ext4Label reads the volume name from an ext2/3/4 superblock.
func ext4Label(dev string) (string, error) {
	f, err := os.Open(dev)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return "", fmt.Errorf("read superblock: %w", err)
	}
	if binary.LittleEndian.Uint16(sb[56:]) != 0xef53 {
		return "", errors.New("no ext2/3/4 file system")
	}
	name := sb[120:136]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return string(name), nil
}
