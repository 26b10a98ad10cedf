//go:build linux && peers

package main

import (
	"bufio"
	"fmt"
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
// other end, as a user would: dig over UDP and TCP, curl over HTTPS.
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
	sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")

	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "veth.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 10.81.0.2\nwww A 10.81.0.2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "index.html"), []byte("<h1>veth</h1>"), 0o644)
	cmd := exec.Command(bin, "serve", "--net", "packet:"+host, "--ipv4", "10.81.0.2/24",
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
	for _, proto := range []string{"+notcp", "+tcp"} {
		if out, err := in("dig", "+short", "+time=2", "+tries=3", proto, "@10.81.0.2", "www.veth.example", "A"); err != nil || out != "10.81.0.2" {
			t.Errorf("dig %s: %v %q\n%s", proto, err, out, stderr.String())
		}
	}
	if out, err := in("curl", "-sk", "--max-time", "5", "--resolve", "veth.example:443:10.81.0.2", "https://veth.example/"); err != nil || out != "<h1>veth</h1>" {
		t.Errorf("curl: %v %q\n%s", err, out, stderr.String())
	}
}
