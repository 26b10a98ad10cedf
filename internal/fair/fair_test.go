package fair

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConn is a connection from a given address that records its Close.
type fakeConn struct {
	net.Conn
	remote net.Addr
	closed atomic.Bool
}

func (f *fakeConn) RemoteAddr() net.Addr { return f.remote }
func (f *fakeConn) Close() error         { f.closed.Store(true); return nil }

func from(ip string) *fakeConn {
	return &fakeConn{remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}
}

func admit(t *testing.T, l *Limiter, ip string) (*Conn, *fakeConn) {
	t.Helper()
	f := from(ip)
	c, _ := l.Admit(f)
	return c, f
}

func TestPerClientCap(t *testing.T) {
	l := New(Config{Max: 100, PerClient: 3})
	var conns []*Conn
	var raws []*fakeConn
	for i := 0; i < 3; i++ {
		c, f := admit(t, l, "192.0.2.1")
		if c == nil {
			t.Fatalf("connection %d refused under the cap", i)
		}
		c.SetIdle(false) // busy
		conns, raws = append(conns, c), append(raws, f)
	}
	if c, f := admit(t, l, "192.0.2.1"); c != nil || !f.closed.Load() {
		t.Fatal("a client over its cap with no idle connection was admitted")
	}
	if c, _ := admit(t, l, "192.0.2.2"); c == nil {
		t.Fatal("another client was refused")
	}
	conns[1].SetIdle(true)
	if c, _ := admit(t, l, "192.0.2.1"); c != nil {
		t.Fatal("a client at its cap had a connection idle for less than a second closed for a new one")
	}
	conns[1].idleSince.Store(time.Now().Add(-2 * minIdleToEvict).UnixNano())
	c, _ := admit(t, l, "192.0.2.1")
	if c == nil {
		t.Fatal("a client at its cap with a connection idle for 2 s was refused")
	}
	if !raws[1].closed.Load() || raws[0].closed.Load() || raws[2].closed.Load() {
		t.Errorf("the idle connection was not the one closed: %v %v %v", raws[0].closed.Load(), raws[1].closed.Load(), raws[2].closed.Load())
	}
	if st := l.Stats(); st.Open != 4 || st.Refused != 2 || st.Evicted != 1 {
		t.Errorf("stats %+v, want 4 open, 2 refused, 1 evicted", st)
	}
}

// TestGlobalCapTakesFromTheHeaviest: when the server is full, a new
// client gets in at the expense of the client holding the most; a
// client that would then hold as many is refused.
func TestGlobalCapTakesFromTheHeaviest(t *testing.T) {
	l := New(Config{Max: 10, PerClient: 10})
	var hog []*fakeConn
	for i := 0; i < 8; i++ {
		c, f := admit(t, l, "198.51.100.7")
		c.SetIdle(false)
		hog = append(hog, f)
	}
	c, _ := admit(t, l, "192.0.2.1")
	c.SetIdle(false)
	c, _ = admit(t, l, "192.0.2.2")
	c.SetIdle(false)
	// Full: 8 + 1 + 1.
	c3, _ := admit(t, l, "192.0.2.3")
	if c3 == nil {
		t.Fatal("a new client was refused while one client held 8 of 10")
	}
	if !hog[0].closed.Load() {
		t.Error("the hog's oldest connection was not the one closed")
	}
	for i := 0; i < 3; i++ {
		if c, _ := admit(t, l, "192.0.2.9"); c == nil {
			t.Fatalf("newcomer's connection %d refused while the hog held more", i)
		} else {
			c.SetIdle(false)
		}
	}
	// Now the hog holds 4 (7 - 3) and 192.0.2.9 holds 3: taking one
	// more from the hog would make 192.0.2.9 the heavier.
	if c, _ := admit(t, l, "192.0.2.9"); c != nil {
		t.Error("a client took a place that would make it the heaviest")
	}
	if st := l.Stats(); st.Open != 10 {
		t.Errorf("%d open, want 10", st.Open)
	}
}

func TestClientKeys(t *testing.T) {
	l := New(Config{Max: 100, PerClient: 2})
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::ffff"} {
		if c, _ := admit(t, l, ip); c == nil {
			t.Fatal("refused under the cap")
		} else {
			c.SetIdle(false)
		}
	}
	if c, _ := admit(t, l, "2001:db8:1:2:aaaa::1"); c != nil {
		t.Error("a third address of the same /64 was admitted past the cap")
	}
	if c, _ := admit(t, l, "2001:db8:1:3::1"); c == nil {
		t.Error("another /64 was refused")
	}
	a, _ := admit(t, l, "::ffff:192.0.2.1")
	a.SetIdle(false)
	b, _ := admit(t, l, "192.0.2.1")
	b.SetIdle(false)
	if c, _ := admit(t, l, "192.0.2.1"); c != nil {
		t.Error("an IPv4-mapped address counted apart from its IPv4 address")
	}
	l24 := New(Config{Max: 100, PerClient: 1, IPv4Bits: 24})
	c, _ := admit(t, l24, "192.0.2.1")
	c.SetIdle(false)
	if c, _ := admit(t, l24, "192.0.2.200"); c != nil {
		t.Error("IPv4Bits 24: a second address of the /24 was admitted")
	}
}

func TestCloseGivesThePlaceBack(t *testing.T) {
	l := New(Config{Max: 2, PerClient: 2})
	a, _ := admit(t, l, "192.0.2.1")
	b, _ := admit(t, l, "192.0.2.1")
	a.SetIdle(false)
	b.SetIdle(false)
	a.Close()
	a.Close() // twice: one place
	if st := l.Stats(); st.Open != 1 {
		t.Fatalf("%d open after one close, want 1", st.Open)
	}
	b.Close()
	if st := l.Stats(); st.Open != 0 || st.Clients != 0 {
		t.Fatalf("stats %+v after every close, want none open and no clients", st)
	}
}

func TestIdleAllowance(t *testing.T) {
	idle := 100 * time.Second
	for _, tc := range []struct {
		open int
		want time.Duration
	}{{0, idle}, {50, idle}, {75, 50 * time.Second}, {90, 20 * time.Second}, {100, time.Second}} {
		if got := idleAllowance(idle, tc.open, 100); got != tc.want {
			t.Errorf("open %d of 100: %v, want %v", tc.open, got, tc.want)
		}
	}
}

func TestSweepClosesIdleWhenFull(t *testing.T) {
	l := New(Config{Max: 4, PerClient: 4, Idle: 100 * time.Second})
	var raws []*fakeConn
	var conns []*Conn
	for i := 0; i < 4; i++ {
		c, f := admit(t, l, "192.0.2.1")
		conns, raws = append(conns, c), append(raws, f)
	}
	conns[0].SetIdle(false) // busy: never swept
	now := time.Now()
	l.sweep(now.Add(2 * time.Second)) // full: a second's allowance
	if raws[0].closed.Load() || !raws[1].closed.Load() || !raws[3].closed.Load() {
		t.Fatalf("closed %v %v %v %v, want the three idle ones", raws[0].closed.Load(), raws[1].closed.Load(), raws[2].closed.Load(), raws[3].closed.Load())
	}
	if st := l.Stats(); st.Open != 1 || st.IdleClosed != 3 {
		t.Errorf("stats %+v", st)
	}
	// At half full the allowance is the whole Idle.
	c, f := admit(t, l, "192.0.2.2")
	_ = c
	l.sweep(now.Add(50 * time.Second))
	if f.closed.Load() {
		t.Error("an idle connection was closed at half full before Idle")
	}
}

func TestStreams(t *testing.T) {
	l := New(Config{Max: 10, PerClient: 10, PerClientStreams: 3, MaxStreams: 5})
	a, _ := admit(t, l, "192.0.2.1")
	a2, _ := admit(t, l, "192.0.2.1")
	b, _ := admit(t, l, "192.0.2.2")
	for i, c := range []*Conn{a, a2, a} {
		if !c.AcquireStream() {
			t.Fatalf("stream %d refused under the cap", i)
		}
	}
	if a2.AcquireStream() {
		t.Error("a client's fourth stream, on another connection, was allowed")
	}
	if !b.AcquireStream() || !b.AcquireStream() {
		t.Fatal("another client's streams were refused")
	}
	if b.AcquireStream() {
		t.Error("a sixth stream in all was allowed")
	}
	a.ReleaseStream()
	if !b.AcquireStream() {
		t.Error("a released place was not given back")
	}
	if st := l.Stats(); st.StreamsInFlight != 5 || st.StreamsRefused != 2 {
		t.Errorf("stats %+v", st)
	}
}
