package zones_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"islet.dev/islet/zones"
)

// TestLoadFixtures loads each testdata/load/*.txtar as a zones folder and
// compares the diagnostics and the loaded records with its want file.
func TestLoadFixtures(t *testing.T) {
	paths, _ := filepath.Glob("testdata/load/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			a := readArchive(t, path)
			dir := t.TempDir()
			zonesDir := filepath.Join(dir, "zones")
			a.writeFiles(t, zonesDir)
			root, err := os.OpenRoot(zonesDir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			set, diags, err := zones.LoadFS(root.FS(), "zones")
			var b strings.Builder
			for _, d := range diags {
				fmt.Fprintln(&b, d)
			}
			if (err != nil) != diags.HasErrors() {
				t.Errorf("err = %v but diagnostics have errors = %v", err, diags.HasErrors())
			}
			if set != nil {
				for _, z := range set.Zones() {
					fmt.Fprintf(&b, "zone %s serial %d: %d records\n", z.Origin, z.Serial(), z.Records())
					for _, rr := range z.RRs() {
						fmt.Fprintln(&b, strings.Join(strings.Fields(rr.String()), " "))
					}
				}
			}
			a.checkWant(t, path, b.String())
		})
	}
}

// TestIncludeSymlinkEscape: a symlink inside the zones folder pointing
// outside it is refused like a "../" path.
func TestIncludeSymlinkEscape(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "secret.inc")
	os.WriteFile(outside, []byte("www A 192.0.2.9\n"), 0o644)
	zonesDir := filepath.Join(dir, "zones")
	os.MkdirAll(zonesDir, 0o755)
	if err := os.Symlink(outside, filepath.Join(zonesDir, "link.inc")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(zonesDir, "x.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n$INCLUDE link.inc\n"), 0o644)
	_, diags, err := zones.LoadDir(zonesDir)
	if err == nil {
		t.Fatal("a symlink escaping the zones folder was followed")
	}
	if len(diags) != 1 || diags[0].Line != 5 || !strings.Contains(diags[0].Msg, "$INCLUDE") {
		t.Fatalf("diagnostics = %v", diags)
	}
}
