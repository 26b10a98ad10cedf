package netstack

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// pcapEndpoint records every Ethernet frame in and out of the link in
// pcap format (LINKTYPE_ETHERNET), for --pcap: ARP included, which a
// raw-IP capture would garble.
type pcapEndpoint struct {
	nested.Endpoint
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

const pcapSnapLen = 65535

func newPCAP(lower stack.LinkEndpoint, w io.Writer) (*pcapEndpoint, error) {
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	if _, err := w.Write(hdr[:]); err != nil {
		return nil, fmt.Errorf("netstack: pcap: %w", err)
	}
	e := &pcapEndpoint{w: w}
	e.Endpoint.Init(lower, e)
	// A link that leaves frames out (superseded ACKs) shows them here.
	if s, ok := lower.(interface{ setSniff(func([]byte)) }); ok {
		s.setSniff(e.recordFrame)
	}
	return e, nil
}

// DeliverNetworkPacket records an incoming frame.
func (e *pcapEndpoint) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	e.record(pkt)
	e.Endpoint.DeliverNetworkPacket(proto, pkt)
}

// WritePackets records outgoing frames.
func (e *pcapEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	for _, pkt := range pkts.AsSlice() {
		e.record(pkt)
	}
	return e.Endpoint.WritePackets(pkts)
}

func (e *pcapEndpoint) record(pkt *stack.PacketBuffer) {
	v := stack.PayloadSince(pkt.LinkHeader())
	defer v.Release()
	e.recordFrame(v.AsSlice())
}

// recordFrame records one Ethernet frame.
func (e *pcapEndpoint) recordFrame(data []byte) {
	orig := len(data)
	if len(data) > pcapSnapLen {
		data = data[:pcapSnapLen]
	}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buf = binary.LittleEndian.AppendUint32(e.buf[:0], uint32(now.Unix()))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(now.Nanosecond()/1000))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(data)))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(orig))
	e.buf = append(e.buf, data...)
	e.w.Write(e.buf) // one write per record; a failing writer loses records, not packets
}
