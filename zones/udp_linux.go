//go:build linux

package zones

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) and sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// batchConn reads and writes UDP datagrams udpBatch at a time on a
// blocking duplicate of a socket: the goroutine sleeps inside recvmmsg
// (MSG_WAITFORONE) instead of going through the runtime's poller, which
// saves a failed read and an epoll_wait per wake-up. A receive timeout
// lets it notice shutdown.
type batchConn struct {
	fd      int
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
}

const shutdownPoll = 200_000 // µs between looks at ctx while idle

func (s *Server) serveBatches(ctx context.Context, uc *net.UDPConn) error {
	f, err := uc.File() // a dup sharing the socket; closing it leaves uc open
	if err != nil {
		return s.serveSingles(uc)
	}
	defer f.Close()
	fd := int(f.Fd()) // Fd puts the (shared) file description in blocking mode
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: shutdownPoll}); err != nil {
		return fmt.Errorf("set receive timeout: %w", err)
	}
	c := &batchConn{fd: fd}
	if la, ok := uc.LocalAddr().(*net.UDPAddr); ok && la.IP.IsUnspecified() {
		c.pktinfo = true
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1) // fails on IPv6-only sockets
		if la.IP.To4() == nil {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1); err != nil {
				return fmt.Errorf("set IPV6_RECVPKTINFO: %w", err)
			}
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
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return err
		}
		k := 0
		for i := 0; i < n; i++ {
			m := &c.in[i]
			r := s.handle(c.bufs[i][:m.n], resp[k], sc, sockaddrIP(&c.names[i]), false)
			if r == nil {
				continue
			}
			c.iovOut[k].Base = &r[0]
			c.iovOut[k].SetLen(len(r))
			c.out[k].hdr.Name = m.hdr.Name
			c.out[k].hdr.Namelen = m.hdr.Namelen
			c.out[k].hdr.Control = m.hdr.Control
			c.out[k].hdr.Controllen = m.hdr.Controllen
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
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.in[0])), udpBatch, unix.MSG_WAITFORONE, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// send writes the first k prepared responses, skipping any that fail
// (an unreachable client is the client's problem).
func (c *batchConn) send(k int) {
	for sent := 0; sent < k; {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.out[sent])), uintptr(k-sent), 0, 0, 0)
		switch {
		case errno == unix.EINTR:
		case errno != 0:
			sent++
		default:
			sent += int(n)
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
