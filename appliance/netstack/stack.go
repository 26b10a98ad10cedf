package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Config is the addressing of a stack.
type Config struct {
	// IPv4 is the stack's address and prefix, e.g. 10.0.0.2/24.
	IPv4 netip.Prefix
	// Gateway4, if valid, is the default IPv4 route.
	Gateway4 netip.Addr
	// DHCP allows starting without an IPv4 address: AcquireDHCP gets one.
	DHCP bool
	// IPv6 is an optional static address, beside the link-local and
	// SLAAC addresses the stack makes itself.
	IPv6     netip.Prefix
	Gateway6 netip.Addr
	// TCPBufferMax is the largest TCP send and receive buffer, 8 MiB by
	// default: larger buffers fill fast links (with 8 MiB the download
	// of bench/netstack.sh passed the kernel stack's throughput).
	TCPBufferMax int
	// TCPSendMemory bounds what accepted TCP connections hold to send
	// (see sendBudget); a quarter of the machine's memory by default.
	TCPSendMemory int64
	// PCAP, if set, receives every frame in and out, as a pcap stream.
	PCAP   io.Writer
	Logger *slog.Logger
}

const nicID tcpip.NICID = 1

// Stack is a running userspace stack on one link.
type Stack struct {
	s    *stack.Stack
	link *Link
	fast *fastUDP
	acks *ackDelay
	send *sendBudget
	// segment is the most TCP payload the stack puts in one frame (0:
	// an MSS, on a link without host GSO).
	segment int
	log     *slog.Logger
	done    chan struct{}
	// closeOnce makes Close safe to call twice.
	closeOnce sync.Once
	// linkMTU is the link's MTU when the stack started: the most a DHCP
	// server may set.
	linkMTU uint32
	// declineWait is how long DHCP waits to ask again after declining
	// an address in use.
	declineWait time.Duration
}

// New starts a stack on link with cfg's addresses. The link starts
// delivering packets as soon as it is attached here; the stack owns the
// link from then on.
func New(l *Link, cfg Config) (*Stack, error) {
	if l == nil || l.ep == nil {
		return nil, errors.New("netstack: no link")
	}
	link := l.ep
	if cfg.PCAP != nil {
		p, err := newPCAP(link, cfg.PCAP)
		if err != nil {
			return nil, err
		}
		link = p
	}
	if !cfg.IPv4.IsValid() && !cfg.IPv6.IsValid() && !cfg.DHCP {
		return nil, errors.New("netstack: no address given and no DHCP")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ndp := newNDPRoutes(cfg.Logger.With("component", "netstack"))
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol, arpProtocol(), ipv6.NewProtocolWithOptions(ipv6.Options{
			NDPDisp: ndp,
			// A link-local address from the MAC, and SLAAC addresses and
			// default routes from router advertisements (RFC 4861/4862).
			AutoGenLinkLocal: true,
			NDPConfigs: ipv6.NDPConfigurations{
				HandleRAs:               ipv6.HandlingRAsEnabledWhenForwardingDisabled,
				DiscoverDefaultRouters:  true,
				DiscoverOnLinkPrefixes:  true,
				AutoGenGlobalAddresses:  true,
				MaxRtrSolicitations:     3,
				RtrSolicitationInterval: 4 * time.Second,
				MaxRtrSolicitationDelay: time.Second,
			},
		})},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	if err := tune(s, cfg); err != nil {
		s.Destroy()
		return nil, err
	}
	// The fast path sees incoming frames first and writes its replies
	// straight to the link; the stack's own frames go through the ACK
	// delay above it.
	fast := newFastUDP(link)
	fast.local6 = func(a tcpip.Address) bool { return s.CheckLocalAddress(nicID, ipv6.ProtocolNumber, a) != 0 }
	acks := newAckDelay(fast)
	// A FIFO queue lets frames written one by one leave in batches: one
	// sendmmsg for many frames.
	qdisc := fifo.New(acks, 1, 1000)
	if terr := s.CreateNICWithOptions(nicID, acks, stack.NICOptions{Name: "eth0", QDisc: qdisc}); terr != nil {
		s.Destroy()
		return nil, fmt.Errorf("netstack: create NIC: %s", terr)
	}
	var routes []tcpip.Route
	for _, a := range []struct {
		prefix netip.Prefix
		gw     netip.Addr
		proto  tcpip.NetworkProtocolNumber
		any    tcpip.Subnet
	}{
		{cfg.IPv4, cfg.Gateway4, ipv4.ProtocolNumber, header.IPv4EmptySubnet},
		{cfg.IPv6, cfg.Gateway6, ipv6.ProtocolNumber, header.IPv6EmptySubnet},
	} {
		if !a.prefix.IsValid() {
			continue
		}
		pa := tcpip.ProtocolAddress{Protocol: a.proto, AddressWithPrefix: tcpip.AddressWithPrefix{
			Address: tcpip.AddrFromSlice(a.prefix.Addr().AsSlice()), PrefixLen: a.prefix.Bits()}}
		if terr := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); terr != nil {
			s.Destroy()
			return nil, fmt.Errorf("netstack: add address %s: %s", a.prefix, terr)
		}
		routes = append(routes, tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: nicID})
		if a.gw.IsValid() {
			routes = append(routes, tcpip.Route{Destination: a.any, Gateway: tcpip.AddrFromSlice(a.gw.AsSlice()), NIC: nicID})
		}
	}
	s.SetRouteTable(routes)
	if cfg.IPv4.IsValid() {
		announce(s, cfg.IPv4.Addr())
	}
	if cfg.TCPSendMemory == 0 {
		cfg.TCPSendMemory = defaultSendMemory()
	}
	st := &Stack{s: s, link: l, fast: fast, acks: acks, send: newSendBudget(cfg.TCPSendMemory), segment: segmentSize(acks), log: cfg.Logger.With("component", "netstack"), done: make(chan struct{}), linkMTU: link.MTU(), declineWait: declineWait}
	go ndp.run(s, st.done)
	if cfg.IPv4.IsValid() {
		go st.checkStatic(cfg.IPv4.Addr())
	}
	st.log.Info("userspace stack up", "link", l.name, "ipv4", cfg.IPv4, "gateway4", cfg.Gateway4, "ipv6", cfg.IPv6)
	if l.failed != nil {
		go func() {
			select {
			case why := <-l.failed:
				st.log.Error("the link stopped delivering frames; the stack is deaf until restarted", "link", l.name, "err", why)
			case <-st.done:
			}
		}()
	}
	return st, nil
}

// tune sets TCP options: SACK, RACK loss detection, moderate receive
// buffer, and larger buffer limits.
func tune(s *stack.Stack, cfg Config) error {
	max := cfg.TCPBufferMax
	if max == 0 {
		max = 8 << 20
	}
	sack := tcpip.TCPSACKEnabled(true)
	rack := tcpip.TCPRecovery(tcpip.TCPRACKLossDetection)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	send := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: max}
	recv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: max}
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &rack, &mod, &send, &recv} {
		if terr := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); terr != nil {
			return fmt.Errorf("netstack: tcp option %T: %s", o, terr)
		}
	}
	return nil
}

// announce broadcasts a gratuitous ARP request for addr, so that
// neighbours learn (or relearn) where it lives before the first packet.
func announce(s *stack.Stack, addr netip.Addr) {
	ep, terr := s.GetNetworkEndpoint(nicID, arp.ProtocolNumber)
	if terr != nil {
		return
	}
	if r, ok := ep.(stack.LinkAddressResolver); ok {
		a := tcpip.AddrFromSlice(addr.AsSlice())
		r.LinkAddressRequest(a, a, "")
	}
}

func fullAddr(ap netip.AddrPort) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	fa := tcpip.FullAddress{NIC: nicID, Port: ap.Port()}
	if ap.Addr().IsValid() && !ap.Addr().IsUnspecified() {
		fa.Addr = tcpip.AddrFromSlice(ap.Addr().Unmap().AsSlice())
	}
	if ap.Addr().Unmap().Is4() {
		return fa, ipv4.ProtocolNumber
	}
	return fa, ipv6.ProtocolNumber
}

// ListenUDP opens a UDP socket on the stack. On one IPv4 address it
// also takes the fast path: the returned conn then has a ServeBatches
// method that answers plain datagrams in batches, beside the
// net.PacketConn methods that carry the rest. On the unspecified IPv6
// address ([::]) it takes datagrams to every IPv6 address the stack has
// or comes to have (static, link-local, SLAAC), the fast path too, and
// answers each from the address it came to.
func (st *Stack) ListenUDP(ap netip.AddrPort) (net.PacketConn, error) {
	if a := ap.Addr(); a.Is6() && !a.Is4In6() && a.IsUnspecified() {
		c, err := listenWildUDP(st.s, ap.Port())
		if err != nil {
			return nil, fmt.Errorf("netstack: listen udp %s: %w", ap, err)
		}
		if ap.Port() == 0 {
			return c, nil
		}
		return newFastConn(st.fast, c, ap), nil
	}
	fa, proto := fullAddr(ap)
	c, err := gonet.DialUDP(st.s, &fa, nil, proto)
	if err != nil {
		return nil, fmt.Errorf("netstack: listen udp %s: %w", ap, err)
	}
	if a := ap.Addr().Unmap(); a.Is4() && !a.IsUnspecified() && ap.Port() != 0 {
		return newFastConn(st.fast, c, netip.AddrPortFrom(a, ap.Port())), nil
	}
	return c, nil
}

// segmentSize is the most TCP payload the stack puts in one frame on
// ep, a link with host GSO, when it has that much to send: the GSO size
// less the room gVisor's sender leaves for the largest headers, and one
// byte. On a link without it the stack cuts at the MSS; that is 0 here.
func segmentSize(ep stack.LinkEndpoint) int {
	g, ok := ep.(stack.GSOEndpoint)
	if !ok || g.SupportedGSO() != stack.HostGSOSupported {
		return 0
	}
	return int(g.GSOMaxSize()) - header.TCPTotalHeaderMaximumSize - 1
}

// ListenTCP opens a TCP listener on the stack: on one address, or on
// the unspecified IPv6 address ([::]) for every IPv6 address the stack
// has or comes to have (its static one, link-local, SLAAC), IPv6 only.
func (st *Stack) ListenTCP(ap netip.AddrPort) (net.Listener, error) {
	fa, proto := fullAddr(ap)
	l, err := listenTCP(st.s, fa, proto, st.send, st.segment)
	if err != nil {
		return nil, fmt.Errorf("netstack: listen tcp %s: %w", ap, err)
	}
	return l, nil
}

// DialTCP connects from the stack, for outbound traffic (ACME, tests).
func (st *Stack) DialTCP(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
	fa, proto := fullAddr(ap)
	fa.NIC = 0
	c, err := gonet.DialContextTCP(ctx, st.s, fa, proto)
	if err != nil {
		return nil, fmt.Errorf("netstack: dial %s: %w", ap, err)
	}
	return c, nil
}

// DialContext connects from the stack to an IP literal address
// ("1.2.3.4:443", "[2001:db8::1]:53") over "tcp" or "udp" (4 or 6
// suffixes allowed), for net/http transports and resolvers.
func (st *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("netstack: dial %s: want an IP address and port: %w", address, err)
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
		return st.DialTCP(ctx, ap)
	case "udp", "udp4", "udp6":
		return st.DialUDP(ap)
	}
	return nil, fmt.Errorf("netstack: dial: network %s not supported", network)
}

// DialUDP opens a connected UDP socket from the stack.
func (st *Stack) DialUDP(ap netip.AddrPort) (net.Conn, error) {
	fa, proto := fullAddr(ap)
	fa.NIC = 0
	c, err := gonet.DialUDP(st.s, nil, &fa, proto)
	if err != nil {
		return nil, fmt.Errorf("netstack: dial udp %s: %w", ap, err)
	}
	return c, nil
}

// Close stops the stack and releases its link (the TAP device or
// packet socket). Calling it again does nothing.
func (st *Stack) Close() { st.closeOnce.Do(st.close) }

func (st *Stack) close() {
	close(st.done)
	st.logCounters()
	st.s.Close()
	if st.link.stop != nil {
		st.link.stop()
	}
	st.s.Wait()
	if st.link.release != nil {
		st.link.release()
	}
}

// logCounters logs, at debug level, the stack's counters of lost and
// resent packets: what to look at when a transfer is slower than the
// link.
func (st *Stack) logCounters() {
	c := st.s.Stats()
	st.log.Debug("netstack counters",
		"tcp_retransmits", c.TCP.Retransmits.Value(),
		"tcp_timeouts", c.TCP.Timeouts.Value(),
		"tcp_fast_retransmit", c.TCP.FastRetransmit.Value(),
		"tcp_sack_recovery", c.TCP.SACKRecovery.Value(),
		"tcp_tlp_recovery", c.TCP.TLPRecovery.Value(),
		"tcp_spurious_rto", c.TCP.SpuriousRTORecovery.Value(),
		"tcp_acked_with_dsack", c.TCP.SegmentsAckedWithDSACK.Value(),
		"tx_dropped_no_buffer", c.NICs.TxPacketsDroppedNoBufferSpace.Value(),
		"ip_send_errors", c.IP.OutgoingPacketErrors.Value(),
		"tcp_send_errors", c.TCP.SegmentSendErrors.Value(),
		"icmp6_router_adverts", c.ICMP.V6.PacketsReceived.RouterAdvert.Value(),
		"icmp6_invalid", c.ICMP.V6.PacketsReceived.Invalid.Value(),
		"acks_thinned", st.acksThinned(),
	)
}

// acksThinned is how many superseded ACKs the link has left out.
func (st *Stack) acksThinned() int64 {
	if st.link.thinned == nil {
		return 0
	}
	return st.link.thinned.Load()
}

// Counters are the stack's running totals, for metrics.
type Counters struct {
	// PacketsReceived and PacketsSent count IP packets, those of the
	// DNS fast path (fastudp.go) included.
	PacketsReceived, PacketsSent uint64
	// Dropped are packets the stack dropped on the way in (malformed,
	// no endpoint, full queues).
	Dropped           uint64
	TCPRetransmits    uint64
	TCPTimeouts       uint64
	TxDroppedNoBuffer uint64 // the link's queue was full
	UDPReceiveErrors  uint64 // a socket's receive buffer was full
	AcksThinned       uint64 // superseded ACKs the link left out
}

// Counters returns the stack's counters now.
func (st *Stack) Counters() Counters {
	c := st.s.Stats()
	return Counters{
		PacketsReceived:   c.IP.PacketsReceived.Value() + st.fast.taken.Load(),
		PacketsSent:       c.IP.PacketsSent.Value() + st.fast.sent.Load(),
		Dropped:           c.DroppedPackets.Value(),
		TCPRetransmits:    c.TCP.Retransmits.Value(),
		TCPTimeouts:       c.TCP.Timeouts.Value(),
		TxDroppedNoBuffer: c.NICs.TxPacketsDroppedNoBufferSpace.Value(),
		UDPReceiveErrors:  c.UDP.ReceiveBufferErrors.Value(),
		AcksThinned:       uint64(st.acksThinned()),
	}
}
