package netstack

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// TestNDPRoutes has the stack learn an on-link prefix and a default
// router, as from a router advertisement, and then forget them: each
// comes into the route table and leaves it.
func TestNDPRoutes(t *testing.T) {
	server, _ := pair(t, 0)
	n := newNDPRoutes(slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	defer close(done)
	go n.run(server.s, done)
	prefix := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(netip.MustParseAddr("fd84::").As16()), PrefixLen: 64}.Subnet()
	router := tcpip.AddrFrom16(netip.MustParseAddr("fe80::1").As16())
	onLink := tcpip.Route{Destination: prefix, NIC: nicID}
	viaRouter := tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: router, NIC: nicID}
	has := func(r tcpip.Route) bool {
		for _, o := range server.s.GetRouteTable() {
			if o.Equal(r) {
				return true
			}
		}
		return false
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s; routes: %v", what, server.s.GetRouteTable())
			}
		}
	}
	n.OnOnLinkPrefixDiscovered(nicID, prefix)
	n.OnOffLinkRouteUpdated(nicID, header.IPv6EmptySubnet, router, header.MediumRoutePreference)
	n.OnOffLinkRouteUpdated(nicID, header.IPv6EmptySubnet, router, header.HighRoutePreference) // an update: still one route
	wait("the prefix and the router were not added", func() bool { return has(onLink) && has(viaRouter) })
	count := 0
	for _, r := range server.s.GetRouteTable() {
		if r.Equal(viaRouter) {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d routes through the router after an update, want 1", count)
	}
	n.OnOnLinkPrefixInvalidated(nicID, prefix)
	n.OnOffLinkRouteInvalidated(nicID, header.IPv6EmptySubnet, router)
	wait("the expired prefix and router were not removed", func() bool { return !has(onLink) && !has(viaRouter) })
	// The static IPv4 route stays.
	if !has(tcpip.Route{Destination: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(serverAddr.As4()), PrefixLen: 24}.Subnet(), NIC: nicID}) {
		t.Errorf("the static route went too: %v", server.s.GetRouteTable())
	}
}

// TestNDPRoutesKeepStatic advertises the prefix of the stack's static
// IPv6 address and lets the advertisement expire: the static route
// stays.
func TestNDPRoutesKeepStatic(t *testing.T) {
	server, _ := pair6(t)
	n := newNDPRoutes(slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	defer close(done)
	go n.run(server.s, done)
	prefix := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(netip.MustParseAddr("fd00::").As16()), PrefixLen: 64}.Subnet()
	static := tcpip.Route{Destination: prefix, NIC: nicID}
	count := func() int {
		c := 0
		for _, r := range server.s.GetRouteTable() {
			if r.Equal(static) {
				c++
			}
		}
		return c
	}
	if count() != 1 {
		t.Fatalf("the static address's route is not there: %v", server.s.GetRouteTable())
	}
	n.OnOnLinkPrefixDiscovered(nicID, prefix)
	n.OnOnLinkPrefixInvalidated(nicID, prefix)
	// Both changes are applied once a later one is.
	marker := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(netip.MustParseAddr("fd86::").As16()), PrefixLen: 64}.Subnet()
	n.OnOnLinkPrefixDiscovered(nicID, marker)
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		if hasRoute(server.s, tcpip.Route{Destination: marker, NIC: nicID}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the later prefix was not added")
		}
	}
	if c := count(); c != 1 {
		t.Errorf("%d routes for the static address's prefix after its advertisement expired, want 1: %v", c, server.s.GetRouteTable())
	}
}

// TestRouterAdvertisement delivers a router advertisement to the stack
// from its link: it makes its SLAAC address in the prefix and routes
// the prefix and, through the router, everything else.
func TestRouterAdvertisement(t *testing.T) {
	server, _ := pair(t, 0)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(routerAdvert())})
	server.link.ep.(stack.NetworkDispatcher).DeliverNetworkPacket(0, pkt)
	pkt.DecRef()
	mac := server.s.NICInfo()[nicID].LinkAddress
	eui := header.LinkLocalAddr(mac).As16()
	slaac := netip.MustParseAddr("fd85::").As16()
	copy(slaac[8:], eui[8:])
	prefix := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(netip.MustParseAddr("fd85::").As16()), PrefixLen: 64}.Subnet()
	want := []tcpip.Route{
		{Destination: prefix, NIC: nicID},
		{Destination: header.IPv6EmptySubnet, Gateway: tcpip.AddrFrom16(netip.MustParseAddr("fe80::1").As16()), NIC: nicID},
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		found := 0
		for _, r := range server.s.GetRouteTable() {
			for _, w := range want {
				if r.Equal(w) {
					found++
				}
			}
		}
		if found == len(want) && server.s.CheckLocalAddress(nicID, ipv6.ProtocolNumber, tcpip.AddrFrom16(slaac)) != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a router advertisement: routes %v, the SLAAC address %s assigned: %v", server.s.GetRouteTable(),
				netip.AddrFrom16(slaac), server.s.CheckLocalAddress(nicID, ipv6.ProtocolNumber, tcpip.AddrFrom16(slaac)) != 0)
		}
		time.Sleep(time.Millisecond)
	}
}
