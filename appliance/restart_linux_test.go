//go:build linux

package appliance

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"islet.dev/islet/internal/testpeer"
)

// TestRunAgainOnTheSameLink: the userspace stack is run, stopped and run
// again in one process on one packet link, as the guest's supervisor
// restarts the services after a failure; each run answers DNS from a
// network namespace on the link's other end.
func TestRunAgainOnTheSameLink(t *testing.T) {
	testpeer.Root(t, "network namespace tests")
	testpeer.Require(t, "ip", "dig")
	id := os.Getpid() % 100000
	ns, host, peer := fmt.Sprintf("isr%d", id), fmt.Sprintf("rh%d", id), fmt.Sprintf("rp%d", id)
	sh := func(args ...string) string {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	sh("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	sh("ip", "link", "set", peer, "netns", ns)
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10.86.0.1/24", "dev", peer)
	sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "again.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 10.86.0.2\n"), 0o644)
	for run := 1; run <= 3; run++ {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan Ready, 1)
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{ZonesDir: dir, DNSAddrs: []string{":53"}, Ready: func(r Ready) { ready <- r },
				Net: NetOptions{Net: "packet:" + host, IPv4: mustPrefix(t, "10.86.0.2/24")}})
		}()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("run %d: %v", run, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d: not ready", run)
		}
		var out string
		for try := 0; try < 20 && out != "10.86.0.2"; try++ {
			o, _ := exec.Command("ip", "netns", "exec", ns, "dig", "+short", "+time=1", "+tries=1", "@10.86.0.2", "ns.again.example", "A").CombinedOutput()
			out = strings.TrimSpace(string(o))
		}
		if out != "10.86.0.2" {
			t.Errorf("run %d: dig answered %q", run, out)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d did not stop", run)
		}
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
