// Package dnspeer starts Debian's NSD and Knot on loopback for tests and
// benchmarks that compare islet with them on the same zone files.
package dnspeer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"islet.dev/islet/internal/testpeer"

	"github.com/miekg/dns"
)

// Zone is one zone file to serve.
type Zone struct {
	Origin string // e.g. "example.com."
	File   string // absolute path
}

// FreePort returns a port free for both UDP and TCP on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// StartNSD runs nsd in the foreground on a free port and returns its
// address; it is stopped when the test ends. Each of server is a line
// added to nsd.conf's server: section ("cookie-secret: …").
func StartNSD(t testing.TB, zones []Zone, server ...string) string {
	t.Helper()
	bin := testpeer.Require(t, "nsd")
	dir := t.TempDir()
	port := FreePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, nsdServer+`  rrl-ratelimit: 0
  answer-cookie: yes
  hide-version: yes
  hide-identity: yes
  server-count: 1
`, port, dir)
	for _, line := range server {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	b.WriteString("remote-control:\n  control-enable: no\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "zone:\n  name: %q\n  zonefile: %q\n", z.Origin, z.File)
	}
	return launch(t, dir, "nsd", b.String(), port, zones[0].Origin, bin, "-d", "-c")
}

// StartKnot runs knotd in the foreground on a free port and returns its
// address; it is stopped when the test ends.
func StartKnot(t testing.TB, zones []Zone) string {
	t.Helper()
	bin := testpeer.Require(t, "knotd")
	dir := t.TempDir()
	port := FreePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, `server:
  listen: 127.0.0.1@%d
  rundir: %[2]s
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
database:
  storage: %[2]s/db
template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
log:
  - target: %[2]s/knot.log
    any: info
zone:
`, port, dir)
	for _, z := range zones {
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n", z.Origin, z.File)
	}
	return launch(t, dir, "knot", b.String(), port, zones[0].Origin, bin, "-c")
}

// launch writes DIR/NAME.conf, runs the server with the config file as
// its last argument, and waits until it answers for origin.
func launch(t testing.TB, dir, name, conf string, port int, origin string, argv ...string) string {
	t.Helper()
	return launchCmd(t, dir, name, conf, port, origin, argv...).Addr
}

// Peer is a running server.
type Peer struct {
	Addr string
	Log  string // its log file
	cmd  *exec.Cmd
}

// Reload sends the server SIGHUP: the three reload their zone files.
func (p *Peer) Reload() error { return p.cmd.Process.Signal(syscall.SIGHUP) }

func launchCmd(t testing.TB, dir, name, conf string, port int, origin string, argv ...string) *Peer {
	t.Helper()
	file := filepath.Join(dir, name+".conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, name+".log")
	cmd := exec.Command(argv[0], append(argv[1:], file)...)
	start(t, cmd, logFile)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if origin != "" {
		waitReady(t, addr, origin, logFile)
	}
	return &Peer{Addr: addr, Log: logFile, cmd: cmd}
}

// StartPrimary runs kind ("nsd", "knot" or "bind") as the primary of
// the zone in file (origin): it lets 127.0.0.1 transfer the zone with
// key, and sends NOTIFY signed with it to notify (host:port) whenever
// it reloads a changed zone file. Knot and BIND keep the differences
// and answer IXFR; NSD 4.6 answers it with the whole zone.
func StartPrimary(t testing.TB, kind, origin, file, notify string, key Key) *Peer {
	t.Helper()
	dir := t.TempDir()
	port := FreePort(t)
	host, nport, _ := net.SplitHostPort(notify)
	switch kind {
	case "nsd":
		conf := fmt.Sprintf(nsdKeyed+`zone:
  name: %[6]q
  zonefile: %[7]q
  provide-xfr: 127.0.0.1 %[3]s
  notify: %[8]s@%[9]s %[3]s
`, port, dir, key.Name, key.Algorithm, key.Secret, origin, file, host, nport)
		return launchCmd(t, dir, "nsd", conf, port, origin, testpeer.Require(t, "nsd"), "-d", "-c")
	case "knot":
		knotStorage(t, dir)
		conf := fmt.Sprintf(knotKeyed+`remote:
  - id: secondary
    address: %[8]s@%[9]s
    key: %[3]s
acl:
  - id: transfer
    address: 127.0.0.1
    key: %[3]s
    action: transfer
template:
  - id: default
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
zone:
  - domain: %[6]q
    file: %[7]q
    notify: secondary
    acl: transfer
`, port, dir, key.Name, key.Algorithm, key.Secret, origin, file, host, nport)
		return launchCmd(t, dir, "knot", conf, port, origin, testpeer.Require(t, "knotd"), "-c")
	case "bind":
		conf := fmt.Sprintf(bindHead+`};
`+bindKey+`zone %[6]q {
  type primary;
  file %[7]q;
  allow-transfer { key %[3]q; };
  notify explicit;
  also-notify { %[8]s port %[9]s key %[3]q; };
  notify-delay 0;
  ixfr-from-differences yes;
};
logging {
  channel file { file "%[2]s/named.log"; severity info; print-time yes; };
  category default { file; };
};
`, port, dir, key.Name, key.Algorithm, key.Secret, origin, file, host, nport)
		argv := []string{testpeer.Require(t, "named"), "-g"}
		if os.Geteuid() == 0 {
			argv = append(argv, "-u", "root")
		}
		return launchCmd(t, dir, "named", conf, port, origin, append(argv, "-c")...)
	}
	t.Fatalf("no primary %q", kind)
	return nil
}

func start(t testing.TB, cmd *exec.Cmd, logFile string) {
	t.Helper()
	out, err := os.Create(logFile + ".out")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		out.Close()
	})
}

// waitReady polls until the server answers the zone's SOA.
func waitReady(t testing.TB, addr, origin, logFile string) {
	t.Helper()
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg).SetQuestion(origin, dns.TypeSOA)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	logs, _ := os.ReadFile(logFile)
	more, _ := os.ReadFile(logFile + ".out")
	t.Fatalf("%s did not answer for %s within 15s; log:\n%s%s", addr, origin, logs, more)
}

// Key is a TSIG key as the peers' configurations name it.
type Key struct {
	Name      string // e.g. "xfr.example."
	Algorithm string // e.g. "hmac-sha256"
	Secret    string // base64
}

// nsdKeyed and knotKeyed begin the configurations of the servers that
// transfer zones: Sprintf's arguments 1 to 5 are the port, the folder
// and the key's name, algorithm and secret.
const (
	// nsdServer is the start of nsd's server: block (port, folder).
	nsdServer = `server:
  ip-address: 127.0.0.1@%d
  username: ""
  chroot: ""
  zonesdir: ""
  database: ""
  pidfile: "%[2]s/nsd.pid"
  xfrdfile: "%[2]s/xfrd.state"
  zonelistfile: "%[2]s/zone.list"
  logfile: "%[2]s/nsd.log"
`
	nsdKeyed = nsdServer + `  verbosity: 2
  rrl-ratelimit: 0
  server-count: 1
remote-control:
  control-enable: no
key:
  name: %[3]q
  algorithm: %[4]s
  secret: %[5]q
`
	// knotFromPrimary names the primary (arguments 7 and 8: its host
	// and port) and takes its NOTIFY signed with the key; more acl
	// entries may follow.
	knotFromPrimary = `remote:
  - id: primary
    address: %[7]s@%[8]s
    key: %[3]s
acl:
  - id: notify_from_primary
    address: %[7]s
    key: %[3]s
    action: notify
`
	// bindHead opens named's options (arguments 1 and 2), bindKey
	// declares the key (3 to 5).
	bindHead = `options {
  directory "%[2]s";
  pid-file "%[2]s/named.pid";
  listen-on port %[1]d { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
`
	bindKey = `key %[3]q {
  algorithm %[4]s;
  secret %[5]q;
};
`
	knotKeyed = `server:
  listen: 127.0.0.1@%d
  rundir: %[2]s
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
database:
  storage: %[2]s/db
log:
  - target: %[2]s/knot.log
    any: info
key:
  - id: %[3]s
    algorithm: %[4]s
    secret: %[5]s
`
)

// StartNSDSecondary runs nsd on port as a secondary of origin: it
// transfers the zone from primary (host:port) signed with key, takes
// NOTIFY from the primary's address signed with it, and lets anyone on
// loopback transfer the zone from it. It returns once nsd answers for
// the zone, that is once the first transfer is done.
func StartNSDSecondary(t testing.TB, port int, origin, primary string, key Key) string {
	t.Helper()
	bin := testpeer.Require(t, "nsd")
	dir := t.TempDir()
	host, pport, _ := net.SplitHostPort(primary)
	conf := fmt.Sprintf(nsdKeyed+`zone:
  name: %[6]q
  zonefile: "%[2]s/secondary.zone"
  request-xfr: %[7]s@%[8]s %[3]s
  allow-notify: %[7]s %[3]s
  provide-xfr: 127.0.0.1 NOKEY
`, port, dir, key.Name, key.Algorithm, key.Secret, origin, host, pport)
	return launch(t, dir, "nsd", conf, port, origin, bin, "-d", "-c")
}

// knotStorage makes knotd's database folder, which a reload and the
// catalog need before knotd makes it itself.
func knotStorage(t testing.TB, dir string) {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// StartKnotSecondary is StartNSDSecondary with knotd.
func StartKnotSecondary(t testing.TB, port int, origin, primary string, key Key) string {
	t.Helper()
	bin := testpeer.Require(t, "knotd")
	dir := t.TempDir()
	knotStorage(t, dir)
	host, pport, _ := net.SplitHostPort(primary)
	conf := fmt.Sprintf(knotKeyed+knotFromPrimary+`  - id: transfer_out
    address: 127.0.0.1
    action: transfer
zone:
  - domain: %[6]q
    master: primary
    acl: [notify_from_primary, transfer_out]
    file: %[2]s/secondary.zone
`, port, dir, key.Name, key.Algorithm, key.Secret, origin, host, pport)
	return launch(t, dir, "knot", conf, port, origin, bin, "-c")
}

// StartBINDSecondary is StartNSDSecondary with named (BIND 9).
func StartBINDSecondary(t testing.TB, port int, origin, primary string, key Key) string {
	t.Helper()
	bin := testpeer.Require(t, "named")
	dir := t.TempDir()
	host, pport, _ := net.SplitHostPort(primary)
	conf := fmt.Sprintf(bindHead+`  allow-transfer { 127.0.0.1; };
  notify no;
};
`+bindKey+`zone %[6]q {
  type secondary;
  file "%[2]s/secondary.zone";
  primaries port %[8]s { %[7]s key %[3]q; };
  allow-notify { %[7]s; };
};
logging {
  channel file { file "%[2]s/named.log"; severity info; print-time yes; };
  category default { file; };
  category xfer-in { file; };
  category notify { file; };
};
`, port, dir, key.Name, key.Algorithm, key.Secret, origin, host, pport)
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"-u", "root"}
	}
	return launch(t, dir, "named", conf, port, origin, append(append([]string{bin, "-g"}, user...), "-c")...)
}

// StartCatalogConsumer runs kind ("knot" or "bind") on port as a
// consumer of the catalog zone (RFC 9432) at primary (host:port): it
// follows the catalog, and every zone the catalog lists, from primary
// with key, taking NOTIFY from it. It returns at once: catalogs are
// not served to queries by all.
func StartCatalogConsumer(t testing.TB, kind string, port int, catalog, primary string, key Key) *Peer {
	t.Helper()
	dir := t.TempDir()
	host, pport, _ := net.SplitHostPort(primary)
	switch kind {
	case "knot":
		knotStorage(t, dir)
		conf := fmt.Sprintf(knotKeyed+knotFromPrimary+`template:
  - id: members
    master: primary
    acl: notify_from_primary
    file: %[2]s/%%s.zone
zone:
  - domain: %[6]q
    master: primary
    acl: notify_from_primary
    file: %[2]s/catalog.zone
    catalog-role: interpret
    catalog-template: members
`, port, dir, key.Name, key.Algorithm, key.Secret, catalog, host, pport)
		return launchCmd(t, dir, "knot", conf, port, "", testpeer.Require(t, "knotd"), "-c")
	case "bind":
		conf := fmt.Sprintf(bindHead+`  allow-new-zones yes;
  catalog-zones {
    zone %[6]q default-primaries port %[8]s { %[7]s key %[3]q; } zone-directory "%[2]s" in-memory yes;
  };
};
`+bindKey+`zone %[6]q {
  type secondary;
  file "%[2]s/catalog.zone";
  primaries port %[8]s { %[7]s key %[3]q; };
  allow-notify { %[7]s; };
};
`, port, dir, key.Name, key.Algorithm, key.Secret, catalog, host, pport)
		argv := []string{testpeer.Require(t, "named"), "-g"}
		if os.Geteuid() == 0 {
			argv = append(argv, "-u", "root")
		}
		return launchCmd(t, dir, "named", conf, port, "", append(argv, "-c")...)
	}
	t.Fatalf("no catalog consumer %q", kind)
	return nil
}
