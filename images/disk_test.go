package images

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"islet.dev/islet/internal/testpeer"
)

// writeTestDisk writes a disk image of made-up files and returns its
// path and the files.
func writeTestDisk(t *testing.T, state int64) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"loader":    bytes.Repeat([]byte("systemd-boot "), 1000),
		"kernel":    bytes.Repeat([]byte{0x4d, 0x5a, 1, 2, 3}, 700_000), // spans many clusters
		"initramfs": []byte("initramfs"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "disk.raw")
	err := WriteDisk(context.Background(), path, DiskOptions{Kernel: filepath.Join(dir, "kernel"), Initramfs: filepath.Join(dir, "initramfs"),
		Loader: filepath.Join(dir, "loader"), Cmdline: "console=ttyS0 islet.x=y", StateSize: state})
	if err != nil {
		t.Fatal(err)
	}
	return path, files
}

// TestDiskImage reads the disk image back with util-linux, dosfstools
// and mtools: a valid GPT with the ESP and the state partition where
// they should be, a FAT32 that fsck.fat finds clean, the loader, the
// boot entry, the kernel and the initramfs byte for byte under the
// names systemd-boot looks for, and the state partition's ext4 label.
// The same inputs give the same octets, but for the state partition's
// ext4, which mke2fs makes afresh.
func TestDiskImage(t *testing.T) {
	testpeer.Require(t, "sfdisk", "fsck.fat", "mcopy", "blkid", "mke2fs")
	path, files := writeTestDisk(t, 16<<20)
	st, err := os.Stat(path)
	if err != nil || st.Size() != 1<<30 {
		t.Fatalf("disk size: %v %v (want 1 GiB, a whole GiB for Compute Engine)", st.Size(), err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if out := run("sfdisk", "--verify", path); !strings.Contains(out, "No errors detected") {
		t.Errorf("sfdisk --verify:\n%s", out)
	}
	table := run("sfdisk", "--dump", path)
	for _, want := range []string{
		"label: gpt",
		"start=        2048, size=      131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
		`name="EFI system partition"`,
		"start=      133120, size=       32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4",
		`name="islet-state"`,
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the partition table has no %q:\n%s", want, table)
		}
	}

	// With the primary header and entries gone, the backup at the
	// disk's end gives the same table.
	broken := filepath.Join(t.TempDir(), "broken.raw")
	run("cp", "--sparse=always", path, broken)
	f, err := os.OpenFile(broken, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, gptSectors*sectorSize), sectorSize)
	f.Close()
	if got := run("sfdisk", "--dump", broken); !strings.Contains(got, "backup appears OK") || !strings.Contains(got, strings.ReplaceAll(table[strings.Index(table, "\n\n"):], path, broken)) {
		t.Errorf("the backup table:\n%s\nwant the partitions of:\n%s", got, table)
	}

	esp := filepath.Join(t.TempDir(), "esp.img")
	disk := ends(t, path)
	if err := os.WriteFile(esp, disk[1<<20:65<<20], 0o644); err != nil {
		t.Fatal(err)
	}
	// 11: five files, five folders and the volume label.
	if out := run("fsck.fat", "-n", "-v", esp); !strings.Contains(out, "esp.img: 11 files") || !strings.Contains(out, "32 bit entries") || strings.Contains(out, "differ") {
		t.Errorf("fsck.fat:\n%s", out)
	}
	read := func(name string) []byte {
		t.Helper()
		out, err := exec.Command("mcopy", "-n", "-i", esp, "::"+name, "-").Output()
		if err != nil {
			t.Fatalf("mcopy %s: %v", name, err)
		}
		return out
	}
	for name, want := range map[string][]byte{
		"/EFI/BOOT/BOOTX64.EFI":      files["loader"],
		"/islet/vmlinuz":             files["kernel"],
		"/islet/initrd.gz":           files["initramfs"],
		"/loader/loader.conf":        []byte(diskLoaderConf),
		"/loader/entries/islet.conf": []byte("title islet\nlinux /islet/vmlinuz\ninitrd /islet/initrd.gz\noptions console=ttyS0 islet.x=y\n"),
	} {
		if got := read(name); !bytes.Equal(got, want) {
			t.Errorf("%s: %d octets, want %d (%.80q)", name, len(got), len(want), got)
		}
	}
	// Long names are kept as written, lower case included.
	if out := run("mdir", "-i", esp, "-b", "::/loader/entries"); !strings.Contains(out, "islet.conf") {
		t.Errorf("mdir: %s", out)
	}
	if out := run("blkid", "-p", "-O", "68157440", path); !strings.Contains(out, `LABEL="islet-state"`) || !strings.Contains(out, `TYPE="ext4"`) {
		t.Errorf("the state partition: %s", out)
	}

	// Again, from the same files: the ESP and the table are the same.
	again, _ := writeTestDisk(t, 16<<20)
	if !bytes.Equal(disk, ends(t, again)) {
		t.Error("two disk images of the same files differ outside the state partition")
	}
}

// ends reads a disk image's first 65 MiB (the table and the ESP) and
// its last 33 sectors (the backup table).
func ends(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b := make([]byte, 65<<20+33<<9)
	if _, err := f.ReadAt(b[:65<<20], 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(b[65<<20:], st.Size()-33<<9); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDiskImageWithoutState: --state-disk 0 leaves the state partition
// out.
func TestDiskImageWithoutState(t *testing.T) {
	testpeer.Require(t, "sfdisk")
	path, _ := writeTestDisk(t, 0)
	out, err := exec.Command("sfdisk", "--dump", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "islet-state") || !strings.Contains(string(out), "EFI system partition") {
		t.Errorf("sfdisk --dump: %v\n%s", err, out)
	}
}

// TestShortNames: names an 8.3 entry can hold, in either case, and the
// ones that need a long name.
func TestShortNames(t *testing.T) {
	for _, tc := range []struct {
		in    string
		short string
		case_ byte
		ok    bool
	}{
		{"BOOTX64.EFI", "BOOTX64 EFI", 0, true},
		{"vmlinuz", "VMLINUZ    ", caseLowBase, true},
		{"initrd.gz", "INITRD  GZ ", caseLowBase | caseLowExt, true},
		{"Boot.efi", "", 0, false},      // mixed case
		{"loader.conf", "", 0, false},   // a four-letter extension
		{"averylongname", "", 0, false}, // nine letters
		{"a b", "", 0, false},
	} {
		name, c, err := shortName(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("shortName(%q): %v", tc.in, err)
			continue
		}
		if tc.ok && (string(name[:]) != tc.short || c != tc.case_) {
			t.Errorf("shortName(%q) = %q %#x, want %q %#x", tc.in, name, c, tc.short, tc.case_)
		}
	}
	n := &fatNode{dir: true}
	for _, f := range []string{"loader.conf", "loader.confx", "LOADER~1.CON"} {
		if err := n.add([]string{f}, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, c := range n.children {
		got = append(got, string(c.name[:])+"="+c.display())
	}
	// The third is an 8.3 name, but the first's alias has it: it gets
	// a long name and an alias of its own.
	want := "LOADER~1CON=loader.conf LOADER~2CON=loader.confx LOADER~3CON=LOADER~1.CON"
	if strings.Join(got, " ") != want {
		t.Errorf("names: %q, want %q", strings.Join(got, " "), want)
	}
	if err := n.add([]string{"loader.conf"}, nil); err == nil {
		t.Error("the same name twice in a folder was accepted")
	}
}
