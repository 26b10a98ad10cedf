package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/testpeer"
	"islet.dev/islet/zones"
)

// TestDNSSECDS prints the DS records of a folder's keys, every zone's
// or one's, as BIND's dnssec-dsfromkey prints them from the same .key
// file.
func TestDNSSECDS(t *testing.T) {
	dir := t.TempDir()
	ks, err := zones.OpenKeyStore(dir, dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, z := range []string{"a.example.", "b.example."} {
		k, err := ks.Keys(z, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k[0].DS().String())
		if bin, ok := testpeer.Look("dnssec-dsfromkey"); ok {
			out, err := exec.Command(bin, "-2", k[0].File).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(strings.Fields(string(out)), " "); got != strings.Join(strings.Fields(strings.Replace(want[len(want)-1], "3600\t", "", 1)), " ") {
				t.Errorf("dnssec-dsfromkey says %s, islet %s", got, want[len(want)-1])
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"dnssec", "ds", dir}, &out, &errb); code != 0 || out.String() != strings.Join(want, "\n")+"\n" {
		t.Errorf("dnssec ds: exit %d\n%s%s\nwant\n%s", code, out.String(), errb.String(), strings.Join(want, "\n"))
	}
	out.Reset()
	if code := run([]string{"dnssec", "ds", dir, "B.example"}, &out, &errb); code != 0 || out.String() != want[1]+"\n" {
		t.Errorf("dnssec ds ZONE: exit %d %q", code, out.String())
	}
	for _, args := range [][]string{{"dnssec", "ds", t.TempDir()}, {"dnssec", "ds", dir, "c.example"}, {"dnssec"}, {"dnssec", "sign"}} {
		errb.Reset()
		if code := run(args, &out, &errb); code == 0 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
}

// badFlag is a set of serve flags and the error they must give.
type badFlag struct {
	args []string
	want string
}

// serveRefuses runs "islet serve" on a small zone with each case's flags
// and checks that it stops with the case's error.
func serveRefuses(t *testing.T, cases []badFlag) {
	t.Helper()
	for _, tc := range cases {
		zonesDir := t.TempDir()
		os.WriteFile(filepath.Join(zonesDir, "x.example"), []byte("@ 60 SOA ns hm 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\n"), 0o644)
		var out, errb bytes.Buffer
		code := run(append([]string{"serve", "--zones", zonesDir, "--dns", "127.0.0.1:0", "--https", "", "--http", ""}, tc.args...), &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want an error holding %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

func TestServeBadDNSSECFlags(t *testing.T) {
	keys := t.TempDir()
	os.WriteFile(filepath.Join(keys, "Kx.example.+013+00001.key"), []byte("x.example. IN DNSKEY 257 3 13 AAAA\n"), 0o644)
	os.WriteFile(filepath.Join(keys, "Kx.example.+013+00001.private"), []byte("Private-key-format: v1.3\n"), 0o644)
	serveRefuses(t, []badFlag{
		{[]string{"--dnssec-keys", t.TempDir(), "--dnssec-algorithm", "rsamd5"}, "--dnssec-algorithm"},
		{[]string{"--dnssec-keys", t.TempDir(), "--dnssec-denial", "nsec5"}, "--dnssec-denial"},
		{[]string{"--dnssec-keys", keys}, "Kx.example.+013+00001.private: holds a private key but is readable by others"},
	})
}

func TestServeBadRRLFlags(t *testing.T) {
	serveRefuses(t, []badFlag{
		{[]string{"--rrl", "-1"}, "--rrl: -1 is below 0"},
		{[]string{"--rrl-exempt", "192.0.2.0/33"}, "--rrl-exempt"},
	})
}
