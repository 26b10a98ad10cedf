package netstack

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

const (
	// maxPending is how much a connection's writes may hold before
	// Write waits for the sender, as a kernel socket's send buffer.
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
	*gonet.TCPConn

	mu        sync.Mutex
	pending   []byte        // written, not yet taken by the sender
	err       error         // the sender's first error: later writes fail with it
	closing   bool          // Close or CloseWrite was called
	closeFull bool          // Close was
	exited    bool          // the sender ended
	deadline  time.Time     // the write deadline
	kick      chan struct{} // pending has data, or closing
	drained   chan struct{} // the sender took pending (closed and renewed each time)
	started   bool
	rd, wd    lazyDeadline
	// The addresses, made once: an HTTP server asks for them for
	// every request, and the stack's connection makes new ones each time.
	local, remote net.Addr
}

func newTCPConn(c *gonet.TCPConn) *tcpConn {
	tc := &tcpConn{TCPConn: c, kick: make(chan struct{}, 1), drained: make(chan struct{})}
	tc.rd.pass, tc.wd.pass = c.SetReadDeadline, c.SetWriteDeadline
	tc.local, tc.remote = c.LocalAddr(), c.RemoteAddr()
	return tc
}

// Write holds b for the sender, waiting while more than maxPending is
// held already (until the write deadline, if one is set).
func (c *tcpConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	for {
		switch {
		case len(b) == 0 && c.err == nil && !c.closing:
			c.mu.Unlock()
			return 0, nil
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return 0, err
		case c.closing:
			c.mu.Unlock()
			return 0, net.ErrClosed
		case len(c.pending) == 0 || len(c.pending)+len(b) <= maxPending:
			if c.pending == nil {
				c.pending = getBuf()
			}
			c.pending = append(c.pending, b...)
			if !c.started {
				c.started = true
				go c.sender()
			}
			c.mu.Unlock()
			c.signal()
			return len(b), nil
		}
		drained, deadline := c.drained, c.deadline
		c.mu.Unlock()
		if err := wait(drained, deadline); err != nil {
			return 0, err
		}
		c.mu.Lock()
	}
}

func (c *tcpConn) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
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
			if d := time.Now().Add(closeLinger); c.deadline.IsZero() || c.deadline.After(d) {
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
		c.TCPConn.Close()
	case closing:
		c.TCPConn.CloseWrite()
	}
}

// send writes b to the stack in pieces of at most a GSO segment's
// 64 KiB: the stack copies a write into one buffer, which past 64 KiB
// is a fresh allocation instead of one from its pool.
func (c *tcpConn) send(b []byte) error {
	for len(b) > 0 {
		n, err := c.TCPConn.Write(b[:min(len(b), 64<<10)])
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Close closes the connection once what is held has left, as a kernel
// socket's close does: it returns at once.
func (c *tcpConn) Close() error { return c.shut(true) }

// CloseWrite shuts the sending side down once what is held has left.
func (c *tcpConn) CloseWrite() error { return c.shut(false) }

func (c *tcpConn) shut(full bool) error {
	c.mu.Lock()
	c.closing = true
	c.closeFull = c.closeFull || full
	running := c.started && !c.exited
	c.mu.Unlock()
	if running {
		c.signal()
		return nil
	}
	if full {
		return c.TCPConn.Close()
	}
	return c.TCPConn.CloseWrite()
}

// LocalAddr is the connection's own address.
func (c *tcpConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the peer's address.
func (c *tcpConn) RemoteAddr() net.Addr { return c.remote }

// SetWriteDeadline applies to held writes and the sender's.
func (c *tcpConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	c.wd.set(t)
	return nil
}

// SetReadDeadline applies to reads.
func (c *tcpConn) SetReadDeadline(t time.Time) error {
	c.rd.set(t)
	return nil
}

// SetDeadline sets both deadlines.
func (c *tcpConn) SetDeadline(t time.Time) error {
	c.SetWriteDeadline(t)
	return c.SetReadDeadline(t)
}

// lazyDeadline passes a deadline on to the stack's connection only
// when it passes: the stack's own deadlines make a timer and a channel
// each time one is set, and an HTTP server sets five a request. One
// timer, reset each time, tells the stack "now" (which ends a blocked
// read or write) once the deadline has passed; setting another takes
// that back.
type lazyDeadline struct {
	mu    sync.Mutex
	t     time.Time
	timer *time.Timer
	armed bool // the stack's deadline is set, in the past
	pass  func(time.Time) error
}

var longAgo = time.Unix(1, 0)

func (d *lazyDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t = t
	if d.timer != nil {
		d.timer.Stop()
	}
	if t.IsZero() {
		d.disarm()
		return
	}
	until := time.Until(t)
	if until <= 0 {
		d.arm()
		return
	}
	d.disarm()
	if d.timer == nil {
		d.timer = time.AfterFunc(until, d.fire)
	} else {
		d.timer.Reset(until)
	}
}

// fire runs on the timer: the deadline passed unless it was moved.
func (d *lazyDeadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.t.IsZero() && !time.Now().Before(d.t) {
		d.arm()
	}
}

func (d *lazyDeadline) arm() {
	if !d.armed {
		d.armed = true
		d.pass(longAgo)
	}
}

func (d *lazyDeadline) disarm() {
	if d.armed {
		d.armed = false
		d.pass(time.Time{})
	}
}

// tcpListener hands out tcpConns.
type tcpListener struct {
	*gonet.TCPListener
}

func (l tcpListener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*gonet.TCPConn)
	if !ok {
		return nil, errors.New("netstack: accepted a connection of an unexpected type")
	}
	return newTCPConn(tc), nil
}

// Held writes go into buffers shared by all connections, so that an
// idle connection holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) <= 2*maxPending {
		bufPool.Put(&b)
	}
}
