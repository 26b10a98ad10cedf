//go:build !guest

package appliance

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"islet.dev/islet/tls/web"
)

// livePrefix is the path under which islet run serves the live-reload
// script and its events; a site's own files there are shadowed.
const livePrefix = "/_islet/"

// liveScriptTag is what every HTML page islet run serves carries, just
// before </body>.
const liveScriptTag = `<script src="/_islet/livereload.js" async></script>`

//go:embed livereload.js
var liveScript []byte

// liveSite is the site islet run serves while its folder is edited:
// the last good render, swapped whole at each new one, and under
// /_islet/ the live-reload script and the server-sent events that tell
// pages to reload, to swap their CSS or to show a render error.
type liveSite struct {
	cur atomic.Pointer[web.Site]
	hub *reloadHub
}

func newLiveSite(s *web.Site) *liveSite {
	l := &liveSite{hub: newReloadHub()}
	l.cur.Store(s)
	return l
}

func (l *liveSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case livePrefix + "livereload.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(liveScript)
		return
	case livePrefix + "events":
		l.hub.serve(w, r)
		return
	}
	l.cur.Load().ServeHTTP(w, r)
}

// swap serves s from now on and returns the site it replaces.
func (l *liveSite) swap(s *web.Site) *web.Site { return l.cur.Swap(s) }

// liveEvent is what the pages are told: "reload" with the output files
// that changed, or "failed" with the render error to show.
type liveEvent struct {
	kind string
	data []byte
}

// reloadHub sends events to the pages connected.
type reloadHub struct {
	mu      sync.Mutex
	clients map[chan liveEvent]struct{}
	failed  *liveEvent // the last render's error, until a render succeeds
}

func newReloadHub() *reloadHub { return &reloadHub{clients: map[chan liveEvent]struct{}{}} }

// reload tells the pages which output files changed.
func (h *reloadHub) reload(changed []string) {
	data, _ := json.Marshal(changed)
	h.mu.Lock()
	h.failed = nil
	h.mu.Unlock()
	h.send(liveEvent{"reload", data})
}

// fail tells the pages the render failed, and why.
func (h *reloadHub) fail(msg string) {
	data, _ := json.Marshal(msg)
	ev := liveEvent{"failed", data}
	h.mu.Lock()
	h.failed = &ev
	h.mu.Unlock()
	h.send(ev)
}

func (h *reloadHub) send(ev liveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- ev:
		default: // a page that does not keep up gets the next one
		}
	}
}

// serve streams events to one page until it goes away.
func (h *reloadHub) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	c := make(chan liveEvent, 8)
	h.mu.Lock()
	h.clients[c] = struct{}{}
	if h.failed != nil {
		c <- *h.failed // a page loaded while the site is broken shows why
	}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
	}()
	io.WriteString(w, "retry: 500\n\n")
	rc.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		// an event stream outlives the server's write timeout
		rc.SetWriteDeadline(time.Now().Add(time.Minute))
		select {
		case <-r.Context().Done():
			return
		case ev := <-c:
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.kind, ev.data)
		case <-keepalive.C:
			io.WriteString(w, ": keepalive\n\n")
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// injectFS is a rendered site whose HTML pages carry the live-reload
// script.
type injectFS struct{ fs.FS }

func (f injectFS) Open(name string) (fs.File, error) {
	if !strings.HasSuffix(name, ".html") {
		return f.FS.Open(name)
	}
	data, err := fs.ReadFile(f.FS, name)
	if err != nil {
		return nil, err
	}
	data = injectScript(data)
	info, err := fs.Stat(f.FS, name)
	if err != nil {
		return nil, err
	}
	return &memPage{Reader: bytes.NewReader(data), info: sizedInfo{info, int64(len(data))}}, nil
}

// injectScript puts the script tag before the last </body>, or at the
// end of a page without one.
func injectScript(page []byte) []byte {
	i := bytes.LastIndex(bytes.ToLower(page), []byte("</body>"))
	if i < 0 {
		return append(page[:len(page):len(page)], liveScriptTag...)
	}
	out := make([]byte, 0, len(page)+len(liveScriptTag))
	out = append(out, page[:i]...)
	out = append(out, liveScriptTag...)
	return append(out, page[i:]...)
}

type memPage struct {
	*bytes.Reader
	info fs.FileInfo
}

func (p *memPage) Stat() (fs.FileInfo, error) { return p.info, nil }
func (p *memPage) Close() error               { return nil }

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }
