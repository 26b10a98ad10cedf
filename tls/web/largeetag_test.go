package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// gateFS holds the first reader of one file until release is closed,
// and says on waiting when it is held.
type gateFS struct {
	fs.FS
	name    string
	once    sync.Once
	waiting chan struct{}
	release chan struct{}
}

type gatedFile struct {
	fs.File
	g *gateFS
}

// held waits until the gated file's first read is held.
func (g *gateFS) held(t *testing.T) {
	t.Helper()
	select {
	case <-g.waiting:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s was never read for its ETag", g.name)
	}
}

func (g *gateFS) Open(name string) (fs.File, error) {
	f, err := g.FS.Open(name)
	if err != nil || name != g.name {
		return f, err
	}
	return &gatedFile{File: f, g: g}, nil
}

func (f *gatedFile) Read(p []byte) (int, error) {
	first := false
	f.g.once.Do(func() { first = true })
	if first {
		close(f.g.waiting)
		<-f.g.release
	}
	return f.File.Read(p)
}

func (f *gatedFile) Seek(off int64, whence int) (int64, error) {
	return f.File.(io.Seeker).Seek(off, whence)
}

// TestLargeFileETagAfterStart: a large file's content is hashed for its
// ETag after NewSite returns, not before; meanwhile it is served whole,
// without an ETag, and afterwards with the one its content gives, which
// a conditional request then matches.
func TestLargeFileETagAfterStart(t *testing.T) {
	data := bytes.Repeat([]byte("large file "), maxInMemory/10)
	g := &gateFS{FS: fstest.MapFS{"big.bin": {Data: data}}, name: "big.bin", waiting: make(chan struct{}), release: make(chan struct{})}
	made := make(chan *Site, 1)
	go func() {
		s, err := NewSite(g, SiteOptions{})
		if err != nil {
			t.Error(err)
		}
		made <- s
	}()
	var s *Site
	select {
	case s = <-made:
	case <-time.After(5 * time.Second):
		close(g.release)
		t.Fatal("NewSite waited for a large file to be read")
	}
	if s == nil {
		t.FailNow()
	}
	g.held(t) // the hashing holds the first read
	w := get(s, "GET", "/big.bin")
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) || w.Header().Get("Etag") != "" {
		t.Errorf("while hashing: %d, %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("Etag"))
	}
	close(g.release)
	sum := sha256.Sum256(data)
	want := `"` + hex.EncodeToString(sum[:12]) + `"`
	deadline := time.Now().Add(5 * time.Second)
	for s.files["big.bin"].largeETag.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the large file got no ETag")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if w := get(s, "GET", "/big.bin"); w.Header().Get("Etag") != want || w.Header().Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Errorf("after hashing: ETag %q, want %q; Content-Length %q", w.Header().Get("Etag"), want, w.Header().Get("Content-Length"))
	}
	if w := get(s, "GET", "/big.bin", "If-None-Match", want); w.Code != 304 {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}
}

// TestLargeFileCompressedSiblings: a large file's build-time .gz,
// small, is served with its length and an ETag of its own before the
// large file is hashed.
func TestLargeFileCompressedSiblings(t *testing.T) {
	data := []byte(strings.Repeat("function f() { return 1; }\n", maxInMemory/20))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	g := &gateFS{FS: fstest.MapFS{"app.js": {Data: data}, "app.js.gz": {Data: gz.Bytes()}, "app.js.br": {Data: []byte("not brotli, never chosen here")}},
		name: "app.js", waiting: make(chan struct{}), release: make(chan struct{})}
	defer close(g.release)
	s, err := NewSite(g, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.held(t) // the hashing holds the first read
	w := get(s, "GET", "/app.js", "Accept-Encoding", "gzip")
	if w.Header().Get("Content-Encoding") != "gzip" || !bytes.Equal(w.Body.Bytes(), gz.Bytes()) ||
		w.Header().Get("Content-Length") != strconv.Itoa(gz.Len()) || !strings.HasSuffix(w.Header().Get("Etag"), `-gz"`) {
		t.Errorf("gzip variant: %q, %d bytes, Content-Length %q, ETag %q", w.Header().Get("Content-Encoding"), w.Body.Len(), w.Header().Get("Content-Length"), w.Header().Get("Etag"))
	}
}

// TestSiteCloseStopsHashing: Close ends the hashing of large files,
// mid-file, and waits for it; a second Close is harmless.
func TestSiteCloseStopsHashing(t *testing.T) {
	data := bytes.Repeat([]byte("large file "), maxInMemory/10)
	g := &gateFS{FS: fstest.MapFS{"a.bin": {Data: data}, "b.bin": {Data: data}}, name: "a.bin", waiting: make(chan struct{}), release: make(chan struct{})}
	s, err := NewSite(g, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.held(t) // the hashing holds the first read
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while the hashing was still reading")
	case <-time.After(50 * time.Millisecond):
	}
	close(g.release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if s.files["a.bin"].largeETag.Load() != nil {
		t.Error("a.bin was hashed to the end after Close")
	}
	s.Close()
	if w := get(s, "GET", "/a.bin"); w.Code != 200 || w.Body.Len() != len(data) {
		t.Errorf("a closed site serves %d, %d bytes", w.Code, w.Body.Len())
	}
}
