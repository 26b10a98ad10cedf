package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
)

// takenOnce is the host's network whose first TCP listen finds its port
// taken, as when another program's connection has the port the kernel
// gave UDP.
type takenOnce struct {
	hostNetwork
	udp, tcp int
	first    []net.PacketConn
}

func (n *takenOnce) listenUDP(ctx context.Context, addr string, count int) ([]net.PacketConn, error) {
	n.udp++
	pcs, err := n.hostNetwork.listenUDP(ctx, addr, count)
	if n.udp == 1 {
		n.first = pcs
	}
	return pcs, err
}

func (n *takenOnce) listenTCP(ctx context.Context, addr string) (net.Listener, error) {
	if n.tcp++; n.tcp == 1 {
		return nil, fmt.Errorf("listen tcp %s: %w", addr, syscall.EADDRINUSE)
	}
	return n.hostNetwork.listenTCP(ctx, addr)
}

// TestListenDNSTriesAnotherPort: asked for any port, a port taken for
// TCP is given up (its UDP sockets closed) for another; asked for one
// port, the error is returned.
func TestListenDNSTriesAnotherPort(t *testing.T) {
	n := &takenOnce{}
	udp, ln, err := listenDNS(context.Background(), n, "127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	if n.udp != 2 || n.tcp != 2 {
		t.Errorf("%d UDP and %d TCP listens, want 2 and 2", n.udp, n.tcp)
	}
	if udp[0].LocalAddr().String() != ln.Addr().String() {
		t.Errorf("UDP on %s, TCP on %s: want one port", udp[0].LocalAddr(), ln.Addr())
	}
	for _, c := range n.first {
		if _, err := c.WriteTo([]byte("x"), udp[0].LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("a socket of the port given up is still open: %v", err)
		}
	}
	// A port asked for by number: the one just given up, free for UDP,
	// so that the error can only be the TCP listen's.
	port := udp[0].LocalAddr().String()
	ln.Close()
	for _, c := range udp {
		c.Close()
	}
	fixed := &takenOnce{}
	if _, _, err := listenDNS(context.Background(), fixed, port, 1); !errors.Is(err, syscall.EADDRINUSE) || fixed.udp != 1 || fixed.tcp != 1 {
		t.Errorf("asked for %s: %v after %d UDP and %d TCP listens, want the TCP error at once", port, err, fixed.udp, fixed.tcp)
	}
	for _, c := range fixed.first {
		if _, err := c.WriteTo([]byte("x"), c.LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("a socket of the failed listen is still open: %v", err)
		}
	}
}
