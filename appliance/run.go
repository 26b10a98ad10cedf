package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"

	"islet.dev/islet/zones"
)

// Options are the boot-time settings of a running appliance.
type Options struct {
	ZonesDir   string
	DNSAddrs   []string // host:port to serve on, UDP and TCP each
	UDPSockets int      // SO_REUSEPORT sockets per address; GOMAXPROCS when 0
	DNS        zones.Config
	Logger     *slog.Logger
	// Reload asks for the zones to be read again (SIGHUP). A directory
	// that fails to load leaves the old zones serving.
	Reload <-chan struct{}
	// Ready, if set, is called once every listener is open.
	Ready func(Ready)
}

// Ready tells where a started appliance can be reached.
type Ready struct {
	DNS   []net.Addr // the UDP addresses; TCP listens on the same
	Zones []*zones.Zone
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
	set, err := loadZones(opt.ZonesDir, log)
	if err != nil {
		return err
	}
	srv, err := zones.New(opt.DNS, set)
	if err != nil {
		return err
	}
	n := opt.UDPSockets
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if len(opt.DNSAddrs) == 0 {
		return errors.New("dns: no address to serve on")
	}
	var pcs []net.PacketConn
	var lns []net.Listener
	var bound []net.Addr
	defer func() { closeAll(pcs, lns) }()
	for _, addr := range opt.DNSAddrs {
		udp, err := listenUDP(ctx, addr, n)
		if err != nil {
			return fmt.Errorf("dns: %w", err)
		}
		pcs = append(pcs, udp...)
		ln, err := listenTCP(ctx, udp[0].LocalAddr().String())
		if err != nil {
			return fmt.Errorf("dns: %w", err)
		}
		lns = append(lns, ln)
		bound = append(bound, udp[0].LocalAddr())
		log.Info("dns listening", "component", "dns", "udp", udp[0].LocalAddr().String(), "tcp", ln.Addr().String(), "udp_sockets", n)
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
	if opt.Ready != nil {
		opt.Ready(Ready{DNS: bound, Zones: set.Zones()})
	}
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-opt.Reload:
			if set, err := loadZones(opt.ZonesDir, log); err == nil {
				srv.Swap(set)
				log.Info("zones reloaded", "component", "dns", "zones", len(set.Zones()))
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
