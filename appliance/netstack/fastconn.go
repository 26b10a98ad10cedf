package netstack

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

const (
	fastQueue = 1024 // datagrams waiting; more are dropped, as by a full socket buffer
	fastBatch = 64   // datagrams answered and written together
	fastBuf   = 4096 // the largest reply the fast path builds
)

// fastConn is a UDP socket on the stack whose plain datagrams come
// through the fast path, in batches (ServeBatches), and whose other
// datagrams (fragments, IP options) through the stack's own socket
// bound to the same address and port, which its net.PacketConn methods
// are. Replies too large for the link's MTU leave through the stack's
// socket too, so that the stack fragments them. It serves one IPv4
// address, or (any6) every IPv6 address the stack has, each datagram
// answered from the address it was sent to.
type fastConn struct {
	net.PacketConn // the stack's socket
	f              *fastUDP
	addr           [4]byte
	any6           bool
	port           uint16
	local          netip.AddrPort

	mu    sync.Mutex
	queue []datagram
	wake  chan struct{} // a datagram was queued while queue was empty
	off   atomic.Bool   // the address is withdrawn: the fast path takes nothing
	taken atomic.Int64  // datagrams queued by the fast path

	deadline readDeadline
	closed   chan struct{}
	once     sync.Once
}

type datagram struct {
	data []byte
	from netip.AddrPort
	to   netip.Addr // the stack's address it was sent to
	mac  [6]byte
}

// newFastConn registers slow's address and port, local: an IPv4
// address, or the unspecified IPv6 one for all of the stack's.
func newFastConn(f *fastUDP, slow net.PacketConn, local netip.AddrPort) *fastConn {
	c := &fastConn{
		PacketConn: slow, f: f, any6: local.Addr().Is6(), port: local.Port(), local: local,
		wake: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	if !c.any6 {
		c.addr = local.Addr().As4()
	}
	c.deadline.init(func() { poke(c.wake) })
	f.register(c)
	return c
}

// push queues a datagram; it runs on the link's reading goroutine.
func (c *fastConn) push(data []byte, from netip.AddrPort, mac [6]byte, to netip.Addr) {
	c.mu.Lock()
	n := len(c.queue)
	if n >= fastQueue { // dropped, as by a full socket buffer
		c.mu.Unlock()
		return
	}
	if n < cap(c.queue) {
		c.queue = c.queue[:n+1]
	} else {
		c.queue = append(c.queue, datagram{})
	}
	d := &c.queue[n]
	d.data = append(d.data[:0], data...)
	d.from, d.mac, d.to = from, mac, to
	c.mu.Unlock()
	c.taken.Add(1)
	if n == 0 {
		poke(c.wake)
	}
}

// next waits for queued datagrams and takes them all, handing back the
// batch it took last time for reuse.
func (c *fastConn) next(done []datagram) ([]datagram, error) {
	for {
		if c.deadline.gone.Load() { // the deadline's passing wakes the wait below
			return done, os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		if len(c.queue) > 0 {
			got := c.queue
			c.queue = done[:0]
			c.mu.Unlock()
			return got, nil
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-c.closed:
			return done, net.ErrClosed
		}
	}
}

// ServeBatches answers the datagrams of the fast path until the conn is
// closed or its read deadline passes: answer gets each query, its
// sender and an empty buffer to append the reply to, and returns the
// reply (or nil); the replies of a batch leave together.
func (c *fastConn) ServeBatches(answer func(query []byte, from netip.AddrPort, out []byte) []byte) error {
	hdr, ipHdr, build := frameHeaders, header.IPv4MinimumSize, buildFrame
	if c.any6 {
		hdr, ipHdr, build = frameHeaders6, header.IPv6MinimumSize, buildFrame6
	}
	frames := make([][]byte, fastBatch)
	for i := range frames {
		frames[i] = make([]byte, hdr+fastBuf)
	}
	ready := make([][]byte, 0, fastBatch)
	var batch []datagram
	var err error
	for {
		if batch, err = c.next(batch); err != nil {
			return err
		}
		mtu := int(c.f.MTU())
		mac := c.f.LinkAddress()
		for i := range batch {
			d := &batch[i]
			fr := frames[len(ready)]
			out := answer(d.data, d.from, fr[hdr:hdr])
			switch {
			case len(out) == 0:
				continue
			case len(out)+ipHdr+header.UDPMinimumSize > mtu || len(out) > fastBuf:
				c.PacketConn.WriteTo(out, c.replyTo(d)) // the stack fragments it
				continue
			case &out[0] != &fr[hdr]:
				copy(fr[hdr:], out)
			}
			frame := fr[:hdr+len(out)]
			build(frame, mac, d.mac, netip.AddrPortFrom(d.to, c.port), d.from)
			ready = append(ready, frame)
			if len(ready) == fastBatch {
				c.f.writeFrames(ready)
				ready = ready[:0]
			}
		}
		c.f.writeFrames(ready)
		ready = ready[:0]
	}
}

// replyTo is where the stack's socket sends d's reply: on IPv6 from
// the address d came to.
func (c *fastConn) replyTo(d *datagram) net.Addr {
	if c.any6 {
		return &udpPeer{remote: d.from, local: tcpip.AddrFrom16(d.to.As16())}
	}
	return net.UDPAddrFromAddrPort(d.from)
}

// SetReadDeadline applies to both paths.
func (c *fastConn) SetReadDeadline(t time.Time) error {
	c.deadline.set(t)
	return c.PacketConn.SetReadDeadline(t)
}

// SetDeadline applies to both paths.
func (c *fastConn) SetDeadline(t time.Time) error {
	c.deadline.set(t)
	return c.PacketConn.SetDeadline(t)
}

// Close unregisters the fast path and closes the stack's socket.
func (c *fastConn) Close() error {
	c.once.Do(func() {
		c.f.unregister(c)
		close(c.closed)
	})
	return c.PacketConn.Close()
}
