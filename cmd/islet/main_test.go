package main

import (
	"bufio"
	"bytes"
	"context"
	ctls "crypto/tls"
	"errors"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/dnspeer"
)

// buildIslet compiles the command once per test binary run.
func buildIslet(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "islet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestCheck(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"check", "../../examples/homepage"}, &out, &errb); code != 0 {
		t.Fatalf("check of the example exited %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "zone example.org.") {
		t.Errorf("output: %q", out.String())
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\nns A 192.0.2.1\n"), 0o644)
	out.Reset()
	errb.Reset()
	if code := run([]string{"check", dir}, &out, &errb); code != 1 {
		t.Fatalf("check of a bad zone exited %d", code)
	}
	if want := "bad.example:2: error: no NS records at the zone apex bad.example."; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q lacks %q", errb.String(), want)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "ok.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "islet.yml"), []byte("hosts:\n  - names: [ok.example]\n    redirect: ftp://elsewhere.example\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"check", dir}, &out, &errb); code != 1 {
		t.Fatalf("a bad redirect passed the check: %d %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "islet.yml: hosts: host ok.example: redirect \"ftp://elsewhere.example\" is not an http(s) URL") {
		t.Errorf("stderr: %q", errb.String())
	}
	os.WriteFile(filepath.Join(dir, "islet.yml"), []byte("hosts:\n  - names: [ok.example]\n    redirect: https://elsewhere.example\nzonez: x\n"), 0o644)
	errb.Reset()
	if code := run([]string{"check", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "islet.yml:4: field zonez not found") {
		t.Errorf("unknown key: %d %q", code, errb.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve"}, {"run"}, {"check"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v exited %d, want 2", args, code)
		}
	}
}

// TestServeBadSizes: a send budget that is not a size is refused with
// the flag's name, before anything starts.
func TestServeBadSizes(t *testing.T) {
	for _, v := range []string{"lots", "0", "-1M", "12Q"} {
		var out, errb bytes.Buffer
		code := run([]string{"serve", "--zones", t.TempDir(), "--net", "packet:nonexistent0", "--tcp-send-memory", v}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), "--tcp-send-memory") {
			t.Errorf("--tcp-send-memory %s: exit %d, %q", v, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "--zones", t.TempDir(), "--https-max-conns", "-1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--https-max-conns") {
		t.Errorf("--https-max-conns -1: exit %d, %q", code, errb.String())
	}
}

// TestServeReload runs "islet serve", checks the printed instructions,
// reloads with SIGHUP, and checks that a broken zone keeps the old data.
func TestServeReload(t *testing.T) {
	bin := buildIslet(t)
	dir := t.TempDir()
	zone := func(serial, txt string) string {
		return "$TTL 60\n@ SOA ns hm " + serial + " 2 3 4 5\n NS ns\nns A 192.0.2.1\ninfo TXT \"" + txt + "\"\n"
	}
	file := filepath.Join(dir, "reload.example")
	os.WriteFile(file, []byte(zone("1", "first")), 0o644)
	cmd := exec.Command(bin, "serve", "--zones", dir, "--dns", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	var addr string
	re := regexp.MustCompile(`dig @(\S+) -p (\d+) reload.example. SOA`)
	deadline := time.After(10 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("islet exited: %s", stderr.String())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				addr = m[1] + ":" + m[2]
			}
		case <-deadline:
			t.Fatalf("no dig line printed; stderr: %s", stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	txt := func() string {
		c := &dns.Client{Timeout: time.Second}
		r, _, err := c.Exchange(new(dns.Msg).SetQuestion("info.reload.example.", dns.TypeTXT), addr)
		if err != nil || len(r.Answer) == 0 {
			t.Fatalf("query: %v %v", err, r)
		}
		return r.Answer[0].(*dns.TXT).Txt[0]
	}
	waitFor := func(want string) {
		t.Helper()
		for i := 0; i < 100; i++ {
			if txt() == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("TXT never became %q (is %q); stderr:\n%s", want, txt(), stderr.String())
	}
	waitFor("first")
	os.WriteFile(file, []byte(zone("2", "second")), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("second")
	os.WriteFile(file, []byte("$TTL 60\n@ SOA ns hm 3 2 3 4 5\ninfo TXT \"broken\"\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	for i := 0; !strings.Contains(stderr.String(), "reload failed"); i++ {
		if i == 250 {
			t.Fatalf("no failed reload logged after 5 s:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := txt(); got != "second" {
		t.Fatalf("after a broken reload TXT is %q, want the old %q", got, "second")
	}
	if !strings.Contains(stderr.String(), "no NS records at the zone apex") || !strings.Contains(stderr.String(), "reload failed") {
		t.Errorf("the failed reload was not logged with its reason:\n%s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer written by exec's copying goroutine and
// read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestForwardReloads: each SIGHUP becomes one reload request, and the
// forwarder ends with its context (it outlived the server before).
func TestForwardReloads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	reload, done := forwardReloads(ctx, hup)
	for range 2 {
		hup <- syscall.SIGHUP
		select {
		case <-reload:
		case <-time.After(5 * time.Second):
			t.Fatal("a SIGHUP asked for no reload")
		}
	}
	cancel() // no SIGHUP pending: the forwarder waits on hup and on ctx

	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the forwarder outlived its context")
	}
}

// TestServeSiteSource: "islet serve --site-src DIR" alone renders the
// source and serves it; Ctrl-C during a long render stops islet cleanly
// ("interrupted", exit 1) instead of the render running on.
func TestServeSiteSource(t *testing.T) {
	bin := buildIslet(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "index.md"), []byte("---\n---\n# from source\n"), 0o644)
	code, body := fetchPrinted(t, exec.Command(bin, "serve", "--site-src", src, "--https", "127.0.0.1:0", "--http", "", "--acme-directory", "off"))
	if !strings.Contains(body, "<h1 id=\"from-source\">from source</h1>") {
		t.Errorf("served %d %q", code, body)
	}

	// A site slow to render: every post lists every post.
	slow := t.TempDir()
	os.MkdirAll(filepath.Join(slow, "_posts"), 0o755)
	os.MkdirAll(filepath.Join(slow, "_layouts"), 0o755)
	os.WriteFile(filepath.Join(slow, "_layouts", "post.html"), []byte("{% for p in site.posts %}{% for q in site.posts %}{{ q.title | slugify }}{% endfor %}{% endfor %}"), 0o644)
	for i := range 400 {
		os.WriteFile(filepath.Join(slow, "_posts", fmt.Sprintf("2024-01-01-post-%d.md", i)), []byte("---\nlayout: post\ntitle: Post "+strconv.Itoa(i)+"\n---\nx\n"), 0o644)
	}
	cmd := exec.Command(bin, "serve", "--site-src", slow, "--https", "127.0.0.1:0", "--http", "", "--acme-directory", "off")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("after Ctrl-C during the render: %v\n%s", err, out.String())
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("islet took %v to stop after Ctrl-C", took)
	}
}

// TestServeBadTransferFlags: keys, ACLs and NOTIFY targets that do not
// parse, a keys file others can read, and an ACL naming a key not given
// are refused with the flag's name before anything starts.
func TestServeBadTransferFlags(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.keys")
	os.WriteFile(open, []byte("k:c2VjcmV0\n"), 0o644)
	bad := filepath.Join(dir, "bad.keys")
	os.WriteFile(bad, []byte("# ok\nk:c2VjcmV0\nhmac-md5:k2:c2VjcmV0\n"), 0o600)
	serveRefuses(t, []badFlag{
		{[]string{"--tsig-key", "k:not base64!"}, "--tsig-key: key k: the secret is not base64"},
		{[]string{"--tsig-keys", open}, "readable by others"},
		{[]string{"--tsig-keys", bad}, "bad.keys:3: algorithm \"hmac-md5\""},
		{[]string{"--allow-transfer", "192.0.2.0/33"}, "--allow-transfer"},
		{[]string{"--notify", "ns.example:53"}, "--notify"},
		{[]string{"--allow-transfer", "192.0.2.0/24@missing"}, "key missing., which is not given"},
	})
}

// TestServeFollows: "islet serve --secondary", with no zones of its
// own, follows another islet: the first transfer, then, after an edit
// and SIGHUP, the new serial the primary's NOTIFY brings; the zone is
// kept in --secondary-dir. The primary publishes a catalog of its zone.
func TestServeFollows(t *testing.T) {
	bin := buildIslet(t)
	dir := t.TempDir()
	write := func(serial int) {
		text := fmt.Sprintf("$TTL 60\n@ SOA ns hm %d 3600 600 86400 60\n NS ns\nns A 192.0.2.1\n", serial)
		if err := os.WriteFile(filepath.Join(dir, "follow.example"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(1)
	p1, p2 := dnspeer.FreePort(t), dnspeer.FreePort(t)
	primary := fmt.Sprintf("127.0.0.1:%d", p1)
	secondary := fmt.Sprintf("127.0.0.1:%d", p2)
	keep := t.TempDir()
	start := func(args ...string) (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(bin, append([]string{"serve", "--https", "", "--http", ""}, args...)...)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
		return cmd, &stderr
	}
	serial := func(a string) uint32 {
		r, err := dns.Exchange(new(dns.Msg).SetQuestion("follow.example.", dns.TypeSOA), a)
		if err != nil || len(r.Answer) == 0 {
			return 0
		}
		return r.Answer[0].(*dns.SOA).Serial
	}
	var plog, seclog *syncBuffer
	wait := func(addr string, want uint32) {
		t.Helper()
		for start := time.Now(); serial(addr) != want; time.Sleep(20 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s serves serial %d, want %d; the secondary's log:\n%s\nthe primary's:\n%s", addr, serial(addr), want, seclog, plog)
			}
		}
	}
	prim, plog := start("--zones", dir, "--dns", primary, "--allow-transfer", "127.0.0.1", "--notify", secondary, "--catalog", "catalog.invalid")
	wait(primary, 1)
	// the catalog lists the zone (RFC 9432)
	if r, err := dns.Exchange(new(dns.Msg).SetQuestion("catalog.invalid.", dns.TypeAXFR), primary); err == nil && r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR over UDP answered %v", r)
	}
	tr := new(dns.Transfer)
	env, err := tr.In(new(dns.Msg).SetAxfr("catalog.invalid."), primary)
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for e := range env {
		for _, rr := range e.RR {
			if ptr, ok := rr.(*dns.PTR); ok && ptr.Ptr == "follow.example." {
				members++
			}
		}
	}
	if members != 1 {
		t.Errorf("the catalog lists follow.example. %d times, want once", members)
	}
	_, seclog = start("--secondary", "follow.example="+primary, "--secondary-dir", keep, "--dns", secondary)
	wait(secondary, 1)
	write(2)
	prim.Process.Signal(syscall.SIGHUP)
	wait(secondary, 2)
	if _, err := os.Stat(filepath.Join(keep, "secondary-follow.example.zone")); err != nil {
		t.Errorf("the zone is not kept in --secondary-dir: %v", err)
	}
}

// TestRunLiveReload: islet run's pages carry the live-reload script
// while it watches the folder, and not with --watch=false.
func TestRunLiveReload(t *testing.T) {
	bin := buildIslet(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.WriteFile(filepath.Join(dir, "islet.yml"), []byte("site: site/\nhosts:\n  - names: [run.example]\n    site: true\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "zones", "run.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 127.0.0.1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "site", "index.html"), []byte("<html><body><h1>run</h1></body></html>\n"), 0o644)
	for _, c := range []struct {
		flags  []string
		script bool
	}{{nil, true}, {[]string{"--watch=false"}, false}, {[]string{"--livereload=false"}, false}} {
		args := append([]string{"run", dir, "--dns", "127.0.0.1:0", "--https", "127.0.0.1:0", "--http", ""}, c.flags...)
		_, body := fetchPrinted(t, exec.Command(bin, args...))
		if !strings.Contains(body, "<h1>run</h1>") || strings.Contains(body, "/_islet/livereload.js") != c.script {
			t.Errorf("%v: served %q, want the script: %v", c.flags, body, c.script)
		}
	}
}

// fetchPrinted starts cmd (islet serve or run), reads the curl line it
// prints and fetches that URL from it; the process is stopped when the
// test ends.
func fetchPrinted(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	re := regexp.MustCompile(`--resolve (\S+):(\d+):(\S+) (https://\S+)`)
	sc := bufio.NewScanner(stdout)
	var m []string
	for m == nil && sc.Scan() {
		m = re.FindStringSubmatch(sc.Text())
	}
	if m == nil {
		stop()
		t.Fatalf("%v: no curl line printed; stderr:\n%s", cmd.Args, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &ctls.Config{InsecureSkipVerify: true}, // self-signed: what is tested is the page
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, m[3]+":"+m[2])
		},
	}}
	resp, err := c.Get(m[4])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
