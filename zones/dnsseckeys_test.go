package zones_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// TestKeyStore checks that a key made once is the key used ever after,
// in files BIND's tools read (their names and contents: the tests with
// the peers sign with them and check the DS), and that the algorithm
// asked for is the one made.
func TestKeyStore(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			ks, err := zones.OpenKeyStore(dir, alg)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
			first, err := ks.Keys("Example.ORG", now)
			if err != nil || len(first) != 1 {
				t.Fatalf("keys: %v, %v", first, err)
			}
			k := first[0]
			if k.DNSKEY.Flags != 257 || k.DNSKEY.Algorithm != alg || !k.SEP() {
				t.Errorf("new key: flags %d, algorithm %d", k.DNSKEY.Flags, k.DNSKEY.Algorithm)
			}
			base := filepath.Join(dir, fmt.Sprintf("Kexample.org.+%03d+%05d", alg, k.Tag()))
			if k.File != base+".key" {
				t.Errorf("key file %s, want %s.key", k.File, base)
			}
			st, err := os.Stat(base + ".private")
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf(".private: %v, %v", st, err)
			}
			// A new store on the same folder, as after a restart.
			ks2, err := zones.OpenKeyStore(dir, dns.ED25519)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ks2.Keys("example.org.", now.Add(time.Hour))
			if err != nil || len(again) != 1 || again[0].DNSKEY.String() != k.DNSKEY.String() {
				t.Fatalf("after a restart: %v, %v; want the same key %s", again, err, k.DNSKEY)
			}
			if ds := again[0].DS(); ds.KeyTag != k.Tag() || ds.DigestType != dns.SHA256 || ds.Hdr.Name != "example.org." {
				t.Errorf("DS %s", ds)
			}
			zonesWithKeys, err := zones.KeyZones(dir)
			if err != nil || strings.Join(zonesWithKeys, " ") != "example.org." {
				t.Errorf("KeyZones: %v, %v", zonesWithKeys, err)
			}
		})
	}
}

// TestBadKeys checks that each kind of bad key file gets an error that
// names the file and what is wrong, and that a zone is not signed with
// it.
func TestBadKeys(t *testing.T) {
	// two good keys to break
	src := t.TempDir()
	ks, err := zones.OpenKeyStore(src, dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a, err := ks.Keys("a.example.", now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ks.Keys("b.example.", now)
	if err != nil {
		t.Fatal(err)
	}
	read := func(f string) string {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	priv := func(k *zones.SigningKey) string { return strings.TrimSuffix(k.File, ".key") + ".private" }
	keyA, privA, privB := read(a[0].File), read(priv(a[0])), read(priv(b[0]))
	for _, tc := range []struct {
		name      string
		key, priv string
		privMode  os.FileMode
		want      string
	}{
		{"readable by others", keyA, privA, 0o644, "readable by others"},
		{"not its key", keyA, privB, 0o600, "does not match the DNSKEY"},
		{"algorithm differs", keyA, strings.Replace(privA, "Algorithm: 13", "Algorithm: 15", 1), 0o600, "algorithm 15"},
		{"unsupported algorithm", strings.Replace(keyA, "257 3 13", "257 3 1", 1), privA, 0o600, "algorithm 1 (RSAMD5) is not one islet signs with"},
		{"not a DNSKEY", strings.Replace(keyA, "DNSKEY 257 3 13", "TXT", 1), privA, 0o600, "one DNSKEY record"},
		{"bad timing", keyA, privA + "Activate: soon\n", 0o600, "Activate: want YYYYMMDDHHMMSS"},
		{"no private file", keyA, "", 0, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base := filepath.Join(dir, filepath.Base(strings.TrimSuffix(a[0].File, ".key")))
			if err := os.WriteFile(base+".key", []byte(tc.key), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.privMode != 0 {
				if err := os.WriteFile(base+".private", []byte(tc.priv), tc.privMode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(base+".private", tc.privMode)
			}
			_, err := zones.ReadKey(base + ".key")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("ReadKey: %v; want an error naming the file and %q", err, tc.want)
			}
			// The signer refuses the zone rather than make a new key.
			z := mustZone(t, "a.example.", "@ 3600 IN SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n")
			store, err := zones.OpenKeyStore(dir, dns.ECDSAP256SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := zones.NewSigner(store, zones.SignOptions{}).Sign(z, nil); err == nil {
				t.Errorf("signed with a bad key")
			}
		})
	}
}

// mustZone builds a zone from text.
func mustZone(t testing.TB, origin, text string) *zones.Zone {
	t.Helper()
	var rrs []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "test")
	zp.SetDefaultTTL(3600)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	z, _, err := zones.Build(origin, "test", rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}
