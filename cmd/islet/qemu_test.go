//go:build peers && !guest

package main

import (
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

	"islet.dev/islet/internal/testpeer"

	"github.com/miekg/dns"

	"islet.dev/islet/appliance"
	"islet.dev/islet/images"
	"islet.dev/islet/internal/dnspeer"
)

// bootFixture writes an appliance with a zone and a Jekyll source, and
// builds it twice (the two builds must be byte-identical).
func bootFixture(t *testing.T) images.Result {
	t.Helper()
	testpeer.Require(t, "qemu-system-x86_64", "debugfs")
	dir := bootFixtureDir(t)

	var out, errb bytes.Buffer
	res, code := build(context.Background(), dir, "", defaultStateDisk, &out, &errb)
	if code != 0 {
		t.Fatalf("build: %s%s", out.String(), errb.String())
	}
	first, _ := os.ReadFile(res.Initramfs)
	firstGuest, _ := os.ReadFile(res.Guest)
	if _, code = build(context.Background(), dir, "", defaultStateDisk, &out, &errb); code != 0 {
		t.Fatalf("second build: %s", errb.String())
	}
	second, _ := os.ReadFile(res.Initramfs)
	secondGuest, _ := os.ReadFile(res.Guest)
	if !bytes.Equal(first, second) || !bytes.Equal(firstGuest, secondGuest) {
		t.Fatal("two builds of the same appliance differ")
	}
	return res
}

// bootFixtureDir writes an appliance with a zone and a Jekyll source.
func bootFixtureDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.WriteFile(filepath.Join(dir, "islet.yml"), []byte("zones: zones/\nsite: site/\nhosts:\n  - names: [boot.example]\n    site: true\ndnssec: sign\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "zones", "boot.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nwww A 192.0.2.80\n"), 0o644)
	// A Jekyll source: the build renders it; the guest serves the result.
	os.WriteFile(filepath.Join(dir, "site", "_config.yml"), []byte("title: Booted\ntime: 2024-01-01\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "site", "_layouts"), 0o755)
	os.WriteFile(filepath.Join(dir, "site", "_layouts", "plain.html"), []byte("<title>{{ site.title }}</title>{{ content }}"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "index.md"), []byte("---\nlayout: plain\n---\n# booted\n"), 0o644)
	return dir
}

// vmGuest is one booted image: its console, its keyboard and its ports.
type vmGuest struct {
	t         *testing.T
	console   syncBuffer
	keyboard  *io.PipeWriter
	dns, http string
	cancel    context.CancelFunc
	done      chan error
	stopped   time.Time
}

// boot starts vm in the background through images.Qemu.Run, the code
// "islet run --target qemu" runs.
func boot(t *testing.T, vm images.Qemu) *vmGuest {
	g := &vmGuest{t: t, done: make(chan error, 1)}
	g.dns = net.JoinHostPort("127.0.0.1", strconv.Itoa(dnspeer.FreePort(t)))
	g.http = net.JoinHostPort("127.0.0.1", strconv.Itoa(dnspeer.FreePort(t)))
	vm.DNS, vm.HTTPS = g.dns, g.http
	keys, keyboard := io.Pipe()
	g.keyboard = keyboard
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go func() { g.done <- vm.Run(ctx, &g.console, keys) }()
	t.Cleanup(func() {
		cancel()
		<-g.done
	})
	return g
}

// waitFor waits until the console holds n lines containing s.
func (g *vmGuest) waitFor(s string, n int, within time.Duration) {
	g.t.Helper()
	deadline := time.Now().Add(within)
	for strings.Count(g.console.String(), s) < n {
		if time.Now().After(deadline) {
			g.t.Fatalf("the console never said %q (%d times) within %v:\n%s", s, n, within, g.console.String())
		}
		select {
		case err := <-g.done:
			g.t.Fatalf("qemu ended (%v) before the console said %q:\n%s", err, s, g.console.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// askDNS checks www.boot.example's A record over UDP and TCP.
func (g *vmGuest) askDNS() {
	g.t.Helper()
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 3 * time.Second}
		r, _, err := c.Exchange(new(dns.Msg).SetQuestion("www.boot.example.", dns.TypeA), g.dns)
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" {
			g.t.Errorf("DNS over %s through qemu: %v %v\nconsole:\n%s", network, err, r, g.console.String())
		}
	}
}

// askDNSKEY returns the zone's DNSKEY RRset, checking that it comes
// signed: the guest signs the zone with the key on its state disk.
func (g *vmGuest) askDNSKEY() string {
	g.t.Helper()
	m := new(dns.Msg).SetQuestion("boot.example.", dns.TypeDNSKEY)
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: "tcp", Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, g.dns)
	if err != nil || len(r.Answer) != 2 {
		g.t.Fatalf("DNSKEY through qemu: %v %v\nconsole:\n%s", err, r, g.console.String())
	}
	key, sig := r.Answer[0].(*dns.DNSKEY), r.Answer[1].(*dns.RRSIG)
	if err := sig.Verify(key, r.Answer[:1]); err != nil {
		g.t.Errorf("the DNSKEY RRset's signature: %v", err)
	}
	return key.String()
}

// getPage fetches the rendered home page over HTTPS and returns the
// certificate it was served with.
func (g *vmGuest) getPage() []byte {
	g.t.Helper()
	var cert []byte
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &ctls.Config{InsecureSkipVerify: true, // the guest's self-signed certificate
			VerifyConnection: func(cs ctls.ConnectionState) error { cert = cs.PeerCertificates[0].Raw; return nil }},
		DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, g.http)
		},
	}}
	resp, err := hc.Get("https://boot.example/")
	if err != nil {
		g.t.Fatalf("HTTPS through qemu: %v\nconsole:\n%s", err, g.console.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<title>Booted</title><h1 id=\"booted\">booted</h1>\n" {
		g.t.Errorf("HTTPS: %d %q", resp.StatusCode, body)
	}
	return cert
}

// powerOff is what Ctrl-C or SIGTERM does to "islet run --target qemu":
// the power button, then a clean stop, within images.StopGrace.
func (g *vmGuest) powerOff() time.Duration {
	g.t.Helper()
	start := time.Now()
	g.cancel()
	select {
	case err := <-g.done:
		g.done <- err // for the cleanup
		if err != nil {
			g.t.Fatalf("power off: %v\n%s", err, g.console.String())
		}
	case <-time.After(2 * images.StopGrace):
		g.t.Fatalf("qemu still runs %v after the power button:\n%s", 2*images.StopGrace, g.console.String())
	}
	log := g.console.String()
	if !strings.Contains(log, "power button pressed") || !strings.Contains(log, "powering off") || strings.Contains(log, "did not stop in time") {
		g.t.Errorf("qemu exited without a clean stop of the services:\n%s", log)
	}
	return time.Since(start)
}

// TestBuildAndBoot builds an appliance image twice (byte-identical),
// boots it under qemu with its state disk and DHCP from qemu's user
// network, and asks it over the forwarded ports: DNS over UDP and TCP,
// HTTPS. Then it panics the guest from the console (the trace is logged,
// the machine reboots and serves again with the certificate and the
// DNSSEC key kept on the state disk) and stops it with the ACPI power button, as Ctrl-C on
// "islet run --target qemu" does.
func TestBuildAndBoot(t *testing.T) {
	res := bootFixture(t)
	g := boot(t, images.Qemu{Kernel: res.Kernel, Initramfs: res.Initramfs, StateDisk: res.StateDisk, Reboot: true, Boot: []string{"islet.acme-directory=off"}})
	start := time.Now()
	g.waitFor("islet ready", 1, 90*time.Second)
	t.Logf("booted to ready in %v", time.Since(start))
	g.waitFor("state disk mounted", 1, time.Second)
	g.waitFor("go_limit_mb=", 1, time.Second) // the collector knows the machine's memory
	g.askDNS()
	key := g.askDNSKEY()
	cert := g.getPage()

	g.keyboard.Write([]byte("islet.panic\n"))
	g.waitFor("panic: islet.panic typed on the console", 1, 10*time.Second)
	g.waitFor("goroutine ", 1, 5*time.Second)
	start = time.Now()
	g.waitFor("islet ready", 2, 90*time.Second)
	t.Logf("rebooted to ready in %v", time.Since(start))
	g.waitFor("state disk mounted", 2, time.Second)
	g.askDNS()
	if again := g.getPage(); !bytes.Equal(cert, again) {
		t.Error("after the reboot the guest served another certificate: the state disk did not keep it")
	}
	if again := g.askDNSKEY(); again != key {
		t.Errorf("after the reboot the guest served another DNSKEY: the state disk did not keep it\n%s\n%s", key, again)
	}
	t.Logf("powered off %v after the power button", g.powerOff())
	out, err := exec.Command("debugfs", "-R", "ls -l /certs", res.StateDisk).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "self-signed.pem") {
		t.Errorf("the state disk holds no certificate: %v\n%s", err, out)
	}
	out, err = exec.Command("debugfs", "-R", "ls -l /dnssec", res.StateDisk).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Kboot.example.+013+") || !strings.Contains(string(out), "100600") {
		t.Errorf("the state disk holds no DNSSEC key: %v\n%s", err, out)
	}
}

// TestBootMicrovm boots the same image on qemu's microvm machine
// (virtio-mmio, found through ACPI), answers DNS there and powers off
// by its power button.
func TestBootMicrovm(t *testing.T) {
	res := bootFixture(t)
	g := boot(t, images.Qemu{Kernel: res.Kernel, Initramfs: res.Initramfs, StateDisk: res.StateDisk, Machine: "microvm", Boot: []string{"islet.acme-directory=off"}})
	start := time.Now()
	g.waitFor("islet ready", 1, 90*time.Second)
	t.Logf("microvm booted to ready in %v", time.Since(start))
	g.waitFor("state disk mounted", 1, time.Second)
	g.askDNS()
	g.getPage()
	t.Logf("powered off %v after the power button", g.powerOff())
}

// TestBootKernelStack boots the image with islet.net=host: the guest
// gives eth0 the address of qemu's user network on the kernel's own
// stack and serves DNS and HTTPS on the kernel's sockets.
func TestBootKernelStack(t *testing.T) {
	res := bootFixture(t)
	g := boot(t, images.Qemu{Kernel: res.Kernel, Initramfs: res.Initramfs, Machine: "microvm",
		Boot: []string{"islet.acme-directory=off", "islet.net=host", "islet.ipv4=10.0.2.15/24", "islet.ipv4-gateway=10.0.2.2"}})
	g.waitFor("network on the kernel's stack", 1, 90*time.Second)
	g.waitFor("islet ready", 1, 30*time.Second)
	g.askDNS()
	g.getPage()
	t.Logf("powered off %v after the power button", g.powerOff())
}

// TestBootDisk builds the appliance's disk image (islet build --disk) and
// boots it as a UEFI machine would: qemu with Debian's OVMF firmware,
// the disk the only drive. The firmware starts systemd-boot from the
// ESP, which starts the kernel with the initramfs and the command line
// of the boot entry (--boot included); the guest mounts the state
// partition, answers DNS and HTTPS, and powers off by its button.
func TestBootDisk(t *testing.T) {
	testpeer.Require(t, "qemu-system-x86_64")
	if _, _, err := images.FindOVMF(); err != nil {
		testpeer.Unavailable(t, "ovmf: %v", err)
	}
	if _, err := images.FindLoader(); err != nil {
		testpeer.Unavailable(t, "systemd-boot-efi: %v", err)
	}
	dir := bootFixtureDir(t)
	var out, errb bytes.Buffer
	var health appliance.Health
	res, code := buildImage(context.Background(), dir, buildOptions{stateDisk: defaultStateDisk, disk: true, boot: []string{"islet.acme-directory=off"}}, &out, &errb, &health)
	if code != 0 || res.Disk == "" {
		t.Fatalf("build --disk: %s%s", out.String(), errb.String())
	}
	g := boot(t, images.Qemu{Disk: res.Disk})
	start := time.Now()
	g.waitFor("islet ready", 1, 120*time.Second)
	t.Logf("firmware to ready in %v", time.Since(start))
	g.waitFor("boot_settings=map[acme-directory:off]", 1, time.Second)
	g.waitFor("state disk mounted", 1, time.Second)
	if log := g.console.String(); !strings.Contains(log, "device=/dev/vda2") {
		t.Errorf("the state partition (vda2) was not the one mounted:\n%s", log)
	}
	g.askDNS()
	g.getPage()
	t.Logf("powered off %v after the power button", g.powerOff())
}
