package web

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
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
		s.headers.apply(w.Header(), r.URL.Path)
		http.Redirect(w, r, redirect, http.StatusMovedPermanently)
	case f == nil:
		s.serveNotFound(w, r)
	case f.redirect != "":
		s.headers.apply(w.Header(), r.URL.Path)
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
	for rest := p[1:]; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
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
		s.headers.apply(w.Header(), r.URL.Path)
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	s.serveFile(w, r, s.notFound, http.StatusNotFound)
}

// Header values shared by every response.
var (
	hNosniff = one("nosniff")
	hVary    = one("Accept-Encoding")
	hNoCache = one("no-cache")
	hGzip    = one("gzip")
	hBr      = one("br")
	hBytes   = one("bytes")
)

// serveFile writes one file: the precompressed variant the client
// accepts, with every header value made in advance. Conditional and
// range requests go through http.ServeContent (304, 206, 412, 416).
func (s *Site) serveFile(w http.ResponseWriter, r *http.Request, f *file, status int) {
	h := w.Header()
	h["Content-Type"] = f.hType
	h["X-Content-Type-Options"] = hNosniff
	if f.gzip != nil || f.br != nil {
		h["Vary"] = hVary
	}
	data, etag, length := f.data, f.hETag, f.hLen
	switch enc := preferredEncoding(r.Header.Get("Accept-Encoding"), f); enc {
	case "br":
		data, etag, length = f.br, f.hETagBr, f.hLenBr
		h["Content-Encoding"] = hBr
	case "gzip":
		data, etag, length = f.gzip, f.hETagGz, f.hLenGz
		h["Content-Encoding"] = hGzip
	}
	if status != http.StatusOK {
		h["Cache-Control"] = hNoCache
		h["Content-Length"] = length
		s.headers.apply(h, r.URL.Path)
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			stallWriter{w, s.stallFor(r)}.Write(data)
		}
		return
	}
	h["Cache-Control"] = f.hCache
	if data == nil { // a large file: its ETag once it has been hashed
		etag = nil
		if e := f.largeETag.Load(); e != nil {
			etag = *e
		}
	}
	if etag != nil {
		h["Etag"] = etag
	}
	if f.hLastMod != nil {
		h["Last-Modified"] = f.hLastMod
	}
	s.headers.apply(h, r.URL.Path) // the site's own rules win
	if data != nil && plainRequest(r) {
		h["Accept-Ranges"] = hBytes
		h["Content-Length"] = length
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			stallWriter{w, s.stallFor(r)}.Write(data)
		}
		return
	}
	delete(h, "Last-Modified") // ServeContent writes it from modTime
	if rv := r.Header["Range"]; len(rv) > 0 {
		size := f.size
		if data != nil {
			size = int64(len(data))
		}
		// r is the server's own: ServeContent reads the bounded ranges.
		if b := boundRanges(rv[0], size); b == "" {
			delete(r.Header, "Range")
		} else {
			r.Header["Range"] = []string{b}
		}
	}
	if data != nil {
		http.ServeContent(chunkedCopy{w, s.stallFor(r)}, r, "", f.modTime, bytes.NewReader(data))
		return
	}
	select {
	case s.opens <- struct{}{}:
		defer func() { <-s.opens }()
	default:
		// Every place for an open file is taken (clients that read
		// slowly): this one is asked to come back.
		h["Retry-After"] = hRetryAfter
		h["Content-Length"] = hZero
		delete(h, "Etag")
		w.WriteHeader(http.StatusServiceUnavailable)
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
	http.ServeContent(chunkedCopy{w, s.stallFor(r)}, r, "", f.modTime, rs)
}

// stallFor is how long one write of a response to r may wait for its
// client. An HTTP/2 stream gets the stall timeout: its buffers are
// ours. An HTTP/1 response gets six times as long (60 s by default, as
// nginx's send_timeout): the kernel's socket buffer holds what is
// written, and a writer waiting on a full one is woken only once a good
// part of it has drained, which over a slow link takes seconds.
func (s *Site) stallFor(r *http.Request) time.Duration {
	if r.ProtoMajor == 1 {
		return 6 * s.stall
	}
	return s.stall
}

// plainRequest: no precondition and no range, the common case.
func plainRequest(r *http.Request) bool {
	for _, k := range [...]string{"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
}

// preferredEncoding picks br, then gzip, among those the client accepts
// (RFC 9110 §12.5.3: q=0 refuses, "*" stands for the unnamed) and the
// file has.
func preferredEncoding(accept string, f *file) string {
	if accept == "" || (f.br == nil && f.gzip == nil) {
		return ""
	}
	qBr, qGz, qAny := -1.0, -1.0, -1.0
	for accept != "" {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		name, params, _ := strings.Cut(part, ";")
		weight := 1.0
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && (k == "q" || k == "Q") {
				if x, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					weight = x
				}
			}
		}
		switch name = strings.TrimSpace(name); {
		case strings.EqualFold(name, "br"):
			qBr = weight
		case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
			qGz = weight
		case name == "*":
			qAny = weight
		}
	}
	accepts := func(q float64) bool {
		if q < 0 {
			return qAny > 0
		}
		return q > 0
	}
	switch {
	case f.br != nil && accepts(qBr):
		return "br"
	case f.gzip != nil && accepts(qGz):
		return "gzip"
	}
	return ""
}
