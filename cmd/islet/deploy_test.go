//go:build peers && !guest

package main

import (
	"context"
	ctls "crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"islet.dev/islet/internal/testpeer"
)

// libvirtd makes sure a libvirt daemon runs with its default network,
// as it does in these containers once started by hand.
func libvirtd(t *testing.T) {
	t.Helper()
	testpeer.Root(t, "libvirt")
	testpeer.Require(t, "libvirtd", "virtlogd", "virsh", "qemu-system-x86_64")
	os.MkdirAll("/var/log/libvirt", 0o755)
	os.MkdirAll("/var/run/libvirt", 0o755)
	exec.Command("useradd", "-r", "-M", "libvirt-qemu").Run() // exists already, or made
	// Each daemon is started unless it accepts connections already. A
	// socket file left by a daemon that is gone refuses them; the
	// daemon started again makes it anew.
	for _, d := range []struct{ name, sock string }{
		{"virtlogd", "/var/run/libvirt/virtlogd-sock"},
		{"libvirtd", "/var/run/libvirt/libvirt-sock"},
	} {
		if listening(d.sock) {
			continue
		}
		os.Remove(d.sock)
		p, _ := testpeer.Look(d.name)
		if out, err := exec.Command(p, "-d").CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", d.name, err, out)
		}
		for deadline := time.Now().Add(30 * time.Second); !listening(d.sock); {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not listen on %s in 30 s", d.name, d.sock)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	virsh := func(args ...string) (string, error) {
		out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := virsh("net-info", "default"); err != nil || !strings.Contains(out, "Active:         yes") {
		if out, err := virsh("net-start", "default"); err != nil && !strings.Contains(out, "already active") {
			t.Fatalf("virsh net-start default: %v\n%s", err, out)
		}
	}
}

// listening tells whether a daemon accepts connections on the unix
// socket path.
func listening(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestDeploy deploys the example appliance to libvirt, as a user would
// with islet deploy: it is served; an edited page deployed again is
// served; an image that does not answer in time is replaced by the one
// before it, and deploy says so; --rollback goes back one image;
// --status tells what runs.
func TestDeploy(t *testing.T) {
	libvirtd(t)
	bin := buildIslet(t)
	dir := filepath.Join(t.TempDir(), "deployed")
	if out, err := exec.Command("cp", "-r", "../../examples/homepage", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	name := "islet-test-deploy"
	t.Cleanup(func() {
		exec.Command("virsh", "-c", "qemu:///system", "destroy", name).Run()
		exec.Command("virsh", "-c", "qemu:///system", "undefine", name).Run()
		out, _ := exec.Command("virsh", "-c", "qemu:///system", "vol-list", "islet").Output()
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, name+"-") {
				exec.Command("virsh", "-c", "qemu:///system", "vol-delete", "--pool", "islet", f).Run()
			}
		}
	})
	deploy := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"deploy", dir, "--to", "qemu:///system", "--name", name}, args...)...)
		cmd.Dir = "../.." // islet build compiles the guest from the module
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	addrRE := regexp.MustCompile(`(?:at|address) (\d+\.\d+\.\d+\.\d+)`)
	page := func(out string) string {
		t.Helper()
		m := addrRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no address in:\n%s", out)
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &ctls.Config{InsecureSkipVerify: true},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, m[1]+":443")
			}}}
		resp, err := c.Get("https://example.org/about/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	out, err := deploy()
	if err != nil || !strings.Contains(out, "healthy") || !strings.Contains(out, "dig @") {
		t.Fatalf("first deploy: %v\n%s", err, out)
	}
	if p := page(out); !strings.Contains(p, "<h1") {
		t.Fatalf("the about page: %q", p)
	}

	about := filepath.Join(dir, "site", "about.md")
	b, _ := os.ReadFile(about)
	os.WriteFile(about, append(b, []byte("\nSecond version.\n")...), 0o644)
	if out, err = deploy(); err != nil || !strings.Contains(page(out), "Second version.") {
		t.Fatalf("second deploy: %v\n%s", err, out)
	}

	// an image that does not answer in time: the one before comes back
	os.WriteFile(about, append(b, []byte("\nThird version.\n")...), 0o644)
	out, err = deploy("--health-timeout", "1ms")
	if err == nil || !strings.Contains(out, "rolled back to") {
		t.Fatalf("a deploy that failed its health check: %v\n%s", err, out)
	}
	status, err := deploy("--status")
	if err != nil || !strings.Contains(status, "running") || !strings.Contains(status, "serial") {
		t.Fatalf("--status: %v\n%s", err, status)
	}
	if p := page(status); !strings.Contains(p, "Second version.") || strings.Contains(p, "Third version.") {
		t.Errorf("after the rollback the page is %q, want the second version", p)
	}

	out, err = deploy("--rollback")
	if err != nil || !strings.Contains(out, "runs image") {
		t.Fatalf("--rollback: %v\n%s", err, out)
	}
	if p := page(out); strings.Contains(p, "Second version.") {
		t.Errorf("--rollback did not go back to the first image: %q", p)
	}
}
