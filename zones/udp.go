package zones

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

const (
	udpBatch   = 64   // datagrams per recvmmsg/sendmmsg
	udpReadBuf = 4096 // larger queries are cut short and get FORMERR
)

// ServePacket answers queries arriving on pc until ctx ends; it does not
// close pc. On a host UDP socket on Linux it reads and writes in
// batches (recvmmsg/sendmmsg); on a PacketConn that has a ServeBatches
// method (the userspace stack's fast path) in its batches, and what
// still comes through ReadFrom one at a time; on any other PacketConn
// one datagram at a time. Run one per socket: with SO_REUSEPORT
// sockets, one per core.
func (s *Server) ServePacket(ctx context.Context, pc net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var err error
	switch c := pc.(type) {
	case *net.UDPConn:
		err = s.serveBatches(ctx, c)
	case batchServer:
		err = s.serveBoth(ctx, c, pc)
	default:
		err = s.serveSingles(ctx, pc)
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("zones: serve udp: %w", err)
}

// batchServer is a userspace stack's socket that hands plain datagrams
// over in batches, calling answer for each with an empty buffer to
// append the reply to and sending the replies of a batch together; the
// rest (fragments, say) still arrive through its ReadFrom.
type batchServer interface {
	ServeBatches(answer func(query []byte, from netip.AddrPort, out []byte) []byte) error
}

// serveBoth serves a batchServer's batches and its single datagrams;
// when the batches end (shutdown, or a closed socket) the singles are
// stopped too.
func (s *Server) serveBoth(ctx context.Context, bs batchServer, pc net.PacketConn) error {
	singles := make(chan error, 1)
	go func() { singles <- s.serveSingles(ctx, pc) }()
	sc := newScratch()
	err := bs.ServeBatches(func(q []byte, from netip.AddrPort, out []byte) []byte {
		return s.observedUDP(q, out, sc, from.Addr())
	})
	pc.SetReadDeadline(time.Unix(1, 0))
	<-singles
	return err
}

func (s *Server) serveSingles(ctx context.Context, pc net.PacketConn) error {
	sc := newScratch()
	in := make([]byte, udpReadBuf)
	out := make([]byte, 0, 4096)
	failures := 0
	for {
		n, addr, err := pc.ReadFrom(in)
		if err != nil {
			// Another stack's PacketConn may not use the standard
			// errors: stop on shutdown, on a timeout (deadlines are set
			// only then) and after many errors in a row.
			var ne net.Error
			if ctx.Err() != nil || !isTemporary(err) || errors.As(err, &ne) && ne.Timeout() {
				return err
			}
			if failures++; failures > 100 {
				return err
			}
			time.Sleep(time.Millisecond)
			continue
		}
		failures = 0
		resp := s.observedUDP(in[:n], out, sc, addrOf(addr))
		if resp != nil {
			pc.WriteTo(resp, addr) // a lost reply is the client's to retry
		}
	}
}

func addrOf(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// isTemporary tells read errors worth another try (ENOBUFS, ICMP noise)
// from the end of the socket: closed, or the deadline set on shutdown.
func isTemporary(err error) bool {
	return !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded)
}
