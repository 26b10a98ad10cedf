package netstack

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// pair6 starts two stacks with IPv6 addresses, the server's fd00::2
// and, added after the start as SLAAC adds one, fd00::3.
func pair6(t *testing.T) (server, client *Stack) {
	t.Helper()
	a, b := Pipe(0)
	server, err := New(a, Config{IPv4: netip.PrefixFrom(serverAddr, 24), IPv6: netip.MustParsePrefix("fd00::2/64")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	client, err = New(b, Config{IPv4: netip.PrefixFrom(clientAddr, 24), IPv6: netip.MustParsePrefix("fd00::1/64")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	later := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFrom16(netip.MustParseAddr("fd00::3").As16()), PrefixLen: 64}}
	if terr := server.s.AddProtocolAddress(nicID, later, stack.AddressProperties{}); terr != nil {
		t.Fatal(terr)
	}
	return server, client
}

// ask sends msg from the client's socket to each of the server's IPv6
// addresses on port 53 and checks the reply: want(msg), from the
// address asked.
func ask(t *testing.T, cc net.PacketConn, msg []byte, want func([]byte) []byte) {
	t.Helper()
	buf := make([]byte, 8192)
	for _, to := range []string{"fd00::2", "fd00::3"} {
		dst := netip.AddrPortFrom(netip.MustParseAddr(to), 53)
		if _, err := cc.WriteTo(msg, net.UDPAddrFromAddrPort(dst)); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
		cc.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, from, err := cc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("reply from %s: %v", to, err)
		}
		if got := buf[:n]; string(got) != string(want(msg)) || from.String() != dst.String() {
			t.Errorf("asked %s, got %d bytes (want %d) from %s", dst, len(got), len(want(msg)), from)
		}
	}
}

// TestWildUDPRepliesFromTheAddressAsked opens a UDP socket on [::] and
// sends to each of the stack's IPv6 addresses, one added after the
// socket opened: each datagram arrives, and its reply comes from the
// address it was sent to.
func TestWildUDPRepliesFromTheAddressAsked(t *testing.T) {
	server, client := pair6(t)
	pc, err := listenWildUDP(server.s, 53)
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
	cc, err := listenWildUDP(client.s, 5353)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ask(t, cc, []byte("query"), func(q []byte) []byte { return append([]byte("re "), q...) })
	// No IPv4 on an IPv6 socket.
	if _, err := cc.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("10.0.0.2"), Port: 53}); err == nil {
		t.Error("an IPv6 socket sent to an IPv4 address")
	}
}

// TestFastPath6 serves [::]:53 through the fast path: datagrams to each
// IPv6 address are taken and answered from the address asked, and a
// reply larger than the MTU leaves through the stack, fragmented, from
// that address too.
func TestFastPath6(t *testing.T) {
	server, client := pair6(t)
	pc, err := server.ListenUDP(netip.MustParseAddrPort("[::]:53"))
	if err != nil {
		t.Fatal(err)
	}
	fc, ok := pc.(*fastConn)
	if !ok {
		t.Fatalf("ListenUDP on [::] gave %T, not the fast path", pc)
	}
	defer fc.Close()
	reply := func(q []byte) []byte {
		if string(q) == "big" {
			return bytes.Repeat([]byte("x"), 3000)
		}
		return append([]byte("re "), q...)
	}
	go fc.ServeBatches(func(q []byte, _ netip.AddrPort, out []byte) []byte { return append(out, reply(q)...) })
	cc, err := listenWildUDP(client.s, 5353)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ask(t, cc, []byte("query"), reply)
	if got := fc.taken.Load(); got != 2 {
		t.Errorf("the fast path took %d datagrams, want 2", got)
	}
	ask(t, cc, []byte("big"), reply)
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
