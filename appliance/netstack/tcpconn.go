package netstack

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	// maxPending is the most a connection's writes may hold before
	// Write waits for the sender, as a kernel socket's send buffer
	// (rounded down to whole GSO segments, and less on a busy stack).
	maxPending = 256 << 10
	// closeLinger bounds how long held data may take to leave after
	// Close when no earlier write deadline is set.
	closeLinger = 30 * time.Second
)

// tcpConn is an accepted connection whose writes are copied into a
// buffer and sent by one goroutine per connection, as a kernel socket's
// write copies into its send buffer and returns. The sender takes
// everything written since it last ran in one write to the stack, so
// the TLS records of a response (a page's 4 KB and 6 KB writes, HTTP/2's
// 4 KB and 12 KB DATA frame pieces) leave as one segment, not one each:
// each segment costs the stack, the packet socket and the receiver
// alike. And the stack's deep call chain runs on the sender's stack,
// which grows once, not on HTTP/2's short-lived frame writers, whose
// stacks were copied two or three times per frame.
type tcpConn struct {
	*gonet.TCPConn // writes (by the sender), closes, write deadlines
	ep             tcpip.Endpoint

	// Reads wait on one waiter entry for the connection's life and one
	// channel, which the read deadline and Close wake too: the stack's
	// connection makes a new entry, channel and error value for each
	// read that waits, and an HTTP server's background read waits and
	// is cut short once a request.
	wq       *waiter.Queue
	entry    waiter.Entry
	readable chan struct{}
	mayRead  atomic.Bool // the stack may have something to read
	rdl      readDeadline
	rclosed  atomic.Bool // set by Close: reads end

	mu        sync.Mutex
	pending   []byte        // written, not yet taken by the sender
	err       error         // the sender's first error: later writes fail with it
	closing   bool          // Close or CloseWrite was called
	closeFull bool          // Close was
	exited    bool          // the sender ended
	kick      chan struct{} // pending has data, or closing
	drained   chan struct{} // the sender took pending (closed and renewed each time)
	started   bool
	wd        deadline // passed on to the stack's connection when it passes
	// maxPend is how much writes may hold: the connection's share of
	// the stack's send budget sets it, and the stack's send buffer.
	maxPend int
	budget  *sendBudget
	share   int64
	gone    atomic.Bool  // the share was given back
	sent    waiter.Entry // watches the closed connection's data leave
	closed  sync.Once
	// The addresses, made once: an HTTP server asks for them for
	// every request, and the stack's connection makes new ones each time.
	local, remote net.Addr
}

// newTCPConn wraps an accepted endpoint. segment is the most payload the
// stack puts in one frame (0 for an MSS).
func newTCPConn(ep tcpip.Endpoint, wq *waiter.Queue, budget *sendBudget, segment int) *tcpConn {
	c := gonet.NewTCPConn(wq, ep)
	tc := &tcpConn{TCPConn: c, ep: ep, wq: wq, readable: make(chan struct{}, 1),
		kick: make(chan struct{}, 1), drained: make(chan struct{}), budget: budget, share: budget.take()}
	sendBuffer, pending := split(tc.share)
	ep.SocketOptions().SetSendBufferSize(int64(sendBuffer), true)
	// What writes hold is handed to the stack in one write, which it
	// cuts into frames of segment bytes and a shorter last one: held
	// whole segments leave as full frames only. (With 256 KiB, every
	// 256 KiB of a download left with a 644-byte frame of its own.)
	if segment > 0 && pending >= segment {
		pending -= pending % segment
	}
	tc.maxPend = pending
	tc.mayRead.Store(true)
	tc.entry.Init(waiter.ChannelNotifier(tc.readable), waiter.ReadableEvents)
	wq.EventRegister(&tc.entry)
	tc.rdl.init(func() { poke(tc.readable) })
	// The stack's own write deadline makes a timer and a channel each
	// time it is set: it is told only once the deadline has passed
	// ("now", which ends a blocked write), and told again when a new
	// one takes that back.
	tc.wd.onPass = func() { c.SetWriteDeadline(longAgo) }
	tc.wd.onClear = func() { c.SetWriteDeadline(time.Time{}) }
	tc.local, tc.remote = c.LocalAddr(), c.RemoteAddr()
	return tc
}

// Read reads what has arrived, waiting for something to until the read
// deadline. It asks the stack only when something may be there: at
// first, after a read that filled b or left the end of the stream
// behind its data, and after the stack said there is (a read that got
// less than b emptied the queue, and anything that comes later is
// signalled), so a read that waits, as an HTTP server's background read
// does every request, does not ask first to hear there is nothing.
func (c *tcpConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		// As the kernel's sockets do, a passed deadline wins over
		// data waiting.
		if c.rclosed.Load() {
			return 0, net.ErrClosed
		}
		if c.rdl.gone.Load() {
			return 0, os.ErrDeadlineExceeded
		}
		if c.mayRead.Load() {
			n, terr := c.readStack(b)
			switch terr.(type) {
			case nil:
				// A read that got less than b emptied the queue, but
				// the end of the stream (or a reset) may wait behind
				// the data, signalled already: ask before waiting for
				// a signal that will not come again.
				if n < len(b) && c.ep.Readiness(waiter.ReadableEvents) == 0 {
					c.mayRead.Store(false)
				}
				return n, nil
			case *tcpip.ErrWouldBlock:
				c.mayRead.Store(false)
			case *tcpip.ErrClosedForReceive:
				return 0, io.EOF
			default:
				return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.local, Addr: c.remote, Err: errors.New(terr.String())}
			}
		}
		// One channel says all: the stack's signal, the deadline
		// passing, Close. A select of three grew the stack of every
		// HTTP server's short-lived background read, which waits here.
		<-c.readable
		c.mayRead.Store(true)
	}
}

// readStack reads from the stack's endpoint. It is a function of its
// own, not inlined, because the stack's read result takes a kilobyte of
// stack (its control messages): in Read that frame grew the stack of
// every HTTP server's short-lived background read, which only waits.
//
//go:noinline
func (c *tcpConn) readStack(b []byte) (int, tcpip.Error) {
	w := tcpip.SliceWriter(b)
	res, terr := c.ep.Read(&w, tcpip.ReadOptions{})
	return res.Count, terr
}

// Write holds b for the sender, as much at a time as the connection's
// share lets it hold, waiting for the sender to take what is held
// (until the write deadline, if one is set). A write longer than the
// share is held in parts: the share bounds what the connection holds
// whatever its writer does.
func (c *tcpConn) Write(b []byte) (int, error) {
	written := 0
	c.mu.Lock()
	for {
		switch {
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return written, err
		case c.closing:
			c.mu.Unlock()
			return written, net.ErrClosed
		case len(b) == 0:
			c.mu.Unlock()
			return written, nil
		case len(c.pending) < c.maxPend:
			if c.pending == nil {
				c.pending = getBuf(c.maxPend)
			}
			n := min(len(b), c.maxPend-len(c.pending))
			c.pending = append(c.pending, b[:n]...)
			b, written = b[n:], written+n
			if !c.started {
				c.started = true
				go c.sender()
			}
			poke(c.kick)
			continue
		}
		drained := c.drained
		c.mu.Unlock()
		if err := wait(drained, c.wd.when()); err != nil {
			return written, err
		}
		c.mu.Lock()
	}
}

// wait waits for ch to close, or for the deadline to pass.
func wait(ch chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		<-ch
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// sender writes what Write holds, all of it at a time. Once the
// connection is closed (or its sending side) and nothing is held, it
// does the close and ends.
func (c *tcpConn) sender() {
	lingering := false
	for {
		c.mu.Lock()
		for len(c.pending) == 0 && !c.closing {
			c.mu.Unlock()
			<-c.kick
			// Let the goroutines that are ready run first: the writer
			// may have more to say (HTTP/2 writes a frame per goroutine).
			runtime.Gosched()
			c.mu.Lock()
		}
		if len(c.pending) == 0 || c.err != nil {
			c.exit()
			return
		}
		sending := c.pending
		c.pending = nil
		close(c.drained)
		c.drained = make(chan struct{})
		if c.closing && !lingering {
			// Closed with data held: it may take until closeLinger
			// to leave, as a kernel socket lingers after close.
			lingering = true
			if d, wd := time.Now().Add(closeLinger), c.wd.when(); wd.IsZero() || wd.After(d) {
				c.TCPConn.SetWriteDeadline(d)
			}
		}
		c.mu.Unlock()
		err := c.send(sending)
		putBuf(sending)
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.pending = nil
			close(c.drained)
			c.drained = make(chan struct{})
			c.exit()
			return
		}
	}
}

// exit ends the sender, with c.mu held (and released): a close asked
// for meanwhile is done now.
func (c *tcpConn) exit() {
	c.exited = true
	closing, full := c.closing, c.closeFull
	c.mu.Unlock()
	switch {
	case full:
		c.closeAll()
	case closing:
		c.TCPConn.CloseWrite()
	}
}

// closeAll closes the stack's connection and stops waiting for reads;
// the connection's send share comes back once its data has left.
func (c *tcpConn) closeAll() error {
	err := c.TCPConn.Close()
	c.closed.Do(func() {
		c.wq.EventUnregister(&c.entry)
		c.giveBack()
	})
	return err
}

// giveBack returns the connection's share of the send budget once the
// stack holds none of its data: all of it acknowledged (FIN-WAIT-2,
// TIME-WAIT) or the connection gone. One whose data has not left
// within the budget's linger (closeLinger) of the close, a peer that
// stopped reading, is reset, as Linux drops orphaned sockets that take
// too long.
func (c *tcpConn) giveBack() {
	c.sent = waiter.NewFunctionEntry(waiter.WritableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) {
		if allSent(c.ep) {
			c.returnShare()
		}
	})
	c.wq.EventRegister(&c.sent)
	if allSent(c.ep) {
		c.returnShare()
		return
	}
	time.AfterFunc(c.budget.linger, func() {
		if !c.gone.Load() {
			c.ep.Abort()
			c.returnShare()
		}
	})
}

func (c *tcpConn) returnShare() {
	if c.gone.CompareAndSwap(false, true) {
		c.budget.give(c.share)
	}
}

// allSent tells whether a closed connection's stack endpoint holds no
// data to send any more.
func allSent(ep tcpip.Endpoint) bool {
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateFinWait2, tcp.StateTimeWait, tcp.StateClose, tcp.StateError:
		return true
	}
	return false
}

// send writes b to the stack in one write. The stack cuts what it
// holds into segments as large as the link takes (a GSO segment: 64 KiB
// less room for headers), but it does not join two writes that do not
// fit one together: writes of 64 KiB each left as a full segment and a
// 161-byte one, twice the segments for the stack, the packet socket
// and the receiver. The stack copies a write into pooled chunks of at
// most 64 KiB, however long it is.
func (c *tcpConn) send(b []byte) error {
	_, err := c.TCPConn.Write(b)
	return err
}

// Close closes the connection once what is held has left, as a kernel
// socket's close does: it returns at once.
func (c *tcpConn) Close() error { return c.shut(true) }

// CloseWrite shuts the sending side down once what is held has left.
func (c *tcpConn) CloseWrite() error { return c.shut(false) }

func (c *tcpConn) shut(full bool) error {
	if full {
		c.rclosed.Store(true)
		poke(c.readable)
	}
	c.mu.Lock()
	c.closing = true
	c.closeFull = c.closeFull || full
	running := c.started && !c.exited
	c.mu.Unlock()
	if running {
		poke(c.kick)
		return nil
	}
	if full {
		return c.closeAll()
	}
	return c.TCPConn.CloseWrite()
}

// LocalAddr is the connection's own address.
func (c *tcpConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the peer's address.
func (c *tcpConn) RemoteAddr() net.Addr { return c.remote }

// SetWriteDeadline applies to held writes and the sender's.
func (c *tcpConn) SetWriteDeadline(t time.Time) error {
	c.wd.set(t)
	return nil
}

// SetReadDeadline applies to reads.
func (c *tcpConn) SetReadDeadline(t time.Time) error {
	c.rdl.set(t)
	return nil
}

// SetDeadline sets both deadlines.
func (c *tcpConn) SetDeadline(t time.Time) error {
	c.SetWriteDeadline(t)
	return c.SetReadDeadline(t)
}

// tcpListener hands out tcpConns.
type tcpListener struct {
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	addr   net.Addr
	closed chan struct{}
	once   sync.Once
	budget *sendBudget
	// segment is the most payload the stack puts in one frame.
	segment int
}

// listenTCP opens a listening endpoint on the stack.
func listenTCP(s *stack.Stack, fa tcpip.FullAddress, proto tcpip.NetworkProtocolNumber, budget *sendBudget, segment int) (*tcpListener, error) {
	wq := new(waiter.Queue)
	ep, terr := s.NewEndpoint(tcp.ProtocolNumber, proto, wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	// An IPv6 listener takes IPv6 only: on the unspecified address it
	// would take IPv4 too, and its port from an IPv4 listener beside it.
	if proto == ipv6.ProtocolNumber {
		ep.SocketOptions().SetV6Only(true)
	}
	if terr := ep.Bind(fa); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("netstack: bind: %s", terr)
	}
	if terr := ep.Listen(listenBacklog); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("listen: %s", terr)
	}
	l := &tcpListener{ep: ep, wq: wq, closed: make(chan struct{}), budget: budget, segment: segment}
	if a, terr := ep.GetLocalAddress(); terr == nil {
		l.addr = &net.TCPAddr{IP: net.IP(a.Addr.AsSlice()), Port: int(a.Port)}
		if a.Addr.BitLen() == 0 && proto == ipv6.ProtocolNumber {
			l.addr.(*net.TCPAddr).IP = net.IPv6unspecified
		}
	}
	return l, nil
}

// listenBacklog is how many connections may wait for Accept.
const listenBacklog = 4096

func (l *tcpListener) Accept() (net.Conn, error) {
	entry, ready := waiter.NewChannelEntry(waiter.ReadableEvents)
	l.wq.EventRegister(&entry)
	defer l.wq.EventUnregister(&entry)
	for {
		ep, wq, terr := l.ep.Accept(nil)
		switch terr.(type) {
		case nil:
			return newTCPConn(ep, wq, l.budget, l.segment), nil
		case *tcpip.ErrWouldBlock:
		default:
			select {
			case <-l.closed:
				return nil, net.ErrClosed
			default:
			}
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: errors.New(terr.String())}
		}
		select {
		case <-ready:
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
}

func (l *tcpListener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.ep.Close()
	})
	return nil
}

func (l *tcpListener) Addr() net.Addr { return l.addr }

// Held writes go into buffers shared by all connections, so that an
// idle connection holds none. They start at 16 KiB (a TLS record) and
// grow as a burst needs; many connections writing at once then hold
// little each.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// getBuf takes a buffer for a connection that may hold limit bytes:
// one grown larger for another connection is left to the collector,
// lest each of many connections with small shares keep a large one.
func getBuf(limit int) []byte {
	b := *bufPool.Get().(*[]byte)
	if cap(b) > 2*limit {
		return make([]byte, 0, min(16<<10, limit))
	}
	return b[:0]
}

func putBuf(b []byte) {
	if cap(b) <= 2*maxPending {
		bufPool.Put(&b)
	}
}
