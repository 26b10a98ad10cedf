package appliance

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// udpReceiveBuffer is what NSD asks for too: enough to absorb bursts
// without drops.
const udpReceiveBuffer = 4 << 20

// listenUDP opens n UDP sockets on addr sharing the port with
// SO_REUSEPORT, so that the kernel spreads queries over n goroutines.
func listenUDP(ctx context.Context, addr string, n int) ([]net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			if serr != nil {
				return
			}
			// FORCE needs CAP_NET_ADMIN; fall back to the capped one.
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, udpReceiveBuffer) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, udpReceiveBuffer)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	var conns []net.PacketConn
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		conns = append(conns, pc)
		if i == 0 {
			addr = pc.LocalAddr().String() // port 0: the others join the first
		}
	}
	return conns, nil
}

func listenTCP(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen tcp %s: %w", addr, err)
	}
	return ln, nil
}
