//go:build linux && peers

package guest

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"islet.dev/islet/appliance"
	"islet.dev/islet/internal/testpeer"

	"golang.org/x/sys/unix"
)

// TestKernelAddress gives a veth end in a namespace of its own the
// addresses and gateway a guest booted with islet.net=host gets, and
// reads them back with ip(8).
func TestKernelAddress(t *testing.T) {
	testpeer.Root(t, "network namespace tests")
	ns := fmt.Sprintf("islka%d", os.Getpid()%100000)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")

	opt := appliance.NetOptions{
		IPv4:        netip.MustParsePrefix("10.81.0.2/24"),
		IPv4Gateway: netip.MustParseAddr("10.81.0.1"),
		IPv6:        netip.MustParsePrefix("fd81::2/64"),
	}
	errc := make(chan error, 1)
	go func() { // a thread of its own, in the namespace, then dropped
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		if err := kernelAddress("eth0", appliance.NetOptions{}); err == nil || !strings.Contains(err.Error(), "islet.ipv4") {
			errc <- fmt.Errorf("no address: got %v, want an error naming islet.ipv4", err)
			return
		}
		errc <- kernelAddress("eth0", opt)
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	addrs := run("ip", "-n", ns, "addr", "show", "dev", "eth0")
	for _, want := range []string{"10.81.0.2/24", "fd81::2/64", "UP"} {
		if !strings.Contains(addrs, want) {
			t.Errorf("eth0 lacks %s:\n%s", want, addrs)
		}
	}
	if lo := run("ip", "-n", ns, "link", "show", "lo"); !strings.Contains(lo, "UP") {
		t.Errorf("lo is not up:\n%s", lo)
	}
	if r := run("ip", "-n", ns, "route", "show", "default"); !strings.Contains(r, "default via 10.81.0.1 dev eth0") {
		t.Errorf("no default route via 10.81.0.1:\n%s", r)
	}
}
