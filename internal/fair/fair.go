// Package fair shares a server's connections among its clients, so that
// one client cannot take them all: a cap per client (an IPv4 address or
// an IPv6 /64 by default), a global cap at which the connection dropped
// is one of the client holding the most rather than the newcomer, idle
// connections closed sooner the fuller the server is, and a cap on the
// requests (HTTP/2 streams) each client and all of them have in flight.
package fair

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets a Limiter's caps.
type Config struct {
	// Max is the most connections at once.
	Max int
	// PerClient is the most connections of one client; 0: Max/8, at
	// least 8 and at most 64.
	PerClient int
	// IPv4Bits and IPv6Bits say what one client is: the addresses that
	// share a prefix this long; 0: 32 and 64 (an IPv6 subscriber gets a
	// /64, and would otherwise take a new address per connection).
	IPv4Bits, IPv6Bits int
	// Idle is how long an idle connection may stay while the server is
	// at most half full; above that the allowance shrinks with the free
	// room, to a second when full. 0: idle connections are left to the
	// server's own timeouts.
	Idle time.Duration
	// MaxStreams and PerClientStreams cap the requests in flight (0:
	// no cap), for all clients and for one.
	MaxStreams, PerClientStreams int
}

// Stats counts what a Limiter did.
type Stats struct {
	Open, Clients    int
	Refused, Evicted uint64 // new connections refused; open ones closed for others
	IdleClosed       uint64 // idle connections closed as the server filled
	StreamsRefused   uint64
	StreamsInFlight  int64
}

// Limiter admits connections. Its zero value is not usable: use New.
type Limiter struct {
	cfg     Config
	mu      sync.Mutex
	total   int
	clients map[netip.Prefix]*client

	streams                                   atomic.Int64
	refused, evicted, idleClosed, streamsRefd atomic.Uint64
}

type client struct {
	key     netip.Prefix
	conns   []*Conn // in the order they came
	streams atomic.Int64
}

// New makes a Limiter; cfg.Max must be above 0.
func New(cfg Config) *Limiter {
	if cfg.Max <= 0 {
		cfg.Max = 1
	}
	if cfg.PerClient <= 0 {
		cfg.PerClient = min(max(cfg.Max/8, 8), 64)
	}
	cfg.PerClient = min(cfg.PerClient, cfg.Max)
	if cfg.IPv4Bits <= 0 || cfg.IPv4Bits > 32 {
		cfg.IPv4Bits = 32
	}
	if cfg.IPv6Bits <= 0 || cfg.IPv6Bits > 128 {
		cfg.IPv6Bits = 64
	}
	return &Limiter{cfg: cfg, clients: map[netip.Prefix]*client{}}
}

// Config returns the caps in effect, defaults filled in.
func (l *Limiter) Config() Config { return l.cfg }

// Key is the client an address belongs to.
func (l *Limiter) Key(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := l.cfg.IPv6Bits
	if a.Is4() {
		bits = l.cfg.IPv4Bits
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr()
	}
	return netip.Addr{}
}

// Outcome says how Admit went.
type Outcome int

const (
	Admitted Outcome = iota // there was room
	Evicting                // admitted, another connection closed for it
	Refused                 // closed
)

// minIdleToEvict is how long a client's connection must have been idle
// before a new one of the same client, at its cap, takes its place.
const minIdleToEvict = time.Second

// Admit takes nc in, or closes it and returns nil. A client at its own
// cap has its oldest idle connection closed for the new one (if it has
// been idle a second), or the new one refused. At the global cap,
// a connection of the client holding the most goes (an idle one first,
// else its oldest), unless the newcomer would then hold as many: then
// the newcomer is refused.
func (l *Limiter) Admit(nc net.Conn) (*Conn, Outcome) {
	key := l.Key(addrOf(nc.RemoteAddr()))
	c := &Conn{Conn: nc, l: l}
	c.idleSince.Store(time.Now().UnixNano())
	var victim *Conn
	l.mu.Lock()
	cl := l.clients[key]
	if cl == nil {
		cl = &client{key: key}
	}
	switch {
	case len(cl.conns) >= l.cfg.PerClient:
		// Its own idle connection goes for the new one (a browser
		// behind a busy NAT), but not one just opened: a client that
		// opens connections and sends nothing would have each new one
		// close the one before, and make the server work for every one.
		if v := cl.oldest(true); v != nil && time.Since(time.Unix(0, v.idleSince.Load())) >= minIdleToEvict {
			victim = v
		}
	case l.total >= l.cfg.Max:
		heavy := l.heaviest()
		if heavy != nil && heavy != cl && len(heavy.conns) > len(cl.conns)+1 {
			if victim = heavy.oldest(true); victim == nil {
				victim = heavy.conns[0]
			}
		}
	default:
		victim = c // room: nobody goes
	}
	if victim == nil {
		l.mu.Unlock()
		l.refused.Add(1)
		nc.Close()
		return nil, Refused
	}
	if victim != c {
		l.release(victim)
	}
	c.cl = cl
	cl.conns = append(cl.conns, c)
	l.clients[key] = cl
	l.total++
	l.mu.Unlock()
	if victim != c {
		l.evicted.Add(1)
		victim.Conn.Close()
		return c, Evicting
	}
	return c, Admitted
}

// heaviest is the client holding the most connections.
func (l *Limiter) heaviest() *client {
	var h *client
	for _, cl := range l.clients {
		if h == nil || len(cl.conns) > len(h.conns) {
			h = cl
		}
	}
	return h
}

// oldest returns the client's oldest connection that is idle (when
// idle is set), or nil.
func (cl *client) oldest(idle bool) *Conn {
	var best *Conn
	var since int64
	for _, c := range cl.conns {
		s := c.idleSince.Load()
		if idle && s == 0 {
			continue
		}
		if best == nil || s < since {
			best, since = c, s
		}
	}
	return best
}

// release gives c's place back; l.mu is held. It reports whether c
// still held one.
func (l *Limiter) release(c *Conn) bool {
	if !c.released.CompareAndSwap(false, true) {
		return false
	}
	cl := c.cl
	for i, x := range cl.conns {
		if x == c {
			cl.conns = append(cl.conns[:i], cl.conns[i+1:]...)
			break
		}
	}
	if len(cl.conns) == 0 {
		delete(l.clients, cl.key) // its requests in flight end with it
	}
	l.total--
	return true
}

// SweepIdle closes the idle connections that have been idle longer than
// the server's fullness allows (see Config.Idle), once a second, until
// ctx ends.
func (l *Limiter) SweepIdle(ctx context.Context) {
	if l.cfg.Idle <= 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			l.sweep(now)
		}
	}
}

// idleAllowance is how long a connection may stay idle with open
// connections of max.
func idleAllowance(idle time.Duration, open, capacity int) time.Duration {
	if 2*open <= capacity {
		return idle
	}
	free := float64(capacity-open) / (float64(capacity) / 2) // 1 at half full, 0 when full
	return max(time.Duration(free*float64(idle)), time.Second)
}

func (l *Limiter) sweep(now time.Time) {
	var closing []*Conn
	l.mu.Lock()
	if 2*l.total > l.cfg.Max {
		limit := now.Add(-idleAllowance(l.cfg.Idle, l.total, l.cfg.Max)).UnixNano()
		for _, cl := range l.clients {
			for _, c := range cl.conns {
				if s := c.idleSince.Load(); s != 0 && s < limit {
					closing = append(closing, c)
				}
			}
		}
		for _, c := range closing {
			l.release(c)
		}
	}
	l.mu.Unlock()
	for _, c := range closing {
		l.idleClosed.Add(1)
		c.Conn.Close()
	}
}

// Stats returns the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Open: l.total, Clients: len(l.clients), Refused: l.refused.Load(), Evicted: l.evicted.Load(),
		IdleClosed: l.idleClosed.Load(), StreamsRefused: l.streamsRefd.Load(), StreamsInFlight: l.streams.Load()}
}

// Conn is an admitted connection. Close gives its place back.
type Conn struct {
	net.Conn
	l         *Limiter
	cl        *client
	idleSince atomic.Int64 // unix nanoseconds; 0 while busy
	released  atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// SetIdle says whether the connection waits for its client (between
// requests, or before the first) or works for it.
func (c *Conn) SetIdle(idle bool) {
	if idle {
		c.idleSince.Store(time.Now().UnixNano())
	} else {
		c.idleSince.Store(0)
	}
}

// Close closes the connection and gives its place back.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		c.l.mu.Lock()
		c.l.release(c)
		c.l.mu.Unlock()
	})
	return c.closeErr
}

// CloseWrite half-closes the connection beneath, as net/http does before
// it closes a plain HTTP connection.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// AcquireStream takes a place for one request of this connection's
// client; false when the client or the server has its cap in flight.
// Each true is paired with a ReleaseStream.
func (c *Conn) AcquireStream() bool {
	l := c.l
	if n := c.cl.streams.Add(1); l.cfg.PerClientStreams > 0 && n > int64(l.cfg.PerClientStreams) {
		c.cl.streams.Add(-1)
		l.streamsRefd.Add(1)
		return false
	}
	if n := l.streams.Add(1); l.cfg.MaxStreams > 0 && n > int64(l.cfg.MaxStreams) {
		l.streams.Add(-1)
		c.cl.streams.Add(-1)
		l.streamsRefd.Add(1)
		return false
	}
	return true
}

// ReleaseStream gives back a place AcquireStream took.
func (c *Conn) ReleaseStream() {
	c.l.streams.Add(-1)
	c.cl.streams.Add(-1)
}
