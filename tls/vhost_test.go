package tls

import (
	"net/http"
	"testing"
)

func TestRouter(t *testing.T) {
	s := testSite(t)
	rt, err := NewRouter(s, []Host{
		{Names: []string{"example.org", "www.example.org"}, Site: true, Canonical: "example.org"},
		{Names: []string{"example.net", "www.example.net"}, Redirect: "https://example.org"},
		{Names: []string{"old.example"}, Redirect: "https://example.org/archive/?from=old", Status: 308, HSTS: "on"},
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "https://"+tc.host+tc.target, nil)
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
	} {
		if _, err := NewRouter(s, bad, ""); err == nil {
			t.Errorf("accepted %+v", bad)
		}
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
