package appliance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"islet.dev/islet/zones"
)

// TestDNSSECConfig reads each form of islet.yml's dnssec, and refuses
// bad values with the line.
func TestDNSSECConfig(t *testing.T) {
	for _, tc := range []struct {
		yml     string
		zones   string // joined
		denial  zones.Denial
		alg     uint8
		keys    string
		wantErr string
	}{
		{yml: "", zones: ""},
		{yml: "dnssec: sign\n", zones: "*", alg: 13},
		{yml: "dnssec: off\n", zones: ""},
		{yml: "dnssec:\n  denial: nsec3\n", zones: "*", denial: zones.DenyNSEC3, alg: 13},
		{yml: "dnssec:\n  sign: [example.org, Example.NET.]\n  algorithm: ed25519\n", zones: "example.org. example.net.", alg: 15},
		{yml: "dnssec:\n  sign: all\n  keys: keys/\n", zones: "*", alg: 13, keys: "keys"},
		{yml: "dnssec: yes please\n", wantErr: "islet.yml:1: dnssec: \"yes please\": want sign, off or a mapping"},
		{yml: "dnssec:\n  denial: nsec5\n", wantErr: "islet.yml:2: dnssec: DNSSEC denial \"nsec5\""},
		{yml: "dnssec:\n  algorithm: rsamd5\n", wantErr: "islet.yml:2: dnssec: DNSSEC algorithm \"rsamd5\""},
		{yml: "dnssec:\n  sgin: all\n", wantErr: "islet.yml:2: field sgin not found"},
	} {
		t.Run(tc.yml, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.yml), 0o644)
			c, err := LoadConfig(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := c.DNSSEC
			if got := strings.Join(d.Zones, " "); got != tc.zones || d.Enabled() != (tc.zones != "") {
				t.Errorf("zones %q, enabled %v; want %q", got, d.Enabled(), tc.zones)
			}
			if !d.Enabled() {
				return
			}
			if d.SignerOptions().Denial != tc.denial || d.AlgorithmNumber() != tc.alg {
				t.Errorf("denial %v, algorithm %d", d.SignerOptions().Denial, d.AlgorithmNumber())
			}
			if want := map[bool]string{true: filepath.Join(dir, tc.keys), false: ""}[tc.keys != ""]; c.KeysDir() != want {
				t.Errorf("keys %q, want %q", c.KeysDir(), want)
			}
		})
	}
}

// TestDNSSECKeysFolder checks that only a folder of its own can be
// baked into the image, and that it goes into the image data, with
// nothing else new.
func TestDNSSECKeysFolder(t *testing.T) {
	for _, keys := range []string{"../keys", "/etc/keys", "zones/keys", "_build/keys", ".keys", "."} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, ConfigFile), []byte("dnssec:\n  keys: "+keys+"\n"), 0o644)
		c, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if errs := c.Check(); !strings.Contains(fmt.Sprint(errs), "dnssec: keys: \""+keys+"\" must be a folder of its own") {
			t.Errorf("keys: %s accepted: %v", keys, errs)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte("dnssec:\n  keys: secrets/dnssec\n"), 0o644)
	for _, f := range []string{"zones/a.example", "secrets/dnssec/Ka.example.+013+00001.private", "secrets/other", "notes.txt"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
	}
	c, _ := LoadConfig(dir)
	if errs := c.Check(); strings.Contains(fmt.Sprint(errs), "dnssec") {
		t.Fatalf("check: %v", errs)
	}
	var got []string
	data := ImageData(dir, nil)
	for _, f := range []string{"zones/a.example", "secrets/dnssec/Ka.example.+013+00001.private", "secrets/other", "notes.txt"} {
		if _, err := data.Open(f); err == nil {
			got = append(got, f)
		}
	}
	if strings.Join(got, " ") != "zones/a.example secrets/dnssec/Ka.example.+013+00001.private" {
		t.Errorf("image data holds %v", got)
	}
}
