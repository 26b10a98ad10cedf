package netstack

import (
	"log/slog"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ndpRoutes acts on what router advertisements say: gVisor makes the
// addresses (SLAAC) itself, but leaves the routes they give to whoever
// listens, and without one the stack had a SLAAC address it could not
// answer from (no route back, not even to the link it came from). It
// adds a route for each on-link prefix and each default router, and
// takes it away when it expires. gVisor calls it holding its own locks,
// so the route table is changed from a goroutine of its own. It logs an
// address made (SLAAC) at info, as a DHCP lease is, and routes at debug.
type ndpRoutes struct {
	log     *slog.Logger
	mu      sync.Mutex
	pending []routeChange
	wake    chan struct{}
}

type routeChange struct {
	add   bool
	route tcpip.Route
}

var _ ipv6.NDPDispatcher = (*ndpRoutes)(nil)

func newNDPRoutes(log *slog.Logger) *ndpRoutes {
	return &ndpRoutes{log: log, wake: make(chan struct{}, 1)}
}

// queue keeps a change for run; it never blocks.
func (n *ndpRoutes) queue(add bool, r tcpip.Route) {
	n.mu.Lock()
	n.pending = append(n.pending, routeChange{add, r})
	n.mu.Unlock()
	poke(n.wake)
}

// run applies the changes to s's route table until done closes. It
// takes away only the routes it added: a prefix advertised that a
// static address's route already covers keeps that route when the
// advertisement's lifetime ends.
func (n *ndpRoutes) run(s *stack.Stack, done <-chan struct{}) {
	added := map[tcpip.Route]bool{}
	for {
		select {
		case <-n.wake:
		case <-done:
			return
		}
		n.mu.Lock()
		changes := n.pending
		n.pending = nil
		n.mu.Unlock()
		for _, c := range changes {
			switch {
			case c.add && !added[c.route] && !hasRoute(s, c.route):
				s.AddRoute(c.route)
				added[c.route] = true
			case !c.add && added[c.route]:
				s.RemoveRoutes(func(r tcpip.Route) bool { return r.Equal(c.route) })
				delete(added, c.route)
			}
		}
	}
}

func hasRoute(s *stack.Stack, r tcpip.Route) bool {
	for _, o := range s.GetRouteTable() {
		if o.Equal(r) {
			return true
		}
	}
	return false
}

func (n *ndpRoutes) OnDuplicateAddressDetectionResult(_ tcpip.NICID, a tcpip.Address, r stack.DADResult) {
	n.log.Debug("IPv6 duplicate address detection", "addr", a, "result", r)
}

func (n *ndpRoutes) OnOffLinkRouteUpdated(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	n.log.Debug("IPv6 route from a router advertisement", "dest", dest, "router", router)
	n.queue(true, tcpip.Route{Destination: dest, Gateway: router, NIC: nic})
}

func (n *ndpRoutes) OnOffLinkRouteInvalidated(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	n.log.Debug("IPv6 route expired", "dest", dest, "router", router)
	n.queue(false, tcpip.Route{Destination: dest, Gateway: router, NIC: nic})
}

func (n *ndpRoutes) OnOnLinkPrefixDiscovered(nic tcpip.NICID, p tcpip.Subnet) {
	n.log.Debug("IPv6 on-link prefix from a router advertisement", "prefix", p)
	n.queue(true, tcpip.Route{Destination: p, NIC: nic})
}

func (n *ndpRoutes) OnOnLinkPrefixInvalidated(nic tcpip.NICID, p tcpip.Subnet) {
	n.log.Debug("IPv6 on-link prefix expired", "prefix", p)
	n.queue(false, tcpip.Route{Destination: p, NIC: nic})
}

func (n *ndpRoutes) OnAutoGenAddress(_ tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	if header.IsV6LinkLocalUnicastAddress(a.Address) {
		n.log.Debug("IPv6 link-local address", "addr", a)
	} else {
		n.log.Info("IPv6 address from a router advertisement (SLAAC)", "addr", a)
	}
	return nil
}

func (n *ndpRoutes) OnAutoGenAddressDeprecated(_ tcpip.NICID, a tcpip.AddressWithPrefix) {
	n.log.Info("IPv6 address deprecated", "addr", a)
}

func (n *ndpRoutes) OnAutoGenAddressInvalidated(_ tcpip.NICID, a tcpip.AddressWithPrefix) {
	n.log.Debug("IPv6 address gone", "addr", a)
}

func (*ndpRoutes) OnRecursiveDNSServerOption(tcpip.NICID, []tcpip.Address, time.Duration) {}

func (*ndpRoutes) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration) {}

func (*ndpRoutes) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA) {}
