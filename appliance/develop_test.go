//go:build !guest

package appliance

import (
	"bufio"
	"context"
	ctls "crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// devFolder writes an appliance folder: a zone, a site with a layout,
// a page, a post and a style sheet, and islet.yml naming one host.
func devFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"islet.yml":                     "zones: zones/\nsite: site/\nhosts:\n  - names: [dev.example]\n    site: true\n",
		"zones/dev.example":             "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 127.0.0.1\nt TXT \"one\"\n",
		"site/_config.yml":              "title: dev\n",
		"site/_layouts/default.html":    "<html><head><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><img src=\"/assets/logo.svg\">{{ content }}</body></html>\n",
		"site/assets/logo.svg":          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>\n",
		"site/index.html":               "---\nlayout: default\n---\n<h1>home</h1>{% for p in site.posts %}<a href=\"{{ p.url }}\">{{ p.title }}</a>{% endfor %}\n",
		"site/_posts/2024-01-02-hi.md":  "---\nlayout: default\ntitle: Hi\n---\nfirst words\n",
		"site/_posts/2024-01-01-old.md": "---\nlayout: default\ntitle: Old\n---\nan old post\n",
		"site/assets/style.css":         "body { color: black }\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// devRun runs Develop on dir, watching, until the test ends.
type devRun struct {
	ready   Ready
	client  *http.Client
	stderr  lockedBuffer
	mu      sync.Mutex
	renders int
}

func startDevelop(t *testing.T, dir string, tune ...func(*DevOptions)) *devRun {
	t.Helper()
	d := &devRun{}
	readyc := make(chan Ready, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opt := Options{ZonesDir: filepath.Join(dir, "zones"), DNSAddrs: []string{"127.0.0.1:0"}, UDPSockets: 1,
		Ready: func(r Ready) { readyc <- r },
		HTTPS: HTTPSOptions{HTTPSAddr: "127.0.0.1:0", ACMEDirectory: "off", Hosts: mustConfig(t, dir).TLSHosts()}}
	dev := DevOptions{Dir: dir, Watch: true, LiveReload: true, Stderr: &d.stderr, Rendered: func(error, []string) {
		d.mu.Lock()
		d.renders++
		d.mu.Unlock()
	}}
	for _, f := range tune {
		f(&dev)
	}
	go func() { done <- Develop(ctx, opt, dev) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Develop: %v", err)
		}
	})
	select {
	case d.ready = <-readyc:
	case err := <-done:
		t.Fatalf("Develop: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	addr := d.ready.HTTPS.String()
	d.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &ctls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}}}
	return d
}

func mustConfig(t *testing.T, dir string) *Config {
	t.Helper()
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (d *devRun) get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := d.client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *devRun) rendered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.renders
}

// waitFor polls url until its body holds want, and returns how long it
// took.
func (d *devRun) waitFor(t *testing.T, url, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, body := d.get(t, url)
		if strings.Contains(body, want) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s lacks %q after %v:\n%s\nstderr:\n%s", url, want, within, body, d.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// events reads the live-reload stream: each event as "kind data".
func (d *devRun) events(t *testing.T) <-chan string {
	t.Helper()
	resp, err := d.client.Get("https://dev.example/_islet/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	out := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		kind := ""
		for sc.Scan() {
			line := sc.Text()
			if k, ok := strings.CutPrefix(line, "event: "); ok {
				kind = k
			} else if data, ok := strings.CutPrefix(line, "data: "); ok {
				out <- kind + " " + data
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, events <-chan string) string {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no live-reload event")
		return ""
	}
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDevelop edits a watched appliance folder as a writer does: a
// post's text reaches the server and the pages are told which files
// changed; a CSS edit is told as CSS alone; a broken Liquid tag keeps
// the last good site served and is told with its file and line, and
// fixing it clears it; a burst of 100 saves costs a few renders and the
// last one is served; a zone edit is served; an islet.yml edit adds a
// redirect.
func TestDevelop(t *testing.T) {
	dir := devFolder(t)
	d := startDevelop(t, dir)
	post := "https://dev.example/2024/01/02/hi.html"
	code, body := d.get(t, post)
	if code != 200 || !strings.Contains(body, "first words") || !strings.Contains(body, liveScriptTag+"</body>") {
		t.Fatalf("post: %d %q", code, body)
	}
	if code, js := d.get(t, "https://dev.example/_islet/livereload.js"); code != 200 || !strings.Contains(js, "EventSource") {
		t.Fatalf("livereload.js: %d", code)
	}
	events := d.events(t)
	time.Sleep(50 * time.Millisecond) // the stream is open

	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\nsecond words\n")
	took := d.waitFor(t, post, "second words", 5*time.Second)
	t.Logf("a post's text edited: served in %v", took)
	ev := nextEvent(t, events)
	if !strings.HasPrefix(ev, "reload ") || !strings.Contains(ev, `"2024/01/02/hi.html"`) || strings.Contains(ev, "2024/01/01/old.html") {
		t.Errorf("after a post edit: %q, want a reload naming the post and not the other one", ev)
	}

	write(t, dir, "site/assets/style.css", "body { color: red }\n")
	d.waitFor(t, "https://dev.example/assets/style.css", "red", 5*time.Second)
	if ev := nextEvent(t, events); ev != `reload ["assets/style.css"]` {
		t.Errorf("after a CSS edit: %q, want the style sheet alone", ev)
	}

	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\n{% if %}broken\n")
	ev = nextEvent(t, events)
	if !strings.HasPrefix(ev, "failed ") || !strings.Contains(ev, "_posts/2024-01-02-hi.md:5") {
		t.Errorf("after a broken tag: %q, want the failure with its file and line", ev)
	}
	if !strings.Contains(d.stderr.String(), filepath.Join(dir, "site", "_posts", "2024-01-02-hi.md")+":5: ") {
		t.Errorf("the terminal lacks the error's file:line:\n%s", d.stderr.String())
	}
	if _, body := d.get(t, post); !strings.Contains(body, "second words") {
		t.Errorf("the last good site is not served while the source is broken: %q", body)
	}
	// a page opened now is told at once
	late := d.events(t)
	if ev := nextEvent(t, late); !strings.HasPrefix(ev, "failed ") {
		t.Errorf("a page opened while broken: %q", ev)
	}
	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\nmended\n")
	d.waitFor(t, post, "mended", 5*time.Second)
	if ev := nextEvent(t, events); !strings.HasPrefix(ev, "reload ") {
		t.Errorf("after the fix: %q, want a reload", ev)
	}

	before := d.rendered()
	for i := range 100 {
		write(t, dir, "site/_posts/2024-01-02-hi.md", fmt.Sprintf("---\nlayout: default\ntitle: Hi\n---\nsave %d\n", i))
	}
	d.waitFor(t, post, "save 99", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := d.rendered() - before; n > 4 {
		t.Errorf("a burst of 100 saves made %d renders, want a few", n)
	}

	write(t, dir, "zones/dev.example", "$TTL 60\n@ SOA ns hm 2 2 3 4 5\n NS ns\nns A 127.0.0.1\nt TXT \"two\"\n")
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := dns.Exchange(new(dns.Msg).SetQuestion("t.dev.example.", dns.TypeTXT), d.ready.DNS[0].String())
		if err == nil && len(m.Answer) == 1 && m.Answer[0].(*dns.TXT).Txt[0] == "two" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the zone edit is not served: %v %v", m, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	write(t, dir, "islet.yml", "zones: zones/\nsite: site/\nhosts:\n  - names: [dev.example]\n    site: true\n  - names: [old.example]\n    redirect: https://dev.example\n")
	deadline = time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "https://old.example/x", nil)
		resp, err := d.client.Transport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 301 && resp.Header.Get("Location") == "https://dev.example/x" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the redirect added to islet.yml is not served: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDevelopDrafts: islet run --drafts renders _drafts, as jekyll serve
// --drafts does; without it they are left out.
func TestDevelopDrafts(t *testing.T) {
	for _, drafts := range []bool{false, true} {
		dir := devFolder(t)
		os.MkdirAll(filepath.Join(dir, "site", "_drafts"), 0o755)
		write(t, dir, "site/_drafts/soon.md", "---\nlayout: default\ntitle: Soon\n---\nnot yet\n")
		d := startDevelop(t, dir, func(o *DevOptions) { o.Drafts = drafts })
		_, body := d.get(t, "https://dev.example/")
		if strings.Contains(body, "Soon") != drafts {
			t.Errorf("drafts %v: the index %q", drafts, body)
		}
	}
}
