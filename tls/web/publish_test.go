package web

import (
	"testing"
	"testing/fstest"
)

// TestPublishedFiles: a tree served with --site publishes neither
// dotfiles nor, when it looks like a Jekyll source, its _ names; the
// exceptions are .well-known and what Include names.
func TestPublishedFiles(t *testing.T) {
	rendered := fstest.MapFS{
		"index.html":                          {Data: []byte("home")},
		".git/config":                         {Data: []byte("[remote] url = https://user:token@example.org/r.git")},
		".git/HEAD":                           {Data: []byte("ref: refs/heads/main")},
		".env":                                {Data: []byte("SECRET=1")},
		".htaccess":                           {Data: []byte("Deny from all")},
		"sub/.secret":                         {Data: []byte("s")},
		"sub/.cache/x.txt":                    {Data: []byte("s")},
		"sub/page.html":                       {Data: []byte("page")},
		".well-known/security.txt":            {Data: []byte("Contact: mailto:a@example.org")},
		"sub/.well-known/x":                   {Data: []byte("not the top")},
		"_redirects":                          {Data: []byte("/a /b")},
		"_static/app.js":                      {Data: []byte("js")},
		".nojekyll":                           {Data: []byte("")},
		".well-known/acme-challenge/.dotfile": {Data: []byte("s")},
	}
	source := fstest.MapFS{
		"index.md":            {Data: []byte("# home")},
		"_config.yml":         {Data: []byte("title: x")},
		"_posts/2024-01-01-a": {Data: []byte("post")},
		"_data/public.json":   {Data: []byte("{}")},
		"assets/main.css":     {Data: []byte("body{}")},
		"#draft.md#":          {Data: []byte("draft")},
		"notes.md~":           {Data: []byte("backup")},
		".git/config":         {Data: []byte("x")},
	}
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		include []string
		served  []string
		refused []string
	}{
		{"rendered tree", rendered, nil,
			[]string{"/", "/sub/page.html", "/.well-known/security.txt", "/_redirects", "/_static/app.js"},
			[]string{"/.git/config", "/.git/HEAD", "/%2egit/config", "/%2Egit/HEAD", "/.env", "/.htaccess", "/sub/.secret", "/sub/.cache/x.txt",
				"/sub/.well-known/x", "/.nojekyll", "/.well-known/acme-challenge/.dotfile"}},
		{"rendered tree with exceptions", rendered, []string{".nojekyll", "sub/.cache"},
			[]string{"/.nojekyll", "/sub/.cache/x.txt"},
			[]string{"/.git/config", "/.env", "/sub/.secret"}},
		{"source tree", source, nil,
			[]string{"/assets/main.css", "/index.md"},
			[]string{"/_config.yml", "/_posts/2024-01-01-a", "/_data/public.json", "/%23draft.md%23", "/notes.md~", "/.git/config"}},
		{"source tree with exceptions", source, []string{"_data/*.json"},
			[]string{"/_data/public.json"},
			[]string{"/_config.yml", "/_posts/2024-01-01-a"}},
		{"glob on a name at any depth", rendered, []string{".h*"},
			[]string{"/.htaccess"},
			[]string{"/.git/HEAD", "/.env"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSite(tc.fsys, SiteOptions{Include: tc.include})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.served {
				if w := get(s, "GET", p); w.Code != 200 {
					t.Errorf("GET %s: %d, want 200", p, w.Code)
				}
			}
			for _, p := range tc.refused {
				if w := get(s, "GET", p); w.Code != 404 {
					t.Errorf("GET %s: %d %q, want 404", p, w.Code, w.Body.String())
				}
			}
		})
	}
}
