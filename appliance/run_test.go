package appliance

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"islet.dev/islet/internal/testpeer"

	"github.com/miekg/dns"
)

// TestRunServesAndReloads starts the appliance on a free port, asks it
// over UDP and TCP, reloads it through the channel and stops it.
func TestRunServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	write := func(txt string) {
		os.WriteFile(filepath.Join(dir, "run.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nt TXT \""+txt+"\"\n"), 0o644)
	}
	write("old")
	ready := make(chan Ready, 1)
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	go func() {
		done <- Run(ctx, Options{ZonesDir: dir, DNSAddrs: []string{"127.0.0.1:0", "[::1]:0"}, UDPSockets: 2, Reload: reload, Ready: func(r Ready) { ready <- r }, Logger: log})
	}()
	var r Ready
	select {
	case r = <-ready:
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	if len(r.DNS) != 2 {
		t.Fatalf("listening on %v, want two addresses", r.DNS)
	}
	ask := func(network string) string {
		c := &dns.Client{Net: network, Timeout: time.Second}
		m, _, err := c.Exchange(new(dns.Msg).SetQuestion("t.run.example.", dns.TypeTXT), r.DNS[len(r.DNS)-1].String())
		if err != nil || len(m.Answer) != 1 {
			t.Fatalf("%s: %v %v", network, err, m)
		}
		return m.Answer[0].(*dns.TXT).Txt[0]
	}
	if ask("udp") != "old" || ask("tcp") != "old" {
		t.Fatal("wrong data")
	}
	write("new")
	reload <- struct{}{}
	deadline := time.Now().Add(3 * time.Second)
	for ask("udp") != "new" {
		if time.Now().After(deadline) {
			t.Fatal("reload not seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A reload of a broken folder keeps the zones served, and says why.
	os.WriteFile(filepath.Join(dir, "run.example"), []byte("$TTL 60\n@ SOA ns hm 2 2 3 4 5\nt TXT \"broken\"\n"), 0o644)
	reload <- struct{}{}
	for !strings.Contains(logs.String(), "reload failed") {
		if time.Now().After(deadline.Add(2 * time.Second)) {
			t.Fatalf("no failed reload logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "no NS records at the zone apex") {
		t.Errorf("the failed reload's log lacks the reason:\n%s", logs.String())
	}
	if got := ask("udp"); got != "new" {
		t.Errorf("after a failed reload: %q, want the zones loaded before", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// lockedBuffer is a log written by Run's goroutines and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunRefusesBadZones(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.example"), []byte("@ 60 SOA ns hm 1 2 3 4 5\n"), 0o644)
	err := Run(context.Background(), Options{ZonesDir: dir, DNSAddrs: []string{"127.0.0.1:0"}})
	if err == nil {
		t.Fatal("bad zones served")
	}
	if want := filepath.Join(dir, "bad.example") + ":1: error: no NS records"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// losingNetwork is the host's network with an address that can be lost,
// as a DHCP lease that comes back with another address is.
type losingNetwork struct {
	hostNetwork
	lose chan error
}

func (n losingNetwork) lost() <-chan error { return n.lose }

// TestRunStopsWhenTheAddressIsLost: Run stops its services and returns
// the network's error, which the guest takes as a reason to reboot.
func TestRunStopsWhenTheAddressIsLost(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "run.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n"), 0o644)
	n := losingNetwork{lose: make(chan error, 1)}
	ready := make(chan Ready, 1)
	done := make(chan error, 1)
	opt := Options{ZonesDir: dir, DNSAddrs: []string{"127.0.0.1:0"}, Ready: func(r Ready) { ready <- r }}
	opt.openNet = func(context.Context, NetOptions, *slog.Logger) (network, error) { return n, nil }
	go func() { done <- Run(context.Background(), opt) }()
	var r Ready
	select {
	case r = <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	moved := errors.New("the lease came back with another address")
	n.lose <- moved
	select {
	case err := <-done:
		if !errors.Is(err, moved) {
			t.Fatalf("Run returned %v, want the network's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run went on serving without its address")
	}
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	if _, _, err := c.Exchange(new(dns.Msg).SetQuestion("run.example.", dns.TypeSOA), r.DNS[0].String()); err == nil {
		t.Fatal("DNS still answers after Run returned")
	}
}

// TestRunReleasesWhatItOpens: a run that ends gives back every file it
// opened, the site folder included; the guest restarts the services,
// and each restart leaked one before.
func TestRunReleasesWhatItOpens(t *testing.T) {
	zonesDir, siteDir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(zonesDir, "fd.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n"), 0o644)
	os.WriteFile(filepath.Join(siteDir, "index.html"), []byte("<h1>fd</h1>"), 0o644)
	openFiles := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			testpeer.Unavailable(t, "no /proc/self/fd to count open files in")
		}
		return len(fds)
	}
	runOnce := func() {
		ready := make(chan Ready, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{ZonesDir: zonesDir, DNSAddrs: []string{"127.0.0.1:0"}, UDPSockets: 1, Ready: func(r Ready) { ready <- r },
				HTTPS: HTTPSOptions{SiteDir: siteDir, HTTPSAddr: "127.0.0.1:0", ACMEDirectory: "off"}})
		}()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("Run: %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	// No collection while counting: a finalizer closing a forgotten
	// file would hide the leak.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runOnce()
	before := openFiles()
	for range 5 {
		runOnce()
	}
	if after := openFiles(); after > before {
		t.Errorf("%d files open after five more runs, %d before", after, before)
	}
	// The site folder itself: no descriptor may still name it, whatever
	// else (sockets closing a moment after Run returned) the count saw.
	fds, _ := os.ReadDir("/proc/self/fd")
	held := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == siteDir {
			held++
		}
	}
	if held > 0 {
		t.Errorf("%d descriptors still open on the site folder after the runs", held)
	}
}
