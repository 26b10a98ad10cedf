package web

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Host is one virtual host: names that serve the site, or names that
// redirect elsewhere.
type Host struct {
	Names []string
	// Site serves the site tree on these names.
	Site bool
	// Canonical, when set to one of Names, sends requests for the other
	// names of this host to it with a 301 (www ↔ apex).
	Canonical string
	// Redirect sends every request to this URL, path and query kept.
	Redirect string
	// Status of redirects: 301 (default), 302, 307 or 308.
	Status int
	// HSTS is "on" or "off" for Strict-Transport-Security; empty means
	// on for site hosts and off for redirect hosts.
	HSTS string
	// Headers are set on every response for these names
	// (Content-Security-Policy, Permissions-Policy, a longer HSTS...);
	// they replace the defaults (Referrer-Policy, HSTS), and a site's
	// _headers rules replace them in turn.
	Headers map[string]string
}

func (h *Host) hsts() bool {
	switch h.HSTS {
	case "on":
		return true
	case "off":
		return false
	}
	return h.Site
}

// Router picks the host by the request's Host header.
type Router struct {
	site    atomic.Pointer[siteBox] // swapped whole (SwapSite)
	routes  map[string]*route
	deflt   *route // nil: unknown hosts get 421
	anyHost bool   // no hosts configured: the site answers for any name
	date    dateCache
}

// dateCache formats the Date header once a second instead of once a
// response.
type dateCache struct {
	v atomic.Pointer[dateValue]
}

type dateValue struct {
	sec int64
	h   []string
}

func (d *dateCache) get() []string {
	now := time.Now()
	if v := d.v.Load(); v != nil && v.sec == now.Unix() {
		return v.h
	}
	v := &dateValue{sec: now.Unix(), h: one(now.UTC().Format(http.TimeFormat))}
	d.v.Store(v)
	return v.h
}

type route struct {
	host    Host
	target  *url.URL   // Redirect, parsed
	headers headerList // host.Headers, checked
}

// HSTS for one year, subdomains left to the operator; the referrer
// policy every response carries.
var (
	hHSTS           = one("max-age=31536000")
	hReferrerPolicy = one("strict-origin-when-cross-origin")
)

// NewRouter checks hosts and builds the router. With no hosts the site
// answers for every name. defaultHost, if not empty, answers requests for
// names no host lists; otherwise they get 421 Misdirected Request.
func NewRouter(site http.Handler, hosts []Host, defaultHost string) (*Router, error) {
	if len(hosts) == 0 && site == nil {
		return nil, fmt.Errorf("web: no hosts and no site: nothing to serve")
	}
	rt := &Router{routes: map[string]*route{}, anyHost: len(hosts) == 0}
	rt.site.Store(&siteBox{site})
	for i := range hosts {
		h := hosts[i]
		if len(h.Names) == 0 {
			return nil, fmt.Errorf("web: host %d has no names", i+1)
		}
		if h.Site == (h.Redirect != "") {
			return nil, fmt.Errorf("web: host %s: give either site or a redirect, not both or neither", h.Names[0])
		}
		if h.Site && site == nil {
			return nil, fmt.Errorf("web: host %s serves the site, but there is no site", h.Names[0])
		}
		if h.HSTS != "" && h.HSTS != "on" && h.HSTS != "off" {
			return nil, fmt.Errorf("web: host %s: hsts must be on or off", h.Names[0])
		}
		r := &route{host: h}
		var err error
		if r.headers, err = NewHeaderList(h.Headers); err != nil {
			return nil, fmt.Errorf("web: host %s: headers: %v", h.Names[0], err)
		}
		if h.Redirect != "" {
			u, err := url.Parse(h.Redirect)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("web: host %s: redirect %q is not an http(s) URL", h.Names[0], h.Redirect)
			}
			u.Path = strings.TrimSuffix(u.Path, "/")
			r.target = u
		}
		switch h.Status {
		case 0:
			r.host.Status = http.StatusMovedPermanently
		case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusFound, http.StatusTemporaryRedirect:
		default:
			return nil, fmt.Errorf("web: host %s: redirect status %d is not 301, 302, 307 or 308", h.Names[0], h.Status)
		}
		if h.Canonical != "" && !contains(h.Names, h.Canonical) {
			return nil, fmt.Errorf("web: host %s: canonical name %s is not one of its names", h.Names[0], h.Canonical)
		}
		for _, n := range h.Names {
			n = normalizeHost(n)
			if _, dup := rt.routes[n]; dup {
				return nil, fmt.Errorf("web: name %s is given to two hosts", n)
			}
			rt.routes[n] = r
		}
	}
	if defaultHost != "" {
		rt.deflt = rt.routes[normalizeHost(defaultHost)]
		if rt.deflt == nil {
			return nil, fmt.Errorf("web: default host %s is not a configured name", defaultHost)
		}
	}
	return rt, nil
}

// siteBox holds the site handler for an atomic swap.
type siteBox struct{ h http.Handler }

// SwapSite makes site the tree served from now on and returns the one
// it replaces: a request is answered wholly from one or the other.
func (rt *Router) SwapSite(site http.Handler) (http.Handler, error) {
	if site == nil {
		return nil, fmt.Errorf("web: swap site: no site")
	}
	return rt.site.Swap(&siteBox{site}).h, nil
}

// Known reports whether a request for host would be served.
func (rt *Router) Known(host string) bool {
	return rt.route(normalizeHost(host)) != nil || rt.anyHost || rt.deflt != nil
}

// route finds the host for a name: exactly, or through a wildcard one
// label up ("*.example.org" covers "a.example.org", as certificates do).
func (rt *Router) route(name string) *route {
	if r, ok := rt.routes[name]; ok {
		return r
	}
	if _, parent, ok := strings.Cut(name, "."); ok {
		return rt.routes["*."+parent]
	}
	return nil
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Referrer-Policy"] = hReferrerPolicy
	h["Date"] = rt.date.get()
	if rt.anyHost {
		h["Strict-Transport-Security"] = hHSTS
		rt.site.Load().h.ServeHTTP(w, r)
		return
	}
	name := normalizeHost(r.Host)
	rte := rt.route(name)
	if rte == nil {
		if rte = rt.deflt; rte == nil {
			http.Error(w, "misdirected request: this server does not serve "+name, http.StatusMisdirectedRequest)
			return
		}
	}
	if rte.host.hsts() {
		h["Strict-Transport-Security"] = hHSTS
	}
	rte.headers.apply(h)
	switch {
	case rte.target != nil:
		http.Redirect(w, r, redirectURL(rte.target, r.URL), rte.host.Status)
	case rte.host.Canonical != "" && name != normalizeHost(rte.host.Canonical):
		u := url.URL{Scheme: "https", Host: withPort(rte.host.Canonical, r.Host), Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
	default:
		rt.site.Load().h.ServeHTTP(w, r)
	}
}

// redirectURL appends the request's path and query to the target.
func redirectURL(target, req *url.URL) string {
	u := *target
	u.Path = target.Path + req.Path
	if req.RawPath != "" {
		u.RawPath = target.EscapedPath() + req.RawPath
	}
	switch {
	case target.RawQuery == "":
		u.RawQuery = req.RawQuery
	case req.RawQuery != "":
		u.RawQuery = target.RawQuery + "&" + req.RawQuery
	}
	return u.String()
}

// normalizeHost lowercases a Host header and drops its port and any
// trailing dot.
func normalizeHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// withPort keeps the port of the request's Host on a new name (for
// servers on test ports).
func withPort(name, reqHost string) string {
	if _, port, err := net.SplitHostPort(reqHost); err == nil {
		return net.JoinHostPort(name, port)
	}
	return name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
