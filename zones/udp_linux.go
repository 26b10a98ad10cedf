//go:build linux

package zones

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) and sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// batchConn reads and writes UDP datagrams udpBatch at a time with
// recvmmsg(2) and sendmmsg(2) on the socket's own descriptor, waiting in
// the runtime's poller when there is nothing to read. Its headers and
// buffers are allocated once.
type batchConn struct {
	rc      syscall.RawConn
	in, out [udpBatch]mmsghdr
	iovIn   [udpBatch]unix.Iovec
	iovOut  [udpBatch]unix.Iovec
	names   [udpBatch]unix.RawSockaddrInet6
	bufs    [udpBatch][]byte
	// On a socket bound to the unspecified address, each datagram's
	// destination (IP_PKTINFO) is read and handed back on the reply, so
	// that a multi-homed host answers from the address it was asked on.
	pktinfo bool
	ctrl    [udpBatch][64]byte

	// The syscall closures and their results, made once so that the
	// serving loop does not allocate. Both calls pass MSG_DONTWAIT and
	// never block, so they go in as raw syscalls: the scheduler does not
	// hand the P to another thread while the kernel delivers a batch,
	// which halved the context switches under load.
	readFn, writeFn func(fd uintptr) bool
	n               uintptr
	errno           syscall.Errno
	sent, toSend    int
}

func (s *Server) serveBatches(ctx context.Context, uc *net.UDPConn) error {
	rc, err := uc.SyscallConn()
	if err != nil {
		return s.serveSingles(ctx, uc)
	}
	c := &batchConn{rc: rc}
	c.readFn = func(fd uintptr) bool {
		c.n, _, c.errno = unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&c.in[0])), udpBatch, unix.MSG_DONTWAIT, 0, 0)
		return c.errno != unix.EAGAIN
	}
	c.writeFn = func(fd uintptr) bool {
		c.n, _, c.errno = unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&c.out[c.sent])), uintptr(c.toSend-c.sent), unix.MSG_DONTWAIT, 0, 0)
		return c.errno != unix.EAGAIN
	}
	if la, ok := uc.LocalAddr().(*net.UDPAddr); ok && la.IP.IsUnspecified() {
		c.pktinfo = true
		var serr error
		rc.Control(func(fd uintptr) {
			// One kind of pktinfo per socket. A dual-stack socket (an
			// IPv6 one, as Go opens for ":53") reports IPv4 destinations
			// as v4-mapped IPV6_PKTINFO, which sendmsg takes back; asking
			// it for IP_PKTINFO as well overflowed the control buffer,
			// and each reply to IPv4 then failed.
			domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
			if err != nil {
				serr = err
				return
			}
			if domain == unix.AF_INET {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			} else {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
			}
		})
		if serr != nil {
			return fmt.Errorf("ask for each datagram's destination (pktinfo): %w", serr)
		}
	}
	for i := range c.in {
		c.bufs[i] = make([]byte, udpReadBuf)
		c.iovIn[i].Base = &c.bufs[i][0]
		c.in[i].hdr.Iov = &c.iovIn[i]
		c.in[i].hdr.Iovlen = 1
		c.in[i].hdr.Name = (*byte)(unsafe.Pointer(&c.names[i]))
		c.out[i].hdr.Iov = &c.iovOut[i]
		c.out[i].hdr.Iovlen = 1
	}
	sc := newScratch()
	resp := make([][]byte, udpBatch)
	for i := range resp {
		resp[i] = make([]byte, 0, 4096)
	}
	for {
		n, err := c.recv()
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return err // closed, or the deadline ServePacket sets on shutdown
		}
		k := 0
		for i := 0; i < n; i++ {
			m := &c.in[i]
			r := s.observedUDP(c.bufs[i][:m.n], resp[k], sc, sockaddrIP(&c.names[i]))
			if r == nil {
				continue
			}
			c.iovOut[k].Base = &r[0]
			c.iovOut[k].SetLen(len(r))
			c.out[k].hdr.Name = m.hdr.Name
			c.out[k].hdr.Namelen = m.hdr.Namelen
			c.out[k].hdr.Control = m.hdr.Control
			c.out[k].hdr.Controllen = m.hdr.Controllen
			if m.hdr.Flags&unix.MSG_CTRUNC != 0 { // not whole: the kernel picks the source
				c.out[k].hdr.Control, c.out[k].hdr.Controllen = nil, 0
			}
			k++
		}
		c.send(k)
	}
}

func (c *batchConn) recv() (int, error) {
	for i := range c.in {
		c.iovIn[i].SetLen(udpReadBuf)
		c.in[i].hdr.Namelen = unix.SizeofSockaddrInet6
		c.in[i].hdr.Flags = 0
		if c.pktinfo {
			c.in[i].hdr.Control = &c.ctrl[i][0]
			c.in[i].hdr.SetControllen(len(c.ctrl[i]))
		}
	}
	if err := c.rc.Read(c.readFn); err != nil {
		return 0, err
	}
	if c.errno != 0 {
		return 0, c.errno
	}
	return int(c.n), nil
}

// send writes the first k prepared responses, skipping any that fail
// (an unreachable client is the client's problem).
func (c *batchConn) send(k int) {
	c.toSend = k
	for c.sent = 0; c.sent < k; {
		if err := c.rc.Write(c.writeFn); err != nil {
			return
		}
		switch {
		case c.errno == unix.EINTR:
		case c.errno != 0:
			c.sent++
		default:
			c.sent += int(c.n)
		}
	}
}

// sockaddrIP reads the address of a struct sockaddr_in or sockaddr_in6.
func sockaddrIP(sa *unix.RawSockaddrInet6) netip.Addr {
	switch sa.Family {
	case unix.AF_INET:
		b := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(sa))
		return netip.AddrFrom4([4]byte(b[4:8]))
	case unix.AF_INET6:
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}
