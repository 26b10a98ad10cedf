//go:build linux

package netstack

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/rawfile"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

const (
	readBatch  = thinBatch                                       // frames per recvmmsg
	vnetHdrLen = 10                                              // struct virtio_net_hdr before each frame
	readBuf    = vnetHdrLen + header.EthernetMinimumSize + 65536 // a whole GSO/GRO segment
)

// packetReader reads the frames of a packet socket through the Go
// runtime's poller, recvmmsg(2) readBatch at a time, and hands them to
// the stack. It replaces fdbased's reading loop, which waits in ppoll(2)
// holding the scheduler's P: with one CPU (GOMAXPROCS=1, a small guest)
// the goroutines that loop has just woken (TCP's processors, the DNS
// server) then wait until the runtime takes the P back, tens of
// microseconds each time. Writing stays with the fdbased endpoint below
// it (host GSO), on a socket that receives nothing.
type packetReader struct {
	nested.Endpoint
	file   *os.File
	rc     syscall.RawConn
	failed func(string)

	hdrs [readBatch]rawfile.MMsgHdr
	iovs [readBatch]unix.Iovec
	bufs [readBatch][]byte
	// frames are a batch's frames, for supersededACKs; thinned counts
	// the ACKs left out, and sniff, if set, is given each of them (a
	// capture records every frame).
	frames  [readBatch][]byte
	thinned atomic.Int64
	sniff   func([]byte)
	// The recvmmsg closure and its results, made once: the loop does not
	// allocate. It passes MSG_DONTWAIT and never blocks, so it goes in
	// as a raw syscall.
	readFn func(fd uintptr) bool
	n      uintptr
	errno  syscall.Errno

	mu   sync.Mutex
	done chan struct{} // closed when the reading goroutine ends; nil when none runs
}

// newPacketReader reads from fd (an AF_PACKET socket with
// PACKET_VNET_HDR, bound) for lower, which writes. It owns fd from
// then on, and closes it if it fails.
func newPacketReader(fd int, lower stack.LinkEndpoint, failed func(string)) (*packetReader, error) {
	f, rc, err := pollable(fd, "packet")
	if err != nil {
		return nil, err
	}
	r := &packetReader{file: f, rc: rc, failed: failed}
	r.Endpoint.Init(lower, r)
	for i := range r.bufs {
		r.bufs[i] = make([]byte, readBuf)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(readBuf)
		r.hdrs[i].Msg.Iov = &r.iovs[i]
		r.hdrs[i].Msg.SetIovlen(1)
	}
	r.readFn = func(fd uintptr) bool {
		r.n, _, r.errno = unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), readBatch, unix.MSG_DONTWAIT, 0, 0)
		return r.errno != unix.EAGAIN
	}
	return r, nil
}

// pollable hands fd, non-blocking, to the Go runtime's poller. It owns
// fd from then on, and closes it if it fails.
func pollable(fd int, name string) (*os.File, syscall.RawConn, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("set non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("poller: %w", err)
	}
	return f, rc, nil
}

// Attach starts reading for dispatcher, or, given nil, stops reading
// and waits for the reading goroutine before detaching the writer.
func (r *packetReader) Attach(dispatcher stack.NetworkDispatcher) {
	if dispatcher == nil {
		r.stop()
		r.Endpoint.Attach(nil)
		return
	}
	r.Endpoint.Attach(dispatcher)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		r.done = make(chan struct{})
		r.file.SetReadDeadline(time.Time{})
		go r.loop(r.done)
	}
}

func (r *packetReader) stop() {
	r.mu.Lock()
	done := r.done
	r.done = nil
	r.mu.Unlock()
	if done != nil {
		r.file.SetReadDeadline(longAgo)
		<-done
	}
}

// close releases the socket.
func (r *packetReader) close() { r.file.Close() }

// setSniff has f see the frames left out (superseded ACKs). It must be
// set before the reader is attached.
func (r *packetReader) setSniff(f func([]byte)) { r.sniff = f }

func (r *packetReader) loop(done chan struct{}) {
	defer close(done)
	mac := r.LinkAddress()
	for {
		if err := r.rc.Read(r.readFn); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) { // the deadline is how stop ends the loop
				r.failed(err.Error())
			}
			return
		}
		switch r.errno {
		case 0:
		case unix.EINTR, unix.ENOBUFS, unix.ENOMEM, unix.ENETDOWN:
			continue // a link going down and up again is not the end
		default:
			r.failed(r.errno.Error())
			return
		}
		batch := r.frames[:r.n]
		for i := range batch {
			n := int(r.hdrs[i].Len)
			r.hdrs[i].Len = 0
			batch[i] = nil
			if n >= vnetHdrLen+header.EthernetMinimumSize {
				batch[i] = r.bufs[i][vnetHdrLen:n]
			}
		}
		skip := supersededACKs(batch, mac)
		for i, frame := range batch {
			switch {
			case frame == nil:
			case skip&(1<<i) != 0:
				r.thinned.Add(1)
				if r.sniff != nil {
					r.sniff(frame)
				}
			default:
				r.deliver(frame, mac)
			}
		}
	}
}

// deliver hands one frame to the stack if it is for this NIC's MAC or
// a group address, as fdbased does. Checksums are trusted, as with
// fdbased's RXChecksumOffload: the kernel leaves those of locally made
// frames (veth, virtio with offload) to the receiver.
func (r *packetReader) deliver(frame []byte, mac tcpip.LinkAddress) {
	eth := header.Ethernet(frame)
	if dst := eth.DestinationAddress(); dst != mac && dst[0]&1 == 0 {
		return
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	defer pkt.DecRef()
	pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	pkt.NetworkProtocolNumber = eth.Type()
	pkt.RXChecksumValidated = true
	r.Endpoint.DeliverNetworkPacket(eth.Type(), pkt)
}
