package appliance

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// runSigned runs the appliance on dir's zones, signed with the keys in
// keys, keeping its journal in state, until the test ends or stop is
// called.
func runSigned(t *testing.T, dir, keys, state string, reload chan struct{}, logs *lockedBuffer) (addr string, stop func()) {
	t.Helper()
	ks, err := zones.OpenKeyStore(keys, dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{ZonesDir: dir, DNSAddrs: []string{"127.0.0.1:0"}, UDPSockets: 1, Reload: reload, JournalDir: state,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	opt.DNS.Signer = zones.NewSigner(ks, zones.SignOptions{})
	opt.DNS.AllowTransfer = []zones.TransferACL{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}}
	ready := make(chan Ready, 1)
	opt.Ready = func(r Ready) { ready <- r }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opt) }()
	select {
	case r := <-ready:
		addr = r.DNS[0].String()
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return addr, stop
}

// signedSOA asks for the SOA with DO=1 and returns its serial and the
// signature.
func signedSOA(t *testing.T, addr string) (uint32, string) {
	t.Helper()
	m := new(dns.Msg).SetQuestion("run.example.", dns.TypeSOA)
	m.SetEdns0(1232, true)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var serial uint32
	sig := ""
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.SOA:
			serial = v.Serial
		case *dns.RRSIG:
			sig = v.Signature
		}
	}
	if serial == 0 || sig == "" {
		t.Fatalf("no signed SOA:\n%v", r)
	}
	return serial, sig
}

// TestRunSigns serves a zone islet signs, reloads it unchanged (the same
// serial and signatures), changed under the same serial (a new serial,
// with a warning), with a key that does not match (the old signed zone
// stays), and restarts it on the same keys and state (the version
// served before, unchanged).
func TestRunSigns(t *testing.T) {
	dir, keys, state := t.TempDir(), t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "run.example")
	write := func(txt string) {
		if err := os.WriteFile(file, []byte("$TTL 60\n@ SOA ns hm 7 2 3 4 5\n NS ns\nns A 192.0.2.1\nt TXT \""+txt+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	reload := make(chan struct{})
	var logs lockedBuffer
	addr, stop := runSigned(t, dir, keys, state, reload, &logs)
	serial, sig := signedSOA(t, addr)
	if serial != 7 {
		t.Fatalf("serial %d, want the file's 7", serial)
	}
	reloaded := func(n int) {
		t.Helper()
		reload <- struct{}{}
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(logs.String(), "zones reloaded")+strings.Count(logs.String(), "reload failed") < n {
			if time.Now().After(deadline) {
				t.Fatalf("reload %d not seen:\n%s", n, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	reloaded(1)
	if s2, sig2 := signedSOA(t, addr); s2 != serial || sig2 != sig {
		t.Errorf("reloaded unchanged: serial %d (was %d), signature changed %v", s2, serial, sig2 != sig)
	}
	write("two")
	reloaded(2)
	s3, sig3 := signedSOA(t, addr)
	if s3 == serial || s3-serial >= 1<<31 || sig3 == sig {
		t.Errorf("reloaded changed under the same serial: serial %d (was %d)", s3, serial)
	}
	if !strings.Contains(logs.String(), "is not newer than the 7 served before") {
		t.Errorf("no warning about the serial:\n%s", logs.String())
	}
	// A .private that is not the key's: the reload fails, the zone
	// signed before stays.
	priv, _ := filepath.Glob(filepath.Join(keys, "*.private"))
	if len(priv) != 1 {
		t.Fatalf("keys: %v", priv)
	}
	good, err := os.ReadFile(priv[0])
	if err != nil {
		t.Fatal(err)
	}
	other, err := zones.OpenKeyStore(t.TempDir(), dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := other.Keys("run.example.", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := os.ReadFile(strings.TrimSuffix(ok[0].File, ".key") + ".private")
	os.WriteFile(priv[0], bad, 0o600)
	write("three")
	reloaded(3)
	if !strings.Contains(logs.String(), "reload failed") || !strings.Contains(logs.String(), "does not match the DNSKEY") {
		t.Errorf("no failed reload with the reason:\n%s", logs.String())
	}
	if s4, sig4 := signedSOA(t, addr); s4 != s3 || sig4 != sig3 {
		t.Errorf("after a failed reload: serial %d (want %d)", s4, s3)
	}
	os.WriteFile(priv[0], good, 0o600)
	write("two")
	stop()
	var logs2 lockedBuffer
	addr, _ = runSigned(t, dir, keys, state, make(chan struct{}), &logs2)
	if s5, sig5 := signedSOA(t, addr); s5 != s3 || sig5 != sig3 {
		t.Errorf("after a restart: serial %d (want %d), signature the same %v\n%s", s5, s3, sig5 == sig3, logs2.String())
	}
	if strings.Contains(logs2.String(), "level=WARN") {
		t.Errorf("warnings after a restart:\n%s", logs2.String())
	}
}
