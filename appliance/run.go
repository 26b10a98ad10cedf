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
	DNSAddr    string // host:port for UDP and TCP
	UDPSockets int    // SO_REUSEPORT sockets; GOMAXPROCS when 0
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
	DNS   net.Addr // the UDP address; TCP listens on the same
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
	pcs, err := listenUDP(ctx, opt.DNSAddr, n)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	defer closeAll(pcs)
	ln, err := listenTCP(ctx, pcs[0].LocalAddr().String())
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	defer ln.Close()
	log.Info("dns listening", "component", "dns", "udp", pcs[0].LocalAddr().String(), "tcp", ln.Addr().String(), "udp_sockets", n)

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
	serve(func() error { return srv.ServeStream(ctx, ln) })
	if opt.Ready != nil {
		opt.Ready(Ready{DNS: pcs[0].LocalAddr(), Zones: set.Zones()})
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

func closeAll(pcs []net.PacketConn) {
	for _, pc := range pcs {
		pc.Close()
	}
}
