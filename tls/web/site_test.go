package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/andybalholm/brotli"
)

var page = strings.Repeat("<p>islet serves this page.</p>\n", 40)

func testSite(t *testing.T) *Site {
	t.Helper()
	fsys := fstest.MapFS{
		"index.html":               {Data: []byte("<h1>home</h1>" + page)},
		"about/index.html":         {Data: []byte("<h1>about</h1>")},
		"contact.html":             {Data: []byte("<h1>contact</h1>")},
		"404.html":                 {Data: []byte("<h1>not here</h1>")},
		"assets/main.3f2a9c1e.css": {Data: []byte("body{}" + strings.Repeat(" p{margin:0}", 100))},
		"files/data.bin":           {Data: []byte("0123456789abcdefghij")},
		"old/index.html":           {Data: []byte(`<!DOCTYPE html><html lang="en-US"><meta charset="utf-8"><title>Redirecting&hellip;</title><link rel="canonical" href="https://example.org/new/"><meta http-equiv="refresh" content="0; url=https://example.org/new/"><h1>Redirecting&hellip;</h1></html>`)},
	}
	s, err := NewSite(fsys, SiteOptions{ModTime: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestSiteURLs(t *testing.T) {
	s := testSite(t)
	tests := []struct {
		name, method, target string
		status               int
		location, body       string
	}{
		{"root", "GET", "/", 200, "", "<h1>home</h1>"},
		{"index.html served, not redirected", "GET", "/index.html", 200, "", "<h1>home</h1>"},
		{"directory without slash", "GET", "/about?x=1", 301, "/about/?x=1", ""},
		{"directory", "GET", "/about/", 200, "", "<h1>about</h1>"},
		{"extensionless html", "GET", "/contact", 200, "", "<h1>contact</h1>"},
		{"missing", "GET", "/nope", 404, "", "<h1>not here</h1>"},
		{"missing dir", "GET", "/nope/", 404, "", "<h1>not here</h1>"},
		{"redirect stub", "GET", "/old/", 301, "https://example.org/new/", ""},
		{"dot dot encoded", "GET", "/%2e%2e/etc/passwd", 400, "", ""},
		{"dot dot inside", "GET", "/about/..%2f..%2fsecret", 400, "", ""},
		{"NUL", "GET", "/index.html%00.txt", 400, "", ""},
		{"backslash", "GET", "/..%5c..%5csecret", 400, "", ""},
		{"double slash", "GET", "//etc/passwd", 404, "", ""},
		{"POST", "POST", "/", 405, "", ""},
		{"HEAD has no body", "HEAD", "/", 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(s, tc.method, tc.target)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %q", w.Code, tc.status, w.Body.String())
			}
			if loc := w.Header().Get("Location"); loc != tc.location {
				t.Errorf("Location %q, want %q", loc, tc.location)
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body %q lacks %q", w.Body.String(), tc.body)
			}
			if tc.method == "HEAD" && w.Body.Len() != 0 {
				t.Errorf("HEAD answered with a body")
			}
		})
	}
}

func TestSiteHeadersAndConditionals(t *testing.T) {
	s := testSite(t)
	w := get(s, "GET", "/")
	h := w.Header()
	if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-cache" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", h)
	}
	etag := h.Get("Etag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q", etag)
	}
	if lm := h.Get("Last-Modified"); lm != "Sun, 01 Nov 2026 00:00:00 GMT" {
		t.Errorf("Last-Modified %q", lm)
	}
	if w := get(s, "GET", "/", "If-None-Match", etag); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := get(s, "GET", "/", "If-Modified-Since", "Mon, 02 Nov 2026 00:00:00 GMT"); w.Code != 304 {
		t.Errorf("If-Modified-Since: %d", w.Code)
	}
	if w := get(s, "GET", "/files/data.bin", "Range", "bytes=10-14"); w.Code != 206 || w.Body.String() != "abcde" || w.Header().Get("Content-Range") != "bytes 10-14/20" {
		t.Errorf("Range: %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Range"))
	}
	if w := get(s, "GET", "/assets/main.3f2a9c1e.css"); w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("fingerprinted asset Cache-Control %q", w.Header().Get("Cache-Control"))
	}
	if w := get(s, "GET", "/files/data.bin"); w.Header().Get("Cache-Control") != "public, max-age=3600" || w.Header().Get("Content-Type") != "application/octet-stream" {
		t.Errorf("other file headers %v", w.Header())
	}
}

func TestSiteCompression(t *testing.T) {
	s := testSite(t)
	want := "<h1>home</h1>" + page
	decode := map[string]func(io.Reader) io.Reader{
		"br":   func(r io.Reader) io.Reader { return brotli.NewReader(r) },
		"gzip": func(r io.Reader) io.Reader { z, _ := gzip.NewReader(r); return z },
		"":     func(r io.Reader) io.Reader { return r },
	}
	for _, tc := range []struct{ accept, enc string }{
		{"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"br;q=0, gzip", "gzip"}, {"*", "br"},
		{"identity", ""}, {"", ""}, {"gzip;q=0", ""}, {"*;q=0, gzip;q=0.5", "gzip"},
	} {
		w := get(s, "GET", "/", "Accept-Encoding", tc.accept)
		if got := w.Header().Get("Content-Encoding"); got != tc.enc {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.enc)
			continue
		}
		body, err := io.ReadAll(decode[tc.enc](bytes.NewReader(w.Body.Bytes())))
		if err != nil || string(body) != want {
			t.Errorf("Accept-Encoding %q: body does not decode to the page (%v)", tc.accept, err)
		}
		if w.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("no Vary: Accept-Encoding")
		}
		if tc.enc != "" && !strings.HasSuffix(w.Header().Get("Etag"), `-`+map[string]string{"br": "br", "gzip": "gz"}[tc.enc]+`"`) {
			t.Errorf("variant ETag %q", w.Header().Get("Etag"))
		}
	}
	if w := get(s, "GET", "/files/data.bin", "Accept-Encoding", "gzip"); w.Header().Get("Content-Encoding") != "" {
		t.Error("a binary file was compressed")
	}
}

// TestSiteSymlinkEscape: a symlink in the tree pointing outside it is
// not served.
func TestSiteSymlinkEscape(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o644)
	root := filepath.Join(dir, "site")
	os.MkdirAll(root, 0o755)
	os.WriteFile(filepath.Join(root, "index.html"), []byte("home"), 0o644)
	if err := os.Symlink(secret, filepath.Join(root, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	s, err := NewSite(os.DirFS(root), SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := get(s, "GET", "/leak.txt"); w.Code != 404 || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("symlink served: %d %q", w.Code, w.Body.String())
	}
}

func get2(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
