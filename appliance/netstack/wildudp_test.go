package netstack

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// TestWildUDPRepliesFromTheAddressAsked opens a UDP socket on [::] and
// sends to each of the stack's IPv6 addresses, one added after the
// socket opened (as SLAAC adds them): each datagram arrives, and its
// reply comes from the address it was sent to.
func TestWildUDPRepliesFromTheAddressAsked(t *testing.T) {
	a, b := Pipe(0)
	server, err := New(a, Config{IPv4: netip.PrefixFrom(serverAddr, 24), IPv6: netip.MustParsePrefix("fd00::2/64")})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client, err := New(b, Config{IPv4: netip.PrefixFrom(clientAddr, 24), IPv6: netip.MustParsePrefix("fd00::1/64")})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	pc, err := server.ListenUDP(netip.MustParseAddrPort("[::]:53"))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("re "), buf[:n]...), from)
		}
	}()
	later := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFrom16(netip.MustParseAddr("fd00::3").As16()), PrefixLen: 64}}
	if terr := server.s.AddProtocolAddress(nicID, later, stack.AddressProperties{}); terr != nil {
		t.Fatal(terr)
	}
	cc, err := client.ListenUDP(netip.MustParseAddrPort("[::]:5353"))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	buf := make([]byte, 512)
	for _, to := range []string{"fd00::2", "fd00::3"} {
		dst := netip.AddrPortFrom(netip.MustParseAddr(to), 53)
		if _, err := cc.WriteTo([]byte(to), net.UDPAddrFromAddrPort(dst)); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
		cc.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, from, err := cc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("reply from %s: %v", to, err)
		}
		if got := string(buf[:n]); got != "re "+to || from.String() != dst.String() {
			t.Errorf("asked %s, got %q from %s", dst, got, from)
		}
	}
	// No IPv4 on an IPv6 socket.
	if _, err := cc.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("10.0.0.2"), Port: 53}); err == nil {
		t.Error("an IPv6 socket sent to an IPv4 address")
	}
}

// TestWildUDPReadDeadline ends a waiting read at its deadline, and
// Close ends one too.
func TestWildUDPReadDeadline(t *testing.T) {
	server, _ := pair(t, 0)
	pc, err := server.ListenUDP(netip.MustParseAddrPort("[::]:53"))
	if err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := pc.ReadFrom(make([]byte, 10)); err == nil || !err.(net.Error).Timeout() {
		t.Fatalf("read past its deadline: %v", err)
	}
	pc.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	pc.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a read after Close returned no error")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end a waiting read")
	}
}
