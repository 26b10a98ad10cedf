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
// NSD's start (AXFR), and after an edit and SIGHUP the new serial,
// driven by islet's NOTIFY, by IXFR; an edit that kept the serial is
// served, and followed, under a later one. The same with the zone
// signed by islet (--dnssec-keys): NSD serves it with signatures that
// verify with islet's DNSKEY.
func TestServeSecondary(t *testing.T) {
	bin := buildIslet(t)
	for _, signed := range []bool{false, true} {
		t.Run(map[bool]string{false: "unsigned", true: "signed"}[signed], func(t *testing.T) {
			serveSecondary(t, bin, signed)
		})
	}
}

func serveSecondary(t *testing.T, bin string, signed bool) {
	dir := t.TempDir()
	zones := filepath.Join(dir, "zones")
	os.Mkdir(zones, 0o755)
	zone := func(serial int, info string) {
		text := fmt.Sprintf("$TTL 60\n@ SOA ns hm %d 3600 600 86400 60\n NS ns\nns A 192.0.2.1\ninfo TXT %q\n", serial, info)
		if err := os.WriteFile(filepath.Join(zones, "xfr.example"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zone(1, "first")
	const secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="
	keys := filepath.Join(dir, "tsig.keys")
	if err := os.WriteFile(keys, []byte("# secondaries\nhmac-sha256:xfr.key.:"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port, nsdPort := dnspeer.FreePort(t), dnspeer.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"serve", "--zones", zones, "--dns", addr, "--https", "", "--http", "",
		"--tsig-keys", keys, "--allow-transfer", "127.0.0.1@xfr.key", "--notify", fmt.Sprintf("127.0.0.1:%d@xfr.key", nsdPort)}
	changed := "changed but its serial 2 is not newer than the 2 served before: serving it as serial"
	if signed {
		args = append(args, "--dnssec-keys", filepath.Join(dir, "dnssec"))
		changed = "changed but its serial 2 is not newer than the 2 served before: serving it signed as serial"
	}
	cmd := exec.Command(bin, args...)
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
	follow := func(want func(uint32) bool) {
		t.Helper()
		cmd.Process.Signal(syscall.SIGHUP)
		start := time.Now()
		for !want(serial(nsd)) || serial(nsd) != serial(addr) {
			if time.Since(start) > 3*time.Second {
				t.Fatalf("NSD serves serial %d, islet %d, 3 s after the reload; islet's log:\n%s", serial(nsd), serial(addr), stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	zone(2, "second")
	follow(func(s uint32) bool { return s == 2 })
	// changed, and the serial forgotten: islet serves a later one
	zone(2, "third")
	follow(func(s uint32) bool { return s > 2 })
	log := stderr.String()
	for _, want := range []string{`type=AXFR`, `type="IXFR, 1 changes"`, "key=xfr.key.", changed} {
		if !strings.Contains(log, want) {
			t.Errorf("islet's log lacks %q:\n%s", want, log)
		}
	}
	q := new(dns.Msg).SetQuestion("info.xfr.example.", dns.TypeTXT)
	q.SetEdns0(1232, signed)
	r, err := dns.Exchange(q, nsd)
	if err != nil || len(r.Answer) == 0 || r.Answer[0].(*dns.TXT).Txt[0] != "third" {
		t.Fatalf("NSD answers %v, %v; want the third version", r, err)
	}
	if !signed {
		return
	}
	kq := new(dns.Msg).SetQuestion("xfr.example.", dns.TypeDNSKEY)
	kq.SetEdns0(1232, true)
	kr, err := dns.Exchange(kq, addr)
	if err != nil || len(kr.Answer) == 0 || len(r.Answer) != 2 {
		t.Fatalf("DNSKEY %v %v; NSD's TXT answer:\n%v", kr, err, r)
	}
	if err := r.Answer[1].(*dns.RRSIG).Verify(kr.Answer[0].(*dns.DNSKEY), r.Answer[:1]); err != nil {
		t.Errorf("NSD's copy of the signed zone: the TXT's RRSIG does not verify with islet's DNSKEY: %v", err)
	}
}
