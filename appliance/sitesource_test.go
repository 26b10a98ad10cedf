//go:build !guest

package appliance

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRenderedSiteClose: a rendered site reads its static files from
// the source tree while it is served, and Close lets the tree go (each
// render held it open for good).
func TestRenderedSiteClose(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "index.md"), []byte("---\n---\nhi\n"), 0o644)
	os.WriteFile(filepath.Join(src, "big.txt"), []byte("a static file, read when served\n"), 0o644)
	r, err := RenderSite(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(r.FS(), "big.txt"); err != nil {
		t.Fatalf("static file while served: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(r.FS(), "big.txt"); err == nil {
		t.Error("the source tree is still open after Close")
	}
}
