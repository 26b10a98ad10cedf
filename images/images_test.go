package images

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestInitramfsIsReproducible(t *testing.T) {
	pack := func(init []byte) []byte {
		var b bytes.Buffer
		if err := WriteInitramfs(&b, init, fstest.MapFS{"islet.yml": {Data: []byte("zones: zones/\n")}, "zones/a.example": {Data: []byte("x")}}); err != nil {
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
	bin, err := exec.LookPath("cpio")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cpio is not installed (CI=true)")
		}
		t.Skip("cpio is not installed")
	}
	init := bytes.Repeat([]byte("\x7fELF-ish guest "), 1000)
	var b bytes.Buffer
	if err := WriteInitramfs(&b, init, fstest.MapFS{"islet.yml": {Data: []byte("zones: zones/\n")}, "zones/a.example": {Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	cmd := exec.Command(bin, "-itv", "--quiet")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	listing := string(out)
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
