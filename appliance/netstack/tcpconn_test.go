package netstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// tcpPair accepts one connection on the server stack and dials it from
// the client stack.
func tcpPair(t *testing.T, port uint16) (server net.Conn, client net.Conn) {
	t.Helper()
	server, client, _ = tcpPairOn(t, port, 0)
	return server, client
}

// tcpPairOn is tcpPair over a link that loses the given fraction of
// frames each way; it also returns the server's stack.
func tcpPairOn(t *testing.T, port uint16, loss float64) (server net.Conn, client net.Conn, st *Stack) {
	t.Helper()
	s, c := pair(t, loss)
	ln, ap := testListener(t, s, port)
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- conn
	}()
	client, err := c.DialTCP(context.Background(), ap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	if _, held := server.(*tcpConn); !held {
		t.Fatalf("accepted a %T, not the stack's buffered connection", server)
	}
	t.Cleanup(func() { server.Close() })
	return server, client, s
}

func TestHeldWritesArriveInOrder(t *testing.T) {
	server, client := tcpPair(t, 9100)
	rng := rand.New(rand.NewPCG(3, 4))
	var want bytes.Buffer
	for want.Len() < 8<<20 {
		b := make([]byte, 1+rng.IntN(100<<10)) // from one byte to past maxPending in a few writes
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want.Write(b)
	}
	go func() {
		data := want.Bytes()
		for len(data) > 0 {
			n := min(len(data), 1+rng.IntN(300<<10))
			if _, err := server.Write(data[:n]); err != nil {
				t.Errorf("write: %v", err)
				return
			}
			data = data[n:]
		}
		server.Close()
	}()
	client.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("received %d bytes, not the %d written, in order", len(got), want.Len())
	}
}

func TestCloseSendsWhatIsHeld(t *testing.T) {
	server, client := tcpPair(t, 9101)
	data := bytes.Repeat([]byte("islet "), 400<<10) // 2.4 MB: more than is held, and than the window
	problems := make(chan string, 2)
	go func() {
		defer close(problems)
		server.Write(data)
		start := time.Now()
		server.Close()
		if d := time.Since(start); d > 100*time.Millisecond {
			problems <- fmt.Sprintf("Close took %v: it should return at once and send in the background", d)
		}
		if _, err := server.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			problems <- fmt.Sprintf("write after Close: %v", err)
		}
	}()
	client.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("received %d of %d bytes: %v", len(got), len(data), err)
	}
	client.Close() // a writer stuck on a failed transfer returns
	for p := range problems {
		t.Error(p)
	}
}

func TestWriteDeadlineWhenThePeerStopsReading(t *testing.T) {
	server, _ := tcpPair(t, 9102)
	server.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	chunk := make([]byte, 1<<20)
	start := time.Now()
	var err error
	for written := 0; err == nil && written < 1<<30; written += len(chunk) {
		_, err = server.Write(chunk)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("writing to a peer that reads nothing: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the deadline error came after %v", d)
	}
}

// TestLongWriteHeldInParts writes more in one write than a connection
// may hold to a peer that reads nothing: the write waits, and its
// deadline ends it having taken no more than the connection holds.
func TestLongWriteHeldInParts(t *testing.T) {
	server, _ := tcpPair(t, 9108)
	server.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	n, err := server.Write(make([]byte, 64<<20))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("one 64 MB write to a peer that reads nothing: %d bytes, %v; want a timeout", n, err)
	}
	// What the peer's receive window takes, the stack's send buffer
	// and what writes hold: 1 MiB, 1 MiB and 256 KiB, by default.
	if n > 4<<20 {
		t.Fatalf("one 64 MB write took %d bytes before its deadline: more than the connection may hold", n)
	}
}

func TestCloseWriteHalfCloses(t *testing.T) {
	server, client := tcpPair(t, 9103)
	server.Write([]byte("hello"))
	if err := server.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "hello" {
		t.Fatalf("client read %q, %v; want hello then EOF", got, err)
	}
	client.Write([]byte("bye"))
	buf := make([]byte, 3)
	server.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "bye" {
		t.Fatalf("server read %q, %v after its CloseWrite", buf, err)
	}
}

// TestReadDeadlines: a deadline ends a blocked read when it passes, not
// before; one moved later or cleared does not fire; a past one ends
// reads at once until another is set.
func TestReadDeadlines(t *testing.T) {
	server, client := tcpPair(t, 9104)
	buf := make([]byte, 10)
	timeout := func(err error) bool { ne, ok := err.(net.Error); return ok && ne.Timeout() }

	start := time.Now()
	server.SetReadDeadline(start.Add(200 * time.Millisecond))
	if _, err := server.Read(buf); !timeout(err) {
		t.Fatalf("read past the deadline: %v", err)
	}
	if d := time.Since(start); d < 180*time.Millisecond || d > 2*time.Second {
		t.Fatalf("the deadline ended the read after %v, want 200 ms", d)
	}

	// Moved later, then cleared: data written after the first deadline
	// would have passed is read.
	server.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	server.SetReadDeadline(time.Now().Add(time.Hour))
	server.SetReadDeadline(time.Time{})
	go func() { time.Sleep(300 * time.Millisecond); client.Write([]byte("late")) }()
	if n, err := server.Read(buf); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("read with the deadline cleared: %q %v", buf[:n], err)
	}

	// A deadline in the past ends a read at once (how an HTTP server
	// stops its background read); a new one takes that back.
	server.SetReadDeadline(time.Unix(1, 0))
	if _, err := server.Read(buf); !timeout(err) {
		t.Fatalf("read with a past deadline: %v", err)
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	client.Write([]byte("again"))
	if n, err := server.Read(buf); err != nil || string(buf[:n]) != "again" {
		t.Fatalf("read after a new deadline: %q %v", buf[:n], err)
	}
}

// TestCloseEndsReadsAndAccepts: a read waiting on a connection, and an
// accept waiting on a listener, end when they are closed.
func TestCloseEndsReadsAndAccepts(t *testing.T) {
	server, _ := tcpPair(t, 9105)
	done := make(chan error, 1)
	go func() { _, err := server.Read(make([]byte, 10)); done <- err }()
	time.Sleep(50 * time.Millisecond)
	server.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) && err != io.EOF {
			t.Fatalf("read after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a read went on waiting after Close")
	}

	s, _ := pair(t, 0)
	ln, err := s.ListenTCP(netip.AddrPortFrom(serverAddr, 9106))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, err := ln.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("accept after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("an accept went on waiting after Close")
	}
	if ln.Addr().String() != "10.0.0.2:9106" {
		t.Errorf("listener address %v", ln.Addr())
	}
}

// TestConnectionsLeaveNothingBehind: many connections that end well,
// end abruptly, or stop reading while the server writes leave no
// goroutine, connection or ACK state behind on the server's stack. A
// client that sends its request and its FIN at once, before the server
// accepts, is seen to have ended: the end of the stream behind the
// data is not lost.
func TestConnectionsLeaveNothingBehind(t *testing.T) {
	s, c := pair(t, 0)
	ln, ap := testListener(t, s, 9100)
	blast := make([]byte, 1<<20)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(20 * time.Second))
				kind := make([]byte, 1)
				if _, err := io.ReadFull(conn, kind); err != nil {
					return
				}
				if kind[0] == 'b' {
					conn.Write(blast) // the client stops reading and leaves
					return
				}
				io.Copy(conn, conn)
			}()
		}
	}()
	settle := func() (goroutines, established, flows int) {
		runtime.GC()
		s.acks.mu.Lock()
		flows = len(s.acks.flows)
		s.acks.mu.Unlock()
		return runtime.NumGoroutine(), int(s.s.Stats().TCP.CurrentEstablished.Value()), flows
	}
	base, _, _ := settle()

	payload := bytes.Repeat([]byte("echo"), 1024)
	const each = 150
	for i := 0; i < 3*each; i++ {
		conn, err := c.DialTCP(context.Background(), ap)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		switch i % 3 {
		case 0: // ends well: request and FIN at once, then the echo to its end
			conn.Write(append([]byte("e"), payload...))
			conn.(interface{ CloseWrite() error }).CloseWrite()
			got, err := io.ReadAll(conn)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("connection %d: echoed %d bytes, %v", i, len(got), err)
			}
		case 1: // ends abruptly, the echo unread
			conn.Write(append([]byte("e"), payload...))
		case 2: // stops reading while the server writes a megabyte
			conn.Write([]byte("b"))
			io.ReadFull(conn, make([]byte, 1000))
		}
		conn.Close()
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		g, est, flows := settle()
		if g <= base+2 && est == 0 && flows == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d connections: %d goroutines (%d before), %d connections established on the server, ACK state for %d",
				3*each, g, base, est, flows)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
