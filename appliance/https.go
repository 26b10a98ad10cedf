package appliance

import (
	"context"
	"crypto/x509"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"islet.dev/islet/internal/meminfo"
	"islet.dev/islet/tls/certs"
	"islet.dev/islet/tls/web"
	"islet.dev/islet/zones"
)

// HTTPSOptions are the boot-time settings of the HTTPS front-end.
type HTTPSOptions struct {
	// SiteDir is a rendered site tree to serve; SiteFS, if set, wins,
	// and SiteHandler (islet run's live site) over both.
	SiteDir     string
	SiteFS      fs.FS
	SiteHandler http.Handler
	SiteInclude []string   // published although dotfiles (web.SiteOptions.Include)
	Hosts       []web.Host // empty: the site on the apex of every zone
	DefaultHost string
	HTTPAddr    string // port 80 duties: ACME HTTP-01, redirects to HTTPS
	HTTPSAddr   string
	// ACMEDirectory is empty or "off" for a self-signed certificate.
	ACMEDirectory string
	ACMEEmail     string
	ACMECAFile    string // PEM roots for talking to the ACME server
	CertCache     string
	TLSCert       string
	TLSKey        string
	// MaxConns bounds the concurrent connections of the HTTPS and of
	// the HTTP listener; 0: one per MiB of the machine's memory,
	// between 128 and 65536 (a client that stopped reading a download
	// holds about 400 KB).
	MaxConns int
	// ClientConns bounds one client's connections to each listener
	// (0: MaxConns/8, 8 to 64); a client is an address's
	// ClientIPv4Bits or ClientIPv6Bits prefix (0: 32 and 64).
	ClientConns                    int
	ClientIPv4Bits, ClientIPv6Bits int

	maxOpenFiles int // the site's large files open at once; 0: web's default
}

// maxConns is o's connection limit, or the one the memory affords.
func (o *HTTPSOptions) maxConns() int {
	if o.MaxConns > 0 {
		return o.MaxConns
	}
	return min(max(int(meminfo.Total()>>20), 128), 65536)
}

// streamCost is what one request in flight may hold when its client
// stops reading: a 64 KiB chunk of a file, the HTTP/2 stream's buffers
// and the handler's goroutine, about 100 KB live (measured: 190 KB of
// resident memory per stalled stream on a large file with the
// collector's headroom; bench/README.md).
const streamCost = 128 << 10

// maxStreams is how many requests may be in flight at once: a quarter
// of the memory in stalled streams at most.
func maxStreams() int {
	return min(max(int(meminfo.Total()/4/streamCost), 256), 1<<16)
}

func (o *HTTPSOptions) enabled() bool {
	return o.SiteDir != "" || o.SiteFS != nil || o.SiteHandler != nil || len(o.Hosts) > 0
}

// httpsService is a prepared front-end with its open listeners.
type httpsService struct {
	srv       *web.Server
	certs     *certs.Manager
	ln, ln80  net.Listener
	names     []string
	hosts     []web.Host
	site      *web.Site
	handler   http.Handler // a site served as it is (SiteHandler), instead of site
	root      *os.Root     // the site folder it opened, if it did
	httpsAddr net.Addr
	httpAddr  net.Addr
}

// prepareHTTPS indexes the site and sets up the certificates: all that
// needs no network, so that it runs while the network comes up (the
// zones give the default host names). dial,
// if set, opens the ACME and OCSP connections once it has.
func prepareHTTPS(o HTTPSOptions, set *zones.Set, dns *zones.Server, dial dialFunc, reg *registry, log *slog.Logger) (*httpsService, error) {
	site, root, err := openSite(o)
	if err != nil {
		return nil, err
	}
	s := &httpsService{root: root, handler: o.SiteHandler}
	fail := func(err error) (*httpsService, error) {
		s.close()
		return nil, err
	}
	hosts := o.Hosts
	if len(hosts) == 0 && (site != nil || s.handler != nil) && set != nil {
		var names []string
		for _, z := range set.Zones() {
			names = append(names, strings.TrimSuffix(z.Origin, "."))
		}
		hosts = []web.Host{{Names: names, Site: true}}
		log.Info("serving the site on the apex of every zone, as no hosts are configured", "component", "https", "names", names)
	}
	var names []string
	for _, h := range hosts {
		names = append(names, h.Names...)
	}
	if set != nil {
		for _, n := range names {
			if set.ZoneFor(strings.TrimPrefix(n, "*.")) == nil {
				log.Warn("this appliance does not serve the DNS of a host name; make sure it points here", "component", "https", "name", n)
			}
		}
	}
	if o.ACMEDirectory != "off" && o.ACMEDirectory != "" && o.TLSCert == "" && o.CertCache == "" {
		log.Warn("certificates are kept in memory only: every restart orders them again, and Let's Encrypt allows 5 identical certificates a week; give --cert-cache DIR", "component", "https")
	}
	cc := certs.Config{Names: names, CertFile: o.TLSCert, KeyFile: o.TLSKey, Email: o.ACMEEmail, CacheDir: o.CertCache, Logger: log}
	if dns != nil {
		cc.DNS = dns // DNS-01 for wildcard names, answered by our own zones
	}
	cc.Dial = dial
	cc.HTTP01 = o.HTTPAddr != ""
	if reg != nil {
		cc.OnOrder = reg.Order
		reg.setHosts(names)
	}
	if o.ACMEDirectory != "off" && o.TLSCert == "" {
		cc.Directory = o.ACMEDirectory
	}
	if o.ACMECAFile != "" {
		pem, err := os.ReadFile(o.ACMECAFile)
		if err != nil {
			return fail(fmt.Errorf("appliance: https: --acme-ca: %w", err))
		}
		cc.Roots = x509.NewCertPool()
		if !cc.Roots.AppendCertsFromPEM(pem) {
			return fail(fmt.Errorf("appliance: https: --acme-ca %s: no PEM certificates", o.ACMECAFile))
		}
	}
	if s.certs, err = certs.New(cc); err != nil {
		return fail(err)
	}
	if site != nil {
		if s.site, err = web.NewSite(site, web.SiteOptions{ModTime: time.Now().Truncate(time.Second), Logger: log.With("component", "https"), Include: o.SiteInclude, MaxOpenFiles: o.maxOpenFiles}); err != nil {
			return fail(err)
		}
	}
	s.names, s.hosts = names, hosts
	return s, nil
}

// listen opens the HTTPS (and HTTP) listeners on the network, which is
// up, and makes the server.
func (s *httpsService) listen(ctx context.Context, netw network, o HTTPSOptions, reg *registry, log *slog.Logger) error {
	var err error
	hosts, handler, names, cm := s.hosts, s.site, s.names, s.certs
	if s.ln, err = netw.listenTCP(ctx, o.HTTPSAddr); err != nil {
		return fmt.Errorf("appliance: https: %w", err)
	}
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	cfg := web.Config{Hosts: hosts, DefaultHost: o.DefaultHost, Certs: cm, HTTPSPort: port, MaxConns: o.maxConns(),
		ClientConns: o.ClientConns, ClientIPv4Bits: o.ClientIPv4Bits, ClientIPv6Bits: o.ClientIPv6Bits, MaxStreams: maxStreams(), Logger: log}
	if handler != nil {
		cfg.Site = handler
	}
	if s.handler != nil {
		cfg.Site = s.handler
	}
	if reg != nil {
		cfg.Observe = reg.Request
	}
	if s.srv, err = web.NewServer(cfg); err != nil {
		s.ln.Close()
		return err
	}
	if o.HTTPAddr != "" {
		if s.ln80, err = netw.listenTCP(ctx, o.HTTPAddr); err != nil {
			s.ln.Close()
			return fmt.Errorf("appliance: https: %w", err)
		}
		s.httpAddr = s.ln80.Addr()
	}
	s.httpsAddr = s.ln.Addr()
	log.Info("https listening", "component", "https", "https", s.httpsAddr.String(), "http", o.HTTPAddr, "names", names)
	return nil
}

// close releases what the service holds: its listeners, the site's
// hashing of large files and the site folder. It is safe on a service
// that never listened (Run restarts the services in the guest, and each
// run must give back what it took).
func (s *httpsService) close() {
	for _, ln := range []net.Listener{s.ln, s.ln80} {
		if ln != nil {
			ln.Close()
		}
	}
	if s.site != nil {
		s.site.Close()
	}
	if s.root != nil {
		s.root.Close()
	}
}

// openSite returns the tree to serve, or nil when there is none, and
// the folder it opened for it (nil when the tree was given).
func openSite(o HTTPSOptions) (fs.FS, *os.Root, error) {
	if o.SiteHandler != nil {
		return nil, nil, nil
	}
	if o.SiteFS != nil {
		return o.SiteFS, nil, nil
	}
	if o.SiteDir == "" {
		return nil, nil, nil
	}
	st, err := os.Stat(o.SiteDir)
	if err != nil {
		return nil, nil, fmt.Errorf("appliance: https: site: %w", err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("appliance: https: site %s is not a folder", o.SiteDir)
	}
	root, err := os.OpenRoot(o.SiteDir)
	if err != nil {
		return nil, nil, fmt.Errorf("appliance: https: site: %w", err)
	}
	return root.FS(), root, nil
}
