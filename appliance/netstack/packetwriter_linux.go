//go:build linux

package netstack

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

const (
	// sendBuffer is the packet socket's send buffer. The kernel counts
	// a frame against it until the NIC has sent it (a virtio ring, a
	// qdisc): a few 64 KiB segments fill the default 208 KiB.
	sendBuffer = 4 << 20
	// sendStall is how long a write waits for room in the send buffer
	// before the frames left are dropped: a NIC that sends nothing for
	// that long is stuck, and TCP resends when it comes back.
	sendStall = time.Second
)

// packetWriter waits, through the Go runtime's poller, when the packet
// socket's send buffer is full. fdbased's writes do not wait: they drop
// the rest of the batch at EAGAIN, which TCP then takes for loss and
// resends after a timeout (a download fell to a tenth of its speed on
// a link that held the frames a little longer). A kernel socket's
// writer sleeps until there is room; so does this one.
type packetWriter struct {
	nested.Endpoint
	file *os.File
	rc   syscall.RawConn
}

// newPacketWriter writes through lower (fdbased, on fd) and waits on fd
// when lower reports it would block. It owns fd from then on, and
// closes it if it fails.
func newPacketWriter(fd int, lower stack.LinkEndpoint) (*packetWriter, error) {
	// Best effort: without CAP_NET_ADMIN the kernel caps it at wmem_max.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sendBuffer) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sendBuffer)
	}
	f, rc, err := pollable(fd, "packet-send")
	if err != nil {
		return nil, err
	}
	w := &packetWriter{file: f, rc: rc}
	w.Endpoint.Init(lower, w)
	return w, nil
}

// WritePackets writes pkts, waiting for room in the send buffer when it
// is full, at most sendStall in all.
func (w *packetWriter) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n, terr := w.Endpoint.WritePackets(pkts)
	if _, full := terr.(*tcpip.ErrWouldBlock); !full || n >= pkts.Len() {
		return n, terr
	}
	rest := pkts.AsSlice()[n:]
	last := terr
	w.file.SetWriteDeadline(time.Now().Add(sendStall))
	defer w.file.SetWriteDeadline(time.Time{})
	err := w.rc.Write(func(uintptr) bool {
		var more stack.PacketBufferList
		for _, p := range rest {
			more.PushBack(p)
		}
		m, terr := w.Endpoint.WritePackets(more)
		n += m
		rest = rest[m:]
		last = terr
		_, full := terr.(*tcpip.ErrWouldBlock)
		if full && len(rest) > 0 {
			return false // wait until the socket is writable
		}
		return true
	})
	if err != nil || len(rest) > 0 {
		return n, last // stalled past sendStall, or another error
	}
	return n, nil
}

// close closes the socket.
func (w *packetWriter) close() { w.file.Close() }
