package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/net/netutil"

	"islet.dev/islet/tls/certs"
	"islet.dev/islet/zones"
)

// metricsConns bounds the metrics listener's connections: it is for a
// scraper and a person, not for the public.
const metricsConns = 32

// handler serves GET /metrics (the Prometheus text format: islet's
// series, then Go's runtime and the process's), /healthz (200 while the
// process runs) and /readyz (200 once every listener is open and
// serving, 503 before).
func (r *registry) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		r.scan()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.set.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// serve answers on ln until ctx ends; it closes ln.
func (r *registry) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           r.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    8 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(netutil.LimitListener(ln, metricsConns)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("appliance: metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("appliance: metrics: %w", err)
	}
	return nil
}

// watchZones keeps islet_zone_serial{zone} for every zone srv serves:
// a zone no longer served loses its series.
func (r *registry) watchZones(srv *zones.Server) {
	var mu sync.Mutex
	serials := map[string]*metrics.Gauge{}
	values := map[string]float64{}
	r.onScan = append(r.onScan, func() {
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]bool{}
		for _, z := range srv.Zones().Zones() {
			seen[z.Origin] = true
			values[z.Origin] = float64(z.Serial())
			if _, ok := serials[z.Origin]; !ok {
				origin := z.Origin
				serials[origin] = r.set.GetOrCreateGauge(fmt.Sprintf(`%s{zone=%s}`, mZoneSerial, quote(zoneLabel(origin))), func() float64 {
					mu.Lock()
					defer mu.Unlock()
					return values[origin]
				})
			}
		}
		for origin := range serials {
			if !seen[origin] {
				r.set.UnregisterMetric(fmt.Sprintf(`%s{zone=%s}`, mZoneSerial, quote(zoneLabel(origin))))
				delete(serials, origin)
				delete(values, origin)
			}
		}
	})
}

// watchCerts keeps islet_tls_certificate_not_after_timestamp_seconds
// for every name served over HTTPS: 0 while only the self-signed
// fallback is served.
func (r *registry) watchCerts(m *certs.Manager, names []string) {
	for _, n := range names {
		r.set.NewGauge(fmt.Sprintf(`%s{name=%s}`, mCertNotAfter, quote(n)), func() float64 {
			t := m.NotAfter(n)
			if t.IsZero() {
				return 0
			}
			return float64(t.Unix())
		})
	}
}

// watchNetstack copies the userspace stack's counters, when it runs on
// one, into islet_netstack_….
func (r *registry) watchNetstack(netw network) {
	if _, ok := netw.counters(); !ok {
		return
	}
	c := func(name string) *metrics.Counter { return r.set.NewCounter(mNetstackStart + name) }
	rx, tx, dropped := c("packets_received_total"), c("packets_sent_total"), c("dropped_packets_total")
	retrans, timeouts := c("tcp_retransmits_total"), c("tcp_timeouts_total")
	noBuf, udpErr, thinned := c("tx_dropped_no_buffer_total"), c("udp_receive_buffer_errors_total"), c("acks_thinned_total")
	r.onScan = append(r.onScan, func() {
		n, _ := netw.counters()
		rx.Set(n.PacketsReceived)
		tx.Set(n.PacketsSent)
		dropped.Set(n.Dropped)
		retrans.Set(n.TCPRetransmits)
		timeouts.Set(n.TCPTimeouts)
		noBuf.Set(n.TxDroppedNoBuffer)
		udpErr.Set(n.UDPReceiveErrors)
		thinned.Set(n.AcksThinned)
	})
}
