package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
)

// Site is a rendered site tree prepared for serving: every regular file
// indexed by its path, with its content type, a strong ETag, the cache
// policy and gzip and brotli variants computed once, when the Site is
// made, never per request. (The ETag of a file too large to keep in
// memory comes a little later, from a goroutine that hashes it.)
type Site struct {
	fsys     fs.FS
	files    map[string]*file // by slash path without the leading slash
	notFound *file            // the site's 404.html, if any
	headers  pathHeaders      // from the site's _headers file
	stall    time.Duration    // SiteOptions.StallTimeout
	opens    chan struct{}    // a place per large file open, SiteOptions.MaxOpenFiles

	stopHashing context.CancelFunc // ends hashLarge
	hashed      chan struct{}      // closed when hashLarge is over
}

// Close stops the hashing of large files if it still runs and waits for
// it (a site swapped out must not go on reading its tree). The site can
// still serve; large files not hashed yet go without an ETag. Safe to
// call twice.
func (s *Site) Close() error {
	s.stopHashing()
	<-s.hashed
	return nil
}

// file is one servable file.
type file struct {
	name     string
	data     []byte // nil for large files, read from fsys per request
	size     int64
	gzip, br []byte // precompressed variants, nil when not smaller
	ctype    string
	etag     string
	cache    string
	modTime  time.Time
	redirect string // the target of a jekyll-redirect-from stub

	// Header values made once, as the slices net/http keeps in its maps
	// (len == cap, so an Add elsewhere copies instead of writing here).
	hType, hCache, hLastMod []string
	hETag, hETagGz, hETagBr []string
	hLen, hLenGz, hLenBr    []string
	// largeETag is a large file's ETag header, once its content has
	// been hashed: NewSite leaves that to a goroutine, lest a start
	// wait seconds for a large file (1.4 s for 2 GB here), and the file is
	// served without an ETag meanwhile.
	largeETag atomic.Pointer[[]string]
}

func one(v string) []string { return []string{v}[:1:1] }

// headers fills in the precomputed header values.
func (f *file) headers() {
	f.hType, f.hCache = one(f.ctype), one(f.cache)
	if !f.modTime.IsZero() {
		f.hLastMod = one(f.modTime.UTC().Format(http.TimeFormat))
	}
	f.hLen = one(strconv.FormatInt(f.size, 10))
	f.hLenGz = one(strconv.Itoa(len(f.gzip)))
	f.hLenBr = one(strconv.Itoa(len(f.br)))
	// A compressed variant's ETag is the file's, marked; a large file's
	// own is not known yet, so its variants (build-time siblings, in
	// memory) are tagged by their own bytes.
	variant := func(data []byte, mark string) []string {
		if f.etag != "" {
			return one(f.etag[:len(f.etag)-1] + mark + `"`)
		}
		if data == nil {
			return nil
		}
		sum := sha256.Sum256(data)
		return one(`"` + hex.EncodeToString(sum[:12]) + mark + `"`)
	}
	if f.etag != "" {
		f.hETag = one(f.etag)
	}
	f.hETagGz, f.hETagBr = variant(f.gzip, "-gz"), variant(f.br, "-br")
}

// SiteOptions tune NewSite.
type SiteOptions struct {
	// ModTime is the Last-Modified of files whose FS has none (embed.FS);
	// zero leaves Last-Modified out for them.
	ModTime time.Time
	// Logger, if set, hears how the hashing of large files went and
	// what was left unpublished.
	Logger *slog.Logger
	// StallTimeout is how long one write of a response (64 KiB of a
	// file, or a whole smaller one) may wait for the client to read; 0:
	// 10 s. An HTTP/2 stream whose peer keeps its window shut is reset
	// then, and an HTTP/1 connection closed, giving back the buffers and
	// the open file they held, instead of holding them for the 5-minute
	// write timeout.
	StallTimeout time.Duration
	// MaxOpenFiles bounds the large files (over 4 MiB, read per
	// request) open at once; a request for one past it gets 503 with
	// Retry-After. 0: 256.
	MaxOpenFiles int
	// Include names files that are published although their names say
	// otherwise (dotfiles; "_" names in a tree that looks like a Jekyll
	// source): patterns matching a path from the root or a name at any
	// depth, as Jekyll's include: takes them.
	Include []string
	// NoCompress leaves out the gzip and brotli variants: for a site
	// indexed again at every edit (islet run), on a local link.
	NoCompress bool
	// Revalidate serves every file with Cache-Control: no-cache, so that
	// a browser asks again (by ETag) each time: a site being edited.
	Revalidate bool
	// Previous and Unchanged make indexing an edited tree again cheap:
	// a file that Unchanged says is the same as in Previous keeps its
	// entry there, read, hashed and compressed once.
	Previous  *Site
	Unchanged func(path string) bool
	// Paths, when set, are fsys's regular files, as a render's output
	// knows them: fsys is not walked.
	Paths []string
}

const (
	defaultStallTimeout = 10 * time.Second
	defaultMaxOpenFiles = 256
	maxInMemory         = 4 << 20 // larger files are read from the FS per request
	minCompress         = 256     // smaller files are not worth compressing
	brotliQuality       = 9
)

// NewSite indexes fsys. Symlinks and other non-regular files are never
// served, so nothing outside the tree can be reached through them; nor
// are dotfiles and dot-folders other than .well-known, nor, in a tree
// that looks like a Jekyll source, the names starting with "_" (see
// publishFilter), unless opt.Include names them.
func NewSite(fsys fs.FS, opt SiteOptions) (*Site, error) {
	s := &Site{fsys: fsys, files: map[string]*file{}, stopHashing: func() {}, hashed: make(chan struct{}), stall: opt.StallTimeout}
	if s.stall <= 0 {
		s.stall = defaultStallTimeout
	}
	if opt.MaxOpenFiles <= 0 {
		opt.MaxOpenFiles = defaultMaxOpenFiles
	}
	s.opens = make(chan struct{}, opt.MaxOpenFiles)
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	filter := publishFilter{source: looksLikeSource(fsys), include: opt.Include}
	if filter.source {
		log.Warn("site: the folder looks like a Jekyll source, not a rendered site: its _ files and folders are not served (render it, or serve it with --site-src)")
	}
	var paths, unpublished []string
	regular := map[string]bool{}
	var err error
	if opt.Paths != nil {
		for _, p := range opt.Paths {
			if filter.hidden(p) {
				unpublished = append(unpublished, p)
				continue
			}
			paths = append(paths, p)
			regular[p] = true
		}
	} else {
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != "." && filter.hidden(p) {
				switch {
				case !d.IsDir():
					unpublished = append(unpublished, p)
				case !filter.mayNameBelow(p):
					unpublished = append(unpublished, p+"/")
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				paths = append(paths, p)
				regular[p] = true
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	if len(unpublished) > 0 {
		log.Info("site: dotfiles and sources are not served; name exceptions with --site-include", "count", len(unpublished), "first", unpublished[0])
	}
	reused := map[*file]bool{} // shared with Previous, which serves them: not to be written
	for _, p := range paths {
		if opt.Previous != nil && opt.Unchanged != nil && opt.Unchanged(p) {
			if f, ok := opt.Previous.files[p]; ok {
				s.files[p] = f
				reused[f] = true
				continue
			}
		}
		f, err := prepare(fsys, p, opt, regular[p+".gz"] && regular[p+".br"])
		if err != nil {
			return nil, fmt.Errorf("site: %s: %w", p, err)
		}
		s.files[p] = f
	}
	// Sibling .gz and .br files made at build time stand in for our own
	// compression, and are not served under their own names' types.
	for p, f := range s.files {
		if reused[f] {
			continue
		}
		if gz, ok := s.files[p+".gz"]; ok && gz.data != nil {
			f.gzip = unwrapGzip(gz.data)
		}
		if br, ok := s.files[p+".br"]; ok && br.data != nil {
			f.br = br.data
		}
	}
	var large []*file
	for _, f := range s.files {
		if !reused[f] {
			f.headers()
		}
		if f.etag == "" && f.largeETag.Load() == nil {
			large = append(large, f)
		}
	}
	s.notFound = s.files["404.html"]
	if hf, ok := s.files[HeadersFile]; ok {
		data := hf.data
		if data == nil {
			return nil, fmt.Errorf("site: %s: larger than %d KiB", HeadersFile, maxHeadersFile>>10)
		}
		if s.headers, err = parseHeadersFile(data); err != nil {
			return nil, fmt.Errorf("site: %w", err)
		}
		delete(s.files, HeadersFile)
		log.Info("site: headers per path from "+HeadersFile, "rules", len(s.headers))
	}
	if len(large) == 0 {
		close(s.hashed)
		return s, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopHashing = cancel
	go func() {
		defer close(s.hashed)
		s.hashLarge(ctx, large, opt.Logger)
	}()
	return s, nil
}

// hashLarge gives each large file its ETag, from its content, one file
// after the other, until ctx ends.
func (s *Site) hashLarge(ctx context.Context, files []*file, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	for i, f := range files {
		h := sha256.New()
		r, err := s.fsys.Open(f.name)
		if err == nil {
			_, err = io.Copy(h, ctxReader{ctx, r})
			r.Close()
		}
		if ctx.Err() != nil {
			log.Debug("site: hashing of large files stopped", "left", len(files)-i)
			return
		}
		if err != nil {
			log.Warn("site: a large file is served without an ETag", "file", f.name, "err", err)
			continue
		}
		f.largeETag.Store(&[]string{`"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`})
	}
	log.Info("site: large files hashed for their ETags", "files", len(files), "took", time.Since(start).Round(time.Millisecond))
}

// ctxReader reads r until ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// unwrapGzip keeps a build-time .gz only when it is one.
func unwrapGzip(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return nil
	}
	return b
}

// Precompress makes the gzip and brotli variants the server keeps of a
// file (nil for one that is not smaller, or for a file of a type or size
// not worth compressing). islet build writes them as .gz and .br
// siblings, so that the appliance does not compress at start.
func Precompress(name string, data []byte) (gz, br []byte) {
	if !compressible(contentType(name)) || len(data) < minCompress {
		return nil, nil
	}
	return gzipBytes(data), brotliBytes(data)
}

// prepare reads and indexes one file; prebuilt says it has build-time
// .gz and .br siblings, so that it needs no compressing of its own.
func prepare(fsys fs.FS, p string, opt SiteOptions, prebuilt bool) (*file, error) {
	info, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, err
	}
	f := &file{name: p, size: info.Size(), modTime: info.ModTime()}
	if f.modTime.IsZero() || f.modTime.Unix() <= 0 {
		f.modTime = opt.ModTime
	}
	f.ctype = contentType(p)
	f.cache = cachePolicy(p, f.ctype)
	if opt.Revalidate {
		f.cache = "no-cache"
	}
	if f.size > maxInMemory {
		// Hashed later (hashLarge); whether it opens is known now.
		r, err := fsys.Open(p)
		if err != nil {
			return nil, err
		}
		r.Close()
		return f, nil
	}
	if f.data, err = fs.ReadFile(fsys, p); err != nil {
		return nil, err
	}
	f.size = int64(len(f.data))
	sum := sha256.Sum256(f.data)
	f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if !prebuilt && !opt.NoCompress {
		f.gzip, f.br = Precompress(p, f.data)
	}
	if strings.HasSuffix(p, ".html") {
		f.redirect = redirectStub(f.data)
	}
	return f, nil
}

func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	if b.Len() >= len(data) {
		return nil
	}
	return b.Bytes()
}

func brotliBytes(data []byte) []byte {
	var b bytes.Buffer
	// The window need not be larger than the file: quality 11 with the
	// default 4 MiB window allocates tens of MiB per call, which a small
	// appliance does not have.
	lgwin := 10
	for lgwin < 24 && 1<<lgwin < len(data) {
		lgwin++
	}
	w := brotli.NewWriterOptions(&b, brotli.WriterOptions{Quality: brotliQuality, LGWin: lgwin})
	w.Write(data)
	w.Close()
	if b.Len() >= len(data) {
		return nil
	}
	return b.Bytes()
}

// contentType knows the types a site uses, then asks the mime package.
func contentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	switch ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".xml":
		return "application/xml"
	case ".rss":
		return "application/rss+xml"
	case ".atom":
		return "application/atom+xml"
	case ".svg":
		return "image/svg+xml"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	case ".woff2":
		return "font/woff2"
	case ".wasm":
		return "application/wasm"
	case ".webmanifest":
		return "application/manifest+json"
	case ".ico":
		return "image/vnd.microsoft.icon"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	base, _, _ := strings.Cut(ctype, ";")
	switch {
	case strings.HasPrefix(base, "text/"), strings.HasSuffix(base, "+xml"), strings.HasSuffix(base, "+json"),
		base == "application/json", base == "application/xml", base == "application/wasm",
		base == "image/vnd.microsoft.icon", base == "font/ttf", base == "font/otf":
		return true
	}
	return false
}

// fingerprint matches asset names carrying a content hash, as asset
// pipelines write them: main.3f2a9c1e.css, app-5d41402abc4b2a76.js.
var fingerprint = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[.-][0-9a-f]{8,}\.[a-z0-9]+$`)
})

// cachePolicy: fingerprinted assets never change, HTML must always be
// revalidated, everything else may be kept an hour.
func cachePolicy(p, ctype string) string {
	switch {
	case fingerprint().MatchString(p):
		return "public, max-age=31536000, immutable"
	case strings.HasPrefix(ctype, "text/html"):
		return "no-cache"
	}
	return "public, max-age=3600"
}

// jekyll-redirect-from writes stub pages whose only job is a meta
// refresh; they are served as real redirects instead.
var (
	redirectTitle = []byte("<title>Redirecting&hellip;</title>")
	refreshRE     = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<meta http-equiv="refresh" content="0; url=([^"]+)">`)
	})
)

func redirectStub(data []byte) string {
	if len(data) > 2048 || !bytes.Contains(data, redirectTitle) {
		return ""
	}
	if m := refreshRE().FindSubmatch(data); m != nil {
		return htmlUnescape(string(m[1]))
	}
	return ""
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}
