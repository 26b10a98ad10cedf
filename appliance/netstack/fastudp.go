package netstack

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// fastUDP sits between the link and the stack and takes plain UDP
// datagrams addressed to a registered port and address (the DNS
// server's: an IPv4 address, or any of the stack's IPv6 addresses)
// before the stack sees them. Their replies are written back to the
// link as whole frames, in batches. That skips, per query, the stack's
// IP and UDP layers, the endpoint's queue, a route lookup per reply and
// the queue in front of the link (the profile of the plain path: a
// route lookup and one write per reply cost the most). Anything else —
// fragments, IP options or IPv6 extension headers, other ports, other
// addresses — goes to the stack as before, and so does every datagram
// when nothing is registered.
type fastUDP struct {
	nested.Endpoint
	conns atomic.Pointer[[]*fastConn]
	mu    sync.Mutex // serialises register and unregister
	// local6 tells whether an IPv6 address is one of the stack's, which
	// SLAAC adds and retires; nil takes no IPv6.
	local6 func(tcpip.Address) bool
	// taken and sent count the datagrams the fast path took from the
	// link and the frames it wrote back, beside the stack's counters.
	taken, sent atomic.Uint64
}

func newFastUDP(lower stack.LinkEndpoint) *fastUDP {
	f := &fastUDP{}
	f.Endpoint.Init(lower, f)
	return f
}

func (f *fastUDP) register(c *fastConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next []*fastConn
	if cur := f.conns.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, c)
	f.conns.Store(&next)
}

func (f *fastUDP) unregister(c *fastConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.conns.Load()
	if cur == nil {
		return
	}
	var next []*fastConn
	for _, o := range *cur {
		if o != c {
			next = append(next, o)
		}
	}
	f.conns.Store(&next)
}

// setActive turns the fast path of addr's conns on or off (off while a
// DHCP lease's address is withdrawn: the stack then drops what comes).
func (f *fastUDP) setActive(addr netip.Addr, on bool) {
	if conns := f.conns.Load(); conns != nil {
		for _, c := range *conns {
			if c.local.Addr() == addr {
				c.off.Store(!on)
			}
		}
	}
}

// DeliverNetworkPacket takes the datagrams of registered ports and hands
// everything else to the stack.
func (f *fastUDP) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if conns := f.conns.Load(); conns != nil && len(*conns) > 0 {
		switch {
		case proto == header.IPv4ProtocolNumber && f.take(*conns, pkt),
			proto == header.IPv6ProtocolNumber && f.take6(*conns, pkt):
			f.taken.Add(1)
			return
		}
	}
	f.Endpoint.DeliverNetworkPacket(proto, pkt)
}

// take queues pkt on the conn it is for, if it is a datagram the fast
// path answers: our MAC, IPv4 without options or fragmentation, a valid
// header checksum, UDP with a consistent length. (UDP checksums are
// left unchecked, as the stack leaves them with receive offload: the
// kernel has checked or will not.)
func (f *fastUDP) take(conns []*fastConn, pkt *stack.PacketBuffer) bool {
	size := pkt.Data().Size()
	if size < header.IPv4MinimumSize+header.UDPMinimumSize {
		return false
	}
	ip, ok := pkt.Data().PullUp(header.IPv4MinimumSize + header.UDPMinimumSize)
	if !ok {
		return false
	}
	// The cheap tests first: every TCP frame comes this way.
	v4 := header.IPv4(ip)
	if ip[0] != 0x45 || v4.Protocol() != uint8(header.UDPProtocolNumber) || v4.More() || v4.FragmentOffset() != 0 {
		return false
	}
	udp := header.UDP(ip[header.IPv4MinimumSize:])
	dst := [4]byte(ip[16:20])
	var c *fastConn
	for _, o := range conns {
		if !o.any6 && o.port == udp.DestinationPort() && o.addr == dst && !o.off.Load() {
			c = o
			break
		}
	}
	if c == nil || v4.CalculateChecksum() != 0xffff {
		return false
	}
	total := int(v4.TotalLength())
	if total > size || total < header.IPv4MinimumSize+header.UDPMinimumSize || int(udp.Length()) != total-header.IPv4MinimumSize {
		return false
	}
	eth := pkt.LinkHeader().Slice()
	if len(eth) < header.EthernetMinimumSize || tcpip.LinkAddress(eth[0:6]) != f.LinkAddress() {
		return false
	}
	whole, ok := pkt.Data().PullUp(total)
	if !ok {
		return false
	}
	from := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), udp.SourcePort())
	c.push(whole[header.IPv4MinimumSize+header.UDPMinimumSize:], from, [6]byte(eth[6:12]), c.local.Addr())
	return true // taken, or dropped on a full queue as a socket would
}

// take6 queues an IPv6 pkt on the conn for its port, if it is a
// datagram the fast path answers: our MAC, UDP straight after the
// header (no extension headers, so no fragments), a consistent length
// and a checksum set (IPv6 requires one), unicast from and to one of
// the stack's addresses.
func (f *fastUDP) take6(conns []*fastConn, pkt *stack.PacketBuffer) bool {
	size := pkt.Data().Size()
	if size < header.IPv6MinimumSize+header.UDPMinimumSize || f.local6 == nil {
		return false
	}
	ip, ok := pkt.Data().PullUp(header.IPv6MinimumSize + header.UDPMinimumSize)
	if !ok {
		return false
	}
	v6 := header.IPv6(ip)
	if ip[0]>>4 != 6 || v6.NextHeader() != uint8(header.UDPProtocolNumber) {
		return false
	}
	udp := header.UDP(ip[header.IPv6MinimumSize:])
	var c *fastConn
	for _, o := range conns {
		if o.any6 && o.port == udp.DestinationPort() {
			c = o
			break
		}
	}
	if c == nil {
		return false
	}
	payload := int(v6.PayloadLength())
	if header.IPv6MinimumSize+payload > size || payload < header.UDPMinimumSize || int(udp.Length()) != payload || udp.Checksum() == 0 {
		return false
	}
	src, dst := netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	if !src.IsGlobalUnicast() && !src.IsLinkLocalUnicast() || dst.IsMulticast() {
		return false
	}
	eth := pkt.LinkHeader().Slice()
	if len(eth) < header.EthernetMinimumSize || tcpip.LinkAddress(eth[0:6]) != f.LinkAddress() {
		return false
	}
	if !f.local6(tcpip.AddrFrom16(dst.As16())) {
		return false
	}
	whole, ok := pkt.Data().PullUp(header.IPv6MinimumSize + payload)
	if !ok {
		return false
	}
	c.push(whole[header.IPv6MinimumSize+header.UDPMinimumSize:], netip.AddrPortFrom(src, udp.SourcePort()), [6]byte(eth[6:12]), dst)
	return true
}

// writeFrames sends finished Ethernet frames to the link in one batch.
func (f *fastUDP) writeFrames(frames [][]byte) {
	if len(frames) == 0 {
		return
	}
	var pkts stack.PacketBufferList
	for _, fr := range frames {
		pkts.PushBack(stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(fr)}))
	}
	f.sent.Add(uint64(len(frames)))
	f.Endpoint.WritePackets(pkts) // a lost reply is the client's to retry
	pkts.DecRef()
}

// frameHeaders is the room an Ethernet, IPv4 and UDP header take;
// frameHeaders6, with IPv6.
const (
	frameHeaders  = header.EthernetMinimumSize + header.IPv4MinimumSize + header.UDPMinimumSize
	frameHeaders6 = header.EthernetMinimumSize + header.IPv6MinimumSize + header.UDPMinimumSize
)

// buildFrame fills the headers of a reply frame whose UDP payload is
// already at frame[frameHeaders:], sent from (srcMAC, src) to (dstMAC,
// dst).
func buildFrame(frame []byte, srcMAC tcpip.LinkAddress, dstMAC [6]byte, src netip.AddrPort, dst netip.AddrPort) {
	putEthernet(frame, srcMAC, dstMAC, header.IPv4ProtocolNumber)
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	total := len(frame) - header.EthernetMinimumSize
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(total),
		Flags:       header.IPv4FlagDontFragment, // atomic datagrams: any ID will do (RFC 6864)
		TTL:         64,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     tcpip.AddrFrom4(src.Addr().As4()),
		DstAddr:     tcpip.AddrFrom4(dst.Addr().As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	putUDP(frame[header.EthernetMinimumSize+header.IPv4MinimumSize:], src, dst, ip.SourceAddress(), ip.DestinationAddress())
}

// buildFrame6 fills the headers of an IPv6 reply frame whose UDP
// payload is already at frame[frameHeaders6:].
func buildFrame6(frame []byte, srcMAC tcpip.LinkAddress, dstMAC [6]byte, src netip.AddrPort, dst netip.AddrPort) {
	putEthernet(frame, srcMAC, dstMAC, header.IPv6ProtocolNumber)
	ip := header.IPv6(frame[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv6Fields{
		PayloadLength:     uint16(len(frame) - header.EthernetMinimumSize - header.IPv6MinimumSize),
		TransportProtocol: header.UDPProtocolNumber,
		HopLimit:          64,
		SrcAddr:           tcpip.AddrFrom16(src.Addr().As16()),
		DstAddr:           tcpip.AddrFrom16(dst.Addr().As16()),
	})
	putUDP(frame[header.EthernetMinimumSize+header.IPv6MinimumSize:], src, dst, ip.SourceAddress(), ip.DestinationAddress())
}

func putEthernet(frame []byte, srcMAC tcpip.LinkAddress, dstMAC [6]byte, proto tcpip.NetworkProtocolNumber) {
	copy(frame[0:6], dstMAC[:])
	copy(frame[6:12], srcMAC)
	binary.BigEndian.PutUint16(frame[12:14], uint16(proto))
}

// putUDP fills the UDP header at the start of b, all of which is the
// datagram, with its checksum over the pseudo-header of from and to.
func putUDP(b []byte, src, dst netip.AddrPort, from, to tcpip.Address) {
	udp := header.UDP(b)
	length := uint16(len(b))
	udp.Encode(&header.UDPFields{SrcPort: src.Port(), DstPort: dst.Port(), Length: length})
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, from, to, length)
	sum = checksum.Checksum(udp, sum)
	if sum = ^sum; sum == 0 {
		sum = 0xffff
	}
	udp.SetChecksum(sum)
}
