package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"islet.dev/islet/tls/web"
	"islet.dev/islet/zones"
)

// Options are the boot-time settings of a running appliance.
type Options struct {
	ZonesDir string
	// JournalDir keeps the zones' history for IXFR, and the zones
	// followed as a secondary, across restarts; "": in memory only.
	// There is a history only when transfers are allowed.
	JournalDir string
	// Secondaries are zones followed from their primaries.
	Secondaries []zones.Secondary
	// Catalog, when set, names a catalog zone (RFC 9432) served beside
	// the zones of ZonesDir, listing them.
	Catalog    string
	DNSAddrs   []string // host:port to serve on, UDP and TCP each
	UDPSockets int      // SO_REUSEPORT sockets per address; GOMAXPROCS when 0
	DNS        zones.Config
	// RRLLog, when not 0, logs the client prefixes rate-limited over
	// each such period.
	RRLLog time.Duration
	// MetricsAddr, when set, serves /metrics, /healthz and /readyz
	// there (metricsserve.go).
	MetricsAddr string
	Logger      *slog.Logger
	// Reload asks for the zones to be read again (SIGHUP). A directory
	// that fails to load leaves the old zones serving.
	Reload <-chan struct{}
	// Hosts, when it sends, makes those the HTTPS hosts and redirects
	// served (islet run, as islet.yml is edited).
	Hosts <-chan []web.Host
	// Ready, if set, is called once every listener is open.
	Ready func(Ready)
	// HTTPS serves the site and redirects when it has a site or hosts.
	HTTPS HTTPSOptions
	// Net chooses the host's sockets or the userspace stack.
	Net NetOptions

	// openNet opens the network; openNetwork unless a test sets it.
	openNet func(context.Context, NetOptions, *slog.Logger) (network, error)
}

// Ready tells where a started appliance can be reached.
type Ready struct {
	DNS   []net.Addr // the UDP addresses; TCP listens on the same
	Zones []*zones.Zone
	HTTPS net.Addr // nil when not serving HTTPS
	HTTP  net.Addr // nil when not serving port-80 duties
	Names []string // the HTTPS host names
	// Metrics is where /metrics is served; nil when it is not.
	Metrics net.Addr
}

// Run loads the zones, opens the listeners and serves until ctx ends.
// It returns an error at once if the zones do not load or a listener
// cannot be opened.
func Run(ctx context.Context, opt Options) error {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt.DNS.Logger = log
	if opt.ZonesDir == "" && len(opt.Secondaries) == 0 && !opt.HTTPS.enabled() {
		return errors.New("nothing to serve: give zones, secondaries, a site or hosts")
	}
	nofile := raiseFileLimit()
	if hostNet(opt.Net.Net) {
		// Every connection is a descriptor: the limits must fit.
		tcp := opt.DNS.TCPMaxConns
		if tcp == 0 {
			tcp = zones.DefaultTCPMaxConns
		}
		explicit := opt.HTTPS.MaxConns > 0 || opt.DNS.TCPMaxConns > 0 && opt.DNS.TCPMaxConns != zones.DefaultTCPMaxConns
		b := budgetFiles(nofile, opt.HTTPS.maxConns(), tcp, explicit, log)
		opt.HTTPS.MaxConns, opt.DNS.TCPMaxConns, opt.HTTPS.maxOpenFiles = b.https, b.tcp, b.files
	}
	// The network comes up (DHCP takes round trips) while the zones
	// load and the site is indexed.
	type opened struct {
		n   network
		err error
	}
	netc := make(chan opened, 1)
	nctx, stopNet := context.WithCancel(ctx)
	defer stopNet()
	open := opt.openNet
	if open == nil {
		open = openNetwork
	}
	go func() {
		n, err := open(nctx, opt.Net, log)
		netc <- opened{n, err}
	}()
	var netw network
	// fail stops a network still coming up (DHCP may wait for ever
	// for a server) and releases one that came up.
	fail := func(err error) error {
		stopNet()
		if o := <-netc; o.err == nil {
			o.n.close()
		}
		return err
	}
	var set *zones.Set
	var srv *zones.Server
	var err error
	var reg *registry
	if opt.MetricsAddr != "" {
		reg = newRegistry()
		opt.DNS.Observer = reg
	}
	if opt.ZonesDir != "" || len(opt.Secondaries) > 0 {
		go tuneCollector(ctx, collectorTuning)
		set = zones.NewSet()
		if opt.ZonesDir != "" {
			if set, err = loadZones(opt.ZonesDir, log); err != nil {
				return fail(err)
			}
		}
		if len(opt.DNS.AllowTransfer) > 0 {
			if opt.DNS.Journal, err = zones.NewJournal(opt.JournalDir, 0); err != nil {
				return fail(err)
			}
		}
		if set, err = signZones(opt.DNS.Signer, set, keptZone(opt.DNS.Journal, log), log); err != nil {
			return fail(err)
		}
		if set, err = withCatalog(opt.Catalog, set); err != nil {
			return fail(err)
		}
		if opt.DNS.Journal != nil {
			recordJournal(opt.DNS.Journal, nil, set, log)
		}
		if !hostNet(opt.Net.Net) {
			// NOTIFY leaves over the userspace stack, once it is up.
			opt.DNS.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				return netw.dialer()(ctx, network, addr)
			}
		}
		if srv, err = zones.New(opt.DNS, set); err != nil {
			return fail(err)
		}
	}
	var front *httpsService
	if opt.HTTPS.enabled() {
		var dial dialFunc
		if !hostNet(opt.Net.Net) {
			// Used from certs.Run and handshakes on, once netw is set.
			dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				return netw.dialer()(ctx, network, addr)
			}
		}
		if front, err = prepareHTTPS(opt.HTTPS, set, srv, dial, reg, log); err != nil {
			return fail(err)
		}
		defer front.close()
	}
	o := <-netc
	if o.err != nil {
		return o.err
	}
	netw = o.n
	defer netw.close()
	var pcs []net.PacketConn
	var lns []net.Listener
	var ready Ready
	defer func() { closeAll(pcs, lns) }()
	if srv != nil {
		if len(opt.DNSAddrs) == 0 {
			return errors.New("appliance: dns: no address to serve on")
		}
		n := opt.UDPSockets
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		for _, addr := range opt.DNSAddrs {
			udp, ln, err := listenDNS(ctx, netw, addr, n)
			if err != nil {
				return fmt.Errorf("appliance: dns: %w", err)
			}
			pcs = append(pcs, udp...)
			lns = append(lns, ln)
			ready.DNS = append(ready.DNS, udp[0].LocalAddr())
			log.Info("dns listening", "component", "dns", "udp", udp[0].LocalAddr().String(), "tcp", ln.Addr().String(), "udp_sockets", n)
		}
		ready.Zones = set.Zones()
	}
	if front != nil {
		if err := front.listen(ctx, netw, opt.HTTPS, reg, log); err != nil {
			return err
		}
		ready.HTTPS, ready.HTTP, ready.Names = front.httpsAddr, front.httpAddr, front.names
	}
	var metricsLn net.Listener
	if reg != nil {
		if srv != nil {
			reg.watchZones(srv)
		}
		if front != nil {
			reg.watchCerts(front.certs, front.names)
		}
		reg.watchNetstack(netw)
		if metricsLn, err = netw.listenTCP(ctx, opt.MetricsAddr); err != nil {
			return fmt.Errorf("appliance: metrics: %w", err)
		}
		defer metricsLn.Close()
		ready.Metrics = metricsLn.Addr()
		log.Info("metrics listening", "component", "metrics", "addr", metricsLn.Addr().String())
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	serve := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				cancel(err)
			}
		}()
	}
	for _, pc := range pcs {
		serve(func() error { return srv.ServePacket(ctx, pc) })
	}
	for _, ln := range lns {
		serve(func() error { return srv.ServeStream(ctx, ln) })
	}
	if front != nil {
		serve(func() error { front.certs.Run(ctx); return nil })
		serve(func() error { return front.srv.ServeHTTPS(ctx, front.ln) })
		if front.ln80 != nil {
			serve(func() error { return front.srv.ServeHTTP(ctx, front.ln80) })
		}
	}
	if reg != nil {
		serve(func() error { return reg.serve(ctx, metricsLn) })
		reg.ready.Store(true)
	}
	if opt.Ready != nil {
		opt.Ready(ready)
	}
	if srv != nil {
		serve(func() error { srv.Notify(ctx, set.Zones()); return nil })
		if len(opt.Secondaries) > 0 {
			serve(func() error { return srv.Follow(ctx, opt.Secondaries, opt.JournalDir) })
		}
		if opt.DNS.Signer != nil {
			serve(func() error { srv.KeepSigned(ctx); return nil })
		}
		if opt.RRLLog > 0 {
			serve(func() error { srv.LogRRL(ctx, opt.RRLLog); return nil })
		}
	}
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case err := <-netw.lost():
			log.Error("stopping: the network address is gone", "component", "netstack", "err", err)
			cancel(err)
			done = true
		case hosts := <-opt.Hosts:
			if front == nil {
				continue
			}
			if err := front.srv.SetHosts(hosts, opt.HTTPS.DefaultHost); err != nil {
				log.Error("hosts not applied; serving those before", "component", "https", "err", err)
			} else {
				log.Info("hosts applied", "component", "https", "hosts", len(hosts))
			}
		case <-opt.Reload:
			if srv == nil || opt.ZonesDir == "" {
				continue
			}
			set, err := loadZones(opt.ZonesDir, log)
			var old *zones.Set
			if err == nil {
				old, err = srv.Update(func(cur *zones.Set) (*zones.Set, error) {
					next, err := signZones(opt.DNS.Signer, set, servedZone(cur), log)
					if err == nil {
						next, err = withCatalog(opt.Catalog, next)
					}
					if err != nil {
						return nil, err
					}
					recordJournal(opt.DNS.Journal, cur, next, log)
					return next, nil
				})
			}
			if err == nil {
				set = srv.Zones()
				log.Info("zones reloaded", "component", "dns", "zones", len(set.Zones()))
				if changed := changedZones(old, set); len(changed) > 0 {
					serve(func() error { srv.Notify(ctx, changed); return nil })
				}
			} else {
				log.Error("reload failed; still serving the zones loaded before", "component", "dns", "err", err)
			}
		}
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// withCatalog adds to set the catalog zone name listing its zones; set
// itself when name is "".
func withCatalog(name string, set *zones.Set) (*zones.Set, error) {
	if name == "" {
		return set, nil
	}
	cat, err := zones.Catalog(name, set.Zones())
	if err != nil {
		return nil, err
	}
	return set.With(cat), nil
}

// recordJournal keeps, in j, what changed from old (nil: the versions
// the journal kept) to set, before set is served: a zone changed under
// an old serial is given a new one there.
func recordJournal(j *zones.Journal, old, set *zones.Set, log *slog.Logger) {
	if j == nil {
		return
	}
	for _, z := range set.Zones() {
		var prev *zones.Zone
		if old != nil {
			if o := old.ZoneFor(z.Origin); o != nil && o.Origin == z.Origin {
				prev = o
			}
		}
		msg, err := j.Record(prev, z)
		if msg != "" {
			log.Warn(msg, "component", "dns", "zone", z.Origin)
		}
		if err != nil {
			log.Error("IXFR history not kept: secondaries get whole zones", "component", "dns", "zone", z.Origin, "err", err)
		}
	}
}

// changedZones are the zones of set that old does not hold with the
// same serial: those the secondaries are told of.
func changedZones(old, set *zones.Set) []*zones.Zone {
	var out []*zones.Zone
	for _, z := range set.Zones() {
		if o := old.ZoneFor(z.Origin); o == nil || o.Origin != z.Origin || o.Serial() != z.Serial() {
			out = append(out, z)
		}
	}
	return out
}

// loadZones loads a zones folder, logging each diagnostic and each zone.
func loadZones(dir string, log *slog.Logger) (*zones.Set, error) {
	set, diags, err := zones.LoadDir(dir)
	for _, d := range diags {
		level := slog.LevelWarn
		if d.Severity == zones.Error {
			level = slog.LevelError
		}
		log.Log(context.Background(), level, d.String(), "component", "dns")
	}
	if err != nil {
		return nil, err
	}
	for _, z := range set.Zones() {
		log.Info("zone loaded", "component", "dns", "zone", z.Origin, "serial", z.Serial(), "records", z.Records(), "file", z.File)
	}
	// Parsing a big zone leaves as much garbage as the zone itself takes
	// (a million records: handing it back takes PSS down by a third).
	go releaseLoadGarbage()
	return set, nil
}

func closeAll(pcs []net.PacketConn, lns []net.Listener) {
	for _, pc := range pcs {
		pc.Close()
	}
	for _, ln := range lns {
		ln.Close()
	}
}

// listenDNS opens n UDP sockets and a TCP listener on addr, one port for
// both. Asked for any port (0), the port the kernel picks for UDP may be
// taken for TCP (by another program's connection): another is tried.
func listenDNS(ctx context.Context, netw network, addr string, n int) ([]net.PacketConn, net.Listener, error) {
	for try := 0; ; try++ {
		udp, err := netw.listenUDP(ctx, addr, n)
		if err != nil {
			return nil, nil, err
		}
		ln, err := netw.listenTCP(ctx, udp[0].LocalAddr().String())
		if err == nil {
			return udp, ln, nil
		}
		for _, c := range udp {
			c.Close()
		}
		if port, perr := portOf(addr); perr != nil || port != 0 || !errors.Is(err, syscall.EADDRINUSE) || try == 20 {
			return nil, nil, err
		}
	}
}
