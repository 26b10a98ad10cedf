package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"

	"islet.dev/islet/appliance/netstack"
)

// NetOptions choose the network stack the services run on.
type NetOptions struct {
	// Net is "host" (the kernel's sockets, the default), "tap:NAME" or
	// "packet:IFNAME" (the userspace stack on that link).
	Net string
	// Addresses of the userspace stack.
	IPv4, IPv6               netip.Prefix
	IPv4Gateway, IPv6Gateway netip.Addr
	// NoIPv4 turns IPv4 off on the userspace stack: no address and no
	// DHCP, for an IPv6-only network (the services listen on the IPv6
	// addresses alone: the static one, link-local, SLAAC's).
	NoIPv4 bool
	// PCAP, if set, is a file to write every frame of the link to.
	PCAP string
	// TCPSendMemory bounds what the userspace stack's TCP connections
	// hold to send; 0: a quarter of the memory.
	TCPSendMemory int64
	// Resolver is the DNS server the userspace stack looks names up at
	// for its own outgoing connections (ACME); DHCP's when not given.
	Resolver netip.Addr
}

// network opens listeners on one stack.
type network interface {
	listenUDP(ctx context.Context, addr string, n int) ([]net.PacketConn, error)
	listenTCP(ctx context.Context, addr string) (net.Listener, error)
	// dialer opens outgoing connections; nil means the host's.
	dialer() dialFunc
	// lost reports an address lost for good (a DHCP lease that came
	// back with another address): the services must start again.
	lost() <-chan error
	// counters are the userspace stack's; false on the host's sockets.
	counters() (netstack.Counters, bool)
	close()
}

type hostNetwork struct{}

func (hostNetwork) listenUDP(ctx context.Context, addr string, n int) ([]net.PacketConn, error) {
	return listenUDP(ctx, addr, n)
}

func (hostNetwork) listenTCP(ctx context.Context, addr string) (net.Listener, error) {
	return listenTCP(ctx, addr)
}

func (hostNetwork) dialer() dialFunc { return nil }

func (hostNetwork) lost() <-chan error { return nil }

func (hostNetwork) close() {}

func (hostNetwork) counters() (netstack.Counters, bool) { return netstack.Counters{}, false }

// stackNetwork is the userspace stack. Listen addresses keep only their
// port: services listen on the stack's own addresses.
type stackNetwork struct {
	st        *netstack.Stack
	addrs     []netip.Addr
	pcap      *os.File
	stopLease func()
	leaseLost chan error
	resolver  netip.Addr
}

func (n *stackNetwork) lost() <-chan error { return n.leaseLost }

func (n *stackNetwork) counters() (netstack.Counters, bool) { return n.st.Counters(), true }

func (n *stackNetwork) dialer() dialFunc {
	var r netip.AddrPort
	if n.resolver.IsValid() {
		r = netip.AddrPortFrom(n.resolver, 53)
	}
	return resolvingDialer(n.st.DialContext, r)
}

// OnHost says whether the services run on the host's (or the guest
// kernel's) own sockets rather than the userspace stack.
func (o NetOptions) OnHost() bool { return hostNet(o.Net) }

// hostNet says whether --net means the host's own sockets.
func hostNet(net string) bool {
	kind, _, _ := strings.Cut(net, ":")
	return net == "" || kind == "host"
}

// openNetwork sets up the chosen stack; on the userspace stack without a
// static IPv4 address it waits for a DHCP lease, so that services open
// their sockets only once the address is configured.
func openNetwork(ctx context.Context, o NetOptions, log *slog.Logger) (network, error) {
	kind, name, _ := strings.Cut(o.Net, ":")
	if hostNet(o.Net) {
		return hostNetwork{}, nil
	}
	if o.NoIPv4 && (o.IPv4.IsValid() || o.IPv4Gateway.IsValid()) {
		return nil, errors.New("IPv4 is off (none): no IPv4 address or gateway goes with it")
	}
	var link *netstack.Link
	var err error
	switch {
	case name == "":
		return nil, fmt.Errorf("--net %s: name the device (tap:NAME or packet:IFNAME)", o.Net)
	case kind == "tap":
		link, err = netstack.TAP(name)
	case kind == "packet":
		link, err = netstack.Packet(name)
	default:
		return nil, fmt.Errorf("--net %s: want host, tap:NAME or packet:IFNAME", o.Net)
	}
	if err != nil {
		return nil, err
	}
	useDHCP := !o.IPv4.IsValid() && !o.NoIPv4
	cfg := netstack.Config{IPv4: o.IPv4, Gateway4: o.IPv4Gateway, IPv6: o.IPv6, Gateway6: o.IPv6Gateway, DHCP: useDHCP, TCPSendMemory: o.TCPSendMemory, Logger: log}
	var pcap *os.File
	if o.PCAP != "" {
		if pcap, err = os.Create(o.PCAP); err != nil {
			return nil, fmt.Errorf("--pcap: %w", err)
		}
		cfg.PCAP = pcap
	}
	st, err := netstack.New(link, cfg)
	if err != nil {
		if pcap != nil {
			pcap.Close()
		}
		return nil, err
	}
	n := &stackNetwork{st: st, pcap: pcap, resolver: o.Resolver}
	if o.NoIPv4 {
		log.Info("IPv4 off: serving on IPv6 only", "component", "netstack", "link", link.String(), "ipv6", o.IPv6)
	}
	if useDHCP {
		log.Info("no --ipv4 given: asking DHCP for an address", "component", "netstack", "link", link.String())
		lease, err := st.AcquireDHCP(ctx)
		if err != nil {
			n.close()
			return nil, fmt.Errorf("appliance: dhcp: %w", err)
		}
		o.IPv4 = lease.Addr
		if !n.resolver.IsValid() && len(lease.DNS) > 0 {
			n.resolver = lease.DNS[0]
		}
		lctx, cancel := context.WithCancel(context.Background())
		n.leaseLost = make(chan error, 1)
		done := make(chan struct{})
		n.stopLease = func() { cancel(); <-done }
		go func() {
			defer close(done)
			if err := st.KeepLease(lctx, lease); err != nil {
				n.leaseLost <- err
			}
		}()
	}
	for _, p := range []netip.Prefix{o.IPv4, o.IPv6} {
		if p.IsValid() {
			n.addrs = append(n.addrs, p.Addr())
		}
	}
	return n, nil
}

func portOf(addr string) (uint16, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err == nil {
		return ap.Port(), nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	p, err := netip.ParseAddrPort("0.0.0.0:" + port)
	return p.Port(), err
}

func (n *stackNetwork) listenUDP(_ context.Context, addr string, _ int) ([]net.PacketConn, error) {
	// Each IPv4 address (the fast path takes those), and every IPv6
	// address the stack has, as for TCP.
	return listenEach(n, addr, n.st.ListenUDP)
}

func (n *stackNetwork) listenTCP(_ context.Context, addr string) (net.Listener, error) {
	ls, err := listenEach(n, addr, n.st.ListenTCP)
	if err != nil {
		return nil, err
	}
	return joinListeners(ls...), nil
}

// listenEach opens a socket with listen on each of n's listen addresses
// at addr's port: all of them, or none.
func listenEach[T io.Closer](n *stackNetwork, addr string, listen func(netip.AddrPort) (T, error)) ([]T, error) {
	port, err := portOf(addr)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, a := range n.listenAddrs() {
		c, err := listen(netip.AddrPortFrom(a, port))
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// listenAddrs are the addresses services listen on: each IPv4 one, and
// the unspecified IPv6 address, which takes every IPv6 address the
// stack has: its static one, its link-local one and those it makes
// from router advertisements (SLAAC), which come and go.
func (n *stackNetwork) listenAddrs() []netip.Addr {
	var addrs []netip.Addr
	for _, a := range n.addrs {
		if a.Is4() {
			addrs = append(addrs, a)
		}
	}
	return append(addrs, netip.IPv6Unspecified())
}

func (n *stackNetwork) close() {
	if n.stopLease != nil {
		n.stopLease()
	}
	n.st.Close()
	if n.pcap != nil {
		n.pcap.Close()
	}
}
