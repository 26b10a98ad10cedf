package netstack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Lease is an IPv4 configuration obtained by DHCP (RFC 2131).
type Lease struct {
	Addr     netip.Prefix
	Router   netip.Addr
	Server   netip.Addr
	DNS      []netip.Addr
	MTU      int
	Duration time.Duration // the lease time
	T1, T2   time.Duration // renew and rebind, from Acquired
	Acquired time.Time
}

const (
	dhcpClientPort = 68
	dhcpServerPort = 67
)

// dhcpConn opens a UDP socket on port 68 that may broadcast. With no
// address yet (leased false), the stack gets 0.0.0.0 and a route for
// everything while it is open, as a DHCP client needs to send from
// 0.0.0.0 to 255.255.255.255. The socket is bound to no address even
// when one is leased: it sends from the lease's, and hears the replies
// to it as well as broadcast ones (a server broadcasts its NAKs, RFC
// 2131 §4.1).
func (st *Stack) dhcpConn(leased bool) (*gonet.UDPConn, func(), error) {
	cleanup := func() {}
	if !leased {
		any := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: header.IPv4Any, PrefixLen: 0}}
		if terr := st.s.AddProtocolAddress(nicID, any, stack.AddressProperties{}); terr != nil {
			return nil, nil, fmt.Errorf("netstack: dhcp: temporary address: %s", terr)
		}
		routes := st.s.GetRouteTable()
		st.s.SetRouteTable(append(routes, tcpip.Route{Destination: header.IPv4EmptySubnet, NIC: nicID}))
		cleanup = func() {
			st.s.RemoveAddress(nicID, header.IPv4Any)
			st.s.SetRouteTable(routes)
		}
	}
	var wq waiter.Queue
	ep, terr := st.s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		cleanup()
		return nil, nil, fmt.Errorf("netstack: dhcp: socket: %s", terr)
	}
	ep.SocketOptions().SetBroadcast(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: dhcpClientPort}); terr != nil {
		ep.Close()
		cleanup()
		return nil, nil, fmt.Errorf("netstack: dhcp: bind port 68: %s", terr)
	}
	c := gonet.NewUDPConn(&wq, ep)
	return c, func() { c.Close(); cleanup() }, nil
}

// exchange sends msg to dst until a reply of one of the wanted types
// with msg's transaction ID arrives, retransmitting with backoff
// (RFC 2131 §4.1: 4 s doubling, randomised; shorter here to start).
func exchange(ctx context.Context, c *gonet.UDPConn, msg *dhcpv4.DHCPv4, dst netip.AddrPort, want ...dhcpv4.MessageType) (*dhcpv4.DHCPv4, error) {
	buf := make([]byte, 1500)
	wait := time.Second
	for {
		if _, err := c.WriteTo(msg.ToBytes(), net.UDPAddrFromAddrPort(dst)); err != nil {
			return nil, fmt.Errorf("netstack: dhcp: send %s: %w", msg.MessageType(), err)
		}
		deadline := time.Now().Add(wait + time.Duration(rand.Int64N(int64(wait/4))))
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			step := time.Now().Add(200 * time.Millisecond)
			if deadline.Before(step) {
				step = deadline
			}
			c.SetReadDeadline(step)
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				if time.Now().After(deadline) {
					break
				}
				continue
			}
			reply, err := dhcpv4.FromBytes(buf[:n])
			if err != nil || reply.TransactionID != msg.TransactionID || reply.OpCode != dhcpv4.OpcodeBootReply {
				continue
			}
			for _, w := range want {
				if reply.MessageType() == w {
					return reply, nil
				}
			}
		}
		wait = min(2*wait, 32*time.Second)
	}
}

// wantedOptions are the options every DISCOVER and REQUEST asks for.
func wantedOptions() []dhcpv4.OptionCode {
	return []dhcpv4.OptionCode{dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer, dhcpv4.OptionInterfaceMTU}
}

// AcquireDHCP runs DISCOVER, OFFER, REQUEST, ACK on the link, then
// configures the leased address, its subnet route and the default route,
// and announces the address. It returns when the stack is configured or
// ctx ends.
func (st *Stack) AcquireDHCP(ctx context.Context) (Lease, error) {
	return st.acquire(ctx, netip.Addr{})
}

// acquire is AcquireDHCP asking for the address want, if valid (the
// address of a lease that expired), in its DISCOVER and REQUEST.
func (st *Stack) acquire(ctx context.Context, want netip.Addr) (Lease, error) {
	c, done, err := st.dhcpConn(false)
	if err != nil {
		return Lease{}, err
	}
	defer func() { done() }() // done is replaced once the socket is closed
	mac := net.HardwareAddr(st.s.NICInfo()[nicID].LinkAddress)
	declined := 0
	for {
		mods := []dhcpv4.Modifier{dhcpv4.WithBroadcast(true), dhcpv4.WithRequestedOptions(wantedOptions()...)}
		if want.Is4() {
			mods = append(mods, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IP(want.AsSlice()))))
		}
		discover, err := dhcpv4.NewDiscovery(mac, mods...)
		if err != nil {
			return Lease{}, err
		}
		bcast := netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dhcpServerPort)
		offer, err := exchange(ctx, c, discover, bcast, dhcpv4.MessageTypeOffer)
		if err != nil {
			return Lease{}, err
		}
		// The server answers the options the REQUEST asks for, not the
		// DISCOVER's: ask again.
		request, err := dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithBroadcast(true), dhcpv4.WithRequestedOptions(wantedOptions()...))
		if err != nil {
			return Lease{}, err
		}
		ack, err := exchange(ctx, c, request, bcast, dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
		if err != nil {
			return Lease{}, err
		}
		if ack.MessageType() == dhcpv4.MessageTypeNak {
			st.log.Warn("DHCP server refused the offered address; starting over", "server", offer.ServerIdentifier())
			continue
		}
		lease, err := leaseFrom(ack)
		if err != nil {
			return Lease{}, err
		}
		// RFC 2131 §4.4.1: the client should check that the address is
		// not in use, and decline it if it is.
		holder, err := st.probe(ctx, lease.Addr.Addr())
		if err != nil {
			return Lease{}, err
		}
		switch {
		case holder == nil:
		case st.answersForAll(ctx, holder, lease):
			// Some virtual networks have the router answer ARP for
			// every address, the client's own included.
			st.log.Warn("DHCP: the router answers ARP for the leased address too (proxy ARP); taking it", "addr", lease.Addr, "router", lease.Router, "holder", holder.String())
			holder = nil
		case declined >= maxDeclines:
			st.log.Error("DHCP: the leased address is in use by another host, as each one leased before was; taking it anyway", "addr", lease.Addr, "holder", holder.String(), "server", lease.Server, "declined", declined)
			holder = nil
		}
		if holder != nil {
			st.log.Warn("DHCP: the leased address is in use by another host; declined, asking again", "addr", lease.Addr, "holder", holder.String(), "server", lease.Server, "wait", st.declineWait)
			if err := decline(c, ack, mac, bcast); err != nil {
				return Lease{}, err
			}
			declined++
			want = netip.Addr{}
			select {
			case <-ctx.Done():
				return Lease{}, ctx.Err()
			case <-time.After(st.declineWait):
			}
			continue
		}
		done()
		done = func() {}
		if err := st.configure(lease); err != nil {
			return Lease{}, err
		}
		st.log.Info("DHCP lease", "addr", lease.Addr, "router", lease.Router, "server", lease.Server, "lease", lease.Duration, "dns", lease.DNS, "mtu", lease.MTU)
		return lease, nil
	}
}

// declineWait is how long a client waits after declining an address
// before it asks again: at least ten seconds, RFC 2131 §3.1 says, lest
// a server that offers it again loop. After maxDeclines addresses in a
// row declined, the next one is taken whatever the probe says, with an
// error logged: a network where every address seems taken is one that
// answers for all of them, and a stack that never takes one never
// serves.
const (
	declineWait = 10 * time.Second
	maxDeclines = 3
)

// answersForAll tells whether holder, which answered for the leased
// address, is the router, answering for the next address as well: a
// router that has the leased address itself answers for its own
// addresses only.
func (st *Stack) answersForAll(ctx context.Context, holder net.HardwareAddr, l Lease) bool {
	if !l.Router.IsValid() || l.Router == l.Addr.Addr() {
		return false
	}
	if r, err := st.probe(ctx, l.Router); err != nil || r.String() != holder.String() {
		return false
	}
	next := l.Addr.Addr().Next()
	if next == l.Router {
		next = next.Next()
	}
	h, err := st.probe(ctx, next)
	return err == nil && h.String() == holder.String()
}

// decline tells the server that its acknowledged address is in use
// (DHCPDECLINE, RFC 2131 §4.4.1), broadcast: the client has no address.
func decline(c *gonet.UDPConn, ack *dhcpv4.DHCPv4, mac net.HardwareAddr, bcast netip.AddrPort) error {
	m, err := dhcpv4.New(dhcpv4.WithHwAddr(mac), dhcpv4.WithMessageType(dhcpv4.MessageTypeDecline),
		dhcpv4.WithTransactionID(ack.TransactionID),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ack.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptMessage("address in use")))
	if err != nil {
		return fmt.Errorf("netstack: dhcp: decline: %w", err)
	}
	if _, err := c.WriteTo(m.ToBytes(), net.UDPAddrFromAddrPort(bcast)); err != nil {
		return fmt.Errorf("netstack: dhcp: send DECLINE: %w", err)
	}
	return nil
}

func leaseFrom(ack *dhcpv4.DHCPv4) (Lease, error) {
	addr, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || addr.IsUnspecified() {
		return Lease{}, errors.New("netstack: dhcp: ACK without an address")
	}
	bits := 24
	if m := ack.SubnetMask(); m != nil {
		bits, _ = m.Size()
	}
	l := Lease{Addr: netip.PrefixFrom(addr, bits), Acquired: time.Now()}
	l.Duration = ack.IPAddressLeaseTime(time.Hour)
	l.T1 = ack.IPAddressRenewalTime(l.Duration / 2)
	l.T2 = ack.IPAddressRebindingTime(l.Duration * 7 / 8)
	if r := ack.Router(); len(r) > 0 {
		l.Router, _ = netip.AddrFromSlice(r[0].To4())
	}
	if s := ack.ServerIdentifier(); s != nil {
		l.Server, _ = netip.AddrFromSlice(s.To4())
	}
	for _, d := range ack.DNS() {
		if a, ok := netip.AddrFromSlice(d.To4()); ok {
			l.DNS = append(l.DNS, a)
		}
	}
	if mtu, err := dhcpv4.GetUint16(dhcpv4.OptionInterfaceMTU, ack.Options); err == nil {
		l.MTU = int(mtu)
	}
	return l, nil
}

// configure puts a lease on the NIC.
func (st *Stack) configure(l Lease) error {
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFromSlice(l.Addr.Addr().AsSlice()), PrefixLen: l.Addr.Bits()}}
	if terr := st.s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); terr != nil {
		if _, exists := terr.(*tcpip.ErrDuplicateAddress); !exists {
			return fmt.Errorf("netstack: dhcp: add %s: %s", l.Addr, terr)
		}
	}
	routes := []tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: nicID}}
	if l.Router.IsValid() {
		routes = append(routes, tcpip.Route{Destination: header.IPv4EmptySubnet, Gateway: tcpip.AddrFromSlice(l.Router.AsSlice()), NIC: nicID})
	}
	for _, r := range st.s.GetRouteTable() {
		if r.Destination.ID().BitLen() == 128 { // IPv6 routes stay
			routes = append(routes, r)
		}
	}
	st.s.SetRouteTable(routes)
	st.applyMTU(l.MTU)
	announce(st.s, l.Addr.Addr())
	return nil
}

// applyMTU sets the MTU a DHCP server gives (option 26) on the NIC: a
// smaller one (a tunnel or overlay network, 1450 or 1460) always; a
// larger one only up to what the link itself carries.
func (st *Stack) applyMTU(mtu int) {
	if mtu == 0 {
		return
	}
	if mtu < 576 || uint32(mtu) > st.linkMTU {
		st.log.Warn("DHCP MTU not applied", "mtu", mtu, "link_mtu", st.linkMTU)
		return
	}
	if cur := st.MTU(); cur == uint32(mtu) {
		return
	}
	if terr := st.s.SetNICMTU(nicID, uint32(mtu)); terr != nil {
		st.log.Warn("DHCP MTU not applied", "mtu", mtu, "err", terr.String())
		return
	}
	// A link wrapped in gVisor's ethernet endpoint reports its MTU less
	// the Ethernet header but takes it whole: make up the difference.
	if got := st.MTU(); got < uint32(mtu) {
		st.s.SetNICMTU(nicID, 2*uint32(mtu)-got)
	}
	st.log.Info("MTU from DHCP", "mtu", mtu)
}

// MTU is the NIC's MTU now.
func (st *Stack) MTU() uint32 {
	return st.s.NICInfo()[nicID].MTU
}

// Renew asks the leasing server to extend the lease (RFC 2131 §4.4.5):
// unicast from the leased address at T1, or broadcast when rebinding
// after T2. It returns the new lease.
func (st *Stack) Renew(ctx context.Context, l Lease, rebind bool) (Lease, error) {
	c, done, err := st.dhcpConn(true)
	if err != nil {
		return l, err
	}
	defer done()
	mac := net.HardwareAddr(st.s.NICInfo()[nicID].LinkAddress)
	req, err := dhcpv4.New(dhcpv4.WithHwAddr(mac), dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(net.IP(l.Addr.Addr().AsSlice())),
		dhcpv4.WithRequestedOptions(wantedOptions()...))
	if err != nil {
		return l, err
	}
	dst := netip.AddrPortFrom(l.Server, dhcpServerPort)
	if rebind || !l.Server.IsValid() {
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dhcpServerPort)
	}
	ack, err := exchange(ctx, c, req, dst, dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
	if err != nil {
		return l, err
	}
	if ack.MessageType() == dhcpv4.MessageTypeNak {
		if msg := ack.Message(); msg != "" {
			return l, fmt.Errorf("%w: %q", errRefused, msg)
		}
		return l, errRefused
	}
	nl, err := leaseFrom(ack)
	if err != nil {
		return l, err
	}
	if nl.Addr != l.Addr {
		return l, fmt.Errorf("%w: it acknowledged %s instead", errRefused, nl.Addr)
	}
	st.log.Info("DHCP lease renewed", "addr", nl.Addr, "lease", nl.Duration, "rebind", rebind)
	return nl, nil
}

// errRefused is what Renew returns when the server refuses the lease
// (a NAK: the network was renumbered, say, or the server forgot it), or
// acknowledges another address than the one leased.
var errRefused = errors.New("netstack: dhcp: the server refused to renew the lease")

// ErrAddressMoved is what KeepLease returns when a lease expired
// unrenewed and the new one has another address: the services bound to
// the old one must start again.
var ErrAddressMoved = errors.New("netstack: dhcp: the lease expired and the new one has another address")

// KeepLease keeps the lease l (RFC 2131 §4.4.5): from T1 it asks the
// leasing server to renew it, from T2 any server (rebinding); when the
// lease expires anyway, or a server refuses it (a NAK, which RFC 2131
// §3.2 says ends the lease at once), the address is withdrawn from the
// NIC (nothing is sent or answered from it), and the stack asks for a
// new lease, for the same address. If it gets that address back,
// serving goes on; if another, KeepLease returns ErrAddressMoved with
// the stack holding the new address. It returns nil when ctx ends.
func (st *Stack) KeepLease(ctx context.Context, l Lease) error {
	for {
		now := time.Now()
		t1, t2, end := l.Acquired.Add(l.T1), l.Acquired.Add(l.T2), l.Acquired.Add(l.Duration)
		var until time.Time // how long this attempt may take
		rebind := false
		switch {
		case now.Before(t1):
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(t1.Sub(now)):
			}
			continue
		case now.Before(t2):
			until = t2
		case now.Before(end):
			until, rebind = end, true
		default:
			st.log.Error("DHCP lease expired unrenewed; the address is withdrawn until a new lease comes", "addr", l.Addr)
			nl, err := st.reacquire(ctx, l)
			if err != nil || ctx.Err() != nil {
				return err
			}
			l = nl
			continue
		}
		rctx, cancel := context.WithDeadline(ctx, until)
		nl, err := st.Renew(rctx, l, rebind)
		cancel()
		switch {
		case err == nil:
			l = nl
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errRefused):
			st.log.Error("DHCP server refused the lease; the address is withdrawn until a new lease comes", "addr", l.Addr, "err", err)
			nl, err := st.reacquire(ctx, l)
			if err != nil || ctx.Err() != nil {
				return err
			}
			l = nl
		case time.Now().Before(until):
			// An error that came at once (a socket, a bad reply): no
			// use asking again until the next stage; wait for it.
			st.log.Warn("DHCP renewal failed", "addr", l.Addr, "rebind", rebind, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Until(until)):
			}
		default:
			st.log.Warn("DHCP renewal got no answer", "addr", l.Addr, "rebind", rebind, "err", err)
		}
	}
}

// reacquire withdraws the lease l's address (expired or refused) and
// asks for a new lease until one comes or ctx ends.
func (st *Stack) reacquire(ctx context.Context, l Lease) (Lease, error) {
	st.withdraw(l)
	for {
		nl, err := st.acquire(ctx, l.Addr.Addr())
		if ctx.Err() != nil {
			return l, nil
		}
		if err != nil {
			st.log.Warn("DHCP: no new lease yet", "err", err)
			select { // an error that comes at once (a socket) must not spin
			case <-ctx.Done():
				return l, nil
			case <-time.After(time.Second):
			}
			continue
		}
		if nl.Addr.Addr() != l.Addr.Addr() {
			return nl, fmt.Errorf("%w: %s, now %s", ErrAddressMoved, l.Addr, nl.Addr)
		}
		st.fast.setActive(nl.Addr.Addr(), true)
		st.log.Info("DHCP lease regained for the same address; serving again", "addr", nl.Addr)
		return nl, nil
	}
}

// withdraw takes a lease's address and IPv4 routes off the NIC.
func (st *Stack) withdraw(l Lease) {
	st.fast.setActive(l.Addr.Addr(), false)
	st.s.RemoveAddress(nicID, tcpip.AddrFromSlice(l.Addr.Addr().AsSlice()))
	var keep []tcpip.Route
	for _, r := range st.s.GetRouteTable() {
		if r.Destination.ID().BitLen() == 128 { // IPv6 routes stay
			keep = append(keep, r)
		}
	}
	st.s.SetRouteTable(keep)
}
