package web

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestHeadersFileErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  X-A: 1\n", "_headers:1: a header before any path"},
		{"/*\nX-A: 1\n", `_headers:2: "X-A: 1": a rule's path starts with /`},
		{"/*\n  X-A 1\n", `_headers:2: "X-A 1" is not Name: value`},
		{"/*\n  Content-Length: 5\n", "_headers:2: header Content-Length is the server's own"},
		{"/*\n  Transfer-Encoding: chunked\n", "_headers:2: header Transfer-Encoding is the server's own"},
		{"# c\n/*\n  Bad Name: 1\n", `_headers:3: "Bad Name" is not a header name`},
		{"/*\n  X-A: a\x01b\n", "_headers:2: header X-A: the value has a control character"},
		{"/a b\n  X-A: 1\n", `_headers:1: "/a b": a path has no spaces`},
		{"/*\n", "_headers: rule /* has no headers"},
		{strings.Repeat("/a\n  X-A: 1\n", maxHeaderRules+1), "_headers:2001: more than 1000 rules"},
	}
	for _, tc := range tests {
		_, err := parseHeadersFile([]byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%.30q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestPathPattern(t *testing.T) {
	tests := []struct {
		pat, path string
		want      bool
	}{
		{"/*", "/", true},
		{"/*", "/a/b/c.css", true},
		{"/assets/*", "/assets/main.css", true},
		{"/assets/*", "/assetsx", false},
		{"/assets/*", "/other/assets/x", false},
		{"/*.css", "/a/b.css", true},
		{"/*.css", "/a/b.cssx", false},
		{"/blog/:slug/", "/blog/first-post/", true},
		{"/blog/:slug/", "/blog/a/b/", false},
		{"/blog/:slug/", "/blog//", false},
		{"/a.b", "/axb", false}, // literal dot
		{"/x:y", "/x:y", true},  // a colon inside a segment is literal
		{"/x:y", "/xz", false},
		{"/about/", "/about/", true},
		{"/about/", "/about", false},
	}
	for _, tc := range tests {
		if got := pathPattern(tc.pat).MatchString(tc.path); got != tc.want {
			t.Errorf("%s ~ %s = %v, want %v", tc.pat, tc.path, got, tc.want)
		}
	}
}

// TestSiteHeaders: a site's _headers rules reach every response of the
// paths they match, win over the server's own values, join when two
// rules set one header, and the file itself is not served.
func TestSiteHeaders(t *testing.T) {
	rules := "# security headers\n/*\n  Content-Security-Policy: default-src 'self'\n  X-Frame-Options: DENY\n\n" +
		"/assets/*\n  Cache-Control: public, max-age=60\n  X-Frame-Options: SAMEORIGIN\n" +
		"/blog/:slug/\n  X-Robots-Tag: noindex\n"
	s, err := NewSite(fstest.MapFS{
		"_headers":          {Data: []byte(rules)},
		"index.html":        {Data: []byte("home")},
		"assets/main.css":   {Data: []byte("body{}")},
		"blog/a/index.html": {Data: []byte("post")},
		"404.html":          {Data: []byte("gone")},
	}, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		status int
		want   map[string]string
	}{
		{"/", 200, map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY", "Cache-Control": "no-cache", "X-Robots-Tag": ""}},
		{"/assets/main.css", 200, map[string]string{"Cache-Control": "public, max-age=60", "X-Frame-Options": "DENY, SAMEORIGIN"}},
		{"/blog/a/", 200, map[string]string{"X-Robots-Tag": "noindex", "X-Frame-Options": "DENY"}},
		{"/blog/a", 301, map[string]string{"X-Frame-Options": "DENY", "X-Robots-Tag": ""}},
		{"/nope", 404, map[string]string{"Content-Security-Policy": "default-src 'self'"}},
		{"/_headers", 404, nil},
	}
	for _, tc := range tests {
		w := get(s, "GET", tc.path)
		if w.Code != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, w.Code, tc.status)
		}
		if tc.path == "/_headers" && strings.Contains(w.Body.String(), "Content-Security-Policy") {
			t.Errorf("the _headers file is served")
		}
		for k, v := range tc.want {
			if got := strings.Join(w.Header().Values(k), ", "); got != v {
				t.Errorf("GET %s: %s %q, want %q", tc.path, k, got, v)
			}
		}
	}
	if _, err := NewSite(fstest.MapFS{"_headers": {Data: []byte("/*\n  Content-Length: 1\n")}}, SiteOptions{}); err == nil || !strings.Contains(err.Error(), "_headers:2:") {
		t.Errorf("a bad _headers: error %v, want one naming _headers:2", err)
	}
}

// TestHostHeaders: islet.yml's headers of a host are on its responses
// (site and redirects), replace the defaults, and are checked.
func TestHostHeaders(t *testing.T) {
	rt, err := NewRouter(testSite(t), []Host{
		{Names: []string{"example.org"}, Site: true, Headers: map[string]string{
			"content-security-policy":   "default-src 'self'",
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
			"Permissions-Policy":        "geolocation=()",
		}},
		{Names: []string{"example.net"}, Redirect: "https://example.org", Headers: map[string]string{"X-Frame-Options": "DENY"}},
		{Names: []string{"example.com"}, Site: true},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := get(rt, "GET", "https://example.org/")
	for k, v := range map[string]string{"Content-Security-Policy": "default-src 'self'", "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload", "Permissions-Policy": "geolocation=()", "Referrer-Policy": "strict-origin-when-cross-origin"} {
		if got := r.Header().Get(k); got != v {
			t.Errorf("example.org: %s %q, want %q", k, got, v)
		}
	}
	if got := get(rt, "GET", "https://example.net/x").Header().Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("redirect host: X-Frame-Options %q, want DENY", got)
	}
	if got := get(rt, "GET", "https://example.com/").Header().Get("Content-Security-Policy"); got != "" {
		t.Errorf("another host got example.org's headers: %q", got)
	}
	for _, bad := range []map[string]string{{"Content-Length": "1"}, {"X-A": "a\nb"}, {"a b": "c"}} {
		if _, err := NewRouter(testSite(t), []Host{{Names: []string{"example.org"}, Site: true, Headers: bad}}, ""); err == nil || !strings.Contains(err.Error(), "host example.org: headers:") {
			t.Errorf("headers %v: error %v", bad, err)
		}
	}
}
