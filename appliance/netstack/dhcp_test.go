package netstack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// fakeDHCP is a DHCP server on a stack, for the lease's life cycle:
// short leases, renewals it may ignore, and the address it offers.
type fakeDHCP struct {
	offer  atomic.Pointer[netip.Addr]
	mute   atomic.Bool // ignore renewals and rebinds
	nak    atomic.Bool // refuse renewals and rebinds
	hold   atomic.Bool // record DISCOVERs but offer nothing
	router atomic.Bool // give the server's own address as the router
	// declined counts DECLINEs.
	declined atomic.Int32
	mu       sync.Mutex
	renewed  int
	asked    []netip.Addr // the requested address of each DISCOVER
}

const fakeLease = 3 * time.Second

func startFakeDHCP(t *testing.T, st *Stack, addr netip.Addr) *fakeDHCP {
	t.Helper()
	var wq waiter.Queue
	ep, terr := st.s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	ep.SocketOptions().SetBroadcast(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: dhcpServerPort}); terr != nil {
		t.Fatal(terr)
	}
	c := gonet.NewUDPConn(&wq, ep)
	f := &fakeDHCP{}
	f.offer.Store(&addr)
	go f.serve(c, addr)
	t.Cleanup(func() { c.Close() })
	return f
}

func (f *fakeDHCP) serve(c *gonet.UDPConn, self netip.Addr) {
	server := netip.MustParseAddr("10.0.0.1")
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := dhcpv4.FromBytes(buf[:n])
		if err != nil || m.OpCode != dhcpv4.OpcodeBootRequest {
			continue
		}
		if m.MessageType() == dhcpv4.MessageTypeDecline {
			f.declined.Add(1)
			continue
		}
		renewal := m.MessageType() == dhcpv4.MessageTypeRequest && !m.ClientIPAddr.IsUnspecified()
		var typ dhcpv4.MessageType
		switch {
		case m.MessageType() == dhcpv4.MessageTypeDiscover:
			typ = dhcpv4.MessageTypeOffer
			req, _ := netip.AddrFromSlice(m.RequestedIPAddress().To4())
			f.mu.Lock()
			f.asked = append(f.asked, req)
			f.mu.Unlock()
			if f.hold.Load() {
				continue
			}
		case renewal && f.mute.Load():
			continue
		case renewal && f.nak.Load():
			typ = dhcpv4.MessageTypeNak
		case m.MessageType() == dhcpv4.MessageTypeRequest:
			typ = dhcpv4.MessageTypeAck
			if renewal {
				f.mu.Lock()
				f.renewed++
				f.mu.Unlock()
			}
		default:
			continue
		}
		yours := *f.offer.Load()
		if renewal {
			yours, _ = netip.AddrFromSlice(m.ClientIPAddr.To4())
		}
		opts := []dhcpv4.Modifier{
			dhcpv4.WithMessageType(typ),
			dhcpv4.WithYourIP(net.IP(yours.AsSlice())),
			dhcpv4.WithServerIP(net.IP(server.AsSlice())),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IP(server.AsSlice()))),
			dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(fakeLease)),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(2 * time.Second)),
		}
		if f.router.Load() {
			opts = append(opts, dhcpv4.WithOption(dhcpv4.OptRouter(net.IP(server.AsSlice()))))
		}
		reply, err := dhcpv4.NewReplyFromRequest(m, opts...)
		if err != nil {
			continue
		}
		// As a server on the client's link does (RFC 2131 §4.1): a
		// renewal's ACK to the leased address, the rest (NAKs
		// included) broadcast.
		to := &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpClientPort}
		if renewal && typ == dhcpv4.MessageTypeAck {
			to.IP = m.ClientIPAddr
		}
		c.WriteTo(reply.ToBytes(), to)
	}
}

func (f *fakeDHCP) discovers() []netip.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]netip.Addr(nil), f.asked...)
}

func (f *fakeDHCP) renewals() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.renewed
}

// dhcpPair is a stack asking DHCP and, across a pipe, a fake server.
func dhcpPair(t *testing.T) (*Stack, *fakeDHCP) {
	t.Helper()
	a, b := Pipe(0)
	client, err := New(a, Config{DHCP: true})
	if err != nil {
		t.Fatal(err)
	}
	server, err := New(b, Config{IPv4: netip.MustParsePrefix("10.0.0.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, startFakeDHCP(t, server, netip.MustParseAddr("10.0.0.50"))
}

func hasAddr(st *Stack, a netip.Addr) bool {
	for _, pa := range st.s.NICInfo()[nicID].ProtocolAddresses {
		if pa.AddressWithPrefix.Address == tcpip.AddrFromSlice(a.AsSlice()) {
			return true
		}
	}
	return false
}

// leased is a dhcpPair whose client has its first lease.
func leased(t *testing.T) (*Stack, *fakeDHCP, context.Context, Lease) {
	t.Helper()
	st, srv := dhcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	lease, err := st.AcquireDHCP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st, srv, ctx, lease
}

func TestLeaseRenewedAtT1(t *testing.T) {
	st, srv, ctx, lease := leased(t)
	kctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- st.KeepLease(kctx, lease) }()
	// Past the first lease's end: only renewals kept the address.
	time.Sleep(fakeLease + time.Second)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("KeepLease: %v", err)
	}
	if n := srv.renewals(); n < 2 {
		t.Fatalf("%d renewals in %v of %v leases renewed at T1", n, fakeLease+time.Second, fakeLease)
	}
	if d := srv.discovers(); len(d) != 1 {
		t.Fatalf("%d DISCOVERs: the renewals' ACKs went unheard, and the lease was acquired again", len(d))
	}
	if !hasAddr(st, lease.Addr.Addr()) {
		t.Fatal("the renewed address is gone from the NIC")
	}
}

// TestLeaseRefused: a NAK to a renewal ends the lease at once (RFC 2131
// §3.2), not at its expiry: the address is withdrawn and a DISCOVER asks
// for it again; another address ends KeepLease with ErrAddressMoved.
func TestLeaseRefused(t *testing.T) {
	st, srv, ctx, lease := leased(t)
	old := lease.Addr.Addr()
	next := netip.MustParseAddr("10.0.0.77")
	srv.offer.Store(&next)
	srv.nak.Store(true)
	start := time.Now()
	err := st.KeepLease(ctx, lease)
	if !errors.Is(err, ErrAddressMoved) {
		t.Fatalf("KeepLease returned %v, want ErrAddressMoved", err)
	}
	// The renewal is due at T1 (1 s); the lease would end at 3 s.
	if took := time.Since(start); took > fakeLease-500*time.Millisecond {
		t.Errorf("KeepLease took %v to act on the NAK: it waited for the lease to expire", took)
	}
	if asked := srv.discovers(); len(asked) < 2 || asked[len(asked)-1] != old {
		t.Errorf("the DISCOVERs asked for %v; the last, after the NAK, should ask for %s", asked, old)
	}
	if hasAddr(st, old) || !hasAddr(st, next) {
		t.Errorf("after the NAK the NIC has %v, want %s and not %s", st.s.NICInfo()[nicID].ProtocolAddresses, next, old)
	}
}

func TestLeaseExpiry(t *testing.T) {
	for _, moved := range []bool{false, true} {
		name := map[bool]string{false: "same address back", true: "another address"}[moved]
		t.Run(name, func(t *testing.T) {
			st, srv, ctx, lease := leased(t)
			old := lease.Addr.Addr()
			pc, err := st.ListenUDP(netip.AddrPortFrom(old, 53))
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			fc := pc.(*fastConn)
			srv.mute.Store(true) // renewals and rebinds go unanswered
			next := netip.MustParseAddr("10.0.0.50")
			if moved {
				next = netip.MustParseAddr("10.0.0.77")
			}
			srv.offer.Store(&next)
			kctx, stop := context.WithCancel(ctx)
			defer stop()
			done := make(chan error, 1)
			go func() { done <- st.KeepLease(kctx, lease) }()

			// While the lease lives the address stays; once it has
			// expired it is withdrawn, the fast path with it, and a
			// DISCOVER asks for it again.
			srv.hold.Store(true)
			time.Sleep(fakeLease - 500*time.Millisecond)
			if !hasAddr(st, old) || fc.off.Load() {
				t.Fatal("the address went before the lease expired")
			}
			waitFor(t, "a DISCOVER after expiry", func() bool { return len(srv.discovers()) >= 2 })
			if asked := srv.discovers(); asked[1] != old {
				t.Errorf("the DISCOVER after expiry asked for %v, want the old address %s", asked[1], old)
			}
			if hasAddr(st, old) || !fc.off.Load() {
				t.Fatal("the expired address is still in use while no new lease came")
			}
			srv.hold.Store(false)
			waitFor(t, "the new lease", func() bool { return hasAddr(st, next) })
			if !moved {
				if fc.off.Load() {
					t.Error("the fast path stayed off with the address back")
				}
				stop()
				if err := <-done; err != nil {
					t.Fatalf("KeepLease: %v", err)
				}
				return
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrAddressMoved) {
					t.Fatalf("KeepLease returned %v, want ErrAddressMoved", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("KeepLease went on with another address")
			}
			if hasAddr(st, old) || !fc.off.Load() {
				t.Error("the expired address is in use again")
			}
		})
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10 s", what)
		}
	}
}

// TestDHCPTakesAnAddressInUseAtLast has the server offer, again and
// again, an address its own stack has: the client declines it
// maxDeclines times, then takes it with an error logged, rather than
// never serving; so it does when the server is the router as well. A
// router that answers for the leased address and the next one answers
// for every address (proxy ARP, as some virtual networks do): the
// client takes the lease at once.
func TestDHCPTakesAnAddressInUseAtLast(t *testing.T) {
	for _, tc := range []struct {
		name     string
		router   bool
		has      []string // the server's addresses beside 10.0.0.1
		declines int32
		log      string
	}{
		{"in use", false, []string{"10.0.0.50"}, maxDeclines, "taking it anyway"},
		{"in use by the router", true, []string{"10.0.0.50"}, maxDeclines, "taking it anyway"},
		{"proxy ARP", true, []string{"10.0.0.50", "10.0.0.51"}, 0, "proxy ARP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := Pipe(0)
			var logs lockedBuffer
			client, err := New(a, Config{DHCP: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			client.declineWait = 10 * time.Millisecond
			server, err := New(b, Config{IPv4: netip.MustParsePrefix("10.0.0.1/24")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close(); server.Close() })
			offered := netip.MustParseAddr("10.0.0.50")
			for _, a := range tc.has {
				pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(netip.MustParseAddr(a).As4()), PrefixLen: 24}}
				if terr := server.s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); terr != nil {
					t.Fatal(terr)
				}
			}
			srv := startFakeDHCP(t, server, offered)
			srv.router.Store(tc.router)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			lease, err := client.AcquireDHCP(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if lease.Addr.Addr() != offered {
				t.Errorf("leased %s, want %s", lease.Addr, offered)
			}
			if got := srv.declined.Load(); got != tc.declines {
				t.Errorf("%d DECLINEs, want %d", got, tc.declines)
			}
			if !strings.Contains(string(logs.Bytes()), tc.log) {
				t.Errorf("no %q in the log:\n%s", tc.log, logs.Bytes())
			}
		})
	}
}
