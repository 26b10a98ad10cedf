//go:build peers

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/dnspeer"
)

// TestServeSecondary: "islet serve" with a keys file, a transfer ACL
// and a NOTIFY target feeds an NSD secondary: the first transfer at
// NSD's start, and after an edit and SIGHUP the new serial, driven by
// islet's NOTIFY.
func TestServeSecondary(t *testing.T) {
	bin := buildIslet(t)
	dir := t.TempDir()
	zones := filepath.Join(dir, "zones")
	os.Mkdir(zones, 0o755)
	zone := func(serial int) {
		text := fmt.Sprintf("$TTL 60\n@ SOA ns hm %d 3600 600 86400 60\n NS ns\nns A 192.0.2.1\ninfo TXT \"serial %d\"\n", serial, serial)
		if err := os.WriteFile(filepath.Join(zones, "xfr.example"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zone(1)
	const secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="
	keys := filepath.Join(dir, "tsig.keys")
	if err := os.WriteFile(keys, []byte("# secondaries\nhmac-sha256:xfr.key.:"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port, nsdPort := dnspeer.FreePort(t), dnspeer.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve", "--zones", zones, "--dns", addr, "--https", "", "--http", "",
		"--tsig-keys", keys, "--allow-transfer", "127.0.0.1@xfr.key", "--notify", fmt.Sprintf("127.0.0.1:%d@xfr.key", nsdPort))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	serial := func(a string) uint32 {
		r, err := dns.Exchange(new(dns.Msg).SetQuestion("xfr.example.", dns.TypeSOA), a)
		if err != nil || len(r.Answer) == 0 {
			return 0
		}
		return r.Answer[0].(*dns.SOA).Serial
	}
	for i := 0; serial(addr) != 1; i++ {
		if i == 250 {
			t.Fatalf("islet does not answer; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	nsd := dnspeer.StartNSDSecondary(t, nsdPort, "xfr.example.", addr,
		dnspeer.Key{Name: "xfr.key.", Algorithm: "hmac-sha256", Secret: secret})
	zone(2)
	cmd.Process.Signal(syscall.SIGHUP)
	start := time.Now()
	for serial(nsd) != 2 {
		if time.Since(start) > 3*time.Second {
			t.Fatalf("NSD serves serial %d 3 s after the reload; islet's log:\n%s", serial(nsd), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if log := stderr.String(); !strings.Contains(log, `msg="zone transferred"`) || !strings.Contains(log, "key=xfr.key.") {
		t.Errorf("the transfers were not logged with their key:\n%s", log)
	}
}
