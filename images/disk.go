package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The disk image for clouds and UEFI machines: a GPT disk whose EFI
// system partition holds systemd-boot as the removable-media loader
// (EFI/BOOT/BOOTX64.EFI), one boot entry with the kernel (an EFI stub),
// the initramfs and the kernel command line, and, after it, an empty
// state partition the guest finds by its file system's label.

// DiskOptions say what goes on the disk image.
type DiskOptions struct {
	Kernel, Initramfs string // the image's files
	// Cmdline is the kernel command line of the boot entry.
	Cmdline string
	// StateSize is the state partition's size in octets; 0 leaves it out.
	StateSize int64
	// Loader is the path of systemd-boot's EFI program; empty looks in
	// the places Debian's systemd-boot-efi puts it.
	Loader string
}

// loaderPaths are where Debian and others install systemd-boot's EFI
// program.
var loaderPaths = []string{
	"/usr/lib/systemd/boot/efi/systemd-bootx64.efi",
	"/lib/systemd/boot/efi/systemd-bootx64.efi",
}

const (
	mib = 1 << 20
	// diskUnit: Compute Engine takes raw disks of whole GiB only.
	diskUnit = 1 << 30
	// minESP is the smallest ESP: FAT32 needs 65,525 clusters.
	minESP = 64 * mib
	// diskLoaderConf boots the one entry at once; the command line
	// cannot be edited at the console.
	diskLoaderConf = "timeout 0\ndefault islet.conf\neditor no\n"
)

// FindLoader returns the path of systemd-boot's EFI program.
func FindLoader() (string, error) {
	for _, p := range loaderPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("images: --disk needs systemd-boot's EFI loader (apt-get install systemd-boot-efi)")
}

// WriteDisk writes the disk image to path (a sparse file of whole GiB).
func WriteDisk(ctx context.Context, path string, o DiskOptions) error {
	if o.Loader == "" {
		l, err := FindLoader()
		if err != nil {
			return err
		}
		o.Loader = l
	}
	var files [3][]byte
	for i, p := range []string{o.Loader, o.Kernel, o.Initramfs} {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("images: disk image: %w", err)
		}
		files[i] = b
	}
	loader, kernel, initrd := files[0], files[1], files[2]
	entry := fmt.Sprintf("title islet\nlinux /islet/vmlinuz\ninitrd /islet/initrd.gz\noptions %s\n", o.Cmdline)
	esp := []fatFile{
		{"EFI/BOOT/BOOTX64.EFI", loader},
		{"loader/loader.conf", []byte(diskLoaderConf)},
		{"loader/entries/islet.conf", []byte(entry)},
		{"islet/vmlinuz", kernel},
		{"islet/initrd.gz", initrd},
	}

	// The GUIDs and the volume serial come from what the disk holds.
	h := sha256.New()
	for _, f := range esp {
		fmt.Fprintf(h, "%s %d\x00", f.path, len(f.data))
		h.Write(f.data)
	}
	fmt.Fprintf(h, "state %d", o.StateSize)
	sum := h.Sum(nil)
	id := func(salt string) guid {
		s := sha256.Sum256(append(append([]byte(nil), sum...), salt...))
		return guidFrom(s[:16])
	}

	content := int64(len(loader) + len(kernel) + len(initrd))
	espSize := max(minESP, roundUp(content*5/4+4*mib, mib))
	espStart := int64(mib)
	stateStart := espStart + espSize
	stateSize := roundUp(o.StateSize, mib)
	size := roundUp(stateStart+stateSize+mib, diskUnit)
	parts := []partition{{typ: espType, id: id("esp"), first: uint64(espStart / sectorSize), last: uint64((espStart+espSize)/sectorSize - 1), name: "EFI system partition"}}
	var state []byte
	if o.StateSize > 0 {
		tmp, err := os.MkdirTemp("", "islet-disk-")
		if err != nil {
			return fmt.Errorf("images: %w", err)
		}
		defer os.RemoveAll(tmp)
		img := filepath.Join(tmp, "state.img")
		if _, err := MakeStateDisk(ctx, img, stateSize); err != nil {
			return err
		}
		if state, err = os.ReadFile(img); err != nil {
			return fmt.Errorf("images: %w", err)
		}
		parts = append(parts, partition{typ: linuxType, id: id("state"), first: uint64(stateStart / sectorSize), last: uint64((stateStart+stateSize)/sectorSize - 1), name: StateDiskLabel})
	}

	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	defer os.Remove(tmp)
	err = func() error {
		if err := f.Truncate(size); err != nil {
			return err
		}
		if err := writeGPT(f, uint64(size/sectorSize), id("disk"), parts); err != nil {
			return err
		}
		serial := uint32(sum[0]) | uint32(sum[1])<<8 | uint32(sum[2])<<16 | uint32(sum[3])<<24
		if err := writeFAT32(f, espStart, espSize, uint32(espStart/sectorSize), serial, "ISLET-ESP", esp); err != nil {
			return err
		}
		return writeSparse(f, stateStart, state)
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("images: disk image: %w", err)
	}
	return os.Rename(tmp, path)
}

// writeSparse writes data at off, leaving its runs of zero blocks as
// holes.
func writeSparse(w io.WriterAt, off int64, data []byte) error {
	const block = 4096
	zero := make([]byte, block)
	for i := 0; i < len(data); i += block {
		b := data[i:min(i+block, len(data))]
		if bytes.Equal(b, zero[:len(b)]) {
			continue
		}
		if _, err := w.WriteAt(b, off+int64(i)); err != nil {
			return err
		}
	}
	return nil
}

func roundUp(n, unit int64) int64 { return (n + unit - 1) / unit * unit }
