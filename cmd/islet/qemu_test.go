//go:build peers

package main

import (
	"bufio"
	"bytes"
	"context"
	ctls "crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/images"
	"islet.dev/islet/internal/dnspeer"
)

// TestBuildAndBoot builds an appliance image twice (byte-identical),
// boots it under qemu (TCG) with DHCP from qemu's user network, and asks
// it over the forwarded ports: DNS over UDP and TCP, HTTPS.
func TestBuildAndBoot(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("qemu-system-x86_64 is not installed (CI=true)")
		}
		t.Skip("qemu-system-x86_64 is not installed")
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.WriteFile(filepath.Join(dir, "islet.yml"), []byte("zones: zones/\nsite: site/\nhosts:\n  - names: [boot.example]\n    site: true\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "zones", "boot.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nwww A 192.0.2.80\n"), 0o644)
	// A Jekyll source: the build renders it; the guest serves the result.
	os.WriteFile(filepath.Join(dir, "site", "_config.yml"), []byte("title: Booted\ntime: 2024-01-01\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "site", "_layouts"), 0o755)
	os.WriteFile(filepath.Join(dir, "site", "_layouts", "plain.html"), []byte("<title>{{ site.title }}</title>{{ content }}"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "index.md"), []byte("---\nlayout: plain\n---\n# booted\n"), 0o644)

	// go build runs in the module root, as a user's "go run ./cmd/islet build" does.
	wd, _ := os.Getwd()
	os.Chdir("../..")
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	res, code := build(dir, "", &out, &errb)
	if code != 0 {
		t.Fatalf("build: %s%s", out.String(), errb.String())
	}
	first, _ := os.ReadFile(res.Initramfs)
	firstGuest, _ := os.ReadFile(res.Guest)
	if _, code = build(dir, "", &out, &errb); code != 0 {
		t.Fatalf("second build: %s", errb.String())
	}
	second, _ := os.ReadFile(res.Initramfs)
	secondGuest, _ := os.ReadFile(res.Guest)
	if !bytes.Equal(first, second) || !bytes.Equal(firstGuest, secondGuest) {
		t.Fatal("two builds of the same appliance differ")
	}

	dnsPort, httpsPort := dnspeer.FreePort(t), dnspeer.FreePort(t)
	dnsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsPort))
	httpsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(httpsPort))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, images.QemuArgs(res.Kernel, res.Initramfs, dnsAddr, "", httpsAddr, "islet.acme-directory=off")...)
	console, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	keyboard, _ := cmd.StdinPipe() // the serial console's input
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cancel()
	var log syncBuffer
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(console)
		once := false
		for sc.Scan() {
			log.Write([]byte(sc.Text() + "\n"))
			if !once && strings.Contains(sc.Text(), "islet ready") {
				once = true
				close(ready)
			}
		}
	}()
	start := time.Now()
	select {
	case <-ready:
		t.Logf("booted to ready in %v", time.Since(start))
	case <-time.After(90 * time.Second):
		t.Fatalf("the guest never said ready; console:\n%s", log.String())
	}
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 3 * time.Second}
		r, _, err := c.Exchange(new(dns.Msg).SetQuestion("www.boot.example.", dns.TypeA), dnsAddr)
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" {
			t.Errorf("DNS over %s through qemu: %v %v\nconsole:\n%s", network, err, r, log.String())
		}
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &ctls.Config{InsecureSkipVerify: true}, // the guest's self-signed certificate
		DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, httpsAddr)
		},
	}}
	resp, err := hc.Get("https://boot.example/")
	if err != nil {
		t.Fatalf("HTTPS through qemu: %v\nconsole:\n%s", err, log.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<title>Booted</title><h1 id=\"booted\">booted</h1>\n" {
		t.Errorf("HTTPS: %d %q", resp.StatusCode, body)
	}

	// "islet.shutdown" on the console stops the services and powers the
	// machine off: qemu (-no-reboot) exits by itself.
	keyboard.Write([]byte("islet.shutdown\n"))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
		if !strings.Contains(log.String(), "powering off") || strings.Contains(log.String(), "did not stop in time") {
			t.Errorf("qemu exited without a clean stop of the services:\n%s", log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the guest did not power off after islet.shutdown:\n%s", log.String())
	}
}
