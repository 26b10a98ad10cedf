package netstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"islet.dev/islet/zones"
)

// fastServer serves a zone with a small and a large answer on the
// server stack's UDP port 53 and returns the socket.
func fastServer(t *testing.T, server *Stack) *fastConn {
	t.Helper()
	dir := t.TempDir()
	var zone strings.Builder
	zone.WriteString("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 10.0.0.2\nwww A 192.0.2.80\n")
	for i := 0; i < 12; i++ { // about 3 KB: more than one 1500-byte frame
		fmt.Fprintf(&zone, "big TXT \"%02d%s\"\n", i, strings.Repeat("x", 220))
	}
	os.WriteFile(filepath.Join(dir, "stack.example"), []byte(zone.String()), 0o644)
	set, _, err := zones.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := zones.New(zones.Config{MaxUDPSize: 4096}, set)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := server.ListenUDP(netip.AddrPortFrom(serverAddr, 53))
	if err != nil {
		t.Fatal(err)
	}
	fc, ok := pc.(*fastConn)
	if !ok {
		t.Fatalf("ListenUDP on an IPv4 address gave %T, not the fast path", pc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServePacket(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServePacket: %v", err)
		}
		pc.Close()
	})
	return fc
}

func TestFastPath(t *testing.T) {
	server, client := pair(t, 0)
	fc := fastServer(t, server)
	ap := netip.AddrPortFrom(serverAddr, 53)
	exchange := func(t *testing.T, q *dns.Msg) *dns.Msg {
		t.Helper()
		conn, err := client.DialUDP(ap)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := &dns.Client{Timeout: 2 * time.Second, UDPSize: 4096}
		r, _, err := c.ExchangeWithConn(q, &dns.Conn{Conn: conn, UDPSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("small answer, fast both ways", func(t *testing.T) {
		before := fc.taken.Load()
		// The client stack checks the reply's IP and UDP checksums (the
		// pipe offloads nothing): a wrong one would lose the reply.
		r := exchange(t, new(dns.Msg).SetQuestion("www.stack.example.", dns.TypeA))
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" || !r.Authoritative {
			t.Fatalf("answer: %v", r)
		}
		if got := fc.taken.Load() - before; got != 1 {
			t.Fatalf("fast path took %d datagrams, want 1", got)
		}
	})

	t.Run("answer larger than the MTU leaves fragmented", func(t *testing.T) {
		q := new(dns.Msg).SetQuestion("big.stack.example.", dns.TypeTXT)
		q.SetEdns0(4096, false)
		r := exchange(t, q)
		if r.Truncated || len(r.Answer) != 12 {
			t.Fatalf("want 12 TXT records untruncated, got TC=%v and %d", r.Truncated, len(r.Answer))
		}
		if n := r.Len(); n <= 1500 {
			t.Fatalf("the answer is %d bytes: the test needs more than one frame", n)
		}
	})

	t.Run("fragmented query goes through the stack", func(t *testing.T) {
		before := fc.taken.Load()
		q := new(dns.Msg).SetQuestion("www.stack.example.", dns.TypeA)
		q.SetEdns0(4096, false)
		opt := q.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 2000)})
		r := exchange(t, q)
		if len(r.Answer) != 1 {
			t.Fatalf("answer: %v", r)
		}
		if got := fc.taken.Load() - before; got != 0 {
			t.Fatalf("fast path took %d datagrams of a fragmented query", got)
		}
	})
}

func TestFastConnDeadlineAndClose(t *testing.T) {
	server, _ := pair(t, 0)
	pc, err := server.ListenUDP(netip.AddrPortFrom(serverAddr, 53))
	if err != nil {
		t.Fatal(err)
	}
	fc := pc.(*fastConn)
	answer := func([]byte, netip.AddrPort, []byte) []byte { return nil }
	fc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if err := fc.ServeBatches(answer); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ServeBatches after the deadline: %v", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Fatalf("the deadline passed after %v", d)
	}
	// A cleared deadline waits again; Close ends it.
	fc.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { done <- fc.ServeBatches(answer) }()
	select {
	case err := <-done:
		t.Fatalf("ServeBatches returned with no deadline: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	fc.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ServeBatches after Close: %v", err)
	}
	if conns := server.fast.conns.Load(); conns != nil && len(*conns) != 0 {
		t.Fatalf("Close left %d conns registered", len(*conns))
	}
}

// frame makes an Ethernet frame to mac carrying an IPv4 UDP datagram
// from 10.0.0.1:4242 to dst: a reply frame built the other way round.
func frame(mac []byte, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, frameHeaders+len(payload))
	copy(b[frameHeaders:], payload)
	buildFrame(b, tcpip.LinkAddress("\x02peer!"), [6]byte(mac), netip.AddrPortFrom(clientAddr, 4242), dst)
	return b
}

// offer hands frame to a fast path classifier (take or take6) with c
// the only conn, as the link delivers it: whether it was taken, and
// whether the frame had an Ethernet header at all.
func offer(take func([]*fastConn, *stack.PacketBuffer) bool, c *fastConn, frame []byte) (taken, ok bool) {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	defer pkt.DecRef()
	if _, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize); !ok {
		return false, false
	}
	return take([]*fastConn{c}, pkt), true
}

// classifier is a fast path on its own, with its MAC, the address it
// serves and a query.
func classifier() (fast *fastUDP, mac []byte, local netip.AddrPort, q []byte) {
	a, _ := Pipe(0)
	fast = newFastUDP(a.ep)
	q, _ = new(dns.Msg).SetQuestion("www.stack.example.", dns.TypeA).Pack()
	return fast, []byte(fast.LinkAddress()), netip.AddrPortFrom(serverAddr, 53), q
}

func TestFastPathTakes(t *testing.T) {
	fast, mac, local, q := classifier()
	good := func() []byte { return frame(mac, local, q) }
	edit := func(f func(b []byte)) []byte { b := good(); f(b); return b }
	ipHeader := func(b []byte) header.IPv4 { return header.IPv4(b[header.EthernetMinimumSize:]) }
	resum := func(b []byte) {
		ip := ipHeader(b)
		ip.SetChecksum(0)
		ip.SetChecksum(^ip.CalculateChecksum())
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		take  bool
	}{
		{"query to the address and port", good(), true},
		{"padded to the minimum frame", append(good(), make([]byte, 20)...), true},
		{"another port", frame(mac, netip.AddrPortFrom(serverAddr, 54), q), false},
		{"another address", frame(mac, netip.AddrPortFrom(clientAddr, 53), q), false},
		{"another MAC", edit(func(b []byte) { b[5] ^= 1 }), false},
		{"bad IP checksum", edit(func(b []byte) { b[header.EthernetMinimumSize+10] ^= 1 }), false},
		{"first fragment", edit(func(b []byte) { ipHeader(b).SetFlagsFragmentOffset(header.IPv4FlagMoreFragments, 0); resum(b) }), false},
		{"later fragment", edit(func(b []byte) { ipHeader(b).SetFlagsFragmentOffset(0, 1480); resum(b) }), false},
		{"IP options", edit(func(b []byte) { b[header.EthernetMinimumSize] = 0x46; resum(b) }), false},
		{"TCP", edit(func(b []byte) { b[header.EthernetMinimumSize+9] = 6; resum(b) }), false},
		{"total length past the frame", edit(func(b []byte) { ipHeader(b).SetTotalLength(uint16(len(b))); resum(b) }), false},
		{"UDP length off", edit(func(b []byte) { header.UDP(b[header.EthernetMinimumSize+header.IPv4MinimumSize:]).SetLength(9) }), false},
		{"truncated", good()[:frameHeaders-1], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fastConn{f: fast, addr: local.Addr().As4(), port: local.Port(), local: local, wake: make(chan struct{}, 1)}
			if got, _ := offer(fast.take, c, tc.frame); got != tc.take {
				t.Fatalf("take = %v, want %v", got, tc.take)
			}
			if tc.take {
				if d := c.queue[0]; string(d.data) != string(q) || d.from != netip.AddrPortFrom(clientAddr, 4242) || string(d.mac[:]) != "\x02peer!" {
					t.Fatalf("queued %x from %v mac %x", d.data, d.from, d.mac)
				}
			}
		})
	}
}

// FuzzFastPath feeds arbitrary frames to the fast path's classifier: it
// must never panic, and what it takes must be exactly the UDP payload
// of a well-formed datagram for the registered address and port.
func FuzzFastPath(f *testing.F) {
	fast, mac, local, q := classifier()
	f.Add(frame(mac, local, q))
	f.Add(frame(mac, netip.AddrPortFrom(serverAddr, 54), q))
	f.Add(frame(mac, local, nil))
	f.Add(frame(mac, local, q)[:30])
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &fastConn{f: fast, addr: local.Addr().As4(), port: local.Port(), local: local, wake: make(chan struct{}, 1)}
		taken, ok := offer(fast.take, c, b)
		if !ok {
			return
		}
		if taken != (c.taken.Load() == 1) {
			t.Fatalf("take said %v but queued %d", taken, c.taken.Load())
		}
		if !taken {
			return
		}
		ip := header.IPv4(b[header.EthernetMinimumSize:])
		want := b[frameHeaders : header.EthernetMinimumSize+int(ip.TotalLength())]
		if got := c.queue[0].data; string(got) != string(want) {
			t.Fatalf("queued %x, want %x", got, want)
		}
	})
}

var (
	server6 = netip.MustParseAddr("fd00::2")
	client6 = netip.MustParseAddr("fd00::1")
)

// frame6 makes an Ethernet frame to mac carrying an IPv6 UDP datagram
// from [fd00::1]:4242 to dst.
func frame6(mac []byte, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, frameHeaders6+len(payload))
	copy(b[frameHeaders6:], payload)
	buildFrame6(b, tcpip.LinkAddress("\x02peer!"), [6]byte(mac), netip.AddrPortFrom(client6, 4242), dst)
	return b
}

// classifier6 is a fast path on its own whose stack has one IPv6
// address, fd00::2, with a conn for port 53 on all of them.
func classifier6() (fast *fastUDP, mac []byte, c *fastConn, q []byte) {
	fast, mac, _, q = classifier()
	fast.local6 = func(a tcpip.Address) bool { return a == tcpip.AddrFrom16(server6.As16()) }
	c = &fastConn{f: fast, any6: true, port: 53, local: netip.MustParseAddrPort("[::]:53"), wake: make(chan struct{}, 1)}
	return fast, mac, c, q
}

func TestFastPathTakes6(t *testing.T) {
	fast, mac, _, q := classifier6()
	local := netip.AddrPortFrom(server6, 53)
	good := func() []byte { return frame6(mac, local, q) }
	edit := func(f func(b []byte)) []byte { b := good(); f(b); return b }
	ip := func(b []byte) header.IPv6 { return header.IPv6(b[header.EthernetMinimumSize:]) }
	udp := func(b []byte) header.UDP { return header.UDP(b[header.EthernetMinimumSize+header.IPv6MinimumSize:]) }
	for _, tc := range []struct {
		name  string
		frame []byte
		take  bool
	}{
		{"query to the address and port", good(), true},
		{"padded", append(good(), make([]byte, 20)...), true},
		{"another port", frame6(mac, netip.AddrPortFrom(server6, 54), q), false},
		{"an address not the stack's", frame6(mac, netip.AddrPortFrom(client6, 53), q), false},
		{"multicast", frame6(mac, netip.MustParseAddrPort("[ff02::fb]:53"), q), false},
		{"another MAC", edit(func(b []byte) { b[5] ^= 1 }), false},
		{"an extension header", edit(func(b []byte) { ip(b).SetNextHeader(uint8(header.IPv6HopByHopOptionsExtHdrIdentifier)) }), false},
		{"a fragment", edit(func(b []byte) { ip(b).SetNextHeader(uint8(header.IPv6FragmentExtHdrIdentifier)) }), false},
		{"not version 6", edit(func(b []byte) { b[header.EthernetMinimumSize] = 0x45 }), false},
		{"payload length past the frame", edit(func(b []byte) { ip(b).SetPayloadLength(uint16(len(b))) }), false},
		{"UDP length off", edit(func(b []byte) { udp(b).SetLength(9) }), false},
		{"no UDP checksum", edit(func(b []byte) { udp(b).SetChecksum(0) }), false},
		{"from the unspecified address", edit(func(b []byte) { copy(b[header.EthernetMinimumSize+8:], make([]byte, 16)) }), false},
		{"truncated", good()[:frameHeaders6-1], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, c, _ := classifier6()
			c.f = fast
			if got, _ := offer(fast.take6, c, tc.frame); got != tc.take {
				t.Fatalf("take6 = %v, want %v", got, tc.take)
			}
			if tc.take {
				if d := c.queue[0]; string(d.data) != string(q) || d.from != netip.AddrPortFrom(client6, 4242) || d.to != server6 || string(d.mac[:]) != "\x02peer!" {
					t.Fatalf("queued %x from %v to %v mac %x", d.data, d.from, d.to, d.mac)
				}
			}
		})
	}
}

// FuzzFastPath6 feeds arbitrary frames to the IPv6 classifier: it must
// never panic, and what it takes must be exactly the UDP payload of a
// well-formed datagram to port 53 of the stack's address.
func FuzzFastPath6(f *testing.F) {
	fast, mac, _, q := classifier6()
	local := netip.AddrPortFrom(server6, 53)
	f.Add(frame6(mac, local, q))
	f.Add(frame6(mac, netip.AddrPortFrom(server6, 54), q))
	f.Add(frame6(mac, local, nil))
	f.Add(frame6(mac, local, q)[:50])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, c, _ := classifier6()
		c.f = fast
		taken, ok := offer(fast.take6, c, b)
		if !ok {
			return
		}
		if taken != (c.taken.Load() == 1) {
			t.Fatalf("take6 said %v but queued %d", taken, c.taken.Load())
		}
		if !taken {
			return
		}
		ip := header.IPv6(b[header.EthernetMinimumSize:])
		want := b[frameHeaders6 : header.EthernetMinimumSize+header.IPv6MinimumSize+int(ip.PayloadLength())]
		if got := c.queue[0].data; string(got) != string(want) {
			t.Fatalf("queued %x, want %x", got, want)
		}
		if c.queue[0].to != server6 {
			t.Fatalf("queued as sent to %v", c.queue[0].to)
		}
	})
}
