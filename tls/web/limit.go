package web

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// defaultMaxConns bounds concurrent connections per listener when the
// configuration leaves it to us.
const defaultMaxConns = 4096

// limitListener accepts at most max connections at once. One over the
// limit is closed at once, as nginx does when its worker_connections
// are spent: the client learns now rather than waiting in the backlog,
// and those already served keep their memory. A warning says so, at
// most once a minute.
type limitListener struct {
	net.Listener
	max    int64
	open   atomic.Int64
	log    *slog.Logger
	warned atomic.Int64 // unix seconds of the last warning
}

func limit(ln net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		max = defaultMaxConns
	}
	return &limitListener{Listener: ln, max: int64(max), log: log}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		c.Close()
		now := time.Now().Unix()
		if last := l.warned.Load(); now-last >= 60 && l.warned.CompareAndSwap(last, now) {
			l.log.Warn("connection limit reached: new connections are closed until some end", "limit", l.max, "addr", l.Addr())
		}
	}
}

// limitedConn gives its place back when it is closed, once.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// CloseWrite half-closes the connection beneath, as net/http does
// before it closes a plain HTTP connection (so that the client reads
// the response rather than a reset).
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
