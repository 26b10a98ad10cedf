package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDescriptors checks each deploy descriptor with its own tool where
// Debian has one: the libvirt domain against libvirt's schema, the
// shell scripts with sh -n.
func TestDescriptors(t *testing.T) {
	dir := t.TempDir()
	r := Result{Kernel: filepath.Join(dir, "vmlinuz"), Initramfs: filepath.Join(dir, "initramfs.gz")}
	descs, err := descriptors(r, "test")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range descs {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	validate, err := exec.LookPath("virt-xml-validate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("virt-xml-validate is not installed (CI=true)")
		}
		t.Skip("virt-xml-validate is not installed (libvirt-clients, libxml2-utils)")
	}
	if out, err := exec.Command(validate, filepath.Join(dir, "libvirt.xml"), "domain").CombinedOutput(); err != nil {
		t.Errorf("libvirt.xml: %v\n%s", err, out)
	}
	for _, script := range []string{"cloud-hypervisor.sh"} {
		if out, err := exec.Command("sh", "-n", filepath.Join(dir, script)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", script, err, out)
		}
	}
	xen := string(descs["xen.cfg"])
	for _, want := range []string{`type = "pvh"`, `kernel = "` + r.Kernel + `"`, `ramdisk = "` + r.Initramfs + `"`, `extra = "console=hvc0`} {
		if !strings.Contains(xen, want) {
			t.Errorf("xen.cfg lacks %s:\n%s", want, xen)
		}
	}
	if !strings.Contains(string(descs["libvirt.xml"]), "<kernel>"+r.Kernel+"</kernel>") {
		t.Error("libvirt.xml does not boot the kernel directly")
	}
}
