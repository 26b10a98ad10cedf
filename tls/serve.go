package tls

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ServeHTTP serves the site with Jekyll's URL rules: "/dir/" is
// dir/index.html, "/about" redirects to "/about/" when about/index.html
// exists and is about.html when that exists, and anything else is the
// site's 404.html with status 404.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p, ok := cleanPath(r.URL.Path)
	if !ok {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f, redirect := s.lookup(p)
	switch {
	case redirect != "":
		if q := r.URL.RawQuery; q != "" {
			redirect += "?" + q
		}
		http.Redirect(w, r, redirect, http.StatusMovedPermanently)
	case f == nil:
		s.serveNotFound(w, r)
	case f.redirect != "":
		http.Redirect(w, r, f.redirect, http.StatusMovedPermanently)
	default:
		s.serveFile(w, r, f, http.StatusOK)
	}
}

// cleanPath checks a decoded URL path: absolute, valid UTF-8, no NUL,
// backslash or dot segments. It never cleans a bad path into a good
// one: a request that tries to climb out is refused.
func cleanPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || !utf8.ValidString(p) || strings.ContainsAny(p, "\x00\\") {
		return "", false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return p[1:], true
}

// lookup maps a path (no leading slash) to a file or to a redirect.
func (s *Site) lookup(p string) (*file, string) {
	if p == "" || strings.HasSuffix(p, "/") {
		return s.files[p+"index.html"], ""
	}
	if strings.Contains(p, "//") {
		return nil, ""
	}
	if f, ok := s.files[p]; ok {
		return f, ""
	}
	if _, ok := s.files[p+"/index.html"]; ok {
		return nil, "/" + p + "/"
	}
	if f, ok := s.files[p+".html"]; ok {
		return f, ""
	}
	return nil, ""
}

func (s *Site) serveNotFound(w http.ResponseWriter, r *http.Request) {
	if s.notFound == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	s.serveFile(w, r, s.notFound, http.StatusNotFound)
}

// serveFile writes one file: the precompressed variant the client
// accepts, conditional requests (304) and ranges (206) through
// http.ServeContent for 200s.
func (s *Site) serveFile(w http.ResponseWriter, r *http.Request, f *file, status int) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.gzip != nil || f.br != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	data, etag := f.data, f.etag
	switch enc := preferredEncoding(r.Header.Get("Accept-Encoding"), f); enc {
	case "br":
		data, etag = f.br, f.etag[:len(f.etag)-1]+`-br"`
		h.Set("Content-Encoding", "br")
	case "gzip":
		data, etag = f.gzip, f.etag[:len(f.etag)-1]+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	if status != http.StatusOK {
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write(data)
		}
		return
	}
	h.Set("Cache-Control", f.cache)
	h.Set("Etag", etag)
	if data != nil {
		http.ServeContent(w, r, "", f.modTime, bytes.NewReader(data))
		return
	}
	rf, err := s.fsys.Open(f.name)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer rf.Close()
	rs, ok := rf.(io.ReadSeeker)
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, "", f.modTime, rs)
}

// preferredEncoding picks br, then gzip, among those the client accepts
// (RFC 9110 §12.5.3: q=0 refuses, "*" stands for the unnamed) and the
// file has.
func preferredEncoding(accept string, f *file) string {
	if accept == "" || (f.br == nil && f.gzip == nil) {
		return ""
	}
	q := map[string]float64{}
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "x-gzip" {
			name = "gzip"
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if x, err := strconv.ParseFloat(v, 64); err == nil {
					weight = x
				}
			}
		}
		q[name] = weight
	}
	accepts := func(enc string) bool {
		if w, ok := q[enc]; ok {
			return w > 0
		}
		return q["*"] > 0
	}
	switch {
	case f.br != nil && accepts("br"):
		return "br"
	case f.gzip != nil && accepts("gzip"):
		return "gzip"
	}
	return ""
}
