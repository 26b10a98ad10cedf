//go:build !guest

package appliance

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderedSiteClose: a rendered site reads its static files from
// the source tree while it is served, and Close lets the tree go (each
// render held it open for good).
func TestRenderedSiteClose(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "index.md"), []byte("---\n---\nhi\n"), 0o644)
	os.WriteFile(filepath.Join(src, "big.txt"), []byte("a static file, read when served\n"), 0o644)
	r, err := RenderSite(context.Background(), src, false, nil)
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

// TestRenderedHeadersChecked: a site whose _headers file is bad does
// not render (islet build stops there, not the appliance at its start).
func TestRenderedHeadersChecked(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "_config.yml"), []byte("include: [_headers]\n"), 0o644)
	os.WriteFile(filepath.Join(src, "index.md"), []byte("---\n---\nhi\n"), 0o644)
	os.WriteFile(filepath.Join(src, "_headers"), []byte("/*\n  X-Frame-Options: DENY\n"), 0o644)
	r, err := RenderSite(context.Background(), src, false, nil)
	if err != nil {
		t.Fatalf("a good _headers: %v", err)
	}
	if _, err := fs.ReadFile(r.FS(), "_headers"); err != nil {
		t.Errorf("the rendered site has no _headers: %v", err)
	}
	r.Close()
	os.WriteFile(filepath.Join(src, "_headers"), []byte("/*\n  X-Frame-Options: DENY\n  Content-Length: 3\n"), 0o644)
	if _, err := RenderSite(context.Background(), src, false, nil); err == nil || !strings.Contains(err.Error(), "_headers:3: header Content-Length") {
		t.Errorf("a bad _headers: error %v, want _headers:3", err)
	}
}
