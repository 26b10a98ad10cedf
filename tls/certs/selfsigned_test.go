package certs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSelfSignedKept: with a certificate cache, a restart serves the
// same self-signed certificate; other names, or a damaged file, make a
// new one; without a cache every start makes its own.
func TestSelfSignedKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	start := func(cache string, names ...string) []byte {
		t.Helper()
		c, err := New(Config{Names: names, CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		return c.self.Certificate[0]
	}
	first := start(dir, "a.example", "www.a.example")
	if again := start(dir, "a.example", "www.a.example"); !bytes.Equal(first, again) {
		t.Error("a restart with the same cache made a new self-signed certificate")
	}
	if fi, err := os.Stat(filepath.Join(dir, selfSignedFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kept key: %v %v", fi, err)
	}
	other := start(dir, "b.example")
	if bytes.Equal(first, other) {
		t.Error("other names got the kept certificate")
	}
	if again := start(dir, "b.example"); !bytes.Equal(other, again) {
		t.Error("the certificate for the new names was not kept")
	}
	os.WriteFile(filepath.Join(dir, selfSignedFile), []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o600)
	if fresh := start(dir, "b.example"); bytes.Equal(fresh, other) || len(fresh) == 0 {
		t.Error("a damaged kept certificate was not replaced")
	}
	if bytes.Equal(start("", "a.example"), start("", "a.example")) {
		t.Error("without a cache two starts served the same certificate")
	}
}
