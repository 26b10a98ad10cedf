package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BuildOptions say what to pack and where.
type BuildOptions struct {
	// Data is the appliance folder as it goes into the image: islet.yml,
	// zones/, site/ (checked by the caller).
	Data fs.FS
	// Out receives vmlinuz, vmlinux, initramfs.gz, islet.guest, the state
	// disk and the deploy descriptors.
	Out string
	// Progress, if set, gets one line per stage.
	Progress io.Writer
	// Name names the machine in the descriptors ("islet-NAME").
	Name string
	// StateDisk is the size in bytes of the state disk made when Out has
	// none (state.img, ext4); 0 makes none and leaves it out of the
	// descriptors.
	StateDisk int64
	// Disk also writes disk.raw, a GPT disk image for UEFI machines and
	// clouds (disk.go), whose boot entry adds DiskBoot (islet.NAME=VALUE
	// settings) to the kernel command line. It needs systemd-boot's EFI
	// loader on the build machine.
	Disk     bool
	DiskBoot []string
	// Source is a folder inside islet's module, where the guest is
	// compiled; empty: the current directory.
	Source string
}

// Result names what Build wrote.
type Result struct {
	Kernel, Vmlinux, Initramfs, Guest, QemuScript string
	// StateDisk is empty when the build has none.
	StateDisk string
	// Disk is disk.raw, when asked for.
	Disk string
}

const guestPackage = "islet.dev/islet/cmd/islet"

// Build compiles the static guest binary, packs the initramfs with it
// and the appliance data, copies the pinned kernel (and its unpacked
// ELF image, for Firecracker), makes the state disk if there is none and
// writes the deploy descriptors. It runs the go command in the current
// directory (or in Source), which must be inside the islet module. SOURCE_DATE_EPOCH,
// if set, is the time of every initramfs entry (0 otherwise).
func Build(ctx context.Context, o BuildOptions) (Result, error) {
	progress := func(stage string, start time.Time) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%-20s %v\n", stage, time.Since(start).Round(time.Millisecond))
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Result{}, fmt.Errorf("images: %w", err)
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return Result{}, err
	}
	r := Result{
		Kernel:     filepath.Join(o.Out, "vmlinuz"),
		Vmlinux:    filepath.Join(o.Out, "vmlinux"),
		Initramfs:  filepath.Join(o.Out, "initramfs.gz"),
		Guest:      filepath.Join(o.Out, "islet.guest"),
		QemuScript: filepath.Join(o.Out, "run-qemu.sh"),
	}
	if o.StateDisk > 0 {
		r.StateDisk = filepath.Join(o.Out, "state.img")
	}
	cmdline := guestCmdline
	if o.Disk {
		r.Disk = filepath.Join(o.Out, "disk.raw")
		for _, b := range o.DiskBoot {
			if b == "" || strings.ContainsAny(b, " \t\n\r\\\"") {
				return r, fmt.Errorf("images: boot setting %q: one word, no blanks or quotes", b)
			}
			cmdline += " " + b
		}
		if _, err := FindLoader(); err != nil {
			return r, err
		}
	}
	start := time.Now()
	// -tags guest leaves the site renderer out: the image holds the
	// rendered tree.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "guest", "-ldflags=-s -w -buildid=", "-o", r.Guest, guestPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Dir = o.Source
	if out, err := cmd.CombinedOutput(); err != nil {
		hint := ""
		if bytes.Contains(out, []byte("no required module provides package")) || bytes.Contains(out, []byte("go.mod file not found")) {
			hint = "\nthe guest is compiled from islet's source: run islet build inside islet's module, or set ISLET_SRC to its folder"
		}
		return r, fmt.Errorf("images: compile the guest: %v\n%s%s", err, out, hint)
	}
	progress("compile guest", start)

	if r.StateDisk != "" {
		start = time.Now()
		made, err := MakeStateDisk(ctx, r.StateDisk, o.StateDisk)
		if err != nil {
			return r, err
		}
		if made {
			progress("make state disk", start)
		}
	}

	start = time.Now()
	guest, err := os.ReadFile(r.Guest)
	if err != nil {
		return r, fmt.Errorf("images: %w", err)
	}
	kernel, err := KernelPath()
	if err != nil {
		return r, err
	}
	stamp, err := inputStamp(guest, o.Data, kernel)
	if err != nil {
		return r, err
	}
	stamp += fmt.Sprintf("\x00%s\x00%d\x00%s\x00%s", o.Name, mtime, r.StateDisk, r.Disk)
	if r.Disk != "" {
		stamp += "\x00" + cmdline
	}
	stampFile := filepath.Join(o.Out, ".inputs")
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp && exists(r.Initramfs, r.Kernel, r.Vmlinux, r.QemuScript) && (r.Disk == "" || exists(r.Disk)) {
		progress("pack image (unchanged)", start)
		return r, nil
	}
	var initrd bytes.Buffer
	if err := WriteInitramfs(&initrd, guest, o.Data, mtime); err != nil {
		return r, err
	}
	if err := writeIfChanged(r.Initramfs, initrd.Bytes(), 0o644); err != nil {
		return r, err
	}
	k, err := os.ReadFile(kernel)
	if err != nil {
		return r, fmt.Errorf("images: %w", err)
	}
	if err := writeIfChanged(r.Kernel, k, 0o644); err != nil {
		return r, err
	}
	// The ELF image is unpacked again only when the kernel changes.
	kernelStamp := filepath.Join(o.Out, ".vmlinux-from")
	if old, err := os.ReadFile(kernelStamp); err != nil || string(old) != kernel || !exists(r.Vmlinux) {
		elf, err := Vmlinux(k)
		if err != nil {
			return r, err
		}
		if err := writeIfChanged(r.Vmlinux, elf, 0o644); err != nil {
			return r, err
		}
		if err := os.WriteFile(kernelStamp, []byte(kernel), 0o644); err != nil {
			return r, fmt.Errorf("images: %w", err)
		}
	}
	progress("pack image", start)

	start = time.Now()
	descs, err := descriptors(r, o.Name)
	if err != nil {
		return r, err
	}
	for file, data := range descs {
		perm := os.FileMode(0o644)
		if filepath.Ext(file) == ".sh" {
			perm = 0o755
		}
		if err := writeIfChanged(filepath.Join(o.Out, file), data, perm); err != nil {
			return r, err
		}
	}
	progress("write descriptors", start)
	if r.Disk != "" {
		start = time.Now()
		if err := WriteDisk(ctx, r.Disk, DiskOptions{Kernel: r.Kernel, Initramfs: r.Initramfs, Cmdline: cmdline, StateSize: o.StateDisk}); err != nil {
			return r, err
		}
		progress("write disk image", start)
	}
	if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
		return r, fmt.Errorf("images: %w", err)
	}
	return r, nil
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org):
// the time of every initramfs entry.
func sourceDateEpoch() (uint32, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("images: SOURCE_DATE_EPOCH=%q: want seconds since 1970", v)
	}
	return uint32(n), nil
}

// inputStamp hashes everything the packed image depends on: the guest
// binary, every data file's name, mode and bytes, and the kernel's path
// (its version is in it).
func inputStamp(guest []byte, data fs.FS, kernel string) (string, error) {
	h := sha256.New()
	h.Write(guest)
	fmt.Fprintf(h, "\x00kernel %s\x00", kernel)
	if data != nil {
		err := fs.WalkDir(data, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %v\x00", p, d.Type())
			if d.Type().IsRegular() {
				b, err := fs.ReadFile(data, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(h, "%d\x00", len(b))
				h.Write(b)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("images: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func exists(paths ...string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// writeIfChanged leaves a file that already holds data untouched, so
// that its time stays and unchanged builds change nothing.
func writeIfChanged(path string, data []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("images: %w", err)
	}
	return os.Rename(tmp, path)
}
