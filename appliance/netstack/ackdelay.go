package netstack

import (
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ackHold is how long a pure ACK may wait for a segment of its
// connection to carry it instead (RFC 1122 allows 500 ms; Linux waits
// 40 ms at least).
const ackHold = time.Millisecond

// maxFlows bounds the connections ackDelay remembers (about 100 bytes
// each); past it they are forgotten at once, which loses only chances
// to hold an ACK.
const maxFlows = 4096

// ackDelay gives the stack delayed ACKs, which gVisor's TCP does not
// have: it acknowledges a request at once, before the response that
// would carry the acknowledgement, so each request cost a packet more
// each way (the pure ACK, and the receiver's work on it). A pure ACK
// that acknowledges new data of at most two segments is held for up to
// ackHold; a later segment of the same connection that acknowledges as
// much (the response) replaces it. ACKs that acknowledge nothing new
// (window updates, duplicate ACKs), carry SACK blocks, or acknowledge
// more (a stream coming in: RFC 5681 asks for an ACK at least every
// second segment) leave at once, as does everything that is not IPv4
// TCP.
type ackDelay struct {
	nested.Endpoint
	mu    sync.Mutex
	flows map[flowKey]*flow
	timer *time.Timer
	armed bool
	// saved counts held ACKs a later segment carried instead; sent,
	// those that left when their time was up.
	saved, sent atomic.Int64
}

type flowKey struct {
	dst          [4]byte
	sport, dport uint16
}

type flow struct {
	lastAck seqnum.Value // the acknowledgement last sent
	held    *stack.PacketBuffer
	heldAck seqnum.Value
	heldAt  time.Time
	used    time.Time
}

func newAckDelay(lower stack.LinkEndpoint) *ackDelay {
	a := &ackDelay{flows: make(map[flowKey]*flow)}
	a.Endpoint.Init(lower, a)
	a.timer = time.AfterFunc(time.Hour, a.expire)
	a.timer.Stop()
	return a
}

// WritePackets holds, drops or passes each segment, then writes the
// rest in one batch.
func (a *ackDelay) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	var out stack.PacketBufferList
	now := time.Now()
	mss := seqnum.Size(a.MTU()) - header.IPv4MinimumSize - header.TCPMinimumSize
	a.mu.Lock()
	for _, pkt := range pkts.AsSlice() {
		a.hold(pkt, now, mss, &out)
	}
	a.mu.Unlock()
	n, err := a.Endpoint.WritePackets(out)
	unwritten := out.Len() - n
	out.DecRef()
	return pkts.Len() - unwritten, err
}

// DeliverNetworkPacket forgets a connection its peer resets: nothing
// of ours ends it then (our FIN or RST would), and its state would
// linger until the connection limit clears it.
func (a *ackDelay) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if proto == header.IPv4ProtocolNumber {
		a.seeIncoming(pkt)
	}
	a.Endpoint.DeliverNetworkPacket(proto, pkt)
}

// seeIncoming looks at an incoming IPv4 frame for a TCP reset.
func (a *ackDelay) seeIncoming(pkt *stack.PacketBuffer) {
	if pkt.Data().Size() < header.IPv4MinimumSize+header.TCPMinimumSize {
		return
	}
	b, ok := pkt.Data().PullUp(header.IPv4MinimumSize)
	if !ok || b[0]>>4 != 4 || header.IPv4(b).Protocol() != uint8(header.TCPProtocolNumber) || header.IPv4(b).FragmentOffset() != 0 {
		return
	}
	ihl := int(b[0]&0xf) * 4
	if ihl < header.IPv4MinimumSize || pkt.Data().Size() < ihl+header.TCPMinimumSize {
		return
	}
	if b, ok = pkt.Data().PullUp(ihl + header.TCPMinimumSize); !ok {
		return
	}
	tcp := header.TCP(b[ihl:])
	if tcp.Flags()&header.TCPFlagRst == 0 {
		return
	}
	key := flowKey{dst: header.IPv4(b).SourceAddress().As4(), sport: tcp.DestinationPort(), dport: tcp.SourcePort()}
	a.mu.Lock()
	if f := a.flows[key]; f != nil {
		if f.held != nil {
			f.held.DecRef() // a reset connection takes no ACK
		}
		delete(a.flows, key)
	}
	a.mu.Unlock()
}

// hold decides one segment, with a.mu held: it is kept, or added to
// out, after a held ACK of its connection if that must still leave.
func (a *ackDelay) hold(pkt *stack.PacketBuffer, now time.Time, mss seqnum.Size, out *stack.PacketBufferList) {
	if pkt.NetworkProtocolNumber != header.IPv4ProtocolNumber || pkt.TransportProtocolNumber != header.TCPProtocolNumber {
		out.PushBack(pkt.IncRef())
		return
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	tcp := header.TCP(pkt.TransportHeader().Slice())
	if len(ip) < header.IPv4MinimumSize || len(tcp) < header.TCPMinimumSize {
		out.PushBack(pkt.IncRef())
		return
	}
	key := flowKey{dst: ip.DestinationAddress().As4(), sport: tcp.SourcePort(), dport: tcp.DestinationPort()}
	f := a.flows[key]
	ack, flags := seqnum.Value(tcp.AckNumber()), tcp.Flags()
	if f != nil && f.held != nil {
		if ack.LessThan(f.heldAck) {
			out.PushBack(f.held)
		} else {
			f.held.DecRef() // this segment acknowledges as much
			a.saved.Add(1)
		}
		f.held = nil
	}
	if flags&(header.TCPFlagFin|header.TCPFlagRst|header.TCPFlagSyn) != 0 {
		// What follows a FIN needs no holding, and a SYN-ACK starts a
		// connection afresh (its addresses and ports may be those of
		// an earlier one).
		delete(a.flows, key)
		if flags&(header.TCPFlagFin|header.TCPFlagRst) == 0 && flags&header.TCPFlagAck != 0 {
			a.add(key, ack, now, out)
		}
		out.PushBack(pkt.IncRef())
		return
	}
	pure := flags == header.TCPFlagAck && pkt.Data().Size() == 0 && !hasSACK(tcp)
	if f == nil {
		// A connection seen first here (ours, or one forgotten) is
		// remembered from its first data; a pure ACK of an unknown
		// connection is most often the last of one that sent its FIN.
		if !pure {
			a.add(key, ack, now, out)
		}
		out.PushBack(pkt.IncRef())
		return
	}
	newly := f.lastAck.Size(ack)
	f.used = now
	if pure && f.lastAck.LessThan(ack) && newly <= 2*mss {
		f.held, f.heldAck, f.heldAt = pkt.IncRef(), ack, now
		f.lastAck = ack
		if !a.armed {
			a.armed = true
			a.timer.Reset(ackHold)
		}
		return
	}
	if f.lastAck.LessThan(ack) {
		f.lastAck = ack
	}
	out.PushBack(pkt.IncRef())
}

// add remembers a connection, with a.mu held. At maxFlows it forgets
// them all first, which loses only chances to hold ACKs; what is held
// leaves now, in out.
func (a *ackDelay) add(key flowKey, ack seqnum.Value, now time.Time, out *stack.PacketBufferList) {
	if len(a.flows) >= maxFlows {
		for _, o := range a.flows {
			if o.held != nil {
				out.PushBack(o.held)
			}
		}
		clear(a.flows)
	}
	a.flows[key] = &flow{lastAck: ack, used: now}
}

// hasSACK tells whether a TCP header carries SACK blocks (option 5).
func hasSACK(tcp header.TCP) bool {
	opts := tcp.Options()
	for i := 0; i < len(opts); {
		switch kind := opts[i]; kind {
		case header.TCPOptionEOL:
			return false
		case header.TCPOptionNOP:
			i++
			continue
		case header.TCPOptionSACK:
			return true
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return false
		}
		i += int(opts[i+1])
	}
	return false
}

// expire sends the ACKs whose time is up and forgets connections idle
// for a minute.
func (a *ackDelay) expire() {
	var out stack.PacketBufferList
	now := time.Now()
	a.mu.Lock()
	next := time.Duration(0)
	for k, f := range a.flows {
		if f.held != nil {
			if wait := ackHold - now.Sub(f.heldAt); wait > 0 {
				if next == 0 || wait < next {
					next = wait
				}
				continue
			}
			out.PushBack(f.held)
			f.held = nil
			a.sent.Add(1)
		}
		if now.Sub(f.used) > time.Minute {
			delete(a.flows, k)
		}
	}
	a.armed = next > 0
	if a.armed {
		a.timer.Reset(next)
	}
	a.mu.Unlock()
	if out.Len() > 0 {
		a.Endpoint.WritePackets(out)
		out.DecRef()
	}
}
