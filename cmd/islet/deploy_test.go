//go:build peers && !guest

package main

import (
	"context"
	"crypto/sha256"
	ctls "crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"islet.dev/islet/internal/dnspeer"
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

// pushToDeploy makes dir a git repository whose remote is a bare one
// with the example post-receive hook, deploying as name with the islet
// at bin; it commits what edit changes and pushes it, and returns what
// the push printed (the hook's output comes back as "remote:" lines).
func pushToDeploy(t *testing.T, dir, name, bin string, edit func()) string {
	t.Helper()
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), name+".git")
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=islet test", "-c", "user.email=test@islet.invalid", "-c", "init.defaultBranch=main"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	os.MkdirAll(bare, 0o755)
	git(bare, "init", "-q", "--bare")
	git(dir, "init", "-q")
	git(dir, "add", ".")
	git(dir, "commit", "-q", "-m", "first")
	git(dir, "remote", "add", "origin", bare)
	git(dir, "push", "-q", "origin", "main") // deployed already: before the hook
	hook, err := os.ReadFile("../../examples/deploy/post-receive")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bare, "hooks", "post-receive"), hook, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"islet.to": "qemu:///system", "islet.name": name, "islet.bin": bin, "islet.src": src} {
		git(bare, "config", k, v)
	}
	edit()
	git(dir, "commit", "-q", "-a", "-m", "second")
	return git(dir, "push", "origin", "main")
}

// sshd starts an SSH server for root on a free port of 127.0.0.1, with
// a key of its own, and returns the qemu+ssh URI of this machine's
// libvirt through it, the private key it accepts and its known_hosts
// line.
func sshd(t *testing.T) (uri, key, knownHosts string) {
	t.Helper()
	bin := testpeer.Require(t, "sshd", "ssh-keygen")
	dir := t.TempDir()
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600)
	priv, _ := os.ReadFile(filepath.Join(dir, "client_key"))
	port := dnspeer.FreePort(t)
	hostPub, _ := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	os.MkdirAll("/run/sshd", 0o755) // its privilege separation folder
	cmd := exec.Command(bin, "-D", "-e", "-f", "/dev/null", "-p", strconv.Itoa(port), "-o", "ListenAddress=127.0.0.1",
		"-h", filepath.Join(dir, "host_key"), "-o", "AuthorizedKeysFile="+filepath.Join(dir, "authorized_keys"),
		"-o", "PermitRootLogin=prohibit-password", "-o", "StrictModes=no", "-o", "PidFile=none", "-o", "UsePAM=no")
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen:\n%s", log.String())
		}
	}
	return fmt.Sprintf("qemu+ssh://root@127.0.0.1:%d/system", port), string(priv), fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub)
}

// workflowHome runs the example workflow's step that installs the SSH
// key and the host's key, as the runner would, in a HOME of its own,
// and returns that HOME. It checks that the workflow deploys with islet
// deploy over qemu+ssh on pushes to main.
func workflowHome(t *testing.T, key, knownHosts string) string {
	t.Helper()
	raw, err := os.ReadFile("../../examples/deploy/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			Push struct {
				Branches []string `yaml:"branches"`
			} `yaml:"push"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				Name string            `yaml:"name"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("the workflow: %v", err)
	}
	if len(wf.On.Push.Branches) != 1 || wf.On.Push.Branches[0] != "main" {
		t.Errorf("the workflow runs on pushes to %v, want main", wf.On.Push.Branches)
	}
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(home, 0o755)
	ran, deploys := false, false
	for _, step := range wf.Jobs["deploy"].Steps {
		if strings.Contains(step.Run, "islet deploy") && strings.Contains(step.Run, `--to "qemu+ssh://`) && !strings.Contains(step.Run, "--status") {
			deploys = true
		}
		if step.Env["KEY"] == "" {
			continue
		}
		cmd := exec.Command("bash", "-e", "-c", step.Run)
		cmd.Env = append(os.Environ(), "HOME="+home, "KEY="+key, "KNOWN_HOSTS="+knownHosts)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the workflow's step %q: %v\n%s", step.Name, err, out)
		}
		ran = true
	}
	if !ran || !deploys {
		t.Fatalf("the workflow has no step that installs the SSH key (%v) or none that deploys over qemu+ssh (%v)", ran, deploys)
	}
	return home
}

// isolatedGID is the group whose packets to the guest isolate refuses.
const isolatedGID = 4242

// isolate makes the firewall refuse what processes of isolatedGID send
// to addr (iptables' owner match), until the test ends.
func isolate(t *testing.T, addr string) {
	t.Helper()
	testpeer.Require(t, "iptables")
	rule := []string{"OUTPUT", "-d", addr, "-m", "owner", "--gid-owner", strconv.Itoa(isolatedGID), "-j", "REJECT"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
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
	sshHome := ""            // HOME of islet deploy, once it goes over ssh
	var deployGID uint32 = 0 // its group, once the firewall tells it apart
	deploy := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"deploy", dir, "--to", "qemu:///system", "--name", name}, args...)...)
		cmd.Dir = "../.." // islet build compiles the guest from the module
		if sshHome != "" {
			cmd.Env = append(os.Environ(), "HOME="+sshHome)
		}
		if deployGID != 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: deployGID}}
		}
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

	// certificate is the SHA-256 of the certificate the guest serves
	// for example.org; txt its answer to a TXT query.
	certificate := func(out string) [32]byte {
		t.Helper()
		m := addrRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no address in:\n%s", out)
		}
		c, err := ctls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", m[1]+":443", &ctls.Config{ServerName: "example.org", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	}
	txt := func(out, name string) string {
		t.Helper()
		m := addrRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no address in:\n%s", out)
		}
		r, err := dns.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeTXT), m[1]+":53")
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, rr := range r.Answer {
			if t, ok := rr.(*dns.TXT); ok {
				s = append(s, t.Txt...)
			}
		}
		return strings.Join(s, " ")
	}

	out, err := deploy()
	if err != nil || !strings.Contains(out, "healthy") || !strings.Contains(out, "dig @") {
		t.Fatalf("first deploy: %v\n%s", err, out)
	}
	if p := page(out); !strings.Contains(p, "<h1") {
		t.Fatalf("the about page: %q", p)
	}
	firstCert := certificate(out)

	// The second version, a page and a zone record changed, is pushed
	// to a bare repository whose post-receive hook is the example's: the
	// push deploys it, on the same state disk.
	about := filepath.Join(dir, "site", "about.md")
	b, _ := os.ReadFile(about)
	zone := filepath.Join(dir, "zones", "example.org.zone")
	z, _ := os.ReadFile(zone)
	out = pushToDeploy(t, dir, name, bin, func() {
		os.WriteFile(about, append(b, []byte("\nSecond version.\n")...), 0o644)
		second := strings.Replace(string(z), "2026112301 ; serial", "2026112302 ; serial", 1) + "deployed IN TXT \"second version\"\n"
		os.WriteFile(zone, []byte(second), 0o644)
	})
	if !strings.Contains(out, "post-receive: "+name+" serves ") || !strings.Contains(page(out), "Second version.") {
		t.Fatalf("second deploy, by a push:\n%s", out)
	}
	if got := txt(out, "deployed.example.org."); got != "second version" {
		t.Errorf("the second version's zone record: %q, want \"second version\"", got)
	}
	if certificate(out) != firstCert {
		t.Error("the second deploy serves another certificate: the first one was not kept on the state disk")
	}

	// A broken image: its zones and site are good, but its guest is
	// told to exit at start (a boot setting it refuses). It never
	// answers, and the one before comes back, with its boot settings.
	os.WriteFile(about, append(b, []byte("\nThird version.\n")...), 0o644)
	out, err = deploy("--boot", "islet.rrl=broken", "--health-timeout", "30s")
	if err == nil || !strings.Contains(out, "rolled back to") {
		t.Fatalf("a deploy that failed its health check: %v\n%s", err, out)
	}
	back := regexp.MustCompile(`healthy +(\d+\.\d+\.\d+\.\d+) answers`).FindStringSubmatch(out)
	if back == nil {
		t.Fatalf("the rollback's deployment does not answer:\n%s", out)
	}
	if p := page("at " + back[1]); !strings.Contains(p, "Second version.") || strings.Contains(p, "Third version.") {
		t.Fatalf("after the automatic rollback the page is %q, want the second version", p)
	}
	// --status and --rollback over qemu+ssh, as from a CI runner with the
	// example workflow's SSH set-up: libvirt and the checks of the guest
	// go through one SSH connection.
	sshURI, key, knownHosts := sshd(t)
	sshHome = workflowHome(t, key, knownHosts)
	// From here islet deploy runs in a group whose packets to the guest
	// the firewall refuses, as a runner outside the host's network
	// would be: only the SSH connection reaches it.
	before, _ := deploy("--status")
	guest := addrRE.FindStringSubmatch(before)
	if guest == nil || !strings.Contains(before, "serial 2026") {
		t.Fatalf("--status:\n%s", before)
	}
	isolate(t, guest[1])
	deployGID = isolatedGID
	if direct, _ := deploy("--status"); strings.Contains(direct, "serial 2026") {
		t.Fatalf("the firewall lets islet deploy reach the guest directly:\n%s", direct)
	}
	status, err := deploy("--status", "--to", sshURI)
	if err != nil || !strings.Contains(status, "running") || !strings.Contains(status, "example.org. serial 2026") ||
		!strings.Contains(status, "through the SSH connection") || !regexp.MustCompile(`address \S+, up \d`).MatchString(status) ||
		!strings.Contains(status, "https://example.org/: certificate from self-signed, valid until") {
		t.Fatalf("--status: %v\n%s", err, status)
	}
	t.Logf("islet deploy --status over ssh:\n%s", status)
	if p := page(status); !strings.Contains(p, "Second version.") || strings.Contains(p, "Third version.") {
		t.Errorf("after the rollback the page is %q, want the second version", p)
	}

	out, err = deploy("--rollback", "--to", sshURI)
	if err != nil || !strings.Contains(out, "runs image") || !strings.Contains(out, "through the SSH connection") {
		t.Fatalf("--rollback: %v\n%s", err, out)
	}
	if p := page(out); strings.Contains(p, "Second version.") {
		t.Errorf("--rollback did not go back to the first image: %q", p)
	}
}
