//go:build linux && peers

package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"islet.dev/islet/internal/testpeer"
)

// TestServeOnPacketLink runs "islet serve --net packet:..." on the host
// end of a veth pair and queries it from a network namespace on the
// other end, as a user would: dig over UDP and TCP and curl over HTTPS,
// to its IPv4 and its static IPv6 address and to the IPv6 link-local
// address it made itself.
func TestServeOnPacketLink(t *testing.T) {
	v := serveOnVeth(t, "81", "--ipv6", "fd82::2/64")
	ll := linkLocal(v.mac)
	// dig takes a reply only from the address it asked: on the IPv6
	// addresses the stack answers from the one each query came to.
	v.check(t, "10.81.0.2", "fd82::2", ll.String()+"%"+v.peer)
}

// TestServeIPv6Only runs islet with IPv4 off (--ipv4 none), as on an
// IPv6-only network: it asks no DHCP server and waits for none, serves
// on its static IPv6 address and its link-local one, and has no IPv4
// address to answer on.
func TestServeIPv6Only(t *testing.T) {
	v := serveOnVeth(t, "85", "--ipv4", "none", "--ipv6", "fd82::2/64", "--log-level", "info")
	v.check(t, "fd82::2", linkLocal(v.mac).String()+"%"+v.peer)
	if out, err := v.in("ping", "-c", "1", "-W", "1", v.addr); err == nil {
		t.Errorf("the IPv4 address %s answers with IPv4 off:\n%s", v.addr, out)
	}
	log := v.stderr.String()
	if !strings.Contains(log, "IPv4 off") || strings.Contains(log, "DHCP") {
		t.Errorf("islet's log, IPv4 off:\n%s", log)
	}
}

// TestServeOnSLAACAddress has dnsmasq in the namespace send router
// advertisements for fd83::/64: islet makes its address there from
// them (SLAAC), and serves DNS and HTTPS on it.
func TestServeOnSLAACAddress(t *testing.T) {
	dnsmasq := testpeer.Require(t, "dnsmasq")
	v := serveOnVeth(t, "84", "--log-level", "debug")
	var dlog syncBuffer
	d := exec.Command("ip", "netns", "exec", v.ns, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0",
		"--interface="+v.peer, "--bind-interfaces", "--enable-ra", "--dhcp-range=fd83::,ra-only,64,1h",
		"--pid-file="+filepath.Join(t.TempDir(), "pid"))
	d.Stdout, d.Stderr = &dlog, &dlog
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { d.Process.Kill(); d.Wait() }()
	slaac := eui64(netip.MustParseAddr("fd83::"), v.mac)
	var out string
	var err error
	for i := 0; i < 40; i++ { // islet asks for a router advertisement at start, dnsmasq answers
		if out, err = v.in("dig", "+short", "+time=1", "+tries=1", "@"+slaac.String(), "www.veth.example", "A"); err == nil && out == "10.84.0.2" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || out != "10.84.0.2" {
		t.Fatalf("no answer at the SLAAC address %s: %v %q\ndnsmasq:\n%s\nislet:\n%s", slaac, err, out, dlog.String(), v.stderr.String())
	}
	v.check(t, slaac.String())
}

// TestHostileOnPacketLink: on the userspace stack too, one client's
// attack (from 10.86.0.3) leaves a second client (10.86.0.1) served:
// downloads never read over HTTP/2 and HTTP/1.1, silent connects, idle
// connections of both.
func TestHostileOnPacketLink(t *testing.T) {
	v := serveOnVeth(t, "86")
	if out, err := v.in("ip", "addr", "add", "10.86.0.3/24", "dev", v.peer); err != nil {
		t.Fatalf("second address: %v %s", err, out)
	}
	hostile := filepath.Join(t.TempDir(), "hostile")
	if out, err := exec.Command("go", "build", "-o", hostile, "../../internal/hostile").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// A lockout fails every request of the second client. The 3 s
	// allowed each one (bench/hostile.sh allows 1 s) is for the machine:
	// islet here shares two CPUs with the other packages' tests of a go
	// test ./..., and a request answered in 1.1 s while they run was
	// counted a failure once in eight runs.
	for _, attack := range []string{"stall-h2", "stall-h1", "silent", "idle-h1", "idle-h2"} {
		out, err := v.in(hostile, "-addr", v.addr+":443", "-host", "veth.example", "-attack", attack, "-n", "200",
			"-from", "10.86.0.3", "-bystander", "10.86.0.1", "-for", "4s", "-timeout", "3s")
		t.Logf("%s", out)
		if err != nil || !strings.Contains(out, "bystander_failed=0 ") || strings.Contains(out, "bystander_ok=0 ") {
			t.Errorf("%s: the second client was not served: %v\n%s", attack, err, v.stderr.String())
		}
	}
}

// vethIslet is islet serving on the host end of a veth pair whose other
// end, peer, is in the namespace ns with 10.N.0.1/24, fd82::1/64 and
// fd83::1/64.
type vethIslet struct {
	ns, peer string
	addr     string           // islet's IPv4 address, which www has
	mac      net.HardwareAddr // of islet's end
	stderr   *syncBuffer
	in       func(args ...string) (string, error) // runs a command in ns
	cmd      *exec.Cmd
	dir      string // holds zones/ and site/
}

// serveOnVeth starts "islet serve --net packet:..." at 10.N.0.2/24 with
// a zone (www A 10.N.0.2) and a page, and waits until it serves HTTPS.
func serveOnVeth(t *testing.T, n string, args ...string) *vethIslet {
	t.Helper()
	testpeer.Root(t, "network namespace tests")
	testpeer.Require(t, "ip", "dig", "curl")
	bin := buildIslet(t)
	id := os.Getpid() % 100000
	ns, host, peer := fmt.Sprintf("isc%s%d", n, id), fmt.Sprintf("ch%s%d", n, id), fmt.Sprintf("cp%s%d", n, id)
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
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10."+n+".0.1/24", "dev", peer)
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", "fd82::1/64", "dev", peer, "nodad")
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", "fd83::1/64", "dev", peer, "nodad")
	// The namespace's own link-local address is usable at once: while
	// the kernel checked it for duplicates (a second or two once islet
	// brings the link up), a query to islet's link-local one was lost.
	sh("ip", "netns", "exec", ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/"+peer+"/accept_dad")
	sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	hostIface, err := net.InterfaceByName(host)
	if err != nil {
		t.Fatal(err)
	}
	addr := "10." + n + ".0.2"
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "veth.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A "+addr+"\nwww A "+addr+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "index.html"), []byte("<h1>veth</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "big.bin"), make([]byte, 5<<20), 0o644) // read per request
	cmd := exec.Command(bin, append([]string{"serve", "--net", "packet:" + host, "--ipv4", addr + "/24",
		"--zones", filepath.Join(dir, "zones"), "--dns", ":53", "--site", filepath.Join(dir, "site"),
		"--https", ":443", "--http", "", "--acme-directory", "off"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	v := &vethIslet{ns: ns, peer: peer, addr: addr, mac: hostIface.HardwareAddr, stderr: new(syncBuffer), cmd: cmd, dir: dir}
	cmd.Stderr = v.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
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
			t.Fatalf("islet exited:\n%s", v.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("not ready:\n%s", v.stderr.String())
	}
	v.in = func(args ...string) (string, error) {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	return v
}

// check asks each server address for www over UDP and TCP and for the
// page over HTTPS.
func (v *vethIslet) check(t *testing.T, servers ...string) {
	t.Helper()
	for _, server := range servers {
		for _, proto := range []string{"+notcp", "+tcp"} {
			if out, err := v.in("dig", "+short", "+time=2", "+tries=3", proto, "@"+server, "www.veth.example", "A"); err != nil || out != v.addr {
				t.Errorf("dig %s @%s: %v %q\n%s", proto, server, err, out, v.stderr.String())
			}
		}
		host := server
		if a, err := netip.ParseAddr(server); err == nil && a.Is6() {
			host = "[" + strings.Replace(server, "%", "%25", 1) + "]"
		}
		if out, err := v.in("curl", "-sk", "--max-time", "5", "-H", "Host: veth.example", "https://"+host+"/"); err != nil || out != "<h1>veth</h1>" {
			t.Errorf("curl https://%s/: %v %q\n%s", host, err, out, v.stderr.String())
		}
	}
}

// eui64 is the address in prefix (a /64) with the EUI-64 interface
// identifier of a MAC (RFC 4291 §2.5.1), as SLAAC makes it.
func eui64(prefix netip.Addr, mac net.HardwareAddr) netip.Addr {
	a := prefix.As16()
	copy(a[8:], []byte{mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]})
	return netip.AddrFrom16(a)
}

// linkLocal is the EUI-64 link-local address of a MAC.
func linkLocal(mac net.HardwareAddr) netip.Addr { return eui64(netip.MustParseAddr("fe80::"), mac) }

// TestTransfersOnPacketLink: on islet's own TCP/IP stack, a client in
// the namespace transfers the zone (AXFR over the stack's TCP), and
// after a reload islet's NOTIFY leaves over the stack's UDP to the
// secondary named by --notify.
func TestTransfersOnPacketLink(t *testing.T) {
	v := serveOnVeth(t, "86", "--allow-transfer", "10.86.0.1", "--notify", "10.86.0.1:5300", "--notify-ns=false")
	out, err := v.in("dig", "+tcp", "+noall", "+answer", "+time=5", "@"+v.addr, "veth.example", "AXFR")
	if err != nil || strings.Count(out, "\tSOA\t") != 2 || !strings.Contains(out, "www.veth.example.") {
		t.Fatalf("AXFR over the userspace stack: %v\n%s\nislet's log:\n%s", err, out, v.stderr.String())
	}
	// A secondary's socket in the namespace: it prints the first
	// packet and answers it.
	listener := exec.Command("ip", "netns", "exec", v.ns, "python3", "-c", `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.86.0.1", 5300))
s.settimeout(20)
d, a = s.recvfrom(4096)
r = bytearray(d[:12]); r[2] |= 0x80; r[3] = 0; r[4:12] = bytes(8)
s.sendto(bytes(r), a)
print(d.hex(), flush=True)
`)
	var got syncBuffer
	listener.Stdout, listener.Stderr = &got, &got
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	defer listener.Process.Kill()
	time.Sleep(300 * time.Millisecond) // bound before the reload
	os.WriteFile(filepath.Join(v.dir, "zones", "veth.example"), []byte("$TTL 60\n@ SOA ns hm 2 2 3 4 5\n NS ns\nns A "+v.addr+"\nwww A "+v.addr+"\n"), 0o644)
	v.cmd.Process.Signal(syscall.SIGHUP)
	done := make(chan error, 1)
	go func() { done <- listener.Wait() }()
	select {
	case err := <-done:
		pkt, _ := hex.DecodeString(strings.TrimSpace(got.String()))
		if err != nil || len(pkt) < 12 || pkt[2]>>3&0xf != 4 || !strings.Contains(string(pkt), "veth") {
			t.Errorf("the packet received is no NOTIFY for veth.example (%v): %q\nislet's log:\n%s", err, got.String(), v.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no NOTIFY arrived over the userspace stack; islet's log:\n%s", v.stderr.String())
	}
}

// TestRRLOnPacketLink floods islet (200 responses a second per /24, the
// default) over its own stack from a namespace whose addresses are
// real: the flooding /24 gets about its budget answered, about as many
// truncated (slip 2) and the rest dropped, while a client of another
// /24, and one of the flooding /24 that sends back its server cookie,
// get every answer.
func TestRRLOnPacketLink(t *testing.T) {
	v := serveOnVeth(t, "87", "--ipv4", "10.87.0.2/16", "--metrics", ":9153")
	for _, a := range []string{"10.87.1.1/16", "10.87.1.2/16", "10.87.2.1/16"} {
		if out, err := v.in("ip", "addr", "add", a, "dev", v.peer); err != nil {
			t.Fatalf("address %s: %v %s", a, err, out)
		}
	}
	flood := filepath.Join(t.TempDir(), "dnsflood")
	if out, err := exec.Command("go", "build", "-o", flood, "../../internal/dnsflood").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := v.in(flood, "-addr", v.addr+":53", "-name", "www.veth.example.", "-from", "10.87.1.1",
		"-bystander", "10.87.2.1", "-cookied", "10.87.1.2", "-n", "3000")
	t.Log(out)
	if err != nil {
		t.Fatalf("dnsflood: %v\n%s", err, v.stderr.String())
	}
	var sent, answered, truncated, silent, byOK, byFailed, ckOK, ckFailed int
	var in, cookie string
	if _, err := fmt.Sscanf(out, "sent=%d in=%s answered=%d truncated=%d silent=%d bystander_ok=%d bystander_failed=%d cookied_ok=%d cookied_failed=%d cookie=%s",
		&sent, &in, &answered, &truncated, &silent, &byOK, &byFailed, &ckOK, &ckFailed, &cookie); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if byFailed > 0 || byOK == 0 || ckFailed > 0 || ckOK == 0 || cookie != "24" {
		t.Errorf("the other clients were not all answered (cookie of %s octets)", cookie)
	}
	if answered > sent/4 || truncated < sent/4 || silent < sent/4 {
		t.Errorf("of %d queries in %s from one /24, %d answered, %d truncated, %d got nothing; want the budget answered and the rest half truncated, half dropped", sent, in, answered, truncated, silent)
	}
	// The metrics, served on islet's own stack, say the same.
	body, err := v.in("curl", "-s", "--max-time", "5", "http://"+v.addr+":9153/metrics")
	if err != nil {
		t.Fatalf("curl /metrics: %v %s", err, body)
	}
	value := func(series string) int {
		for _, line := range strings.Split(body, "\n") {
			if rest, ok := strings.CutPrefix(line, series+" "); ok {
				n, _ := strconv.Atoi(rest)
				return n
			}
		}
		t.Errorf("no %s in\n%s", series, body)
		return -1
	}
	if slip, drop := value(`islet_dns_rrl_actions_total{action="slip"}`), value(`islet_dns_rrl_actions_total{action="drop"}`); slip < truncated || drop < sent/4 {
		t.Errorf("metrics: %d slipped, %d dropped; the flooder got %d truncated and %d nothing", slip, drop, truncated, silent)
	}
	if rx := value("islet_netstack_packets_received_total"); rx < sent {
		t.Errorf("metrics: the stack received %d packets, fewer than the %d queries sent", rx, sent)
	}
}
