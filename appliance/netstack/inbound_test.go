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
