package images

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"islet.dev/islet/internal/testpeer"
)

// TestDescriptors checks each deploy descriptor with its own tool where
// Debian has one (the libvirt domain against libvirt's schema, the
// shell scripts with sh -n) and the rest by what they must say.
func TestDescriptors(t *testing.T) {
	dir := t.TempDir()
	r := Result{Kernel: filepath.Join(dir, "vmlinuz"), Vmlinux: filepath.Join(dir, "vmlinux"), Initramfs: filepath.Join(dir, "initramfs.gz"), StateDisk: filepath.Join(dir, "state.img")}
	descs, err := descriptors(r, "test")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range descs {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	for _, script := range []string{"cloud-hypervisor.sh", "run-qemu.sh"} {
		if out, err := exec.Command("sh", "-n", filepath.Join(dir, script)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", script, err, out)
		}
	}
	qemu := string(descs["run-qemu.sh"])
	for _, want := range []string{"-kernel vmlinuz", "-initrd initramfs.gz", `"console=ttyS0 panic=-1 quiet $*"`, "file=state.img", "virtio-rng-pci", "hostfwd=udp:127.0.0.1:5353-:53"} {
		if !strings.Contains(qemu, want) {
			t.Errorf("run-qemu.sh lacks %s:\n%s", want, qemu)
		}
	}
	if strings.Contains(qemu, "-no-reboot") {
		t.Error("run-qemu.sh keeps a panicking guest from rebooting")
	}
	xen := string(descs["xen.cfg"])
	for _, want := range []string{`type = "pv"`, `kernel = "` + r.Kernel + `"`, `ramdisk = "` + r.Initramfs + `"`, `extra = "console=hvc0`, "target=" + r.StateDisk, `on_crash = "restart"`} {
		if !strings.Contains(xen, want) {
			t.Errorf("xen.cfg lacks %s:\n%s", want, xen)
		}
	}
	var fc struct {
		Boot struct {
			Kernel string `json:"kernel_image_path"`
			Initrd string `json:"initrd_path"`
			Args   string `json:"boot_args"`
		} `json:"boot-source"`
		Drives []struct {
			Path string `json:"path_on_host"`
			Root bool   `json:"is_root_device"`
		} `json:"drives"`
		Net []struct {
			Dev string `json:"host_dev_name"`
		} `json:"network-interfaces"`
		Entropy *struct{} `json:"entropy"`
	}
	if err := json.Unmarshal(descs["firecracker.json"], &fc); err != nil {
		t.Fatalf("firecracker.json: %v", err)
	}
	if fc.Boot.Kernel != r.Vmlinux || fc.Boot.Initrd != r.Initramfs || !strings.HasPrefix(fc.Boot.Args, guestCmdline) ||
		len(fc.Drives) != 1 || fc.Drives[0].Path != r.StateDisk || fc.Drives[0].Root || len(fc.Net) != 1 || fc.Entropy == nil {
		t.Errorf("firecracker.json: %+v\n%s", fc, descs["firecracker.json"])
	}
	if ch := string(descs["cloud-hypervisor.sh"]); !strings.Contains(ch, "--disk path="+r.StateDisk) || !strings.Contains(ch, "--rng") {
		t.Errorf("cloud-hypervisor.sh:\n%s", ch)
	}
	lv := string(descs["libvirt.xml"])
	for _, want := range []string{"<kernel>" + r.Kernel + "</kernel>", "<acpi></acpi>", `<source file="` + r.StateDisk + `"></source>`, `<target dev="vda" bus="virtio"></target>`} {
		if !strings.Contains(lv, want) {
			t.Errorf("libvirt.xml lacks %s:\n%s", want, lv)
		}
	}
	validate := testpeer.Require(t, "virt-xml-validate")
	if out, err := exec.Command(validate, filepath.Join(dir, "libvirt.xml"), "domain").CombinedOutput(); err != nil {
		t.Errorf("libvirt.xml: %v\n%s", err, out)
	}

	// Without a state disk, no descriptor names one.
	r.StateDisk = ""
	descs, err = descriptors(r, "test")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range descs {
		if strings.Contains(string(data), "state.img") || strings.Contains(string(data), "<disk") {
			t.Errorf("%s names a state disk the build has not:\n%s", name, data)
		}
	}
}

// TestStateDisk makes a state disk with mke2fs and reads it back with
// e2fsprogs: ext4, labelled, with certs/ at mode 0700; a second call
// leaves the disk (and what the guest wrote on it) alone.
func TestStateDisk(t *testing.T) {
	testpeer.Require(t, "mke2fs", "debugfs", "e2label")
	path := filepath.Join(t.TempDir(), "state.img")
	made, err := MakeStateDisk(t.Context(), path, 16<<20)
	if err != nil || !made {
		t.Fatalf("MakeStateDisk: %v %v", made, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 16<<20 {
		t.Fatalf("state.img: %v %v", fi, err)
	}
	if out, err := exec.Command("e2label", path).Output(); err != nil || strings.TrimSpace(string(out)) != StateDiskLabel {
		t.Errorf("label %q %v", out, err)
	}
	out, err := exec.Command("debugfs", "-R", "stat /certs", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Mode:  0700") || !strings.Contains(string(out), "Type: directory") {
		t.Errorf("debugfs stat /certs: %v\n%s", err, out)
	}
	os.WriteFile(path, []byte("kept"), 0o644)
	if made, err := MakeStateDisk(t.Context(), path, 16<<20); err != nil || made {
		t.Errorf("an existing state disk was made again: %v %v", made, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "kept" {
		t.Error("an existing state disk was overwritten")
	}
	if _, err := MakeStateDisk(t.Context(), filepath.Join(t.TempDir(), "s.img"), 1<<20); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("a 1 MiB state disk: %v", err)
	}
}
