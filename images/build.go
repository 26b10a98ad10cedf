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
	"time"
)

// BuildOptions say what to pack and where.
type BuildOptions struct {
	// Data is the appliance folder as it goes into the image: islet.yml,
	// zones/, site/ (checked by the caller).
	Data fs.FS
	// Out receives vmlinuz, initramfs.gz, islet.guest and run-qemu.sh.
	Out string
	// Progress, if set, gets one line per stage.
	Progress io.Writer
	// Name names the machine in the descriptors ("islet-NAME").
	Name string
}

// Result names what Build wrote.
type Result struct {
	Kernel, Initramfs, Guest, QemuScript string
}

const guestPackage = "islet.dev/islet/cmd/islet"

// Build compiles the static guest binary, packs the initramfs with it
// and the appliance data, copies the pinned kernel and writes a qemu
// launch script. It runs the go command in the current directory, which
// must be inside the islet module.
func Build(ctx context.Context, o BuildOptions) (Result, error) {
	progress := func(stage string, start time.Time) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%-20s %v\n", stage, time.Since(start).Round(time.Millisecond))
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Result{}, fmt.Errorf("images: %w", err)
	}
	r := Result{
		Kernel:     filepath.Join(o.Out, "vmlinuz"),
		Initramfs:  filepath.Join(o.Out, "initramfs.gz"),
		Guest:      filepath.Join(o.Out, "islet.guest"),
		QemuScript: filepath.Join(o.Out, "run-qemu.sh"),
	}
	start := time.Now()
	// -tags guest leaves the site renderer out: the image holds the
	// rendered tree.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "guest", "-ldflags=-s -w -buildid=", "-o", r.Guest, guestPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return r, fmt.Errorf("images: compile the guest: %v\n%s", err, out)
	}
	progress("compile guest", start)

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
	stampFile := filepath.Join(o.Out, ".inputs")
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp+o.Name && exists(r.Initramfs, r.Kernel, r.QemuScript) {
		progress("pack image (unchanged)", start)
		return r, nil
	}
	var initrd bytes.Buffer
	if err := WriteInitramfs(&initrd, guest, o.Data); err != nil {
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
	progress("pack image", start)

	start = time.Now()
	if err := writeIfChanged(r.QemuScript, []byte(qemuScript), 0o755); err != nil {
		return r, err
	}
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
	if err := os.WriteFile(stampFile, []byte(stamp+o.Name), 0o644); err != nil {
		return r, fmt.Errorf("images: %w", err)
	}
	return r, nil
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

// QemuArgs are the arguments that boot the image under qemu with the
// host's ports forwarded to the guest's DNS (UDP and TCP 53), HTTP (80)
// and HTTPS (443). Boot settings go on the kernel command line.
func QemuArgs(kernel, initramfs, dns, http, https string, boot ...string) []string {
	fwd := fmt.Sprintf("user,id=net0,hostfwd=udp:%s-:53,hostfwd=tcp:%s-:53,hostfwd=tcp:%s-:443", dns, dns, https)
	if http != "" {
		fwd += fmt.Sprintf(",hostfwd=tcp:%s-:80", http)
	}
	cmdline := "console=ttyS0 panic=-1 quiet"
	for _, b := range boot {
		cmdline += " " + b
	}
	return []string{
		"-m", "256", "-nographic", "-no-reboot",
		"-kernel", kernel, "-initrd", initramfs, "-append", cmdline,
		"-netdev", fwd, "-device", "virtio-net-pci,netdev=net0",
		"-device", "virtio-rng-pci",
	}
}

const qemuScript = `#!/bin/sh
# Boots this appliance under qemu with DNS on 127.0.0.1:5353 (UDP and
# TCP), HTTP on :8080 and HTTPS on :8443. Boot settings (islet.NAME=VALUE,
# the names of "islet serve" flags) go after the script's arguments.
# Ctrl-A X leaves qemu.
cd "$(dirname "$0")"
exec qemu-system-x86_64 -m 256 -nographic -no-reboot \
  -kernel vmlinuz -initrd initramfs.gz \
  -append "console=ttyS0 panic=-1 quiet $*" \
  -netdev user,id=net0,hostfwd=udp:127.0.0.1:5353-:53,hostfwd=tcp:127.0.0.1:5353-:53,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:8443-:443 \
  -device virtio-net-pci,netdev=net0 -device virtio-rng-pci
`
