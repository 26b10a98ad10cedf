package images

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"islet.dev/islet/internal/testpeer"
)

func TestInitramfsIsReproducible(t *testing.T) {
	pack := func(init []byte) []byte {
		var b bytes.Buffer
		if err := WriteInitramfs(&b, init, fstest.MapFS{"islet.yml": {Data: []byte("zones: zones/\n")}, "zones/a.example": {Data: []byte("x")}}, 0); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := pack([]byte("guest binary")), pack([]byte("guest binary"))
	if !bytes.Equal(a, b) {
		t.Fatal("the same init packed twice gave different bytes")
	}
	if bytes.Equal(a, pack([]byte("another binary"))) {
		t.Fatal("different inits packed to the same bytes")
	}
}

// TestInitramfsReadByCpio unpacks the initramfs with Debian's cpio, as
// the kernel would, and checks the entries and /init's bytes.
func TestInitramfsReadByCpio(t *testing.T) {
	bin := testpeer.Require(t, "cpio")
	init := bytes.Repeat([]byte("\x7fELF-ish guest "), 1000)
	var b bytes.Buffer
	// 1700000000 is 2023-11-14: every entry gets that time (SOURCE_DATE_EPOCH).
	if err := WriteInitramfs(&b, init, fstest.MapFS{"islet.yml": {Data: []byte("zones: zones/\n")}, "zones/a.example": {Data: []byte("x")}}, 1700000000); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	cmd := exec.Command(bin, "-itv", "--quiet")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	listing := string(out)
	if n := strings.Count(listing, "Nov 14  2023"); n != strings.Count(listing, "\n") {
		t.Errorf("%d of the entries have SOURCE_DATE_EPOCH's time:\n%s", n, listing)
	}
	for _, want := range []string{"drwxr-xr-x", "dev/console", "crw-------", "-rwxr-xr-x", " init", "proc", "sys", "state", "appliance/islet.yml", "appliance/zones/a.example"} {
		if !strings.Contains(listing, want) {
			t.Errorf("listing lacks %q:\n%s", want, listing)
		}
	}
	dir := t.TempDir()
	x := exec.Command(bin, "-id", "--quiet", "--no-absolute-filenames", "init")
	x.Dir, x.Stdin = dir, bytes.NewReader(raw)
	if out, err := x.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "init"))
	if err != nil || !bytes.Equal(got, init) {
		t.Fatalf("extracted /init differs (%v)", err)
	}
}

// TestKernelPath finds the pinned kernel and checks it is a bzImage.
func TestKernelPath(t *testing.T) {
	path, err := KernelPath()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr := make([]byte, 0x206)
	if _, err := io.ReadFull(f, hdr); err != nil {
		t.Fatal(err)
	}
	if string(hdr[0x202:0x206]) != "HdrS" {
		t.Fatalf("%s is not a bzImage (no HdrS at 0x202)", path)
	}
}

// TestVmlinux unpacks the pinned kernel's ELF image and checks it is an
// x86-64 executable with an entry point, as Firecracker loads it.
func TestVmlinux(t *testing.T) {
	path, err := KernelPath()
	if err != nil {
		t.Fatal(err)
	}
	bz, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Vmlinux(bz)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC || f.Entry == 0 {
		t.Errorf("vmlinux: machine %v, type %v, entry %#x", f.Machine, f.Type, f.Entry)
	}
	if !bytes.Contains(raw, []byte("Linux version ")) {
		t.Error("vmlinux holds no Linux version banner")
	}
	for _, bad := range [][]byte{nil, bz[:0x300], append(append([]byte{}, bz[:0x24c]...), 0xff, 0xff, 0xff, 0x7f)} {
		if _, err := Vmlinux(bad); err == nil {
			t.Errorf("a broken bzImage of %d bytes was unpacked", len(bad))
		}
	}
}
