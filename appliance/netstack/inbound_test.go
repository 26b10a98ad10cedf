package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// tcpFrame is an Ethernet frame with a TCP segment from the client to
// dst, its checksums right.
func tcpFrame(mac tcpip.LinkAddress, dst netip.AddrPort, flags header.TCPFlags, payload []byte) []byte {
	const hdrs = header.EthernetMinimumSize + header.IPv4MinimumSize + header.TCPMinimumSize
	b := make([]byte, hdrs+len(payload))
	copy(b[hdrs:], payload)
	copy(b[0:6], mac)
	copy(b[6:12], "\x02peer!")
	binary.BigEndian.PutUint16(b[12:14], uint16(header.IPv4ProtocolNumber))
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(b) - header.EthernetMinimumSize), TTL: 64,
		Protocol: uint8(header.TCPProtocolNumber), SrcAddr: tcpip.AddrFrom4(clientAddr.As4()), DstAddr: tcpip.AddrFrom4(dst.Addr().As4())})
	ip.SetChecksum(^ip.CalculateChecksum())
	tcp := header.TCP(ip[header.IPv4MinimumSize:])
	tcp.Encode(&header.TCPFields{SrcPort: 40000, DstPort: dst.Port(), SeqNum: 1000, AckNum: 2000,
		DataOffset: header.TCPMinimumSize, Flags: flags, WindowSize: 65535})
	length := uint16(len(tcp))
	sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), length)
	tcp.SetChecksum(^checksum.Checksum(tcp, sum))
	return b
}

// routerAdvert is a router advertisement from fe80::1 to all nodes, for
// fd85::/64 (on-link, autonomous) with the router's MAC, its checksum
// right.
func routerAdvert() []byte {
	const icmpLen = header.ICMPv6HeaderSize + header.NDPRAMinimumSize + 8 + 32
	b := make([]byte, header.EthernetMinimumSize+header.IPv6MinimumSize+icmpLen)
	copy(b[0:6], "\x33\x33\x00\x00\x00\x01")
	copy(b[6:12], "\x02peer!")
	binary.BigEndian.PutUint16(b[12:14], uint16(header.IPv6ProtocolNumber))
	src := tcpip.AddrFrom16(netip.MustParseAddr("fe80::1").As16())
	all := tcpip.AddrFrom16(netip.MustParseAddr("ff02::1").As16())
	ip := header.IPv6(b[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv6Fields{PayloadLength: icmpLen, TransportProtocol: header.ICMPv6ProtocolNumber, HopLimit: 255, SrcAddr: src, DstAddr: all})
	icmp := header.ICMPv6(ip[header.IPv6MinimumSize:])
	icmp.SetType(header.ICMPv6RouterAdvert)
	ra := icmp[header.ICMPv6HeaderSize:]
	ra[0] = 64                                // hop limit
	binary.BigEndian.PutUint16(ra[2:4], 1800) // router lifetime
	opts := ra[header.NDPRAMinimumSize:]
	opts[0], opts[1] = 1, 1 // source link-layer address
	copy(opts[2:8], "\x02peer!")
	pi := opts[8:]
	pi[0], pi[1], pi[2], pi[3] = 3, 4, 64, 0xc0 // prefix information: /64, on-link, autonomous
	binary.BigEndian.PutUint32(pi[4:8], 3600)
	binary.BigEndian.PutUint32(pi[8:12], 3600)
	prefix := netip.MustParseAddr("fd85::").As16()
	copy(pi[16:32], prefix[:])
	icmp.SetChecksum(header.ICMPv6Checksum(header.ICMPv6ChecksumParams{Header: icmp, Src: src, Dst: all}))
	return b
}

// FuzzInbound feeds frames to a whole stack from its link, as the
// packet socket does: the fast path, the ACK delay and the stack behind
// them take any frame without failing, and the ACK delay's memory stays
// bounded.
func FuzzInbound(f *testing.F) {
	server, _ := pair(f, 0)
	mac := server.s.NICInfo()[nicID].LinkAddress
	dnsAt := netip.AddrPortFrom(serverAddr, 53)
	pc, err := server.ListenUDP(dnsAt)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { pc.Close() })
	testListener(f, server, 443)
	q, _ := new(dns.Msg).SetQuestion("www.stack.example.", dns.TypeA).Pack()
	f.Add(frame([]byte(mac), dnsAt, q))
	https := netip.AddrPortFrom(serverAddr, 443)
	f.Add(tcpFrame(mac, https, header.TCPFlagSyn, nil))
	f.Add(tcpFrame(mac, https, header.TCPFlagRst|header.TCPFlagAck, nil))
	f.Add(tcpFrame(mac, https, header.TCPFlagAck|header.TCPFlagPsh, []byte("GET / HTTP/1.1\r\n\r\n")))
	f.Add(tcpFrame(mac, netip.AddrPortFrom(serverAddr, 53), header.TCPFlagSyn, nil))
	f.Add(tcpFrame(mac, https, header.TCPFlagSyn, nil)[:40])
	withOptions := tcpFrame(mac, https, header.TCPFlagRst, nil)
	withOptions[header.EthernetMinimumSize] = 0x46 // a header length the frame does not have
	f.Add(withOptions)
	// IPv6: a query through the fast path on [::], and a router
	// advertisement, whose prefix and router the stack then routes.
	pc6, err := server.ListenUDP(netip.MustParseAddrPort("[::]:53"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { pc6.Close() })
	ll := netip.AddrFrom16(header.LinkLocalAddr(mac).As16())
	f.Add(frame6([]byte(mac), netip.AddrPortFrom(ll, 53), q))
	f.Add(routerAdvert())
	f.Fuzz(func(t *testing.T, b []byte) {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
		server.link.ep.(stack.NetworkDispatcher).DeliverNetworkPacket(0, pkt)
		pkt.DecRef()
		server.acks.mu.Lock()
		n := len(server.acks.flows)
		server.acks.mu.Unlock()
		if n > maxFlows {
			t.Fatalf("the ACK delay holds %d connections, more than its bound %d", n, maxFlows)
		}
	})
}
