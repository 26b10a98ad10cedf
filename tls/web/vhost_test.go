package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestRouter(t *testing.T) {
	s := testSite(t)
	rt, err := NewRouter(s, []Host{
		{Names: []string{"example.org", "www.example.org"}, Site: true, Canonical: "example.org"},
		{Names: []string{"example.net", "www.example.net"}, Redirect: "https://example.org"},
		{Names: []string{"old.example"}, Redirect: "https://example.org/archive/?from=old", Status: 308, HSTS: "on"},
		{Names: []string{"*.parked.example"}, Redirect: "https://example.org/parked", Status: 302},
		{Names: []string{"moved.example"}, Redirect: "https://example.org/new", Status: 307},
		{Names: []string{"plain.example"}, Site: true, HSTS: "off"},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host, target string
		status             int
		location           string
		hsts               bool
	}{
		{"site", "example.org", "/about/", 200, "", true},
		{"site with port and dot", "Example.ORG.:8443", "/about/", 200, "", true},
		{"canonical", "www.example.org:8443", "/about/?a=b", 301, "https://example.org:8443/about/?a=b", true},
		{"redirect keeps path and query", "www.example.net", "/a/b?x=1", 301, "https://example.org/a/b?x=1", false},
		{"redirect root", "example.net", "/", 301, "https://example.org/", false},
		{"308 with target path and query", "old.example", "/p?q=2", 308, "https://example.org/archive/p?from=old&q=2", true},
		{"unknown host", "evil.example", "/", 421, "", false},
		{"wildcard host one label down", "a.parked.example", "/x", 302, "https://example.org/parked/x", false},
		{"wildcard host, other case and port", "A.Parked.Example:8443", "/", 302, "https://example.org/parked/", false},
		{"wildcard host does not cover two labels down", "a.b.parked.example", "/", 421, "", false},
		{"wildcard host does not cover its parent", "parked.example", "/", 421, "", false},
		{"307 keeps the path", "moved.example", "/f?g=h", 307, "https://example.org/new/f?g=h", false},
		{"redirect keeps an escaped slash escaped", "example.net", "/a%2Fb/c%20d", 301, "https://example.org/a%2Fb/c%20d", false},
		{"redirect keeps an escaped slash under a target path", "old.example", "/a%2Fb", 308, "https://example.org/archive/a%2Fb?from=old", true},
		{"canonical keeps an escaped slash escaped", "www.example.org", "/a%2Fb", 301, "https://example.org/a%2Fb", true},
		{"site host with hsts off", "plain.example", "/about/", 200, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest("GET", "https://"+tc.host+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Host = tc.host
			w := get2(rt, r)
			if w.Code != tc.status || w.Header().Get("Location") != tc.location {
				t.Fatalf("%d %q, want %d %q", w.Code, w.Header().Get("Location"), tc.status, tc.location)
			}
			if got := w.Header().Get("Strict-Transport-Security") != ""; got != tc.hsts {
				t.Errorf("HSTS %v, want %v", got, tc.hsts)
			}
		})
	}
	for _, bad := range [][]Host{
		{{Names: []string{"a.example"}}},
		{{Names: []string{"a.example"}, Site: true, Redirect: "https://b.example"}},
		{{Names: []string{"a.example"}, Redirect: "ftp://b.example"}},
		{{Names: []string{"a.example"}, Redirect: "https://b.example", Status: 200}},
		{{Names: []string{"a.example"}, Site: true}, {Names: []string{"A.example"}, Site: true}},
		{{Names: []string{"a.example"}, Site: true, Canonical: "b.example"}},
		{{Names: []string{"a.example"}, Redirect: "https://b.example", HSTS: "maybe"}},
	} {
		if _, err := NewRouter(s, bad, ""); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if _, err := NewRouter(nil, nil, ""); err == nil {
		t.Error("a router with no hosts and no site was built")
	}
	def, err := NewRouter(s, []Host{{Names: []string{"example.org"}, Site: true}}, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "https://other.example/", nil)
	if w := get2(def, r); w.Code != 200 {
		t.Errorf("default host: %d", w.Code)
	}
}

// TestSwapSite: while the site is swapped back and forth, every answer
// comes whole from one tree or the other.
func TestSwapSite(t *testing.T) {
	tree := func(v string) *Site {
		s, err := NewSite(fstest.MapFS{"index.html": {Data: []byte("version " + v)}}, SiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two := tree("1"), tree("2")
	rt, err := NewRouter(one, []Host{{Names: []string{"example.org"}, Site: true}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.SwapSite(nil); err == nil {
		t.Fatal("swapped in no site")
	}
	stop := make(chan struct{})
	swapped := make(chan int)
	go func() {
		n := 0
		for next := http.Handler(two); ; n++ {
			select {
			case <-stop:
				swapped <- n
				return
			default:
			}
			old, err := rt.SwapSite(next)
			if err != nil {
				t.Error(err)
			}
			next = old
		}
	}()
	seen := map[string]int{}
	for i := 0; i < 2000 || len(seen) < 2; i++ {
		if i == 100000 {
			t.Fatalf("saw %v", seen)
		}
		r := httptest.NewRequest("GET", "https://example.org/", nil)
		body := get2(rt, r).Body.String()
		if body != "version 1" && body != "version 2" {
			t.Fatalf("answer %q", body)
		}
		seen[body]++
	}
	close(stop)
	if n := <-swapped; n == 0 {
		t.Fatal("no swap happened")
	}
}
