//go:build linux && peers

package main

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeOnPacketLink runs "islet serve --net packet:..." on the host
// end of a veth pair and queries it from a network namespace on the
// other end, as a user would: dig over UDP and TCP and curl over HTTPS,
// to its IPv4 and its static IPv6 address and to the IPv6 link-local
// address it made itself (as it makes SLAAC ones).
func TestServeOnPacketLink(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root (CI runs as root)")
		}
		t.Skip("needs root")
	}
	for _, c := range []string{"ip", "dig", "curl"} {
		if _, err := exec.LookPath(c); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed", c)
			}
			t.Skipf("%s is not installed", c)
		}
	}
	bin := buildIslet(t)
	id := os.Getpid() % 100000
	ns, host, peer := fmt.Sprintf("isc%d", id), fmt.Sprintf("ch%d", id), fmt.Sprintf("cp%d", id)
	sh := func(args ...string) string {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	sh("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	sh("ip", "link", "set", peer, "netns", ns)
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10.81.0.1/24", "dev", peer)
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", "fd82::1/64", "dev", peer, "nodad")
	sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	hostIface, err := net.InterfaceByName(host)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "veth.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 10.81.0.2\nwww A 10.81.0.2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "index.html"), []byte("<h1>veth</h1>"), 0o644)
	cmd := exec.Command(bin, "serve", "--net", "packet:"+host, "--ipv4", "10.81.0.2/24", "--ipv6", "fd82::2/64",
		"--zones", filepath.Join(dir, "zones"), "--dns", ":53", "--site", filepath.Join(dir, "site"),
		"--https", ":443", "--http", "", "--acme-directory", "off")
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving HTTPS") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("islet exited:\n%s", stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("not ready:\n%s", stderr.String())
	}
	in := func(args ...string) (string, error) {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	ll := linkLocal(hostIface.HardwareAddr)
	// dig takes a reply only from the address it asked: on the IPv6
	// addresses the stack answers from the one each query came to.
	for _, server := range []string{"10.81.0.2", "fd82::2", ll.String() + "%" + peer} {
		for _, proto := range []string{"+notcp", "+tcp"} {
			if out, err := in("dig", "+short", "+time=2", "+tries=3", proto, "@"+server, "www.veth.example", "A"); err != nil || out != "10.81.0.2" {
				t.Errorf("dig %s @%s: %v %q\n%s", proto, server, err, out, stderr.String())
			}
		}
	}
	for _, url := range []string{"https://10.81.0.2/", "https://[fd82::2]/", "https://[" + ll.String() + "%25" + peer + "]/"} {
		if out, err := in("curl", "-sk", "--max-time", "5", "-H", "Host: veth.example", url); err != nil || out != "<h1>veth</h1>" {
			t.Errorf("curl %s: %v %q\n%s", url, err, out, stderr.String())
		}
	}
}

// linkLocal is the EUI-64 link-local address of a MAC (RFC 4291 §2.5.1).
func linkLocal(mac net.HardwareAddr) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	copy(a[8:], []byte{mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]})
	return netip.AddrFrom16(a)
}
